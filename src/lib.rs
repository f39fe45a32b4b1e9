//! blastscan: turn hours of field recordings into a timestamped index of probable explosions.
//!
//! The pipeline, one module per stage, read top to bottom:
//! [`discover`] → [`decode`] → [`resample`] → [`stft`] → [`onset`] → [`classify`]
//! (glued by [`detect`]) → [`index`] → [`link`] (with [`transcript`] and [`messages`]) →
//! [`export`]. [`pipeline`] is the only module that knows about threads; [`store`] and
//! [`batch`] make runs incremental, resumable and shardable; [`eval`] scores detections
//! against reference labels; [`report`], [`clips`], [`tracks`] and [`query`] are what
//! people open.
#![warn(missing_docs)]

pub mod atomic;
pub mod batch;
pub mod classify;
pub mod clips;
pub mod decode;
pub mod detect;
pub mod discover;
pub mod error;
pub mod eval;
pub mod export;
pub mod index;
pub mod link;
pub mod messages;
pub mod model;
pub mod network;
pub mod onset;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod resample;
pub mod salvage;
pub mod spectrogram;
pub mod stft;
pub mod store;
pub mod synth;
pub mod tracks;
pub mod train;
pub mod transcript;
pub mod whatsapp;

pub use detect::{Detection, DetectorParams, Label};
pub use error::{Error, FileError};
