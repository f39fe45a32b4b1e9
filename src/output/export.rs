//! The views a run writes beside `index.json` (which the store writes,
//! [`crate::batch::store::write_index`]): `detections.csv` and `incidents.csv`. Written
//! atomically, so a killed run leaves either the old file or the new one, never half of one.

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic_with;

use crate::batch::Views;
use crate::error::Error;
use serde::Serialize;

use crate::index::{Incident, Index};
use crate::output::row::{self, spreadsheet_safe, DetectionRow};

/// File name of the detections table inside an output folder.
pub const DETECTIONS_CSV: &str = "detections.csv";
/// File name of the incidents table inside an output folder.
pub const INCIDENTS_CSV: &str = "incidents.csv";

/// Columns of an [`IncidentRow`], in order (checked against the struct by a test).
pub const INCIDENT_COLUMNS: [&str; 11] = [
    "id",
    "start",
    "end",
    "firmness",
    "blasts",
    "recordings",
    "strongest_confidence",
    "senders",
    "chats",
    "date_sources",
    "files",
];

/// One row of `incidents.csv`: an [`Incident`] flattened, lists joined with `; `, text from
/// outside made spreadsheet-safe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRow {
    /// Its id.
    pub id: String,
    /// Estimated time of its first blast, empty when undated.
    pub start: String,
    /// Estimated time of its last blast.
    pub end: String,
    /// `firm`, `loose`, `day` or `undated`: the weakest date among its recordings.
    pub firmness: &'static str,
    /// Blasts over all its recordings.
    pub blasts: usize,
    /// Recordings that captured it.
    pub recordings: usize,
    /// Highest confidence among its blasts.
    pub strongest_confidence: f32,
    /// Their senders.
    pub senders: String,
    /// Their chats.
    pub chats: String,
    /// Where their dates came from.
    pub date_sources: String,
    /// The recordings, as in the index.
    pub files: String,
}

impl IncidentRow {
    /// The row of `incident`.
    pub fn new(incident: &Incident) -> Self {
        let joined = |values: &[String]| {
            values.iter().map(|v| spreadsheet_safe(v)).collect::<Vec<_>>().join("; ")
        };
        IncidentRow {
            id: incident.id.clone(),
            start: incident.start.clone().unwrap_or_default(),
            end: incident.end.clone().unwrap_or_default(),
            firmness: incident.firmness.as_str(),
            blasts: incident.blasts,
            recordings: incident.recordings.len(),
            strongest_confidence: row::round(f64::from(incident.strongest_confidence), 3) as f32,
            senders: joined(&incident.senders),
            chats: joined(&incident.chats),
            date_sources: incident
                .date_sources
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            files: joined(&incident.recordings),
        }
    }
}

/// Writes `incidents.csv` (a header, then one [`IncidentRow`] per incident) into `out`.
pub fn write_incidents_csv(out: impl std::io::Write, index: &Index) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    w.write_record(INCIDENT_COLUMNS)?;
    for incident in &index.incidents {
        w.serialize(IncidentRow::new(incident))?;
    }
    w.flush()?;
    Ok(())
}

/// The rows of `detections.csv`: one [`DetectionRow`] per detection, see [`row::COLUMNS`].
pub fn detection_rows(index: &Index) -> impl Iterator<Item = DetectionRow> + '_ {
    index
        .recordings
        .iter()
        .flat_map(|rec| rec.detections.iter().map(move |d| DetectionRow::new(rec, d)))
}

/// The views of every run and merge: `detections.csv` and `incidents.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tables;

impl Views for Tables {
    fn write(&self, dir: &Path, index: &Index) -> Result<Vec<PathBuf>, Error> {
        let detections = dir.join(DETECTIONS_CSV);
        write_atomic_with(&detections, |w| Ok(row::write_csv(w, detection_rows(index))?))?;
        let incidents = dir.join(INCIDENTS_CSV);
        write_atomic_with(&incidents, |w| Ok(write_incidents_csv(w, index)?))?;
        Ok(vec![detections, incidents])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Firmness, Incident};

    #[test]
    fn the_incident_header_names_the_serialised_fields_in_order() {
        let incident = Incident {
            id: "I-20240313-2314".into(),
            start: Some("2024-03-13T23:14:05".into()),
            end: Some("2024-03-13T23:15:40".into()),
            day: Some("2024-03-13".into()),
            firmness: Firmness::Firm,
            date_sources: vec![crate::index::DateSource::Whatsapp],
            blasts: 3,
            strongest_confidence: 0.91234,
            recordings: vec!["a.opus".into(), "=b.opus".into()],
            senders: vec!["Abu Karim".into()],
            chats: Vec::new(),
            sequences: Vec::new(),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(IncidentRow::new(&incident)).expect("serialises");
        let text = String::from_utf8(w.into_inner().expect("flush")).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(INCIDENT_COLUMNS.join(",").as_str()));
        let row = lines.next().expect("a row");
        assert!(row.contains("a.opus; '=b.opus"), "{row}");
        assert!(row.contains(",0.912,"), "{row}");
    }
}
