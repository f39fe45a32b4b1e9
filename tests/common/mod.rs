//! Helpers shared by the integration tests: fixtures, files, runs of the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The project's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed test recording.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Copies a fixture to `to`, making its folder.
pub fn copy(from: &str, to: &Path) {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::copy(fixture(from), to).expect("copy fixture");
}

/// Writes `bytes` to `path`, making its folder.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write");
}

/// The blastscan binary.
pub fn blastscan() -> Command {
    Command::cargo_bin("blastscan").expect("binary built")
}

/// Runs blastscan with `args`.
pub fn run(args: &[&str]) -> Output {
    blastscan().args(args).output().expect("run blastscan")
}

/// A path as a `&str` argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `OUT/index.json` as JSON.
pub fn index(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index")).expect("json")
}

/// The index entry whose path ends with `name`.
pub fn recording<'a>(index: &'a Value, name: &str) -> &'a Value {
    index["recordings"]
        .as_array()
        .expect("recordings")
        .iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("{name} not in the index"))
}

/// Peak times of the detections labelled `explosion`.
pub fn blasts(rec: &Value) -> Vec<f64> {
    rec["detections"]
        .as_array()
        .expect("detections")
        .iter()
        .filter(|d| d["label"] == "explosion")
        .filter_map(|d| d["peak_s"].as_f64())
        .collect()
}
