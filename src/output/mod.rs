//! What people open: the index files (`index.json`, `detections.csv`), the HTML report
//! with its spectrograms, WAV clips, label tracks for audio editors, and queries.

pub mod audio;
pub mod clips;
pub mod export;
pub mod html;
pub mod names;
pub mod query;
pub mod report;
pub mod row;
pub mod spectrogram;
pub mod timeline;
pub mod tracks;
