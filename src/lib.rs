//! blastscan: turn hours of field recordings into a timestamped index of probable explosions.
//!
//! The pipeline, one folder per stage, each importing only from the stages before it:
//!
//! * [`index`]: the data model every stage shares (a leaf: it imports nothing else).
//! * [`detect`]: samples in, detections out, no file I/O besides decoding:
//!   [`detect::decode`] → [`detect::resample`] → [`detect::stft`] → [`detect::onset`] →
//!   [`detect::classify`] (with [`detect::model`] and [`detect::network`]), glued by
//!   [`detect::Detector`].
//! * [`link`]: transcripts ([`link::transcript`]) and message dates ([`link::dates`]).
//! * [`batch`]: finding recordings ([`batch::discover`]), running the detector on every
//!   core ([`batch::pipeline`], the only module that knows about threads), the store that
//!   makes runs incremental and resumable ([`batch::store`]), shards and merges.
//! * [`output`]: `index.json` and `detections.csv`, the HTML report, clips, label tracks
//!   and queries.
//!
//! Beside them: [`eval`] scores detections against reference labels, [`train`] fits a
//! model to an investigator's labels, [`atomic`] writes files so a killed run leaves none
//! torn, and [`error`] holds the typed errors.
#![warn(missing_docs)]

pub mod atomic;
pub mod batch;
pub mod detect;
pub mod error;
pub mod eval;
pub mod index;
pub mod link;
pub mod output;
/// Test-signal generators for the sample generator (`examples/gen_samples.rs`), the tests
/// and the benches: not part of the library's API.
#[doc(hidden)]
pub mod synth;
pub mod train;

pub use detect::{Detection, DetectorParams, Label};
pub use error::{Error, FileError};
