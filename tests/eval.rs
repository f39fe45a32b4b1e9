//! `blastscan eval` against the shared scorer (`../shared/eval/score.py`) on both
//! development sets. The sets sit beside the project on the developers' machines and in
//! CI, not in a newcomer's clone, so these tests are left out of `cargo test` and run by
//! `.ci/quality` (`cargo test --release --test eval -- --ignored`), where they fail, not
//! skip, when the sets are missing.

mod common;
use common::{blastscan, root};

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;

fn shared_eval() -> PathBuf {
    let dir = root().join("../shared/eval");
    assert!(
        dir.join("score.py").is_file(),
        "missing {} (the shared evaluation sets)",
        dir.display()
    );
    dir
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

fn scan(set: &Path, out: &Path) {
    // Exit 2 (a file failed) still writes the index; any other failure is a test failure.
    let status = blastscan().args(["scan", "--quiet", "--out"]).arg(out).arg(set).output();
    let code = status.expect("run blastscan").status.code();
    assert!(matches!(code, Some(0 | 2)), "scan of {} exited {code:?}", set.display());
}

#[test]
#[ignore = "needs ../shared/eval; run by .ci/quality"]
fn eval_matches_the_shared_scorer_on_both_sets() {
    let eval_dir = shared_eval();
    let tmp = tempfile::tempdir().expect("temp dir");
    for set in ["dev", "field"] {
        let set_dir = eval_dir.join(set);
        let labels = set_dir.join("labels.csv");
        let out = tmp.path().join(set);
        scan(&set_dir, &out);
        let ours = blastscan()
            .arg("eval")
            .arg(&out)
            .arg("--labels")
            .arg(&labels)
            .args(["--format", "json"])
            .output()
            .expect("run blastscan eval");
        assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
        let ours = json_of(&ours.stdout);
        let theirs = Process::new("python3")
            .arg(eval_dir.join("score.py"))
            .arg(&labels)
            .arg(out.join("detections.csv"))
            .arg("--json")
            .output()
            .expect("python3 runs score.py");
        assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
        let theirs = json_of(&theirs.stdout);
        for (a, b) in
            [("tp", "tp"), ("fp", "fp"), ("fn", "fn"), ("ignored", "ignored_thunder_fireworks")]
        {
            assert_eq!(ours[a], theirs[b], "{set}: {a}");
        }
        for key in ["precision", "recall", "f1"] {
            let (x, y) = (ours[key].as_f64().expect(key), theirs[key].as_f64().expect(key));
            assert!((x - y).abs() < 0.0006, "{set}: {key} {x} vs {y}");
        }
        assert_eq!(ours["false_alarms_by_cause"], theirs["false_alarms_by_cause"], "{set}");
        // Hours: ours from the decoded length, the scorer's from ffprobe's container length.
        let (x, y) =
            (ours["hours"].as_f64().expect("hours"), theirs["hours"].as_f64().expect("hours"));
        assert!((x - y).abs() < 0.002, "{set}: hours {x} vs {y}");
        // The curve at the index's own threshold repeats the headline figures.
        let at = ours["curve"].as_array().expect("curve").iter().find(|p| p["threshold"] == 0.3);
        let at = at.expect("0.3 on the curve");
        assert_eq!(at["precision"], ours["precision"], "{set}");
        let counted: u64 = ours["calibration"]
            .as_array()
            .expect("calibration")
            .iter()
            .map(|b| b["blasts"].as_u64().expect("blasts"))
            .sum();
        assert!(counted >= theirs["tp"].as_u64().expect("tp"), "{set}: every hit is in a band");
    }
}

#[test]
fn eval_prints_a_table_for_people_and_names_a_bad_labels_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    // The labels name the three sample recordings; a fourth, unlabelled recording with a
    // blast in it must be left out, not counted as a false alarm.
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    for name in ["01_speech_near_blast.wav", "02_distant_strikes.wav", "03_speech_slams_cracks.wav"]
    {
        std::fs::copy(root().join("sample_audio").join(name), input.join(name)).expect("copy");
    }
    std::fs::copy(
        root().join("tests/fixtures/blast_at_3s_24k.opus"),
        input.join("unlabelled.opus"),
    )
    .expect("copy");
    scan(&input, &out);
    let text = blastscan()
        .arg("eval")
        .arg(&out)
        .arg("--labels")
        .arg(root().join("sample_audio/truth.csv"))
        .output()
        .expect("run");
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    // The unlabelled recording's blast would be a false alarm if it were scored.
    assert!(text.contains("precision 1.000  recall "), "{text}");
    assert!(
        text.contains("3 recordings scored; 1 others in the index are not in the labels"),
        "{text}"
    );
    assert!(text.contains("If you cut at another confidence"), "{text}");
    let bad = tmp.path().join("labels.csv");
    std::fs::write(&bad, "name,time\nx.wav,1\n").expect("write");
    let run = blastscan().arg("eval").arg(&out).arg("--labels").arg(&bad).output().expect("run");
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("labels.csv") && err.contains("no `file` column"), "{err}");
}
