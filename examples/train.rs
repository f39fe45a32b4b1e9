//! Trains the explosion classifier (logistic regression) on labelled recordings and writes
//! `src/model.rs`.
//!
//! ```text
//! cargo run --release --example train -- ../shared/eval/dev ../shared/eval/field
//! cargo run --release --example train -- --dump candidates.csv ../shared/eval/dev ...
//! ```
//! Each folder holds recordings and a `labels.csv` (file,onset_s,offset_s,class). Every onset
//! the detector finds above the report gate is a training example: positive when it is
//! the detection the scorer would match to a reference explosion, negative otherwise
//! (gunshots, impacts, speech, and second onsets inside a blast's tail); onsets on thunder
//! or fireworks are left out. The fit is L2-regularised Newton-Raphson (IRLS) on
//! standardised features, so its output is a probability. Also prints cross-set checks
//! (train on one folder, test on the others) so overfitting to one set shows.

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use std::path::{Path, PathBuf};

use blastscan::classify::{Features, Model, INPUTS};
use blastscan::detect::DetectorParams;
use blastscan::discover::discover;
use blastscan::eval::{base_name, match_recording, Labels, Outcome, COLLAR_S};
use blastscan::model::DEFAULT_MODEL;
use blastscan::pipeline::{scan, ScanConfig};

const N: usize = INPUTS;
const L2: f64 = 1.0;

struct Example {
    set: usize,
    file: String,
    start_s: f64,
    x: [f32; N],
    features: Features,
    y: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut dump = None;
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        dump = Some(PathBuf::from(args.get(i + 1).ok_or("--dump needs a path")?));
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        return Err("usage: train [--dump FILE] DIR [DIR...] (each with labels.csv)".into());
    }
    let params = DetectorParams::default();
    let mut examples = Vec::new();
    for (set, dir) in args.iter().enumerate() {
        examples.extend(collect(set, Path::new(dir), params)?);
    }
    if let Some(path) = dump {
        let mut w = csv::Writer::from_path(path)?;
        let mut header = vec!["set", "file", "start_s", "y"];
        header.extend(Features::INPUT_NAMES);
        w.write_record(&header)?;
        for e in &examples {
            let mut row = vec![
                e.set.to_string(),
                e.file.clone(),
                format!("{:.3}", e.start_s),
                e.y.to_string(),
            ];
            row.extend(e.x.iter().map(|v| format!("{v:.4}")));
            w.write_record(&row)?;
        }
    }
    let pos = examples.iter().filter(|e| e.y > 0.5).count();
    eprintln!("{} candidates, {} positive", examples.len(), pos);
    // Cross-set checks.
    for held in 0..args.len() {
        let train: Vec<&Example> = examples.iter().filter(|e| e.set != held).collect();
        let test: Vec<&Example> = examples.iter().filter(|e| e.set == held).collect();
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let model = fit(&train);
        eprintln!("held out {}: {}", args[held], report(&model, &test));
    }
    let all: Vec<&Example> = examples.iter().collect();
    let model = fit(&all);
    eprintln!("all sets, in-sample: {}", report(&model, &all));
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model.rs");
    std::fs::write(&out, render(&model, &args))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn collect(
    set: usize,
    dir: &Path,
    params: DetectorParams,
) -> Result<Vec<Example>, Box<dyn std::error::Error>> {
    let labels = Labels::read(&dir.join("labels.csv"))?;
    let inputs = discover(&[dir.to_path_buf()], &mut Vec::new())?;
    let config =
        ScanConfig { params, model: DEFAULT_MODEL, threads: None, progress: false, shard: None };
    let index = scan(&inputs, &config)?.index;
    let mut out = Vec::new();
    for rec in &index.recordings {
        let name = base_name(&rec.path);
        let refs = labels.by_file.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let starts: Vec<f64> = rec.detections.iter().map(|d| d.start_s).collect();
        let (outcomes, _, _) = match_recording(&starts, refs, COLLAR_S);
        for (d, o) in rec.detections.iter().zip(outcomes) {
            if o == Outcome::Ignored {
                continue;
            }
            out.push(Example {
                set,
                file: name.clone(),
                start_s: d.start_s,
                x: d.features.model_inputs(),
                features: d.features,
                y: if o == Outcome::Hit { 1.0 } else { 0.0 },
            });
        }
    }
    Ok(out)
}

fn fit(examples: &[&Example]) -> Model {
    let n = examples.len() as f64;
    let mut mean = [0f32; N];
    let mut scale = [0f32; N];
    for j in 0..N {
        let m = examples.iter().map(|e| f64::from(e.x[j])).sum::<f64>() / n;
        let v = examples.iter().map(|e| (f64::from(e.x[j]) - m).powi(2)).sum::<f64>() / n;
        mean[j] = m as f32;
        scale[j] = v.sqrt().max(1e-6) as f32;
    }
    let rows: Vec<[f64; N + 1]> = examples
        .iter()
        .map(|e| {
            let mut r = [1.0; N + 1];
            for j in 0..N {
                r[j + 1] = f64::from((e.x[j] - mean[j]) / scale[j]);
            }
            r
        })
        .collect();
    let mut w = [0f64; N + 1];
    for _ in 0..50 {
        let mut grad = [0f64; N + 1];
        let mut hess = [[0f64; N + 1]; N + 1];
        for (r, e) in rows.iter().zip(examples) {
            let z: f64 = r.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for a in 0..=N {
                grad[a] += (p - e.y) * r[a];
                for b in 0..=N {
                    hess[a][b] += p * (1.0 - p) * r[a] * r[b];
                }
            }
        }
        for a in 1..=N {
            grad[a] += L2 * w[a];
            hess[a][a] += L2;
        }
        let step = solve(hess, grad);
        let mut change = 0.0;
        for a in 0..=N {
            w[a] -= step[a];
            change += step[a].abs();
        }
        if change < 1e-9 {
            break;
        }
    }
    let mut weights = [0f32; N];
    for j in 0..N {
        weights[j] = w[j + 1] as f32;
    }
    Model { mean, scale, weights, bias: w[0] as f32 }
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; N + 1]; N + 1], mut b: [f64; N + 1]) -> [f64; N + 1] {
    let n = N + 1;
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let d = a[c][c];
        if d.abs() < 1e-12 {
            continue;
        }
        for r in 0..n {
            if r != c {
                let f = a[r][c] / d;
                for k in c..n {
                    a[r][k] -= f * a[c][k];
                }
                b[r] -= f * b[c];
            }
        }
    }
    let mut x = [0f64; N + 1];
    for i in 0..n {
        x[i] = if a[i][i].abs() < 1e-12 { 0.0 } else { b[i] / a[i][i] };
    }
    x
}

fn report(model: &Model, test: &[&Example]) -> String {
    let (mut tp, mut fp, mut pos) = (0, 0, 0);
    for e in test {
        let p = model.confidence(&e.features);
        if e.y > 0.5 {
            pos += 1;
        }
        if p >= 0.5 {
            if e.y > 0.5 {
                tp += 1;
            } else {
                fp += 1;
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / pos.max(1) as f64;
    format!("precision {precision:.3} recall {recall:.3} (of detected candidates; {pos} positives)")
}

fn render(model: &Model, sets: &[String]) -> String {
    let list = |v: &[f32; N]| v.iter().map(|x| format!("{x:.5}")).collect::<Vec<_>>().join(", ");
    format!(
        "//! Weights of the explosion classifier (logistic regression over standardised features).\n\
         //!\n\
         //! Generated by `cargo run --release --example train -- {}`;\n\
         //! do not edit by hand. Feature order: {}.\n\n\
         use crate::classify::Model;\n\n\
         /// The model used by default.\n\
         pub const DEFAULT_MODEL: Model = Model {{\n    \
         mean: [{}],\n    scale: [{}],\n    weights: [{}],\n    bias: {:.5},\n}};\n",
        sets.join(" "),
        Features::INPUT_NAMES.join(", "),
        list(&model.mean),
        list(&model.scale),
        list(&model.weights),
        model.bias
    )
}
