//! Writing outputs: `index.json`, `detections.csv`. Every file is written to a temporary
//! file in the same folder and renamed over the target, so a killed run leaves either the
//! old file or the new one, never half of one.

use crate::atomic::write_atomic;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::index::Index;

/// File name of the index inside an output folder.
pub const INDEX_JSON: &str = "index.json";
/// File name of the detections table inside an output folder.
pub const DETECTIONS_CSV: &str = "detections.csv";

/// Columns of `detections.csv`, in order.
pub const CSV_COLUMNS: [&str; 18] = [
    "file",
    "start_s",
    "end_s",
    "peak_s",
    "label",
    "confidence",
    "peak_dbfs",
    "clipped",
    "snr_db",
    "tail_s",
    "sent_at",
    "date_source",
    "sender",
    "chat",
    "wall_clock_estimate",
    "transcript_text",
    "context_before",
    "context_after",
];

/// Makes untrusted text (transcripts, names from chat exports) safe to open in a
/// spreadsheet: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is read as
/// a formula by Excel, LibreOffice and Sheets, so it gets a leading apostrophe (OWASP's
/// advice on CSV injection). `index.json` keeps the text as it was.
pub fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

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
pub fn index_json(index: &Index) -> Vec<u8> {
    // Serialising plain data structs to a Vec cannot fail.
    let mut out = serde_json::to_vec_pretty(index).unwrap_or_default();
    out.push(b'\n');
    out
}

/// `detections.csv`: one row per detection, see [`CSV_COLUMNS`].
pub fn detections_csv(index: &Index) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_COLUMNS);
    for rec in &index.recordings {
        for d in &rec.detections {
            let transcript = d.transcript.as_ref();
            let _ = w.write_record([
                spreadsheet_safe(&rec.path),
                format!("{:.3}", d.start_s),
                format!("{:.3}", d.end_s),
                format!("{:.3}", d.peak_s),
                d.label.as_str().to_string(),
                format!("{:.3}", d.confidence),
                format!("{:.1}", d.peak_dbfs),
                d.clipped.to_string(),
                format!("{:.1}", d.features.snr_db),
                format!("{:.2}", d.features.tail_s),
                rec.sent_at.clone().unwrap_or_default(),
                rec.date_source.map(|s| s.as_str()).unwrap_or_default().to_string(),
                spreadsheet_safe(rec.sender.as_deref().unwrap_or_default()),
                spreadsheet_safe(rec.chat.as_deref().unwrap_or_default()),
                d.wall_clock_estimate.clone().unwrap_or_default(),
                spreadsheet_safe(transcript.map(|t| t.text.as_str()).unwrap_or_default()),
                spreadsheet_safe(transcript.map(|t| t.context_before.as_str()).unwrap_or_default()),
                spreadsheet_safe(transcript.map(|t| t.context_after.as_str()).unwrap_or_default()),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// Writes `index.json` and `detections.csv` into `dir`; returns their paths.
pub fn write_index(dir: &Path, index: &Index) -> Result<[PathBuf; 2], Error> {
    let json = dir.join(INDEX_JSON);
    let csv = dir.join(DETECTIONS_CSV);
    write_atomic(&json, &index_json(index))?;
    write_atomic(&csv, &detections_csv(index))?;
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
