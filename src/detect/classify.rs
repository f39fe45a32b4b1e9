//! The classifier: a probable explosion or another impulsive sound.
//!
//! A [`Model`] combines the [`crate::detect::features`] of a transient: a logistic
//! regression and boosted trees over [`crate::detect::features::model_inputs`], their
//! log-odds averaged and calibrated (Platt scaling), and, when the model has one, a small
//! network over the transient's log-band patch ([`crate::detect::network`]). Its output is
//! the `confidence`; `label` is `explosion` when it reaches the detector's threshold (0.3
//! by default). The weights are data ([`crate::detect::model`]), trained by `cargo run
//! --release --example train` and `training/train_cnn.py` (see MODEL.md).

use crate::detect::features::{INPUTS, PATCH_LEN};
use crate::detect::network::Network;

/// Depth of every tree of the [`Model`].
pub const TREE_DEPTH: usize = 3;
/// Split nodes of a tree of depth [`TREE_DEPTH`], in breadth-first order.
pub const TREE_SPLITS: usize = (1 << TREE_DEPTH) - 1;
/// Leaves of a tree of depth [`TREE_DEPTH`], left to right.
pub const TREE_LEAVES: usize = 1 << TREE_DEPTH;

/// A complete binary regression tree over [`model_inputs`](crate::detect::features::model_inputs). Node `i` sends an input to
/// node `2i + 1` when `x[feature] <= threshold`, else to `2i + 2`; a node that did not
/// split has an infinite threshold (everything goes left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tree {
    /// `(input index, threshold)` of each split node, breadth first.
    pub splits: [(u16, f32); TREE_SPLITS],
    /// Log-odds added by each leaf.
    pub leaves: [f32; TREE_LEAVES],
}

impl Tree {
    /// The leaf value for `x`.
    pub fn eval(&self, x: &[f32; INPUTS]) -> f32 {
        let mut node = 0;
        while node < TREE_SPLITS {
            let (feature, threshold) = self.splits[node];
            let right = x.get(usize::from(feature)).is_some_and(|&v| v > threshold);
            node = 2 * node + 1 + usize::from(right);
        }
        self.leaves[node - TREE_SPLITS]
    }
}

/// Logistic regression over standardised [`model_inputs`](crate::detect::features::model_inputs): smooth, and it extrapolates
/// sensibly to sounds unlike the training set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    /// Mean of each input in the training set.
    pub mean: [f32; INPUTS],
    /// Standard deviation of each input in the training set.
    pub scale: [f32; INPUTS],
    /// Weight of each standardised input.
    pub weights: [f32; INPUTS],
    /// Intercept.
    pub bias: f32,
}

impl Linear {
    /// Log-odds of an explosion.
    pub fn score(&self, x: &[f32; INPUTS]) -> f32 {
        let mut z = self.bias;
        for (i, v) in x.iter().enumerate() {
            z += self.weights[i] * (v - self.mean[i]) / self.scale[i];
        }
        z
    }
}

/// Gradient-boosted regression trees on the log-odds (Friedman 2001, "Greedy function
/// approximation: a gradient boosting machine"; second-order leaf values as in Chen and
/// Guestrin 2016, XGBoost). Trees see conjunctions ("loud below 250 Hz *and* still
/// ringing at 1 s *and* no click above 2 kHz") that a linear model can only approximate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boosted {
    /// Log-odds before any tree: the training set's share of blasts.
    pub base: f32,
    /// The trees, whose leaf values add up to the log-odds.
    pub trees: &'static [Tree],
}

impl Boosted {
    /// Log-odds of an explosion: the base plus every tree's leaf.
    pub fn score(&self, x: &[f32; INPUTS]) -> f32 {
        self.base + self.trees.iter().map(|t| t.eval(x)).sum::<f32>()
    }
}

/// The classifier: the mean of a logistic regression's and boosted trees' log-odds,
/// through Platt scaling; with an [`Ensemble`], that calibrated log-odds is averaged with
/// a convolutional network's over the candidate's [`patch`](crate::detect::features::patch) and scaled again.
///
/// The two feature models were fitted to the same examples. With whole recordings, or
/// whole source sounds, held out, the mean beat either alone: trees find the
/// conjunctions, the linear part keeps scores sensible on sounds unlike any in training.
/// The network sees what the coarse profile cannot (syllables coming and going in the
/// seconds around a transient); averaged with the features it beat both with sources held
/// out (MODEL.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// The logistic regression.
    pub linear: Linear,
    /// The boosted trees.
    pub boosted: Boosted,
    /// Platt scaling of the score, fitted on out-of-sample (cross-validated) scores so the
    /// confidence holds on recordings the model has not seen: `sigmoid(slope * z + offset)`.
    pub calibration: (f32, f32),
    /// The network over the patch, if the model has one.
    pub ensemble: Option<Ensemble>,
}

/// A network and how its log-odds join the feature model's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ensemble {
    /// The network (leaked once per run, like the trees).
    pub network: &'static Network,
    /// Platt scaling of the mean of the feature model's calibrated log-odds and the
    /// network's, fitted on out-of-sample scores: `sigmoid(slope * mean + offset)`.
    pub calibration: (f32, f32),
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    /// Probability that the transient is an explosion, from its model inputs and, if the
    /// model has a network, its patch (without one, the feature model alone decides).
    pub fn confidence(&self, x: &[f32; INPUTS], patch: Option<&[f32; PATCH_LEN]>) -> f32 {
        self.confidence_from_score(self.score(x), patch)
    }

    /// [`Model::confidence`] from the feature model's uncalibrated [`Model::score`] (a
    /// cross-validated one, when training).
    pub fn confidence_from_score(&self, score: f32, patch: Option<&[f32; PATCH_LEN]>) -> f32 {
        let (slope, offset) = self.calibration;
        let features = slope * score + offset;
        match (self.ensemble, patch) {
            (Some(e), Some(patch)) => {
                let mean = (features + e.network.log_odds(patch)) / 2.0;
                sigmoid(e.calibration.0 * mean + e.calibration.1)
            }
            _ => sigmoid(features),
        }
    }

    /// Probability from the feature model alone ([`model_inputs`](crate::detect::features::model_inputs)).
    pub fn confidence_of(&self, x: &[f32; INPUTS]) -> f32 {
        self.confidence_from_score(self.score(x), None)
    }

    /// The uncalibrated log-odds: the mean of the two feature models'.
    pub fn score(&self, x: &[f32; INPUTS]) -> f32 {
        (self.linear.score(x) + self.boosted.score(x)) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_tree_sends_equal_values_left_and_never_splits_on_an_infinite_threshold() {
        let never = (0, f32::INFINITY);
        // Root splits on input 2 at 1.0; its left child on input 5 at -3.0; all else never.
        let tree: &'static Tree = Box::leak(Box::new(Tree {
            splits: [(2, 1.0), (5, -3.0), never, never, never, never, never],
            leaves: [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
        }));
        let mut x = [0.0f32; INPUTS];
        x[2] = 1.0;
        x[5] = -3.0;
        assert_eq!(tree.eval(&x), 10.0, "left, left, left");
        x[5] = -2.0;
        assert_eq!(tree.eval(&x), 30.0, "left, right, left");
        x[2] = 1.5;
        assert_eq!(tree.eval(&x), 50.0, "right, then left twice");
        let model = Model {
            linear: Linear {
                mean: [0.0; INPUTS],
                scale: [1.0; INPUTS],
                weights: [0.0; INPUTS],
                bias: 1.0,
            },
            boosted: Boosted { base: -1.0, trees: std::slice::from_ref(tree) },
            calibration: (1.0, 0.0),
            ensemble: None,
        };
        assert_eq!(model.score(&x), (1.0 + (-1.0 + 50.0)) / 2.0);
    }
}
