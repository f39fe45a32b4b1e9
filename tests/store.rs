//! Batch runs: incremental re-scans, resuming after a kill or Ctrl-C, the lock, shards
//! and merging. Each compares with what one clean, uninterrupted run writes.

mod common;
use common::root;

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use blastscan::synth::{blast, mix, speech, wind, write_wav, Distance};

/// A folder of `n` one-minute recordings, each different, one blast each.
fn archive(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let rate = 16000;
    for i in 0..n {
        let mut track = wind(rate, 60.0, 0.01, 1000 + i);
        mix(&mut track, &speech(rate, 60.0, 0.03, 2000 + i), 0.0, rate);
        mix(&mut track, &blast(rate, Distance::Near, 0.7, 3000 + i), 10.0 + f64::from(i), rate);
        write_wav(&dir.join(format!("note_{i:02}.wav")), &track, rate).expect("write");
    }
}

fn scan(args: &[&str]) -> std::process::Output {
    Process::new(cargo_bin("blastscan")).arg("scan").args(args).output().expect("run")
}

fn scan_ok(args: &[&str]) -> String {
    let out = scan(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

/// A scan's machine-readable summary (`--summary json`), whatever its exit code.
fn summary_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON summary ({e}): {}", String::from_utf8_lossy(&out.stderr))
    })
}

/// Runs a scan that must succeed; returns its JSON summary.
fn scan_summary(args: &[&str]) -> serde_json::Value {
    let out = scan(&[&["--summary", "json"], args].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    summary_of(&out)
}

/// Files analysed, reused and failed, as a scan's summary counts them.
fn counts(summary: &serde_json::Value) -> [u64; 3] {
    ["new", "unchanged", "failed"].map(|k| summary[k].as_u64().unwrap_or(u64::MAX))
}

/// Both views of two output folders are identical (the first difference is shown).
fn assert_same_views(a: &Path, b: &Path, context: &str) {
    for name in ["index.json", "detections.csv", "incidents.csv"] {
        let x = std::fs::read_to_string(a.join(name))
            .unwrap_or_else(|e| panic!("{context}: {name}: {e}"));
        let y = std::fs::read_to_string(b.join(name))
            .unwrap_or_else(|e| panic!("{context}: {name}: {e}"));
        if x != y {
            let (i, (l, r)) = x
                .lines()
                .zip(y.lines())
                .enumerate()
                .find(|(_, (l, r))| l != r)
                .unwrap_or((0, ("(one is a prefix of the other)", "")));
            panic!("{context}: {name} differs at line {}:\n  {l}\n  {r}", i + 1);
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Temporary files (`.blastscan-*`) anywhere in an output folder.
fn leftovers(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("list").flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += leftovers(&path);
        } else if entry.file_name().to_string_lossy().starts_with(".blastscan-") {
            n += 1;
        }
    }
    n
}

/// How many results the store holds.
fn stored_results(out: &Path) -> usize {
    let Ok(shards) = std::fs::read_dir(out.join("store/results")) else { return 0 };
    shards
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count()
}

/// Every stored result parses: nothing half-written.
fn assert_store_whole(out: &Path) {
    let results = out.join("store/results");
    let Ok(shards) = std::fs::read_dir(&results) else { return };
    for shard in shards.flatten() {
        for entry in std::fs::read_dir(shard.path()).expect("list").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') {
                let bytes = std::fs::read(entry.path()).expect("read");
                let parsed: Result<blastscan::index::Recording, _> = serde_json::from_slice(&bytes);
                assert!(parsed.is_ok(), "{name} is not a whole result");
            }
        }
    }
}

#[test]
fn a_rescan_analyses_only_what_is_new_and_recognises_moved_files() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 4);
    let out = tmp.path().join("out");
    let first = scan_summary(&["--out", s(&out), s(&input)]);
    assert_eq!(counts(&first), [4, 0, 0], "{first}");
    let again = scan_summary(&["--out", s(&out), s(&input)]);
    assert_eq!(counts(&again), [0, 4, 0], "{again}");
    std::fs::copy(root().join("tests/fixtures/blast_at_3s_24k.opus"), input.join("late.opus"))
        .expect("copy");
    let one_new = scan_summary(&["--out", s(&out), s(&input)]);
    assert_eq!(counts(&one_new), [1, 4, 0], "{one_new}");
    // Renamed and moved into a subfolder: recognised by content, not analysed again.
    std::fs::create_dir(input.join("sub")).expect("mkdir");
    std::fs::rename(input.join("note_00.wav"), input.join("sub/renamed.wav")).expect("mv");
    let moved = scan_summary(&["--out", s(&out), s(&input)]);
    assert_eq!(counts(&moved), [0, 5, 0], "{moved}");
    // The views equal a clean run's over the same folder.
    let clean = tmp.path().join("clean");
    scan_ok(&["--quiet", "--out", s(&clean), s(&input)]);
    assert_same_views(&out, &clean, "incremental vs clean");
    // Another label threshold re-labels the stored confidences without decoding, and
    // gives what a clean run at that threshold gives. (Other analysis settings change the
    // fingerprint: a unit test in src/store.rs.)
    let relabelled = scan_summary(&["--threshold", "0.95", "--out", s(&out), s(&input)]);
    assert_eq!(counts(&relabelled), [0, 5, 0], "{relabelled}");
    let clean95 = tmp.path().join("clean95");
    scan_ok(&["--quiet", "--threshold", "0.95", "--out", s(&clean95), s(&input)]);
    assert_same_views(&out, &clean95, "relabelled vs clean at 0.95");
}

#[test]
fn killed_at_any_point_the_next_run_ends_with_the_clean_index() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 12);
    let clean = tmp.path().join("clean");
    let started = std::time::Instant::now();
    scan_ok(&["--quiet", "--out", s(&clean), s(&input)]);
    let whole = started.elapsed().as_millis().max(20) as u64;
    // Kill points spread over a clean run's length, by a fixed pseudo-random sequence.
    let mut seed = 0x2545_f491_u64;
    for round in 0..6 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let out = tmp.path().join(format!("killed{round}"));
        let mut delays = vec![seed % whole];
        if round % 2 == 1 {
            delays.push((seed >> 20) % whole); // killed twice before it completes
        }
        for delay in delays {
            let mut child = Process::new(cargo_bin("blastscan"))
                .args(["scan", "--quiet", "--threads", "2", "--out", s(&out), s(&input)])
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            std::thread::sleep(Duration::from_millis(delay));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            assert_store_whole(&out);
        }
        scan(&["--quiet", "--out", s(&out), s(&input)]);
        assert_same_views(&out, &clean, &format!("round {round}"));
        assert_eq!(leftovers(&out), 0, "round {round}: temporary files cleaned up");
    }
}

#[test]
fn ctrl_c_finishes_the_files_in_flight_exits_130_and_says_how_to_resume() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 16);
    let out = tmp.path().join("out");
    let child = Process::new(cargo_bin("blastscan"))
        .args(["scan", "--threads", "1", "--out", s(&out), s(&input)])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait for the first stored result: the run is then past its start-up (its Ctrl-C
    // handler is installed) and has files left.
    let waited = std::time::Instant::now();
    while stored_results(&out) == 0 {
        assert!(waited.elapsed() < Duration::from_secs(30), "no result stored after 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = Process::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -INT");
    let done = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&done.stderr);
    if done.status.code() == Some(0) {
        panic!("the run finished before Ctrl-C arrived; make the archive larger: {stderr}");
    }
    assert_eq!(done.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Run the same command again to resume"), "{stderr}");
    assert!(out.join("index.json").exists(), "the views are written");
    let resumed = scan_summary(&["--out", s(&out), s(&input)]);
    let [new, unchanged, _] = counts(&resumed);
    assert!(new > 0 && unchanged > 0, "the resumed run reuses the work done: {resumed}");
    let clean = tmp.path().join("clean");
    scan_ok(&["--quiet", "--out", s(&clean), s(&input)]);
    assert_same_views(&out, &clean, "resumed vs clean");
}

#[test]
fn a_second_run_into_the_same_folder_is_refused() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 1);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(blastscan::batch::store::LOCK_FILE))
        .expect("lock file");
    held.try_lock().expect("take the lock as a running scan would");
    let refused = scan(&["--out", s(&out), s(&input)]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another blastscan run is writing"), "{stderr}");
    assert!(!out.join("index.json").exists(), "nothing written");
    drop(held);
    scan_ok(&["--quiet", "--out", s(&out), s(&input)]);
}

#[test]
fn shards_merged_equal_a_single_run() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 7);
    for name in ["01_speech_near_blast.wav", "01_speech_near_blast.srt", "_chat.txt"] {
        std::fs::copy(root().join("sample_audio").join(name), input.join(name)).expect("copy");
    }
    std::fs::write(input.join("broken.mp3"), b"not audio at all").expect("write");
    let single = tmp.path().join("single");
    scan(&["--quiet", "--out", s(&single), s(&input)]);
    let mut shard_dirs = Vec::new();
    let mut analysed = 0;
    for i in 0..3 {
        let dir = tmp.path().join(format!("shard{i}"));
        let shard = format!("{i}/3");
        let out = scan(&["--summary", "json", "--shard", &shard, "--out", s(&dir), s(&input)]);
        // Exit 2: the broken file's shard says some files failed, and still writes.
        let n = summary_of(&out)["new"].as_u64().unwrap_or_else(|| panic!("shard {shard}"));
        analysed += n;
        shard_dirs.push(dir);
    }
    assert_eq!(
        analysed, 9,
        "each of the 9 files (the broken one too) is tried by exactly one shard"
    );
    let merged = tmp.path().join("merged");
    let mut merge = Process::new(cargo_bin("blastscan"));
    merge.arg("merge").args(&shard_dirs).args(["--out", s(&merged)]);
    assert!(merge.status().expect("merge").success());
    assert_same_views(&merged, &single, "merged shards vs single run");
    // The merged store serves a re-scan without analysing anything.
    let again = scan(&["--out", s(&merged), s(&input)]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("0 new, 9 unchanged"), "{stderr}");
}

#[test]
fn incidents_of_merged_shards_and_of_an_incremental_run_equal_a_clean_run() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    archive(&input, 6);
    // Three notes of two senders about the same strike, one the next night; note_04 and
    // note_05 are dated by their files only.
    std::fs::write(
        input.join("_chat.txt"),
        "13/03/2024, 23:14 - Abu Karim: note_00.wav (file attached)\n\
         13/03/2024, 23:15 - Mariam: note_01.wav (file attached)\n\
         13/03/2024, 23:16 - Abu Karim: note_02.wav (file attached)\n\
         14/03/2024, 00:20 - Mariam: note_03.wav (file attached)\n",
    )
    .expect("write chat");
    let clean = tmp.path().join("clean");
    scan_ok(&["--quiet", "--out", s(&clean), s(&input)]);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(clean.join("index.json")).expect("read"))
            .expect("json");
    let incidents = index["incidents"].as_array().expect("incidents");
    let first = &incidents[0];
    assert_eq!(
        first["recordings"],
        serde_json::json!(["note_00.wav", "note_01.wav", "note_02.wav"])
    );
    assert_eq!(first["senders"], serde_json::json!(["Abu Karim", "Mariam"]));
    assert_eq!(incidents[1]["recordings"], serde_json::json!(["note_03.wav"]));
    let table = std::fs::read_to_string(clean.join("incidents.csv")).expect("incidents.csv");
    assert_eq!(table.lines().count(), 1 + incidents.len(), "{table}");

    let mut shard_dirs = Vec::new();
    for i in 0..2 {
        let dir = tmp.path().join(format!("shard{i}"));
        scan_ok(&["--quiet", "--shard", &format!("{i}/2"), "--out", s(&dir), s(&input)]);
        shard_dirs.push(dir);
    }
    let merged = tmp.path().join("merged");
    let mut merge = Process::new(cargo_bin("blastscan"));
    merge.arg("merge").args(&shard_dirs).args(["--out", s(&merged)]);
    assert!(merge.status().expect("merge").success());
    assert_same_views(&merged, &clean, "incidents: merged shards vs clean run");

    // A first run without note_01, then one with it: the incident gains it.
    let held = tmp.path().join("note_01.wav");
    std::fs::rename(input.join("note_01.wav"), &held).expect("mv out");
    let incremental = tmp.path().join("incremental");
    scan(&["--quiet", "--out", s(&incremental), s(&input)]);
    std::fs::rename(&held, input.join("note_01.wav")).expect("mv back");
    let again = scan_summary(&["--out", s(&incremental), s(&input)]);
    assert_eq!(counts(&again), [1, 5, 0], "{again}");
    assert_same_views(&incremental, &clean, "incidents: incremental vs clean run");
}
