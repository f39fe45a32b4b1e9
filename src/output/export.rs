//! Writing outputs: `index.json`, `detections.csv`. Every file is written to a temporary
//! file in the same folder and renamed over the target, so a killed run leaves either the
//! old file or the new one, never half of one.

use crate::atomic::write_atomic;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::index::Index;
use crate::output::row::{self, DetectionRow};

/// File name of the index inside an output folder.
pub const INDEX_JSON: &str = "index.json";
/// File name of the detections table inside an output folder.
pub const DETECTIONS_CSV: &str = "detections.csv";

/// Creates the output folder and checks it can be written, before any work starts.
pub fn prepare_out_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    tempfile::Builder::new()
        .prefix(".blastscan-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|source| Error::Write { path: dir.to_path_buf(), source })
}

/// `index.json` as pretty-printed JSON.
pub fn index_json(index: &Index) -> Result<Vec<u8>, Error> {
    let mut out = serde_json::to_vec_pretty(index)
        .map_err(|e| Error::Serialise { what: INDEX_JSON, reason: e.to_string() })?;
    out.push(b'\n');
    Ok(out)
}

/// `detections.csv`: one [`DetectionRow`] per detection, see [`row::COLUMNS`].
pub fn detections_csv(index: &Index) -> Result<Vec<u8>, Error> {
    let rows: Vec<DetectionRow> = index
        .recordings
        .iter()
        .flat_map(|rec| rec.detections.iter().map(move |d| DetectionRow::new(rec, d)))
        .collect();
    row::to_csv(&rows).map_err(|e| Error::Serialise { what: DETECTIONS_CSV, reason: e.to_string() })
}

/// Writes `index.json` and `detections.csv` into `dir`; returns their paths.
pub fn write_index(dir: &Path, index: &Index) -> Result<[PathBuf; 2], Error> {
    let json = dir.join(INDEX_JSON);
    let csv = dir.join(DETECTIONS_CSV);
    // Both are serialised before either is written: a failure replaces neither.
    let (json_bytes, csv_bytes) = (index_json(index)?, detections_csv(index)?);
    write_atomic(&json, &json_bytes)?;
    write_atomic(&csv, &csv_bytes)?;
    Ok([json, csv])
}

/// Reads an `index.json` written by [`write_index`].
pub fn read_index(path: &Path) -> Result<Index, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "no index there; make one with `blastscan scan RECORDINGS --out FOLDER` and pass that folder".into()
        } else {
            e.to_string()
        },
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: format!("not a blastscan index ({e}); run `blastscan scan` to make one"),
    })
}
