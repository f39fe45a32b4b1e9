//! `blastscan train`: an investigator's own model from a few labelled recordings.

mod common;

use common::*;

#[test]
fn an_investigator_trains_a_model_on_a_few_labelled_recordings_and_scans_with_it() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("mine");
    copy("blast_at_3s_16k.opus", &dir.join("a.opus"));
    copy("blast_at_3s_24k.opus", &dir.join("b.opus"));
    copy("blast_at_3s_64k.mp3", &dir.join("unlabelled.mp3"));
    let labels = tmp.path().join("labels.csv");
    write(
        &labels,
        "file,onset_s,offset_s,class\na.opus,2.99,3.9,explosion\nb.opus,2.99,3.9,explosion\n",
    );
    let model = tmp.path().join("mine.json");
    let run = common::run(&["train", s(&dir), "--labels", s(&labels), "--out", s(&model)]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("from 2 of your recordings (2 labelled blasts)"), "{err}");
    assert!(
        err.contains("the shipped model: precision") && err.contains("held out of its fit"),
        "{err}"
    );
    let out = tmp.path().join("out");
    let scan = common::run(&["scan", "--quiet", "--model", s(&model), "--out", s(&out), s(&dir)]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    assert!(blasts(recording(&common::index(&out), "a.opus"))
        .iter()
        .any(|t| (t - 3.0).abs() < 0.2));

    // Labels that name no blast: nothing to learn, said so, exit 1.
    write(&labels, "file,onset_s,offset_s,class\na.opus,2.99,3.9,impact\n");
    let run = common::run(&["train", s(&dir), "--labels", s(&labels), "--out", s(&model)]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("no explosion"), "{}", stderr(&run));
}
