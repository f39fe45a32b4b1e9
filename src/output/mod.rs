//! What people open: the index files (`index.json`, `detections.csv`), the HTML report
//! with its spectrograms, WAV clips, label tracks for audio editors, and queries.

pub mod audio;
pub mod clips;
pub mod export;
pub mod names;
pub mod query;
pub mod report;
pub mod row;
pub mod spectrogram;
pub mod tracks;

use crate::index::{Detection, Label};

/// Which detections an export includes: those at or above `min_confidence`, or, without
/// one, those labelled `explosion`.
pub fn selected(d: &Detection, min_confidence: Option<f32>) -> bool {
    match min_confidence {
        Some(min) => d.confidence >= min,
        None => d.label == Label::Explosion,
    }
}
