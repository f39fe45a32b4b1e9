//! Classifier weights as data: the model file format, the shipped model and `--model`.
//!
//! A model file is JSON (`models/default.json` is the one shipped, embedded in the binary
//! with `include_bytes!`): the input names it was trained on, the logistic regression,
//! the boosted trees and the calibration, as written by `cargo run --release --example
//! train`. Retraining rewrites that file and nothing else. Loading checks every length
//! and that the input names are the ones this build computes, so a model made for
//! another feature set is refused with a reason, never misread.

use std::path::Path;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::detect::classify::{Boosted, Ensemble, Linear, Model, Tree, TREE_LEAVES, TREE_SPLITS};
use crate::detect::features::{input_names, INPUTS, PATCH_LEN};
use crate::detect::network::Network;
use crate::error::Error;

/// The `format` field of a model file.
pub const FORMAT: &str = "blastscan-model";
/// The layout version of a model file.
pub const VERSION: u32 = 1;

/// The shipped model file.
const DEFAULT_FILE: &[u8] = include_bytes!("../../models/default.json");

/// The model used by default (`models/default.json`).
pub static DEFAULT_MODEL: LazyLock<Model> = LazyLock::new(|| {
    // The shipped file is checked by a test; failing here is a build defect, not input.
    parse(DEFAULT_FILE).expect("models/default.json is a valid model file")
});

/// A model file as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The folders it was trained on (for people; not checked).
    #[serde(default)]
    pub trained_on: Vec<String>,
    /// Names of the inputs, in order ([`input_names`]).
    pub inputs: Vec<String>,
    /// The logistic regression.
    pub linear: LinearFile,
    /// The boosted trees.
    pub boosted: BoostedFile,
    /// Platt scaling: `sigmoid(slope * score + offset)`.
    pub calibration: (f32, f32),
    /// The network over the candidate's patch and its calibration, if the model has one
    /// (added by `training/train_cnn.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<EnsembleFile>,
}

/// [`Ensemble`] as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleFile {
    /// Platt scaling of the mean of the feature model's calibrated log-odds and the
    /// network's.
    pub calibration: (f32, f32),
    /// The weights.
    pub weights: Network,
    /// A check written by the trainer: the log-odds its own code gave for the patch
    /// `check_patch(i) = ((i * 7919) % 101) / 50 - 1`. Loading recomputes it, so a file
    /// read differently from how it was trained is refused.
    pub check_log_odds: f32,
}

/// The patch [`EnsembleFile::check_log_odds`] is computed for.
pub fn check_patch() -> [f32; PATCH_LEN] {
    let mut patch = [0f32; PATCH_LEN];
    for (i, v) in patch.iter_mut().enumerate() {
        *v = ((i * 7919) % 101) as f32 / 50.0 - 1.0;
    }
    patch
}

/// [`Linear`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct LinearFile {
    /// Mean of each input in the training set.
    pub mean: Vec<f32>,
    /// Standard deviation of each input.
    pub scale: Vec<f32>,
    /// Weight of each standardised input.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
}

/// [`Boosted`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct BoostedFile {
    /// Log-odds before any tree.
    pub base: f32,
    /// The trees.
    pub trees: Vec<TreeFile>,
}

/// [`Tree`] as stored: a split that never splits has no threshold (`null`), since JSON
/// has no infinity.
#[derive(Debug, Serialize, Deserialize)]
pub struct TreeFile {
    /// `(input index, threshold)` of each split node, breadth first.
    pub splits: Vec<(u16, Option<f32>)>,
    /// Log-odds added by each leaf.
    pub leaves: Vec<f32>,
}

impl ModelFile {
    /// The file form of `model`, noting what it was trained on.
    pub fn of(model: &Model, trained_on: &[String]) -> ModelFile {
        let linear = &model.linear;
        ModelFile {
            format: FORMAT.into(),
            version: VERSION,
            trained_on: trained_on.to_vec(),
            inputs: input_names(),
            linear: LinearFile {
                mean: linear.mean.to_vec(),
                scale: linear.scale.to_vec(),
                weights: linear.weights.to_vec(),
                bias: linear.bias,
            },
            boosted: BoostedFile {
                base: model.boosted.base,
                trees: model
                    .boosted
                    .trees
                    .iter()
                    .map(|t| TreeFile {
                        splits: t
                            .splits
                            .iter()
                            .map(|&(j, c)| (j, c.is_finite().then_some(c)))
                            .collect(),
                        leaves: t.leaves.to_vec(),
                    })
                    .collect(),
            },
            calibration: model.calibration,
            network: model.ensemble.map(|e| EnsembleFile {
                calibration: e.calibration,
                weights: e.network.clone(),
                check_log_odds: e.network.log_odds(&check_patch()),
            }),
        }
    }

    /// The model, after checking every length and the input names.
    pub fn into_model(self) -> Result<Model, String> {
        if self.format != FORMAT {
            return Err(format!("not a blastscan model file (format `{}`)", self.format));
        }
        if self.version != VERSION {
            return Err(format!(
                "model file version {} is not the version {VERSION} this blastscan reads",
                self.version
            ));
        }
        if self.inputs != input_names() {
            return Err(format!(
                "the model was trained on other inputs ({} named) than this blastscan computes ({INPUTS}); retrain it with this version",
                self.inputs.len()
            ));
        }
        let array = |v: Vec<f32>, what: &str| -> Result<[f32; INPUTS], String> {
            let n = v.len();
            v.try_into().map_err(|_| format!("`linear.{what}` has {n} values, not {INPUTS}"))
        };
        let linear = Linear {
            mean: array(self.linear.mean, "mean")?,
            scale: array(self.linear.scale, "scale")?,
            weights: array(self.linear.weights, "weights")?,
            bias: self.linear.bias,
        };
        let mut trees = Vec::with_capacity(self.boosted.trees.len());
        for (i, t) in self.boosted.trees.into_iter().enumerate() {
            let splits: Vec<(u16, f32)> =
                t.splits.iter().map(|&(j, c)| (j, c.unwrap_or(f32::INFINITY))).collect();
            if splits.iter().any(|&(j, _)| usize::from(j) >= INPUTS) {
                return Err(format!("tree {i} splits on an input beyond the {INPUTS} there are"));
            }
            let splits: [(u16, f32); TREE_SPLITS] = splits
                .try_into()
                .map_err(|_| format!("tree {i} does not have {TREE_SPLITS} splits"))?;
            let leaves: [f32; TREE_LEAVES] = t
                .leaves
                .try_into()
                .map_err(|_| format!("tree {i} does not have {TREE_LEAVES} leaves"))?;
            trees.push(Tree { splits, leaves });
        }
        let numbers = linear.mean.iter().chain(&linear.scale).chain(&linear.weights);
        if numbers
            .chain([&linear.bias, &self.calibration.0, &self.calibration.1])
            .any(|v| !v.is_finite())
            || linear.scale.iter().any(|&s| s <= 0.0)
        {
            return Err("the model holds a value that is not a finite number".into());
        }
        let ensemble = match self.network {
            None => None,
            Some(file) => {
                file.weights.check()?;
                let (slope, offset) = file.calibration;
                if !(slope.is_finite() && offset.is_finite()) {
                    return Err("the network's calibration is not a finite number".into());
                }
                let got = file.weights.log_odds(&check_patch());
                if (got - file.check_log_odds).abs() > 1e-3 * (1.0 + got.abs()) {
                    return Err(format!(
                        "the network gives {got} for the check patch where its trainer gave {}; the file does not match this blastscan's network",
                        file.check_log_odds
                    ));
                }
                let network: &'static Network = Box::leak(Box::new(file.weights));
                Some(Ensemble { network, calibration: file.calibration })
            }
        };
        // A model lives as long as the run: its trees and network are leaked once, so
        // `Model` stays a small `Copy` value every worker can hold.
        Ok(Model {
            ensemble,
            linear,
            boosted: Boosted {
                base: self.boosted.base,
                trees: Box::leak(trees.into_boxed_slice()),
            },
            calibration: self.calibration,
        })
    }
}

/// Reads a model from a file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Model, String> {
    let file: ModelFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not a blastscan model file: {e}"))?;
    file.into_model()
}

/// Reads the model file at `path` (`--model`).
pub fn load(path: &Path) -> Result<Model, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Read { path: path.to_path_buf(), reason: e.to_string() })?;
    parse(&bytes).map_err(|reason| Error::Read { path: path.to_path_buf(), reason })
}

/// The model as canonical JSON bytes: what the detector fingerprint hashes, so the same
/// weights give the same fingerprint whether embedded or loaded with `--model`.
pub fn canonical_bytes(model: &Model) -> Vec<u8> {
    serde_json::to_vec(&ModelFile::of(model, &[]))
        .expect("a model file is plain numbers and strings, which always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_loads_and_round_trips_through_its_file_form() {
        let model = *DEFAULT_MODEL;
        assert_eq!(model.linear.mean.len(), INPUTS);
        assert!(!model.boosted.trees.is_empty());
        let json = serde_json::to_vec(&ModelFile::of(&model, &[])).expect("json");
        let again = parse(&json).expect("parse");
        assert_eq!(again.linear, model.linear);
        assert_eq!(again.boosted.trees, model.boosted.trees);
        assert_eq!(again.calibration, model.calibration);
    }

    #[test]
    fn a_network_joins_the_features_and_a_file_read_otherwise_than_trained_is_refused() {
        use crate::detect::network::KERNEL;
        use crate::detect::stft::SUB_BANDS;
        let w = 2;
        let net = Network {
            width: w,
            w1: (0..KERNEL * SUB_BANDS * w).map(|i| (i % 7) as f32 * 0.01 - 0.02).collect(),
            b1: vec![0.1; w],
            w2: vec![0.02; KERNEL * w * w],
            b2: vec![0.0; w],
            w3: vec![-0.03; KERNEL * w * w],
            b3: vec![0.2; w],
            wd: vec![0.5, -0.5, 1.0, 0.25],
            bd: 0.1,
        };
        let mut file = ModelFile::of(&DEFAULT_MODEL, &[]);
        let check_log_odds = net.log_odds(&check_patch());
        file.network =
            Some(EnsembleFile { calibration: (1.2, -0.3), weights: net.clone(), check_log_odds });
        let json = serde_json::to_vec(&file).expect("json");
        let model = parse(&json).expect("parse");
        let ensemble = model.ensemble.expect("the network is read");
        assert_eq!(*ensemble.network, net);

        let x = [0.5f32; INPUTS];
        let patch = check_patch();
        let features = model.calibration.0 * model.score(&x) + model.calibration.1;
        let mean = (features + check_log_odds) / 2.0;
        let expected = 1.0 / (1.0 + (-(1.2 * mean - 0.3)).exp());
        assert!((model.confidence(&x, Some(&patch)) - expected).abs() < 1e-5);
        assert_eq!(model.confidence(&x, None), model.confidence_of(&x), "no patch: features");

        let mut wrong = file;
        if let Some(n) = wrong.network.as_mut() {
            n.check_log_odds += 0.5;
        }
        let json = serde_json::to_vec(&wrong).expect("json");
        assert!(parse(&json).unwrap_err().contains("does not match"));
    }

    #[test]
    fn a_model_for_other_inputs_or_with_bad_numbers_is_refused_with_a_reason() {
        let mut file = ModelFile::of(&DEFAULT_MODEL, &[]);
        file.inputs.pop();
        assert!(file.into_model().unwrap_err().contains("other inputs"));
        let mut file = ModelFile::of(&DEFAULT_MODEL, &[]);
        file.boosted.trees[0].splits[0].0 = 9999;
        assert!(file.into_model().unwrap_err().contains("beyond"));
        let mut file = ModelFile::of(&DEFAULT_MODEL, &[]);
        file.linear.scale[3] = 0.0;
        assert!(file.into_model().unwrap_err().contains("finite"));
        assert!(parse(b"{\"format\": 1}").unwrap_err().contains("not a blastscan model"));
    }
}
