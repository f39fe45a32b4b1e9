//! Defects found by hostile testing (issue 13), one test each, on inputs made here.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

const NOTE: &str = "PTT-20240313-WA0001.opus";

fn chat(sender: &str, time: &str) -> String {
    format!("13/03/2024, {time} - {sender}: {NOTE} (file attached)\n")
}

#[test]
fn two_chats_sharing_an_attachment_name_each_date_their_own_folder() {
    let tmp = tempfile::tempdir().expect("temp");
    let archive = tmp.path().join("archive");
    for (folder, sender, time) in [("chatA", "Abu Karim", "21:10"), ("chatB", "Sara", "23:40")] {
        copy("blast_at_3s_16k.opus", &archive.join(folder).join(NOTE));
        write(&archive.join(folder).join("_chat.txt"), chat(sender, time));
    }
    // Two more copies under one export that names the file once: which one it meant
    // cannot be known.
    for folder in ["night/x", "night/y"] {
        copy("blast_at_3s_16k.opus", &archive.join(folder).join(NOTE));
    }
    write(&archive.join("night/_chat.txt"), chat("Omar", "02:00"));
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--quiet", "--out", s(&out), s(&archive)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let index = common::index(&out);
    let a = recording(&index, &format!("chatA/{NOTE}"));
    let b = recording(&index, &format!("chatB/{NOTE}"));
    assert_eq!(
        (a["sender"].as_str(), a["sent_at"].as_str()),
        (Some("Abu Karim"), Some("2024-03-13T21:10:00"))
    );
    assert_eq!(
        (b["sender"].as_str(), b["sent_at"].as_str()),
        (Some("Sara"), Some("2024-03-13T23:40:00"))
    );
    assert_eq!(b["chat"], "chatB");
    for folder in ["night/x", "night/y"] {
        let r = recording(&index, &format!("{folder}/{NOTE}"));
        assert_eq!(r["date_source"], "filename", "an ambiguous name is not guessed: {r}");
        assert!(r["sender"].is_null());
    }
    let warnings = index["link_warnings"].to_string();
    assert!(warnings.contains("night/x") && warnings.contains("several folders"), "{warnings}");

    // A manifest row with folders dates that path only.
    let manifest = tmp.path().join("manifest.csv");
    write(&manifest, format!("file,sent_at,sender\nchatB/{NOTE},2024-03-13T23:41:07,Sara\n"));
    let out = tmp.path().join("out2");
    let run = common::run(&[
        "scan",
        "--quiet",
        "--out",
        s(&out),
        "--messages",
        s(&manifest),
        s(&archive),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let index = common::index(&out);
    assert_eq!(recording(&index, &format!("chatB/{NOTE}"))["date_source"], "manifest");
    assert_eq!(recording(&index, &format!("chatA/{NOTE}"))["date_source"], "whatsapp");
}

#[test]
fn an_output_folder_inside_the_scanned_folder_is_never_scanned() {
    let tmp = tempfile::tempdir().expect("temp");
    copy("blast_at_3s_16k.opus", &tmp.path().join("note.opus"));
    let out = tmp.path().join("blastscan-out");
    for _ in 0..3 {
        let run = common::run(&["scan", "--quiet", "--report", "--out", s(&out), s(tmp.path())]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let clips = run_clips(&out);
        assert_eq!(clips.status.code(), Some(0), "{}", stderr(&clips));
    }
    let index = common::index(&out);
    assert_eq!(index["summary"]["files"], 1, "{}", index["recordings"]);
}

fn run_clips(out: &Path) -> std::process::Output {
    run(&["clips", s(out)])
}

#[test]
fn local_and_universal_times_compare_as_instants_and_the_mix_is_said_once() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    // A WhatsApp note at 23:14 local, and a manifest note sent at 22:00+03:00 = 19:00Z.
    copy("blast_at_3s_16k.opus", &dir.join("chat/PTT-20240313-WA0001.opus"));
    write(&dir.join("chat/_chat.txt"), chat("A", "23:14"));
    copy("blast_at_3s_24k.opus", &dir.join("m/voice.opus"));
    write(&dir.join("m/manifest.csv"), "file,sent_at\nvoice.opus,2024-03-13 22:00+03:00\n");
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--out", s(&out), s(&dir)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let err = stderr(&run);
    assert_eq!(err.matches("their order across recordings is approximate").count(), 1, "{err}");
    assert!(index(&out)["time_note"].is_string());
    // 21:00+03:00 is 18:00Z: the 19:00Z note was sent after it. As strings it sorted before.
    let q = common::run(&[
        "query",
        s(&out),
        "--from",
        "2024-03-13T21:00+03:00",
        "--to",
        "2024-03-13T19:00Z",
        "--format",
        "json",
        "--min-confidence",
        "0",
    ]);
    let rows: serde_json::Value = serde_json::from_slice(&q.stdout).expect("json");
    let files: Vec<&str> =
        rows.as_array().expect("rows").iter().filter_map(|r| r["file"].as_str()).collect();
    assert!(!files.is_empty() && files.iter().all(|f| f.ends_with("voice.opus")), "{files:?}");
    let report = common::run(&["report", s(&out), "--min-confidence", "0"]);
    assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
    let html = std::fs::read_to_string(out.join("report/index.html")).expect("page");
    assert!(html.contains("id=\"time-note\""));
    // The earlier instant (19:00Z) comes first in the report.
    assert!(html.find("voice.opus").expect("voice") < html.find("PTT-2024").expect("ptt"));
}

fn wav_with_data_size(size: u32) -> Vec<u8> {
    let mut bytes = std::fs::read(fixture("blast_at_3s_16k_mono.wav")).expect("wav");
    let at = bytes.windows(4).position(|w| w == b"data").expect("data chunk");
    bytes[at + 4..at + 8].copy_from_slice(&size.to_le_bytes());
    bytes
}

#[test]
fn damaged_files_keep_the_audio_that_is_there() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    write(&dir.join("crashed_0.wav"), wav_with_data_size(0));
    write(&dir.join("crashed_fff0.wav"), wav_with_data_size(0xFFFF_FFF0));
    let m4a = std::fs::read(fixture("blast_at_3s_aac_faststart.m4a")).expect("m4a");
    write(&dir.join("cut.m4a"), &m4a[..m4a.len() * 4 / 5]);
    let mut joined = std::fs::read(fixture("blast_at_3s_24k.opus")).expect("opus");
    joined.extend(std::fs::read(fixture("blast_at_3s_16k.opus")).expect("opus"));
    write(&dir.join("joined.opus"), joined);
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--out", s(&out), s(&dir)]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "partial decodes count: {err}");
    let index = common::index(&out);
    for name in ["crashed_0.wav", "crashed_fff0.wav", "cut.m4a"] {
        let rec = recording(&index, name);
        assert!(rec["error"].is_null(), "{rec}");
        assert!(blasts(rec).iter().any(|t| (t - 3.0).abs() < 0.1), "{name}: {rec}");
        assert!(err.contains(&format!("{name}: partly decoded")), "{err}");
    }
    let joined = recording(&index, "joined.opus");
    assert!((joined["duration_s"].as_f64().expect("duration") - 12.0).abs() < 0.1, "{joined}");
    assert!(
        blasts(joined).iter().any(|t| (t - 9.0).abs() < 0.1),
        "the second note's blast: {joined}"
    );
}

#[test]
fn skipped_links_and_partial_decodes_are_said_and_counted() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    copy("blast_at_3s_16k.opus", &dir.join("a.opus"));
    std::os::unix::fs::symlink(fixture("blast_at_3s_24k.opus"), dir.join("linked.opus"))
        .expect("link");
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--out", s(&out), s(&dir)]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("linked.opus: symbolic link not followed"), "{err}");
    assert!(err.contains("1 paths not read"), "{err}");

    std::fs::remove_file(dir.join("linked.opus")).expect("remove the link, not its target");
    write(&dir.join("crashed.wav"), wav_with_data_size(0));
    let run = common::run(&["scan", "--report", "--out", s(&out), s(&dir)]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let html = std::fs::read_to_string(out.join("report/index.html")).expect("page");
    assert!(html.contains("partly decoded"), "the report says so");
}

#[test]
fn an_empty_folder_exits_1_and_leaves_the_index_alone() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    copy("blast_at_3s_16k.opus", &dir.join("a.opus"));
    let out = tmp.path().join("out");
    assert_eq!(run(&["scan", "--quiet", "--out", s(&out), s(&dir)]).status.code(), Some(0));
    let before = std::fs::read(out.join("index.json")).expect("index");
    let empty = tmp.path().join("unmounted");
    std::fs::create_dir(&empty).expect("mkdir");
    let run = common::run(&["scan", "--quiet", "--out", s(&out), s(&empty)]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("no recordings found"), "{}", stderr(&run));
    assert_eq!(std::fs::read(out.join("index.json")).expect("index"), before);
}

#[test]
fn outputs_get_the_mode_the_umask_gives() {
    let tmp = tempfile::tempdir().expect("temp");
    copy("blast_at_3s_16k.opus", &tmp.path().join("in/a.opus"));
    let out = tmp.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("blastscan");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" scan --quiet --report --out \"$1\" \"$2\"")
        .arg(&bin)
        .arg(&out)
        .arg(tmp.path().join("in"))
        .status()
        .expect("sh");
    assert!(status.success());
    for file in ["index.json", "detections.csv", "report/index.html"] {
        let mode = std::fs::metadata(out.join(file)).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{file}");
    }
}

#[test]
fn hostile_file_names_cannot_become_formulas_or_overwrite_each_other() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    copy("blast_at_3s_16k.opus", &dir.join("=HYPERLINK(\"http---x\").opus"));
    copy("blast_at_3s_16k.opus", &dir.join("note.opus"));
    copy("blast_at_3s_44k_stereo.flac", &dir.join("note.flac"));
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--quiet", "--out", s(&out), s(&dir)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let csv = std::fs::read_to_string(out.join("detections.csv")).expect("csv");
    assert!(csv.lines().skip(1).all(|l| !l.starts_with('=') && !l.starts_with("\"=")), "{csv}");
    assert!(csv.contains("'=HYPERLINK"), "{csv}");

    let labels = common::run(&["labels", s(&out)]);
    let said: usize = stderr(&labels)
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("wrote N label files");
    let files = std::fs::read_dir(out.join("labels")).expect("labels").count();
    assert_eq!(said, files, "every label file written is there");
    assert_eq!(files, 3 * 4, "three recordings, four files each");
    let clips = common::run(&["clips", s(&out)]);
    assert_eq!(clips.status.code(), Some(0));
    let wavs = std::fs::read_dir(out.join("clips"))
        .expect("clips")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wav")))
        .count();
    assert_eq!(wavs, 3, "one clip per recording's blast");
}

#[test]
fn a_negative_timezone_is_a_value_and_threads_are_bounded() {
    let tmp = tempfile::tempdir().expect("temp");
    copy("blast_at_3s_16k.opus", &tmp.path().join("in/PTT-20240313-WA0001.opus"));
    write(&tmp.path().join("in/_chat.txt"), chat("A", "23:14"));
    for zone in ["-04:30", "-0430"] {
        let out = tmp.path().join(format!("out{zone}"));
        let run = common::run(&[
            "scan",
            "--quiet",
            "--timezone",
            zone,
            "--out",
            s(&out),
            s(&tmp.path().join("in")),
        ]);
        assert_eq!(run.status.code(), Some(0), "{zone}: {}", stderr(&run));
        assert_eq!(index(&out)["recordings"][0]["sent_at"], "2024-03-13T23:14:00-04:30");
    }
    let run = common::run(&[
        "scan",
        "--quiet",
        "--threads",
        "99999999999",
        "--out",
        s(&tmp.path().join("o")),
        s(&tmp.path().join("in")),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("--threads must be at most"), "{}", stderr(&run));
}

#[test]
fn the_report_is_light_and_says_when_recordings_moved() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    copy("blast_at_3s_48k_mono.wav", &dir.join("a.wav"));
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--quiet", "--report", "--out", s(&out), s(&dir)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let shown = index(&out)["summary"]["explosions"].as_u64().expect("n");
    assert!(shown >= 1);
    let folders: Vec<_> = std::fs::read_dir(out.join("report"))
        .expect("report")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(folders.len(), 1, "one assets folder: {folders:?}");
    let assets: u64 = std::fs::read_dir(&folders[0])
        .expect("assets")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(assets / shown < 250_000, "{} bytes per detection", assets / shown);
    let html = std::fs::read_to_string(out.join("report/index.html")).expect("page");
    assert!(html.contains("loading=\"lazy\"") && html.contains("preload=\"none\""));

    std::fs::rename(&dir, tmp.path().join("moved")).expect("move");
    let run = common::run(&["report", s(&out)]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("no longer at"), "{}", stderr(&run));
}

#[test]
fn duplicates_on_a_first_run_are_not_unchanged_and_utf16_transcripts_are_read() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("in");
    copy("blast_at_3s_16k.opus", &dir.join("a.opus"));
    copy("blast_at_3s_16k.opus", &dir.join("b.opus"));
    let srt = "1\r\n00:00:02,000 --> 00:00:04,000\r\nالطائرات فوق الحي\r\n";
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(srt.encode_utf16().flat_map(u16::to_le_bytes));
    write(&dir.join("a.srt"), utf16);
    let out = tmp.path().join("out");
    let run = common::run(&["scan", "--out", s(&out), s(&dir)]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("1 new, 1 duplicates of other files, 0 unchanged"), "{err}");
    let index = common::index(&out);
    let a = recording(&index, "a.opus");
    let text = a["detections"]
        .as_array()
        .expect("dets")
        .iter()
        .find_map(|d| d["transcript"]["text"].as_str());
    assert_eq!(text, Some("الطائرات فوق الحي"), "{a}");
    assert!(
        index["link_warnings"].as_array().expect("warnings").is_empty(),
        "{}",
        index["link_warnings"]
    );
}
