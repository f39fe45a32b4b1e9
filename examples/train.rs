//! Trains the explosion classifier (an L2-regularised logistic regression and depth-3
//! boosted trees, their log-odds averaged, then Platt-scaled) on labelled recordings and
//! writes the model file `models/default.json` (embedded in the binary).
//!
//! ```text
//! cargo run --release --example train -- --test ../shared/eval/field ../shared/train/mixes ../shared/eval/dev
//! cargo run --release --example train -- --check --draws 10 ../shared/train/mixes ../shared/eval/dev
//! cargo run --release --example train -- --dump candidates.csv ../shared/train/mixes ...
//! ```
//! `field/` is the held-out test: pass it with `--test` (scored, never fitted), never as
//! a training folder.
//! Each folder holds recordings and a `labels.csv` (file,onset_s,offset_s,class). Every
//! transient the detector reports is a training example: positive when it is the
//! detection the scorer would match to a reference explosion, negative otherwise
//! (gunshots, impacts, speech, and second onsets inside a blast's tail); those on thunder
//! or fireworks are left out. The regression is fitted by Newton-Raphson (IRLS) on
//! standardised inputs, the trees by Newton boosting on quantile-binned inputs.
//!
//! Before fitting on everything it prints out-of-sample checks, so overfitting shows:
//! cross-validation with whole sound sources held out (every candidate on a labelled
//! event goes to the fold of that event's source package; unlabelled sound, such as
//! speech, to the fold of its recording), cross-validation with whole recordings held out (8 folds over both sets, so no
//! recording is scored by a model that saw it), with `--draws N` the mean and range of N
//! more such cross-validations with the recordings dealt into folds at random (one split
//! can be lucky), and each set predicted by a model trained on the other. `--check` stops
//! there without writing the model.

use std::path::{Path, PathBuf};

use clap::Parser;

use blastscan::detect::classify::Model;
use blastscan::detect::features::{input_names, PATCH_LEN};
use blastscan::detect::model::ModelFile;
use blastscan::detect::DetectorParams;
use blastscan::train::{
    collect_dir, counts, cross_validate, encode_examples, figures, fit, report, shuffled, Example,
    FOLDS,
};

/// Trains the shipped feature models (see the module doc).
#[derive(clap::Parser, Debug)]
#[command(name = "train")]
struct Cli {
    /// Only print the out-of-sample checks; do not write the model.
    #[arg(long)]
    check: bool,
    /// More cross-validations with recordings dealt into folds at random.
    #[arg(long, default_value_t = 0)]
    draws: usize,
    /// Write every candidate's inputs to this CSV.
    #[arg(long, value_name = "FILE")]
    dump: Option<PathBuf>,
    /// Write patches, folds and cross-validated probabilities here, for
    /// training/train_cnn.py.
    #[arg(long, value_name = "DIR")]
    patches: Option<PathBuf>,
    /// A set only scored, never fitted (the held-out test); repeatable.
    #[arg(long = "test", value_name = "DIR")]
    tests: Vec<String>,
    /// Training sets: folders of recordings, each with a labels.csv.
    #[arg(required = true, value_name = "DIR")]
    sets: Vec<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Cli { check: check_only, draws, dump, patches, tests, sets: args } = Cli::parse();
    let params = DetectorParams::default();
    let mut examples = Vec::new();
    let mut blasts = Vec::new();
    for (set, dir) in args.iter().enumerate() {
        let collected = collect_dir(set, Path::new(dir), params)?;
        for (file, why) in &collected.failed {
            eprintln!("skipped {file}: {why}");
        }
        let (found, labelled) = (collected.examples, collected.blasts);
        examples.extend(found);
        blasts.push(labelled);
    }
    if let Some(path) = dump {
        let mut w = csv::Writer::from_path(path)?;
        let mut header = vec!["set".to_string(), "file".into(), "start_s".into(), "y".into()];
        header.extend(input_names());
        w.write_record(&header)?;
        for e in &examples {
            let mut row = vec![e.set.to_string(), e.file.clone(), format!("{:.3}", e.start_s)];
            row.push(e.y.to_string());
            row.extend(e.x.iter().map(|v| format!("{v:.3}")));
            w.write_record(&row)?;
        }
    }
    let pos = examples.iter().filter(|e| e.y > 0.5).count();
    eprintln!("{} candidates, {} positive", examples.len(), pos);

    // Source-held-out cross-validation: every candidate of one sound source (a package
    // or repository) is scored by a model that saw none of that source's sounds.
    let mut groups: Vec<&str> = examples.iter().map(|e| e.group.as_str()).collect();
    groups.sort();
    groups.dedup();
    let order = shuffled(groups.len(), 7);
    let group_fold =
        |e: &Example| order[groups.binary_search(&e.group.as_str()).unwrap_or(0)] % FOLDS;
    let (by_source, _) = cross_validate(&examples, group_fold);
    if let Some(dir) = &patches {
        std::fs::create_dir_all(dir)?;
        let folds: Vec<usize> = examples.iter().map(group_fold).collect();
        write_patches(&dir.join("train"), &examples, &by_source, &folds)?;
        let sets: Vec<_> = args.iter().zip(&blasts).map(|(d, b)| (d.clone(), *b)).collect();
        std::fs::write(dir.join("sets.json"), serde_json::to_string_pretty(&sets)?)?;
    }
    for (set, dir) in args.iter().enumerate() {
        eprintln!(
            "cross-validated, sources held out, {dir} at 0.3: {}",
            report(examples.iter().zip(&by_source).filter(|(e, _)| e.set == set), 0.3, blasts[set])
        );
    }
    eprintln!(
        "cross-validated, sources held out, all training sets at 0.3: {}",
        report(examples.iter().zip(&by_source), 0.3, blasts.iter().sum())
    );

    // Recording-held-out cross-validation.
    let mut files: Vec<(usize, &str)> = examples.iter().map(|e| (e.set, e.file.as_str())).collect();
    files.sort();
    files.dedup();
    let file_index =
        |e: &Example| files.iter().position(|f| *f == (e.set, e.file.as_str())).unwrap_or(0);
    let (predicted, calibration) = cross_validate(&examples, |e| file_index(e) % FOLDS);
    eprintln!(
        "calibration fitted on cross-validated scores: slope {:.3}, offset {:.3}",
        calibration.0, calibration.1
    );
    for (set, dir) in args.iter().enumerate() {
        for threshold in [0.2, 0.3, 0.4, 0.5] {
            eprintln!(
                "cross-validated, recordings held out, {dir} at {threshold}: {}",
                report(
                    examples.iter().zip(&predicted).filter(|(e, _)| e.set == set),
                    threshold,
                    blasts[set]
                )
            );
        }
    }
    // The figures above depend on which recordings share a fold; other draws show by how
    // much.
    if draws > 0 {
        // Per set and draw: precision, recall, F1 and false alarms at 0.3.
        let mut runs = vec![Vec::new(); args.len()];
        for draw in 1..=draws {
            let order = shuffled(files.len(), draw as u64);
            let (predicted, _) = cross_validate(&examples, |e| order[file_index(e)] % FOLDS);
            for (set, run) in runs.iter_mut().enumerate() {
                let (tp, fp) =
                    counts(examples.iter().zip(&predicted).filter(|(e, _)| e.set == set), 0.3);
                let [precision, recall, f1] = figures(tp, fp, blasts[set]);
                run.push([precision, recall, f1, fp as f64]);
            }
        }
        for (set, run) in runs.iter().enumerate() {
            let mean = |k: usize| run.iter().map(|r| r[k]).sum::<f64>() / run.len() as f64;
            let (lo, hi) =
                run.iter().fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(r[2]), b.max(r[2])));
            eprintln!(
                "cross-validated, mean of {draws} other fold draws, {} at 0.3: precision {:.3} \
                 recall {:.3} F1 {:.3} (F1 from {lo:.3} to {hi:.3}; {:.1} false alarms)",
                args[set],
                mean(0),
                mean(1),
                mean(2),
                mean(3)
            );
        }
    }
    // Calibration of the cross-validated probabilities, both sets together.
    for (lo, hi) in [(0.9, 1.01), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.1, 0.3), (0.0, 0.1)] {
        let band: Vec<f64> = examples
            .iter()
            .zip(&predicted)
            .filter(|(_, &p)| (lo..hi).contains(&f64::from(p)))
            .map(|(e, _)| e.y)
            .collect();
        let blasts = band.iter().filter(|y| **y > 0.5).count();
        eprintln!(
            "cross-validated calibration {lo:.1}-{:.1}: {} candidates, {blasts} blasts ({:.2})",
            hi.min(1.0),
            band.len(),
            blasts as f64 / band.len().max(1) as f64
        );
    }
    // Each set predicted by a model that never saw it.
    for held in 0..args.len() {
        let train: Vec<&Example> = examples.iter().filter(|e| e.set != held).collect();
        if train.is_empty() {
            continue;
        }
        let model = fit(&train);
        let test: Vec<(&Example, f32)> = examples
            .iter()
            .filter(|e| e.set == held)
            .map(|e| (e, model.confidence_of(&e.x)))
            .collect();
        eprintln!(
            "trained on the other sets, {} at 0.3: {}",
            args[held],
            report(test.iter().map(|(e, p)| (*e, p)), 0.3, blasts[held])
        );
    }
    let all: Vec<&Example> = examples.iter().collect();
    let model = Model { calibration, ..fit(&all) };
    let fitted: Vec<f32> = examples.iter().map(|e| model.confidence_of(&e.x)).collect();
    let all_blasts = blasts.iter().sum();
    eprintln!(
        "all sets, in-sample at 0.3: {}",
        report(examples.iter().zip(&fitted), 0.3, all_blasts)
    );
    // The held-out test sets, scored by the model that would be written.
    for (k, dir) in tests.iter().enumerate() {
        let collected = collect_dir(args.len() + k, Path::new(dir), params)?;
        let (found, labelled, hours) = (collected.examples, collected.blasts, collected.hours);
        let scored: Vec<f32> = found.iter().map(|e| model.confidence_of(&e.x)).collect();
        if let Some(patches) = &patches {
            let folds = vec![0; found.len()];
            write_patches(&patches.join(format!("test{k}")), &found, &scored, &folds)?;
            let hours = serde_json::json!({"dir": dir, "blasts": labelled, "hours": hours});
            std::fs::write(patches.join(format!("test{k}.json")), hours.to_string())?;
        }
        let (_, fp) = counts(found.iter().zip(&scored), 0.3);
        eprintln!(
            "held-out test (never fitted), {dir} at 0.3: {} {:.1} false alarms/h",
            report(found.iter().zip(&scored), 0.3, labelled),
            fp as f64 / hours.max(1e-9)
        );
    }
    if check_only {
        return Ok(());
    }
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let out = models.join("default.json");
    std::fs::write(&out, render(&model, &args)?)?;
    eprintln!("wrote {}", out.display());
    // What `blastscan train` adds an investigator's examples to.
    let out = models.join("training-examples.bin");
    std::fs::write(&out, encode_examples(&all))?;
    eprintln!("wrote {} ({} examples)", out.display(), all.len());
    Ok(())
}

/// Writes `PATH.f32` (each example's patch, little-endian f32, [`PATCH_LEN`] per example)
/// and `PATH.csv` (what each example is, its fold and the feature model's probability),
/// for the offline network trainer (`training/train_cnn.py`).
fn write_patches(
    path: &Path,
    examples: &[Example],
    probability: &[f32],
    folds: &[usize],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut bytes = Vec::with_capacity(examples.len() * PATCH_LEN * 4);
    let mut w = csv::Writer::from_path(path.with_extension("csv"))?;
    w.write_record(["set", "file", "group", "start_s", "y", "fold", "features_p"])?;
    for ((e, p), fold) in examples.iter().zip(probability).zip(folds) {
        let patch = e.patch.as_deref().ok_or("an example without a patch")?;
        bytes.extend(patch.iter().flat_map(|v| v.to_le_bytes()));
        w.write_record([
            e.set.to_string(),
            e.file.clone(),
            e.group.clone(),
            format!("{:.3}", e.start_s),
            e.y.to_string(),
            fold.to_string(),
            format!("{p:.6}"),
        ])?;
    }
    w.flush()?;
    std::fs::write(path.with_extension("f32"), bytes)?;
    Ok(())
}

/// The model file (`models/default.json`): pretty JSON, see [`blastscan::detect::model`].
fn render(model: &Model, sets: &[String]) -> Result<String, serde_json::Error> {
    let mut json = serde_json::to_string_pretty(&ModelFile::of(model, sets))?;
    json.push('\n');
    Ok(json)
}
