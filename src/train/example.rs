//! A training example: one candidate transient, its model inputs and what it really was.

use crate::detect::features::{INPUTS, PATCH_LEN};

/// Inputs per example.
pub(crate) const N: usize = INPUTS;

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

#[cfg(test)]
impl Example {
    /// An example with inputs `x` and label `y`, from no recording in particular.
    pub(crate) fn of(x: Box<[f32; N]>, y: f64) -> Self {
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
}
