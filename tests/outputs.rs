//! What investigators and producers open: the HTML report (checked in headless
//! Chromium), clips, label tracks and subtitles (checked against reference files in
//! `tests/reference/`), and queries.
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it); the report test fails,
//! it does not skip, when it is missing.

mod common;
use common::{blastscan, root};

use std::path::Path;
use std::process::Command as Process;

use blastscan::detect::{Detection, Label};
use blastscan::index::TranscriptLink;
use blastscan::index::{Index, Recording};

fn run_ok(args: &[&str], paths: &[&Path]) -> String {
    let out = blastscan().args(args).args(paths).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder with the sample recordings, one with a hostile name and a hostile transcript.
fn hostile_case(dir: &Path) {
    for name in ["01_speech_near_blast.wav", "01_speech_near_blast.srt", "_chat.txt"] {
        std::fs::copy(root().join("sample_audio").join(name), dir.join(name)).expect("copy");
    }
    let hostile = dir.join("note <img src=x onerror=alert(1)>.wav");
    std::fs::copy(root().join("tests/fixtures/blast_at_3s_16k_mono.wav"), &hostile).expect("copy");
    std::fs::write(
        dir.join("note <img src=x onerror=alert(1)>.json"),
        r#"{"segments":[{"start":0,"end":6,"text":"<script>document.body.dataset.pwned='yes'</script> stairwell"}]}"#,
    )
    .expect("write");
}

fn chromium_dom(page: &Path, query: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}{query}", page.display());
    let out = Process::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("chromium runs (apt-get install chromium; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn visible_cards(dom: &str) -> usize {
    dom.split("<article class=\"det\"")
        .skip(1)
        .filter(|c| !c.split('>').next().unwrap_or("").contains(" hidden"))
        .count()
}

#[test]
fn the_report_renders_in_chromium_escapes_untrusted_text_and_filters() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    hostile_case(&input);
    let out = tmp.path().join("out");
    run_ok(&["scan", "--quiet", "--report", "--out"], &[&out, &input]);
    let index: Index =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index"))
            .expect("json");
    let blasts = index.summary.explosions;
    assert!(blasts >= 2, "{blasts}");
    let page = out.join("report/index.html");

    let dom = chromium_dom(&page, "");
    assert_eq!(visible_cards(&dom), blasts, "every probable explosion is listed");
    assert!(dom.contains(&format!("data-shown=\"{blasts}\"")), "the script ran");
    let images = dom.matches("data-decoded=\"yes\"").count();
    assert_eq!(images, blasts, "every spectrogram decoded");
    assert!(!dom.contains("data-decoded=\"no\"") && !dom.contains("data-decoded=\"pending\""));
    assert!(!dom.contains("data-pwned"), "a transcript's script must not run");
    assert!(dom.contains("&lt;script&gt;document.body.dataset.pwned"), "shown as text");
    assert!(!dom.contains("<img src=\"x\""), "a file name's markup must not become an element");
    assert!(dom.contains("note &lt;img src=x onerror=alert(1)&gt;.wav"));
    assert!(dom.contains("There! Did you hear that?"), "transcript excerpt");
    assert!(dom.contains("2024-03-13T23:13:"), "wall-clock estimate");
    // The incident timeline: every incident has a mark and an entry, and the cards link
    // back to them.
    assert!(dom.contains("<section id=\"incidents\">"), "timeline at the top");
    for incident in &index.incidents {
        let target = format!("href=\"#incident-{}\"", incident.id);
        assert!(dom.matches(&target).count() >= 2, "mark and card link for {}", incident.id);
        assert!(dom.contains(&format!("<li id=\"incident-{}\">", incident.id)));
    }

    // The search box, set from the address: one card mentions the stairwell.
    let dom = chromium_dom(&page, "?q=stairwell");
    assert_eq!(visible_cards(&dom), 1);
    assert!(dom.contains("data-shown=\"1\""));
    // A date range that excludes every message.
    let dom = chromium_dom(&page, "?from=2030-01-01");
    assert_eq!(visible_cards(&dom), 0);
}

/// An index with known detections, so text outputs can be compared with reference files.
fn known_index() -> Index {
    let det =
        |start: f64, end: f64, peak: f64, conf: f32, label: Label, text: Option<&str>| Detection {
            start_s: start,
            end_s: end,
            peak_s: peak,
            label,
            confidence: conf,
            peak_dbfs: -3.0,
            clipped: false,
            features: Default::default(),
            wall_clock_estimate: Some(format!("2024-03-13T23:{:02}:00", (peak as u32 / 60) % 60)),
            transcript: text.map(|t| TranscriptLink {
                text: t.into(),
                gap_s: Some(0.0),
                context_before: "before".into(),
                context_after: "after".into(),
            }),
            incident: None,
        };
    let rec = Recording {
        path: "night 2/PTT-20240313-WA0001.opus".into(),
        duration_s: 60.0,
        sent_at: Some("2024-03-13T23:14:00".into()),
        detections: vec![
            det(1.5, 2.25, 1.6, 0.2, Label::Other, None),
            det(12.341, 16.0, 12.4, 0.93, Label::Explosion, Some("=1+1 they hit the bakery")),
            det(3725.5, 3726.0, 3725.6, 0.55, Label::Explosion, None),
        ],
        ..Recording::default()
    };
    Index::new(Default::default(), vec![rec])
}

#[test]
fn label_tracks_and_subtitles_match_the_reference_files() {
    let tmp = tempfile::tempdir().expect("temp");
    let written =
        blastscan::output::tracks::write_tracks(&known_index(), tmp.path(), None).expect("write");
    assert_eq!(written.len(), 4);
    for suffix in ["audacity.txt", "raven.txt", "srt", "vtt"] {
        let name = format!("night_2__PTT-20240313-WA0001.{suffix}");
        let ours = std::fs::read_to_string(tmp.path().join(&name)).expect("written");
        let reference =
            std::fs::read_to_string(root().join("tests/reference").join(&name)).expect("reference");
        assert_eq!(ours, reference, "{name}");
    }
    // The subtitles parse back with the project's own transcript reader, cue for cue.
    let srt =
        std::fs::read_to_string(tmp.path().join("night_2__PTT-20240313-WA0001.srt")).expect("srt");
    let (t, w) = blastscan::link::transcript::parse(&srt, "srt", "srt");
    assert!(w.is_empty());
    assert_eq!(t.segments.iter().map(|s| s.start_s).collect::<Vec<_>>(), [12.341, 3725.5]);
}

#[test]
fn queries_filter_by_date_confidence_text_and_recording() {
    let tmp = tempfile::tempdir().expect("temp");
    std::fs::write(
        tmp.path().join("index.json"),
        blastscan::batch::store::index_json(&known_index()).expect("serialises"),
    )
    .expect("write");
    let out = tmp.path();
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["query", "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&run_ok(&args, &[out])).expect("json")
    };
    assert_eq!(json(&[]).as_array().map(Vec::len), Some(2), "explosions by default");
    assert_eq!(json(&["--min-confidence", "0"]).as_array().map(Vec::len), Some(3));
    assert_eq!(json(&["--min-confidence", "0.9"])[0]["peak_s"], 12.4);
    assert_eq!(json(&["--text", "BAKERY hit"]).as_array().map(Vec::len), Some(1));
    assert_eq!(json(&["--text", "school"]).as_array().map(Vec::len), Some(0));
    assert_eq!(
        json(&["--from", "2024-03-13", "--to", "2024-03-13"]).as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(json(&["--to", "2024-03-12"]).as_array().map(Vec::len), Some(0));
    assert_eq!(json(&["--from", "2024-03-13T23:15"]).as_array().map(Vec::len), Some(0));
    assert_eq!(json(&["--recording", "night 2/*.opus"]).as_array().map(Vec::len), Some(2));
    assert_eq!(json(&["--recording", "*.mp3"]).as_array().map(Vec::len), Some(0));
    let csv = run_ok(&["query", "--format", "csv"], &[out]);
    assert!(csv.contains(",'=1+1 they hit the bakery,"), "formula defused: {csv}");
    let table = run_ok(&["query", "--format", "table"], &[out]);
    assert!(table.starts_with("recording") && table.ends_with("2 detections\n"), "{table}");
    let bad = blastscan().args(["query", "--from", "yesterday"]).arg(out).output().expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("yesterday"));
}

#[test]
fn clips_are_cut_at_the_source_rate_with_safe_sortable_names() {
    let tmp = tempfile::tempdir().expect("temp");
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    hostile_case(&input);
    let out = tmp.path().join("out");
    run_ok(&["scan", "--quiet", "--out"], &[&out, &input]);
    run_ok(&["clips", "--pad", "1"], &[&out]);
    let dir = out.join("clips");
    let mut rows = csv::Reader::from_path(dir.join("clips.csv")).expect("clips.csv");
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert!(rows.len() >= 2);
    let mut names: Vec<String> = Vec::new();
    for row in &rows {
        let name = &row[0];
        let path = dir.join(name);
        assert_eq!(path.parent(), Some(dir.as_path()), "{name} stays in the clips folder");
        assert!(!name.contains('<') && !name.contains(' '), "{name}");
        let reader = hound::WavReader::open(&path).expect("a WAV");
        let spec = reader.spec();
        let (start, end): (f64, f64) = (row[2].parse().expect("n"), row[3].parse().expect("n"));
        let seconds = reader.duration() as f64 / f64::from(spec.sample_rate);
        assert!((seconds - (end - start)).abs() < 0.01, "{name}: {seconds} vs {start}..{end}");
        let samples: Vec<i16> = reader.into_samples().map(|s| s.expect("sample")).collect();
        assert_eq!((samples[0], samples[samples.len() - 1]), (0, 0), "faded at both ends");
        assert_eq!(spec.sample_rate, 16000, "source rate kept");
        names.push(name.to_string());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "clips.csv lists clips in name (date) order");
    assert!(names[0].starts_with("2024-03-13T23-13-"), "dated names sort first: {names:?}");
}

#[test]
fn query_and_clips_take_one_incident_and_refuse_an_unknown_one() {
    let tmp = tempfile::tempdir().expect("temp");
    let out = tmp.path().join("out");
    run_ok(&["scan", "--quiet", "--out"], &[&out, &root().join("sample_audio")]);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).expect("read"))
            .expect("json");
    let incidents = index["incidents"].as_array().expect("incidents");
    assert!(incidents.len() >= 2, "{incidents:?}");
    let chosen = &incidents[1];
    let id = chosen["id"].as_str().expect("id");
    let blasts = chosen["blasts"].as_u64().expect("blasts") as usize;

    let rows = run_ok(&["query", "--incident", id, "--format", "json"], &[&out]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&rows).expect("json rows");
    assert_eq!(rows.len(), blasts);
    assert!(rows.iter().all(|r| r["incident"] == id), "{rows:?}");
    let table = run_ok(&["query", "--incident", id, "--format", "table"], &[&out]);
    assert!(table.lines().next().is_some_and(|h| h.contains("incident")), "{table}");
    assert_eq!(table.lines().filter(|l| l.contains(id)).count(), blasts, "{table}");

    run_ok(&["clips", "--incident", id], &[&out]);
    let table = std::fs::read_to_string(out.join("clips").join(id).join("clips.csv"))
        .expect("the incident's clips.csv");
    assert_eq!(table.lines().count(), 1 + blasts, "{table}");
    assert!(!out.join("clips/clips.csv").exists(), "only the incident's folder is written");

    for command in ["query", "clips"] {
        let refused = blastscan()
            .args([command, "--incident", "I-19990101-0000"])
            .arg(&out)
            .output()
            .expect("run");
        assert_eq!(refused.status.code(), Some(1), "{command}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("no incident `I-19990101-0000`") && stderr.contains("incidents.csv")
        );
    }
}
