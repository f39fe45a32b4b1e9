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

use crate::classify::{
    input_names, Boosted, Linear, Model, Tree, INPUTS, TREE_LEAVES, TREE_SPLITS,
};
use crate::error::Error;

/// The `format` field of a model file.
pub const FORMAT: &str = "blastscan-model";
/// The layout version of a model file.
pub const VERSION: u32 = 1;

/// The shipped model file.
const DEFAULT_FILE: &[u8] = include_bytes!("../models/default.json");

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
        // A model lives as long as the run: its trees are leaked once, so `Model` stays a
        // small `Copy` value every worker can hold.
        Ok(Model {
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
    // Serialising plain numbers and strings to memory cannot fail.
    serde_json::to_vec(&ModelFile::of(model, &[])).unwrap_or_default()
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
