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

mod example;
mod fit;
mod shipped;

use std::path::Path;

use crate::batch::discover::discover;
use crate::batch::pipeline::{self, analyse_with};
use crate::detect::classify::Model;
use crate::detect::model::DEFAULT_MODEL;
use crate::detect::{Detector, DetectorParams};
use crate::error::Error;
use crate::eval::{match_recording, Labels, Outcome, COLLAR_S};
use crate::index::{base_name, Input};
pub use example::Example;
pub use fit::{fit, platt};
pub use shipped::{decode_examples, encode_examples, shipped_examples};

/// Folds of the recording-held-out cross-validation.
pub const FOLDS: usize = 8;

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

    #[test]
    fn own_examples_weigh_a_quarter_of_the_shipped_within_bounds() {
        assert_eq!(own_weight(8000, 200), 10);
        assert_eq!(own_weight(8000, 10), 20);
        assert_eq!(own_weight(8000, 5000), 1);
        assert_eq!(own_weight(8000, 0), 1);
    }
}
