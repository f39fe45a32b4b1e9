//! The views a run writes beside `index.json` (which the store writes,
//! [`crate::batch::store::write_index`]): `detections.csv`. Written atomically, so a killed
//! run leaves either the old file or the new one, never half of one.

use crate::atomic::write_atomic;
use std::path::{Path, PathBuf};

use crate::batch::Views;
use crate::error::Error;
use crate::index::Index;
use crate::output::row::{self, DetectionRow};

/// File name of the detections table inside an output folder.
pub const DETECTIONS_CSV: &str = "detections.csv";

/// `detections.csv`: one [`DetectionRow`] per detection, see [`row::COLUMNS`].
pub fn detections_csv(index: &Index) -> Result<Vec<u8>, Error> {
    let rows: Vec<DetectionRow> = index
        .recordings
        .iter()
        .flat_map(|rec| rec.detections.iter().map(move |d| DetectionRow::new(rec, d)))
        .collect();
    row::to_csv(&rows).map_err(|e| Error::Serialise { what: DETECTIONS_CSV, reason: e.to_string() })
}

/// The views of every run and merge: `detections.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DetectionsCsv;

impl Views for DetectionsCsv {
    fn write(&self, dir: &Path, index: &Index) -> Result<Vec<PathBuf>, Error> {
        let path = dir.join(DETECTIONS_CSV);
        write_atomic(&path, &detections_csv(index)?)?;
        Ok(vec![path])
    }
}
