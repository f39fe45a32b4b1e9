//! The views a run writes beside `index.json` (which the store writes,
//! [`crate::batch::store::write_index`]): `detections.csv`. Written atomically, so a killed
//! run leaves either the old file or the new one, never half of one.

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic_with;

use crate::batch::Views;
use crate::error::Error;
use crate::index::Index;
use crate::output::row::{self, DetectionRow};

/// File name of the detections table inside an output folder.
pub const DETECTIONS_CSV: &str = "detections.csv";

/// The rows of `detections.csv`: one [`DetectionRow`] per detection, see [`row::COLUMNS`].
pub fn detection_rows(index: &Index) -> impl Iterator<Item = DetectionRow> + '_ {
    index
        .recordings
        .iter()
        .flat_map(|rec| rec.detections.iter().map(move |d| DetectionRow::new(rec, d)))
}

/// The views of every run and merge: `detections.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DetectionsCsv;

impl Views for DetectionsCsv {
    fn write(&self, dir: &Path, index: &Index) -> Result<Vec<PathBuf>, Error> {
        let path = dir.join(DETECTIONS_CSV);
        write_atomic_with(&path, |w| Ok(row::write_csv(w, detection_rows(index))?))?;
        Ok(vec![path])
    }
}
