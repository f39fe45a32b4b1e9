//! One detection as a table row: the single flattening of a [`Detection`] and its
//! [`Recording`] behind `detections.csv` and `query`.

use std::borrow::Borrow;

use serde::Serialize;

use crate::index::{Detection, Label, Recording};

/// Columns of a [`DetectionRow`], in order (checked against the struct by a test).
pub const COLUMNS: [&str; 19] = [
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
    "incident",
    "transcript_text",
    "context_before",
    "context_after",
];

/// A detection with its recording's date, sender and transcript. Times are rounded to the
/// millisecond, levels to 0.1 dB; text is as found (see [`DetectionRow::defused`] for
/// spreadsheets).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionRow {
    /// The recording, as in the index.
    pub file: String,
    /// Onset, seconds.
    pub start_s: f64,
    /// End of the tail, seconds.
    pub end_s: f64,
    /// Loudest frame, seconds.
    pub peak_s: f64,
    /// `explosion` or `other`.
    pub label: &'static str,
    /// Probability of an explosion.
    pub confidence: f32,
    /// Peak sample level, dB re full scale.
    pub peak_dbfs: f32,
    /// Samples near the peak reached full scale.
    pub clipped: bool,
    /// Peak over the background, dB.
    pub snr_db: f32,
    /// Peak to 20 dB down, seconds.
    pub tail_s: f32,
    /// When the recording was sent (ISO 8601), empty if unknown.
    pub sent_at: String,
    /// Where that date came from, empty if unknown.
    pub date_source: &'static str,
    /// Who sent it.
    pub sender: String,
    /// Which chat it came from.
    pub chat: String,
    /// Estimated wall-clock time of the peak.
    pub wall_clock_estimate: String,
    /// The incident the blast belongs to, empty unless labelled `explosion`.
    pub incident: String,
    /// What was being said around the peak.
    pub transcript_text: String,
    /// The segment before.
    pub context_before: String,
    /// The segment after.
    pub context_after: String,
}

/// `x` rounded to `decimals` places.
pub(crate) fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

impl DetectionRow {
    /// The row of detection `d` of recording `rec`.
    pub fn new(rec: &Recording, d: &Detection) -> Self {
        let t = d.transcript.as_ref();
        let text = |f: fn(&crate::index::TranscriptLink) -> &String| t.map(f).cloned();
        DetectionRow {
            file: rec.path.clone(),
            start_s: round(d.start_s, 3),
            end_s: round(d.end_s, 3),
            peak_s: round(d.peak_s, 3),
            label: d.label.as_str(),
            confidence: round(f64::from(d.confidence), 3) as f32,
            peak_dbfs: round(f64::from(d.peak_dbfs), 1) as f32,
            clipped: d.clipped,
            snr_db: round(f64::from(d.features.snr_db), 1) as f32,
            tail_s: round(f64::from(d.features.tail_s), 2) as f32,
            sent_at: rec.sent_at.clone().unwrap_or_default(),
            date_source: rec.date_source.map(|s| s.as_str()).unwrap_or_default(),
            sender: rec.sender.clone().unwrap_or_default(),
            chat: rec.chat.clone().unwrap_or_default(),
            wall_clock_estimate: d.wall_clock_estimate.clone().unwrap_or_default(),
            incident: d.incident.clone().unwrap_or_default(),
            transcript_text: text(|t| &t.text).unwrap_or_default(),
            context_before: text(|t| &t.context_before).unwrap_or_default(),
            context_after: text(|t| &t.context_after).unwrap_or_default(),
        }
    }

    /// The row with every field that holds text from outside (file names, senders, chat
    /// names, transcripts) made safe to open in a spreadsheet ([`spreadsheet_safe`]).
    pub fn defused(&self) -> Self {
        DetectionRow {
            file: spreadsheet_safe(&self.file),
            sender: spreadsheet_safe(&self.sender),
            chat: spreadsheet_safe(&self.chat),
            transcript_text: spreadsheet_safe(&self.transcript_text),
            context_before: spreadsheet_safe(&self.context_before),
            context_after: spreadsheet_safe(&self.context_after),
            ..self.clone()
        }
    }
}

/// Which detections an export includes: those at or above `min_confidence`, or, without
/// one, those labelled `explosion`.
pub fn selected(d: &Detection, min_confidence: Option<f32>) -> bool {
    match min_confidence {
        Some(min) => d.confidence >= min,
        None => d.label == Label::Explosion,
    }
}

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

/// Rows as CSV with a header (even when there are none), defused for spreadsheets.
pub fn to_csv<'a>(rows: impl IntoIterator<Item = &'a DetectionRow>) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    write_csv(&mut out, rows)?;
    Ok(out)
}

/// [`to_csv`] streamed into `out`, row by row.
pub fn write_csv(
    out: impl std::io::Write,
    rows: impl IntoIterator<Item = impl Borrow<DetectionRow>>,
) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    w.write_record(COLUMNS)?;
    for row in rows {
        w.serialize(row.borrow().defused())?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Features, Label, TranscriptLink};

    fn row() -> DetectionRow {
        let rec = Recording {
            path: "=cmd|night.opus".into(),
            sender: Some("+44 7700".into()),
            ..Recording::default()
        };
        let d = Detection {
            start_s: 1.23456,
            end_s: 4.0,
            peak_s: 1.5,
            label: Label::Explosion,
            confidence: 0.87654,
            peak_dbfs: -3.04,
            clipped: false,
            features: Features::default(),
            wall_clock_estimate: None,
            transcript: Some(TranscriptLink { text: "@here boom".into(), ..Default::default() }),
            incident: None,
        };
        DetectionRow::new(&rec, &d)
    }

    #[test]
    fn the_header_names_the_serialised_fields_in_order() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row()).expect("a row serialises");
        let bytes = w.into_inner().expect("flushed");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text.lines().next(), Some(COLUMNS.join(",").as_str()));
    }

    #[test]
    fn csv_defuses_outside_text_and_rounds_numbers() {
        let csv = String::from_utf8(to_csv([&row()]).expect("csv")).expect("utf-8");
        let line = csv.lines().nth(1).expect("a data line");
        assert!(line.starts_with("'=cmd|night.opus,1.235,4.0,1.5,explosion,0.877,-3.0,"), "{line}");
        assert!(line.contains(",'+44 7700,"), "{line}");
        assert!(line.contains(",'@here boom,"), "{line}");
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        let csv = String::from_utf8(to_csv([]).expect("csv")).expect("utf-8");
        assert_eq!(csv.trim_end(), COLUMNS.join(","));
    }
}
