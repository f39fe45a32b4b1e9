//! Snapshot tests: `detections.csv` and `index.json` of a scan of `sample_audio/` against
//! committed copies in `tests/snapshots/`. Any change to what a scan writes shows up here
//! as a reviewable diff. Numbers are compared with a small tolerance (the FFT's SIMD path
//! may differ in the last bits between machines); everything else exactly. Fields that
//! depend on where and when the files were checked out (`source`, `modified_ns`) or on the
//! tool version are left out.
//!
//! After an intended change: `BLASTSCAN_UPDATE_SNAPSHOTS=1 cargo test --release --test
//! snapshots`, then review `git diff tests/snapshots`.

mod common;

use std::path::Path;

use common::{blastscan, root};
use serde_json::Value;

/// Absolute tolerance for numbers: above the outputs' rounding (0.001), far below any
/// change that matters.
const TOLERANCE: f64 = 2e-3;

fn scan_sample_audio(out: &Path) {
    blastscan()
        .args(["scan", "--quiet", "--out"])
        .arg(out)
        .arg("sample_audio")
        .current_dir(root())
        .assert()
        .success();
}

/// The parts of `index.json` that do not depend on the checkout or the tool version.
fn stable(mut index: Value) -> Value {
    if let Some(obj) = index.as_object_mut() {
        for volatile in ["tool_version", "fingerprint"] {
            obj.remove(volatile);
        }
    }
    for rec in index["recordings"].as_array_mut().into_iter().flatten() {
        if let Some(obj) = rec.as_object_mut() {
            obj.remove("source");
        }
        if let Some(file) = rec["file"].as_object_mut() {
            file.remove("modified_ns");
        }
    }
    index
}

/// First difference between two JSON values (numbers within [`TOLERANCE`]), with its path.
fn difference(at: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            ((x - y).abs() > TOLERANCE).then(|| format!("{at}: {x} vs {y}"))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{at}: {} items vs {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| difference(&format!("{at}[{i}]"), p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            if keys(x) != keys(y) {
                return Some(format!("{at}: fields {:?} vs {:?}", keys(x), keys(y)));
            }
            x.iter().find_map(|(k, p)| difference(&format!("{at}.{k}"), p, &y[k]))
        }
        _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
    }
}

/// A CSV as JSON rows (numbers where a cell is one), for [`difference`].
fn csv_rows(text: &str) -> Value {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            let cells = header.iter().zip(r.iter()).map(|(h, c)| {
                let v = c.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
                (h.to_string(), v.map_or_else(|| Value::String(c.to_string()), Value::Number))
            });
            Value::Object(cells.collect())
        })
        .collect();
    Value::Array(rows)
}

/// Compares `actual` with the snapshot `name`, or writes it when asked to.
fn check(name: &str, actual: &str, parse: fn(&str) -> Value) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("BLASTSCAN_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; make it with BLASTSCAN_UPDATE_SNAPSHOTS=1", path.display())
    });
    if let Some(diff) = difference("", &parse(&expected), &parse(actual)) {
        panic!("{name} differs from its snapshot at {diff}\n(after an intended change, update it with BLASTSCAN_UPDATE_SNAPSHOTS=1 and review the diff)");
    }
}

#[test]
fn detections_csv_and_index_json_of_sample_audio_match_their_snapshots() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    scan_sample_audio(&out);
    let csv = std::fs::read_to_string(out.join("detections.csv")).expect("csv");
    check("sample_audio.detections.csv", &csv, csv_rows);
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index"))
            .expect("json");
    let index = serde_json::to_string_pretty(&stable(index)).expect("json") + "\n";
    check("sample_audio.index.json", &index, |t| {
        serde_json::from_str(t).expect("snapshot is JSON")
    });
}

#[test]
fn the_comparison_sees_a_changed_number_a_changed_word_and_a_missing_row() {
    let a = csv_rows("file,start_s,label\nx.wav,1.5,explosion\ny.wav,2.0,other\n");
    let near = csv_rows("file,start_s,label\nx.wav,1.501,explosion\ny.wav,2.0,other\n");
    assert_eq!(difference("", &a, &near), None, "within tolerance");
    let moved = csv_rows("file,start_s,label\nx.wav,1.6,explosion\ny.wav,2.0,other\n");
    assert!(difference("", &a, &moved).is_some_and(|d| d.contains("[0].start_s")));
    let relabelled = csv_rows("file,start_s,label\nx.wav,1.5,other\ny.wav,2.0,other\n");
    assert!(difference("", &a, &relabelled).is_some_and(|d| d.contains("[0].label")));
    let fewer = csv_rows("file,start_s,label\nx.wav,1.5,explosion\n");
    assert!(difference("", &a, &fewer).is_some_and(|d| d.contains("items")));
}
