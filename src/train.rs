//! Training the explosion classifier (an L2-regularised logistic regression and depth-3
//! boosted trees, their log-odds averaged, then Platt-scaled) from labelled recordings.
//!
//! Used by `blastscan train` (a model for an investigator's own material) and by the
//! project's trainer (`cargo run --release --example train`, which makes the shipped
//! `models/default.json`). Every transient the detector reports is an example: positive
//! when it is the detection the scorer would match to a reference explosion, negative
//! otherwise (gunshots, impacts, speech, second onsets inside a blast's tail); those on
//! thunder or fireworks are left out. The regression is fitted by Newton-Raphson (IRLS)
//! on standardised inputs, the trees by Newton boosting on quantile-binned inputs.

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use std::path::Path;

use crate::batch::discover::discover;
use crate::batch::pipeline::{self, analyse_with};
use crate::detect::classify::{Boosted, Linear, Model, Tree, TREE_LEAVES, TREE_SPLITS};
use crate::detect::features::{INPUTS, PATCH_LEN, SCALAR_INPUTS};
use crate::detect::model::DEFAULT_MODEL;
use crate::detect::{Detector, DetectorParams};
use crate::error::Error;
use crate::eval::{match_recording, Labels, Outcome, COLLAR_S};
use crate::index::{base_name, Input};

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
pub const FOLDS: usize = 8;

/// One candidate transient with its model inputs and what it really was.
pub struct Example {
    /// Which set (folder) it came from.
    pub set: usize,
    /// The recording's file name.
    pub file: String,
    /// What the candidate is a sound of, for source-held-out folds: the labelled event's
    /// source package (`boswars-data`, ...), or the recording for unlabelled sound
    /// (speech, background).
    pub group: String,
    /// Onset, seconds.
    pub start_s: f64,
    /// The model inputs ([`crate::detect::features::model_inputs`]).
    pub x: Box<[f32; N]>,
    /// 1 for a blast, 0 for anything else.
    pub y: f64,
    /// The log-band patch around the onset ([`crate::detect::features::patch`]); not kept in the
    /// shipped examples file.
    pub patch: Option<Box<[f32; PATCH_LEN]>>,
}

/// The candidates of a set of recordings, and how many blasts the labels hold.
pub struct Collected {
    /// Every candidate not on thunder or fireworks.
    pub examples: Vec<Example>,
    /// Labelled blasts (candidates or not): recall counts against these.
    pub blasts: usize,
    /// Recordings that could not be analysed, with the reason.
    pub failed: Vec<(String, String)>,
    /// Hours of audio analysed (for false alarms per hour).
    pub hours: f64,
}

/// Which recordings of a folder the labels describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// All of them: a recording the labels do not name holds no labelled sound.
    All,
    /// Only those the labels name (an investigator labels a few of many).
    Named,
}

/// Runs the detector over `inputs` (in parallel, see [`pipeline::par_map`]), keeping each
/// detection's model inputs, and labels each candidate from `labels` as the scorer
/// would.
pub fn collect(
    set: usize,
    inputs: &[Input],
    labels: &Labels,
    scope: Scope,
    params: DetectorParams,
    progress: bool,
) -> Collected {
    let inputs: Vec<&Input> = inputs
        .iter()
        .filter(|i| scope == Scope::All || labels.by_file.contains_key(&base_name(&i.display)))
        .collect();
    let blasts = inputs
        .iter()
        .flat_map(|i| labels.by_file.get(&base_name(&i.display)).into_iter().flatten())
        .filter(|r| r.class == "explosion")
        .count();
    let analysed = pipeline::par_map(&inputs, "recordings", progress, |input| {
        let keep = |rate| Detector::new(rate, params, *DEFAULT_MODEL).keeping_model_inputs();
        analyse_with(input, keep)
    });
    let mut collected = Collected { examples: Vec::new(), blasts, failed: Vec::new(), hours: 0.0 };
    for (input, (rec, candidates)) in inputs.iter().zip(analysed) {
        if let Some(e) = rec.error {
            collected.failed.push((input.display.clone(), e));
            continue;
        }
        collected.hours += rec.duration_s / 3600.0;
        let name = base_name(&input.display);
        let refs = labels.by_file.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let starts: Vec<f64> = candidates.iter().map(|c| c.detection.start_s).collect();
        let (outcomes, _, _) = match_recording(&starts, refs, COLLAR_S);
        for (c, o) in candidates.into_iter().zip(outcomes) {
            let (d, patch) = (&c.detection, c.patch);
            let Some(x) = c.inputs else { continue };
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
            let file = name.clone();
            let start_s = d.start_s;
            collected.examples.push(Example { set, file, group, start_s, x, y, patch });
        }
    }
    collected
}

/// [`collect`] over a folder holding recordings and their `labels.csv`.
pub fn collect_dir(set: usize, dir: &Path, params: DetectorParams) -> Result<Collected, Error> {
    let labels = Labels::read(&dir.join("labels.csv"))?;
    let inputs = discover(&[dir.to_path_buf()], &mut Vec::new())?;
    Ok(collect(set, &inputs, &labels, Scope::All, params, false))
}

/// Fits both halves of the model to the same examples (uncalibrated).
pub fn fit(examples: &[&Example]) -> Model {
    Model {
        linear: fit_linear(examples),
        boosted: fit_boosted(examples),
        calibration: (1.0, 0.0),
        ensemble: None,
    }
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
/// log-loss at the current scores (Newton boosting), depth-first to [`crate::detect::classify::TREE_DEPTH`], on
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
pub fn platt(scores: &[f32], ys: &[f64]) -> (f32, f32) {
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

/// Scores every example with a model that did not see its fold, then calibrates the
/// scores (Platt scaling on the out-of-sample scores: the in-sample fit is
/// overconfident). Returns the probabilities and the calibration.
pub fn cross_validate(
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
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
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
pub fn counts<'a>(
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
pub fn figures(tp: usize, fp: usize, blasts: usize) -> [f64; 3] {
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / blasts.max(1) as f64;
    [precision, recall, 2.0 * precision * recall / (precision + recall).max(1e-9)]
}

/// Precision, recall and F1 at `threshold` in words, as the scorer counts them: recall is
/// over every labelled blast, including those the detector never made a candidate of.
pub fn report<'a>(
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

/// The shipped training examples, so `blastscan train` can add an investigator's own
/// recordings to what the shipped model learnt from (`models/training-examples.bin`,
/// written by the project's trainer, embedded in the binary).
const SHIPPED_EXAMPLES: &[u8] = include_bytes!("../models/training-examples.bin");

/// First bytes of an examples file.
const MAGIC: &[u8; 8] = b"BLASTEX2";

/// Bytes per quantised value of input `j`: the named features get 16 bits, the profile
/// cells (levels in dB, which the fits resolve to about a decibel) 8.
fn width_of(j: usize) -> usize {
    if j < SCALAR_INPUTS {
        2
    } else {
        1
    }
}

/// Bytes per example: its class, then every input.
fn row_len() -> usize {
    1 + (0..N).map(width_of).sum::<usize>()
}

/// A fingerprint of the input names, so examples made for another feature set are refused.
fn inputs_tag() -> [u8; 8] {
    let names = crate::detect::features::input_names().join("\n");
    let hash = blake3::hash(names.as_bytes());
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&hash.as_bytes()[..8]);
    tag
}

/// Examples as bytes: a header (magic, the input names' tag, count), each input's
/// minimum and step, then per example its class (1 byte) and every input quantised over
/// that input's range, to 16 bits for the named features and 8 for the profile cells
/// (`width_of`; the error is at most half a step).
pub fn encode_examples(examples: &[&Example]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + N * 8 + examples.len() * row_len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&inputs_tag());
    out.extend_from_slice(&(examples.len() as u32).to_le_bytes());
    let mut ranges = Vec::with_capacity(N);
    for j in 0..N {
        let (lo, hi) = examples
            .iter()
            .map(|e| e.x[j])
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let lo = if lo <= hi { lo } else { 0.0 };
        let top = if width_of(j) == 2 { f32::from(u16::MAX) } else { f32::from(u8::MAX) };
        let step = ((hi - lo) / top).max(f32::MIN_POSITIVE);
        out.extend_from_slice(&lo.to_le_bytes());
        out.extend_from_slice(&step.to_le_bytes());
        ranges.push((lo, step, top));
    }
    for e in examples {
        out.push(u8::from(e.y > 0.5));
        for (j, &(lo, step, top)) in ranges.iter().enumerate() {
            let q = ((e.x[j] - lo) / step).round().clamp(0.0, top) as u16;
            if width_of(j) == 2 {
                out.extend_from_slice(&q.to_le_bytes());
            } else {
                out.push(q as u8);
            }
        }
    }
    out
}

/// Reads examples written by [`encode_examples`] (as set `set`, one group per example).
pub fn decode_examples(bytes: &[u8], set: usize) -> Result<Vec<Example>, String> {
    let bad = || "not a blastscan examples file, or a truncated one".to_string();
    let header = bytes.get(..20).ok_or_else(bad)?;
    if &header[..8] != MAGIC {
        return Err(bad());
    }
    if header[8..16] != inputs_tag() {
        return Err(
            "the examples were made for other model inputs; retrain with this version".into()
        );
    }
    let count = u32::from_le_bytes([header[16], header[17], header[18], header[19]]) as usize;
    let mut at = 20;
    let mut word = |bytes: &[u8]| -> Result<[u8; 4], String> {
        let w = bytes.get(at..at + 4).ok_or_else(bad)?;
        at += 4;
        Ok([w[0], w[1], w[2], w[3]])
    };
    let mut ranges = Vec::with_capacity(N);
    for _ in 0..N {
        let lo = f32::from_le_bytes(word(bytes)?);
        let step = f32::from_le_bytes(word(bytes)?);
        ranges.push((lo, step));
    }
    let row = row_len();
    let body = bytes.get(at..).ok_or_else(bad)?;
    if body.len() != count * row {
        return Err(bad());
    }
    Ok(body
        .chunks_exact(row)
        .enumerate()
        .map(|(i, r)| {
            let mut x = Box::new([0f32; N]);
            let mut at = 1;
            for (j, &(lo, step)) in ranges.iter().enumerate() {
                let q = if width_of(j) == 2 {
                    u16::from_le_bytes([r[at], r[at + 1]])
                } else {
                    u16::from(r[at])
                };
                at += width_of(j);
                x[j] = lo + f32::from(q) * step;
            }
            Example {
                set,
                file: String::new(),
                group: format!("shipped/{i}"),
                start_s: 0.0,
                x,
                y: f64::from(r[0]),
                patch: None,
            }
        })
        .collect())
}

/// The examples the shipped model was trained on.
pub fn shipped_examples(set: usize) -> Result<Vec<Example>, String> {
    decode_examples(SHIPPED_EXAMPLES, set)
}

/// How many times each of an investigator's `own` examples counts next to `shipped` ones:
/// enough for them to weigh a quarter of the shipped examples, between 1 and 20 (by
/// repetition, which for these fits is nearly weighting).
pub fn own_weight(shipped: usize, own: usize) -> usize {
    (shipped / 4).checked_div(own).unwrap_or(1).clamp(1, 20)
}

/// What [`train_own`] made, and how it and the shipped model do on the investigator's
/// recordings.
pub struct OwnModel {
    /// The new model (shipped examples and the investigator's).
    pub model: Model,
    /// The shipped model on the investigator's candidates at 0.3: precision, recall, F1,
    /// false alarms.
    pub shipped: [f64; 4],
    /// The new model, cross-validated with the investigator's recordings held out:
    /// precision, recall, F1, false alarms. `None` with fewer than two recordings.
    pub cross_validated: Option<[f64; 4]>,
    /// Whether the calibration was fitted on the investigator's cross-validated scores
    /// (else the shipped model's is kept: too few examples to fit one).
    pub own_calibration: bool,
}

/// Trains a model on the shipped examples plus `own` (an investigator's labelled
/// recordings, each held out in turn to say how the model does on recordings it has not
/// seen). The investigator's examples count [`own_weight`] times each, so a few labelled
/// recordings of a new place weigh as much as a quarter of the shipped examples.
pub fn train_own(own: &Collected, shipped: &[Example], default: &Model) -> OwnModel {
    let weight = own_weight(shipped.len(), own.examples.len());
    let at = |scores: &[f32]| {
        let (tp, fp) = counts(own.examples.iter().zip(scores), 0.3);
        let [p, r, f] = figures(tp, fp, own.blasts);
        [p, r, f, fp as f64]
    };
    let shipped_scores: Vec<f32> =
        own.examples.iter().map(|e| default.confidence(&e.x, e.patch.as_deref())).collect();
    let mut files: Vec<&str> = own.examples.iter().map(|e| e.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let folds = files.len().min(FOLDS);
    let fold_of = |e: &Example| files.binary_search(&e.file.as_str()).unwrap_or(0) % folds.max(1);
    let mut scores = vec![0f32; own.examples.len()];
    if folds >= 2 {
        for fold in 0..folds {
            let mine = own.examples.iter().filter(|e| fold_of(e) != fold);
            let train: Vec<&Example> =
                shipped.iter().chain(mine.flat_map(|e| std::iter::repeat_n(e, weight))).collect();
            let model = fit(&train);
            for (s, e) in scores.iter_mut().zip(&own.examples) {
                if fold_of(e) == fold {
                    *s = model.score(&e.x);
                }
            }
        }
    }
    let ys: Vec<f64> = own.examples.iter().map(|e| e.y).collect();
    let positives = ys.iter().filter(|y| **y > 0.5).count();
    let own_calibration = folds >= 2 && positives >= 5 && ys.len() - positives >= 5;
    let calibration = if own_calibration { platt(&scores, &ys) } else { default.calibration };
    // The shipped network is kept as it is (the shipped examples carry no patches to
    // refit it); the feature model's part is the investigator's.
    let calibrated = Model { calibration, ..*default };
    let cross_validated = (folds >= 2).then(|| {
        let probabilities: Vec<f32> = scores
            .iter()
            .zip(&own.examples)
            .map(|(&z, e)| calibrated.confidence_from_score(z, e.patch.as_deref()))
            .collect();
        at(&probabilities)
    });
    let mine = own.examples.iter().flat_map(|e| std::iter::repeat_n(e, weight));
    let all: Vec<&Example> = shipped.iter().chain(mine).collect();
    let model = Model { calibration, ensemble: default.ensemble, ..fit(&all) };
    OwnModel { model, shipped: at(&shipped_scores), cross_validated, own_calibration }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(y: f64, v: f32) -> Example {
        let mut x = Box::new([0f32; N]);
        for (j, slot) in x.iter_mut().enumerate() {
            *slot = v * (j as f32 + 1.0) - 3.0;
        }
        Example {
            set: 0,
            file: String::new(),
            group: String::new(),
            start_s: 0.0,
            x,
            y,
            patch: None,
        }
    }

    #[test]
    fn examples_survive_their_file_form_to_within_the_quantisation_step() {
        let examples = [example(1.0, 0.5), example(0.0, -2.25), example(0.0, 7.0)];
        let refs: Vec<&Example> = examples.iter().collect();
        let back = decode_examples(&encode_examples(&refs), 3).expect("decode");
        assert_eq!(back.len(), 3);
        for (a, b) in examples.iter().zip(&back) {
            assert_eq!(a.y, b.y);
            assert_eq!(b.set, 3);
            for j in 0..N {
                let range = 9.25 * (j as f32 + 1.0);
                let levels = if j < SCALAR_INPUTS { 65535.0 } else { 255.0 };
                assert!((a.x[j] - b.x[j]).abs() <= range / levels / 2.0 + 1e-4, "{j}");
            }
        }
        let mut broken = encode_examples(&refs);
        broken.truncate(broken.len() - 1);
        assert!(decode_examples(&broken, 0).is_err());
    }

    #[test]
    fn own_examples_weigh_a_quarter_of_the_shipped_within_bounds() {
        assert_eq!(own_weight(8000, 200), 10);
        assert_eq!(own_weight(8000, 10), 20);
        assert_eq!(own_weight(8000, 5000), 1);
        assert_eq!(own_weight(8000, 0), 1);
    }

    #[test]
    fn the_shipped_examples_load() {
        let examples = shipped_examples(0).expect("shipped examples");
        assert!(examples.len() > 1000);
        assert!(examples.iter().any(|e| e.y > 0.5) && examples.iter().any(|e| e.y < 0.5));
    }

    /// A deterministic uniform number in [-1, 1) (xorshift), for synthetic examples.
    fn uniform(state: &mut u32) -> f32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state as f32 / u32::MAX as f32 * 2.0 - 1.0
    }

    /// Examples whose label is decided by `rule` over inputs 0 and 1 (uniform in [-1, 1));
    /// inputs 2-7 are noise, the rest 0.
    fn synthetic(n: usize, seed: u32, rule: impl Fn(f32, f32) -> bool) -> Vec<Example> {
        let mut state = 2_463_534_242u32 ^ seed.wrapping_mul(2_654_435_761);
        (0..n)
            .map(|_| {
                let mut x = Box::new([0f32; N]);
                for slot in x.iter_mut().take(8) {
                    *slot = uniform(&mut state);
                }
                let y = if rule(x[0], x[1]) { 1.0 } else { 0.0 };
                Example {
                    set: 0,
                    file: String::new(),
                    group: String::new(),
                    start_s: 0.0,
                    x,
                    y,
                    patch: None,
                }
            })
            .collect()
    }

    fn accuracy(examples: &[Example], score: impl Fn(&[f32; N]) -> f32) -> f64 {
        let right = examples.iter().filter(|e| (score(&e.x) > 0.0) == (e.y > 0.5)).count();
        right as f64 / examples.len() as f64
    }

    #[test]
    fn gaussian_elimination_solves_a_system_that_needs_pivoting() {
        // The first pivot is 0: without row exchanges this would divide by zero.
        let a = vec![vec![0.0, 2.0, 1.0], vec![1.0, 1.0, 0.0], vec![3.0, 0.0, 1.0]];
        let x = [1.5, -2.0, 0.25];
        let b: Vec<f64> = a.iter().map(|r| r.iter().zip(&x).map(|(p, q)| p * q).sum()).collect();
        let solved = solve(a, b);
        for (got, want) in solved.iter().zip(x) {
            assert!((got - want).abs() < 1e-12, "{solved:?}");
        }
    }

    #[test]
    fn the_regression_finds_a_linear_boundary_and_ignores_noise_inputs() {
        let train = synthetic(800, 1, |a, b| a + 0.5 * b > 0.1);
        let refs: Vec<&Example> = train.iter().collect();
        let linear = fit_linear(&refs);
        let test = synthetic(400, 2, |a, b| a + 0.5 * b > 0.1);
        let right = accuracy(&test, |x| linear.score(x));
        assert!(right > 0.95, "{right}");
        // Weights are per standardised input: the deciding two dominate the noise.
        let w: Vec<f32> = linear.weights.iter().map(|w| w.abs()).collect();
        let noise = w[2..8].iter().fold(0f32, |m, &v| m.max(v));
        assert!(w[0] > 5.0 * noise && w[1] > 2.0 * noise, "{:?}", &w[..4]);
        assert!(w[0] > w[1], "input 0 counts twice as much as input 1");
    }

    #[test]
    fn boosted_trees_learn_an_interaction_the_regression_cannot() {
        // Opposite quadrants: no straight line separates them.
        let rule = |a: f32, b: f32| (a > 0.0) == (b > 0.0);
        let train = synthetic(1500, 3, rule);
        let refs: Vec<&Example> = train.iter().collect();
        let test = synthetic(600, 4, rule);
        let boosted = fit_boosted(&refs);
        let linear = fit_linear(&refs);
        let trees = accuracy(&test, |x| boosted.score(x));
        let line = accuracy(&test, |x| linear.score(x));
        assert!(trees > 0.9, "trees {trees}");
        assert!(line < 0.7, "a line should fail here: {line}");
    }
}
