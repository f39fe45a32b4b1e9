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

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use std::path::{Path, PathBuf};

use blastscan::classify::{
    input_names, Boosted, Linear, Model, Tree, INPUTS, TREE_LEAVES, TREE_SPLITS,
};
use blastscan::detect::{Detector, DetectorParams};
use blastscan::discover::discover;
use blastscan::eval::{base_name, match_recording, Labels, Outcome, COLLAR_S};
use blastscan::model::{ModelFile, DEFAULT_MODEL};
use blastscan::pipeline::analyse_with;

const N: usize = INPUTS;
/// L2 penalty on the standardised weights of the logistic regression (in units of summed
/// log-loss). Chosen by the recording-held-out cross-validation printed below (tried 3,
/// 10, 30, 100 for the regression alone).
const L2: f64 = 30.0;
/// Boosting rounds (trees), the shrinkage of each tree, the fewest examples a leaf may
/// hold, the L2 penalty on leaf values, and quantile bins per input. Chosen by the
/// recording-held-out cross-validation printed below (see the README).
const TREES: usize = 300;
const LEARNING_RATE: f64 = 0.05;
const MIN_LEAF: usize = 10;
const LAMBDA: f64 = 1.0;
const BINS: usize = 64;
/// Folds of the recording-held-out cross-validation.
const FOLDS: usize = 8;

struct Example {
    set: usize,
    file: String,
    /// What the candidate is a sound of, for source-held-out folds: the labelled event's
    /// source package (`boswars-data`, ...), or the recording for unlabelled sound
    /// (speech, background).
    group: String,
    start_s: f64,
    x: Box<[f32; N]>,
    y: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut dump = None;
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        dump = Some(PathBuf::from(args.get(i + 1).ok_or("--dump needs a path")?));
        args.drain(i..i + 2);
    }
    let mut draws = 0usize;
    if let Some(i) = args.iter().position(|a| a == "--draws") {
        draws = args.get(i + 1).and_then(|n| n.parse().ok()).ok_or("--draws needs a number")?;
        args.drain(i..i + 2);
    }
    let check_only = args.iter().any(|a| a == "--check");
    args.retain(|a| a != "--check");
    // Sets only scored, never fitted: the held-out test.
    let mut tests = Vec::new();
    while let Some(i) = args.iter().position(|a| a == "--test") {
        tests.push(args.get(i + 1).ok_or("--test needs a folder")?.clone());
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        return Err(
            "usage: train [--check] [--draws N] [--dump FILE] [--test DIR]... DIR [DIR...] (each with labels.csv)"
                .into(),
        );
    }
    let params = DetectorParams::default();
    let mut examples = Vec::new();
    let mut blasts = Vec::new();
    for (set, dir) in args.iter().enumerate() {
        let (found, labelled) = collect(set, Path::new(dir), params)?;
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
        let (found, labelled) = collect(args.len() + k, Path::new(dir), params)?;
        let scored: Vec<f32> = found.iter().map(|e| model.confidence_of(&e.x)).collect();
        let hours = found_hours(Path::new(dir))?;
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
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.json");
    std::fs::write(&out, render(&model, &args)?)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Hours of audio in the recordings of `dir` (decoded: what the detector analysed).
fn found_hours(dir: &Path) -> Result<f64, Box<dyn std::error::Error>> {
    let inputs = discover(&[dir.to_path_buf()], &mut Vec::new())?;
    let mut seconds = 0.0;
    for input in &inputs {
        let mut decoder = blastscan::decode::Decoder::open(&input.path)?;
        let mut chunk = Vec::new();
        let mut samples = 0usize;
        while decoder.next_chunk(&mut chunk)? {
            samples += chunk.len();
        }
        seconds += samples as f64 / f64::from(decoder.info().sample_rate.max(1));
    }
    Ok(seconds / 3600.0)
}

/// Runs the detector over every recording of `dir`, keeping each detection's inputs.
/// Returns the examples and the number of labelled blasts (candidates or not).
fn collect(
    set: usize,
    dir: &Path,
    params: DetectorParams,
) -> Result<(Vec<Example>, usize), Box<dyn std::error::Error>> {
    let labels = Labels::read(&dir.join("labels.csv"))?;
    let inputs = discover(&[dir.to_path_buf()], &mut Vec::new())?;
    let mut out = Vec::new();
    let blasts = labels.by_file.values().flatten().filter(|r| r.class == "explosion").count();
    for input in &inputs {
        let keep = |rate| Detector::new(rate, params, *DEFAULT_MODEL).keeping_model_inputs();
        let rec = analyse_with(input, keep);
        if let Some(e) = rec.error {
            eprintln!("skipped {}: {e}", input.display);
            continue;
        }
        let detections = rec.detections;
        let name = base_name(&input.display);
        let refs = labels.by_file.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let starts: Vec<f64> = detections.iter().map(|d| d.start_s).collect();
        let (outcomes, _, _) = match_recording(&starts, refs, COLLAR_S);
        for (d, o) in detections.into_iter().zip(outcomes) {
            let Some(x) = d.model_inputs else { continue };
            if o == Outcome::Ignored {
                continue;
            }
            let y = if o == Outcome::Hit { 1.0 } else { 0.0 };
            let under = refs.iter().find(|r| {
                r.onset_s - COLLAR_S <= d.start_s
                    && d.start_s <= r.offset_s.max(r.onset_s + COLLAR_S)
                    && !r.source.is_empty()
            });
            let group = match under {
                Some(r) => r.source.split(':').next().unwrap_or_default().to_string(),
                None => format!("{set}/{name}"),
            };
            out.push(Example { set, file: name.clone(), group, start_s: d.start_s, x, y });
        }
    }
    Ok((out, blasts))
}

/// Fits both halves of the model to the same examples (uncalibrated).
fn fit(examples: &[&Example]) -> Model {
    Model { linear: fit_linear(examples), boosted: fit_boosted(examples), calibration: (1.0, 0.0) }
}

/// Fits the logistic regression: Newton-Raphson (IRLS) on standardised inputs with an
/// L2 penalty.
fn fit_linear(examples: &[&Example]) -> Linear {
    let n = examples.len() as f64;
    let mut mean = [0f32; N];
    let mut scale = [0f32; N];
    for j in 0..N {
        let m = examples.iter().map(|e| f64::from(e.x[j])).sum::<f64>() / n;
        let v = examples.iter().map(|e| (f64::from(e.x[j]) - m).powi(2)).sum::<f64>() / n;
        mean[j] = m as f32;
        scale[j] = v.sqrt().max(1e-3) as f32;
    }
    let dim = N + 1;
    let rows: Vec<Vec<f64>> = examples
        .iter()
        .map(|e| {
            let mut r = vec![1.0; dim];
            for j in 0..N {
                r[j + 1] = f64::from((e.x[j] - mean[j]) / scale[j]);
            }
            r
        })
        .collect();
    let mut w = vec![0f64; dim];
    for _ in 0..30 {
        let mut grad = vec![0f64; dim];
        let mut hess = vec![vec![0f64; dim]; dim];
        for (r, e) in rows.iter().zip(examples) {
            let z: f64 = r.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let q = p * (1.0 - p);
            for a in 0..dim {
                grad[a] += (p - e.y) * r[a];
                let qa = q * r[a];
                for b in a..dim {
                    hess[a][b] += qa * r[b];
                }
            }
        }
        for a in 0..dim {
            for b in 0..a {
                hess[a][b] = hess[b][a];
            }
        }
        for a in 1..dim {
            grad[a] += L2 * w[a];
            hess[a][a] += L2;
        }
        let step = solve(hess, grad);
        let mut change = 0.0;
        for a in 0..dim {
            w[a] -= step[a];
            change += step[a].abs();
        }
        if change < 1e-7 {
            break;
        }
    }
    let mut weights = [0f32; N];
    for j in 0..N {
        weights[j] = w[j + 1] as f32;
    }
    Linear { mean, scale, weights, bias: w[0] as f32 }
}

/// Fits gradient-boosted trees: each tree is grown on the gradient and hessian of the
/// log-loss at the current scores (Newton boosting), depth-first to [`TREE_DEPTH`], on
/// inputs binned at their quantiles; a leaf adds `-G / (H + LAMBDA)`, shrunk by
/// [`LEARNING_RATE`].
fn fit_boosted(examples: &[&Example]) -> Boosted {
    let n = examples.len();
    let cuts: Vec<Vec<f32>> = (0..N).map(|j| cut_points(examples.iter().map(|e| e.x[j]))).collect();
    // bins[i * N + j]: how many cuts of input j lie below example i's value, so a split
    // at cut b sends the example left exactly when its bin is <= b.
    let bins: Vec<u8> = examples
        .iter()
        .flat_map(|e| {
            cuts.iter().enumerate().map(|(j, c)| c.partition_point(|&t| t < e.x[j]) as u8)
        })
        .collect();
    let share = examples.iter().map(|e| e.y).sum::<f64>() / n as f64;
    let share = share.clamp(1e-3, 1.0 - 1e-3);
    let base = (share / (1.0 - share)).ln();
    let mut score = vec![base; n];
    let mut trees = Vec::with_capacity(TREES);
    for _ in 0..TREES {
        let (g, h): (Vec<f64>, Vec<f64>) = examples
            .iter()
            .zip(&score)
            .map(|(e, &z)| {
                let p = 1.0 / (1.0 + (-z).exp());
                (p - e.y, (p * (1.0 - p)).max(1e-6))
            })
            .unzip();
        let tree = grow(&bins, &cuts, &g, &h);
        for (z, e) in score.iter_mut().zip(examples) {
            *z += f64::from(tree.eval(&e.x));
        }
        trees.push(tree);
    }
    // The trainer makes a dozen models and exits: leaking them keeps `Model` `Copy`, with
    // its trees in a `&'static` slice like the generated `src/model.rs`.
    Boosted { base: base as f32, trees: Box::leak(trees.into_boxed_slice()) }
}

/// Up to [`BINS`] thresholds for one input: midpoints between neighbouring distinct
/// quantiles of its values.
fn cut_points(values: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut v: Vec<f32> = values.collect();
    v.sort_by(f32::total_cmp);
    v.dedup();
    if v.len() > BINS {
        let last = v.len() - 1;
        v = (0..=BINS).map(|k| v[k * last / BINS]).collect();
        v.dedup();
    }
    v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect()
}

/// Grows one tree over all examples, breadth first.
fn grow(bins: &[u8], cuts: &[Vec<f32>], g: &[f64], h: &[f64]) -> Tree {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); TREE_SPLITS + TREE_LEAVES];
    members[0] = (0..g.len()).collect();
    let mut splits = [(0u16, f32::INFINITY); TREE_SPLITS];
    for node in 0..TREE_SPLITS {
        let here = std::mem::take(&mut members[node]);
        let (left, right) = match best_split(&here, bins, cuts, g, h) {
            Some((j, b)) => {
                splits[node] = (j as u16, cuts[j][b]);
                here.iter().partition(|&&i| usize::from(bins[i * N + j]) <= b)
            }
            None => (here, Vec::new()),
        };
        members[2 * node + 1] = left;
        members[2 * node + 2] = right;
    }
    let mut leaves = [0f32; TREE_LEAVES];
    for (leaf, value) in leaves.iter_mut().enumerate() {
        let m = &members[TREE_SPLITS + leaf];
        let (gs, hs) = m.iter().fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
        *value = (-gs / (hs + LAMBDA) * LEARNING_RATE) as f32;
    }
    Tree { splits, leaves }
}

/// The `(input, cut)` that most lowers the regularised loss, leaving at least
/// [`MIN_LEAF`] examples on each side; `None` if no split helps.
fn best_split(
    members: &[usize],
    bins: &[u8],
    cuts: &[Vec<f32>],
    g: &[f64],
    h: &[f64],
) -> Option<(usize, usize)> {
    if members.len() < 2 * MIN_LEAF {
        return None;
    }
    let gain_of = |gs: f64, hs: f64| gs * gs / (hs + LAMBDA);
    let (gt, ht) = members.iter().fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
    let parent = gain_of(gt, ht);
    let mut best: Option<(f64, usize, usize)> = None;
    let mut hist: Vec<(f64, f64, usize)> = Vec::with_capacity(BINS + 1);
    for (j, c) in cuts.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        hist.clear();
        hist.resize(c.len() + 1, (0.0, 0.0, 0));
        for &i in members {
            let cell = &mut hist[usize::from(bins[i * N + j])];
            cell.0 += g[i];
            cell.1 += h[i];
            cell.2 += 1;
        }
        let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0);
        for (b, cell) in hist[..c.len()].iter().enumerate() {
            gl += cell.0;
            hl += cell.1;
            nl += cell.2;
            if nl < MIN_LEAF || members.len() - nl < MIN_LEAF {
                continue;
            }
            let gain = gain_of(gl, hl) + gain_of(gt - gl, ht - hl) - parent;
            if gain > 1e-9 && best.is_none_or(|(top, _, _)| gain > top) {
                best = Some((gain, j, b));
            }
        }
    }
    best.map(|(_, j, b)| (j, b))
}

/// Fits `sigmoid(a * score + b)` to labels by Newton-Raphson (Platt 1999, "Probabilistic
/// outputs for support vector machines"), with Platt's smoothed targets.
fn platt(scores: &[f32], ys: &[f64]) -> (f32, f32) {
    let pos = ys.iter().filter(|y| **y > 0.5).count() as f64;
    let neg = ys.len() as f64 - pos;
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (&z, &y) in scores.iter().zip(ys) {
            let z = f64::from(z);
            let t = if y > 0.5 { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let q = p * (1.0 - p);
            ga += (p - t) * z;
            gb += p - t;
            haa += q * z * z;
            hab += q * z;
            hbb += q;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    (a as f32, b as f32)
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
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
                if f == 0.0 {
                    continue;
                }
                for k in c..n {
                    a[r][k] -= f * a[c][k];
                }
                b[r] -= f * b[c];
            }
        }
    }
    (0..n).map(|i| if a[i][i].abs() < 1e-12 { 0.0 } else { b[i] / a[i][i] }).collect()
}

/// Precision and recall at a threshold, as the scorer counts them: recall is over every
/// labelled blast, including those the detector never made a candidate of.
/// Scores every example with a model that did not see its fold, then calibrates the
/// scores (Platt scaling on the out-of-sample scores: the in-sample fit is
/// overconfident). Returns the probabilities and the calibration.
fn cross_validate(
    examples: &[Example],
    fold_of: impl Fn(&Example) -> usize,
) -> (Vec<f32>, (f32, f32)) {
    let mut scores = vec![0f32; examples.len()];
    for fold in 0..FOLDS {
        let train: Vec<&Example> = examples.iter().filter(|e| fold_of(e) != fold).collect();
        let model = fit(&train);
        for (i, e) in examples.iter().enumerate() {
            if fold_of(e) == fold {
                scores[i] = model.score(&e.x);
            }
        }
    }
    let ys: Vec<f64> = examples.iter().map(|e| e.y).collect();
    let calibration = platt(&scores, &ys);
    let sigmoid = |z: f32| 1.0 / (1.0 + (-(calibration.0 * z + calibration.1)).exp());
    (scores.iter().map(|&z| sigmoid(z)).collect(), calibration)
}

/// `0..n` in an order drawn by `seed` (Fisher-Yates with SplitMix64: deterministic, so a
/// draw can be repeated).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// True and false positives at `threshold`.
fn counts<'a>(
    scored: impl Iterator<Item = (&'a Example, &'a f32)>,
    threshold: f32,
) -> (usize, usize) {
    scored.filter(|(_, &p)| p >= threshold).fold((0, 0), |(tp, fp), (e, _)| {
        if e.y > 0.5 {
            (tp + 1, fp)
        } else {
            (tp, fp + 1)
        }
    })
}

/// Precision, recall and F1, with recall over every labelled blast (a blast that never
/// became a candidate counts as missed), as the scorer counts.
fn figures(tp: usize, fp: usize, blasts: usize) -> [f64; 3] {
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / blasts.max(1) as f64;
    [precision, recall, 2.0 * precision * recall / (precision + recall).max(1e-9)]
}

fn report<'a>(
    scored: impl Iterator<Item = (&'a Example, &'a f32)>,
    threshold: f32,
    blasts: usize,
) -> String {
    let scored: Vec<_> = scored.collect();
    let pos = scored.iter().filter(|(e, _)| e.y > 0.5).count();
    let (tp, fp) = counts(scored.iter().copied(), threshold);
    let [precision, recall, f1] = figures(tp, fp, blasts);
    format!(
        "precision {precision:.3} recall {recall:.3} F1 {f1:.3} \
         ({tp} of {blasts} blasts, {fp} false alarms; {pos} blasts became candidates)"
    )
}

/// The model file (`models/default.json`): pretty JSON, see [`blastscan::model`].
fn render(model: &Model, sets: &[String]) -> Result<String, serde_json::Error> {
    let mut json = serde_json::to_string_pretty(&ModelFile::of(model, sets))?;
    json.push('\n');
    Ok(json)
}
