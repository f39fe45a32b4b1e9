//! The index: what a scan found, per recording. Serialised as `index.json`.
//!
//! This is the data model every stage shares, and a leaf: it imports nothing from the
//! rest of the crate. The detector fills [`Detection`]s, linking adds dates and
//! transcripts, the batch stage stores [`Recording`]s and the outputs read them.
//!
//! Bump [`SCHEMA_VERSION`] whenever a field changes meaning or disappears; adding a field
//! does not need a bump. The README documents every field.

use serde::{Deserialize, Serialize};

mod detection;
mod incident;
mod provenance;

pub use detection::{Detection, DetectorParams, Features, Label, OnsetParams, TranscriptLink};
pub use incident::{Firmness, Incident, IncidentOverrides, IncidentSettings, Sequence};
pub use provenance::{Anchor, DateSource, ErrorKind, FileId, Input, Warning};

/// Version of the `index.json` layout.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Layout version, see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `blastscan`.
    pub tool: String,
    /// Version of the tool that wrote the index.
    pub tool_version: String,
    /// Parameters the detector ran with.
    pub detector: DetectorParams,
    /// Fingerprint of tool version, parameters and model: results with another one were
    /// made by a different detector (see [`crate::batch::store::fingerprint`]).
    #[serde(default)]
    pub fingerprint: String,
    /// Totals.
    pub summary: Summary,
    /// The offset times are written in (`+03:00`); `None`: chat-export times are the
    /// phone's local time, written without an offset, and instants are written in UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Set when the dates mix the phones' local times with UTC instants and no
    /// `--timezone` says how they relate: their order is then approximate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_note: Option<String>,
    /// Problems met while linking transcripts and dates (file, line, what).
    #[serde(default)]
    pub link_warnings: Vec<Warning>,
    /// How the incidents were grouped.
    #[serde(default)]
    pub incident_settings: IncidentSettings,
    /// The blasts grouped in time, within and across recordings, in time order (undated
    /// last); rebuilt on every run and merge.
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// One entry per input file, sorted by path.
    pub recordings: Vec<Recording>,
}

/// Totals over the scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Files scanned (including failures).
    pub files: usize,
    /// Files that could not be analysed.
    pub failed: usize,
    /// Hours of audio analysed.
    pub audio_hours: f64,
    /// Transients reported (any label).
    pub detections: usize,
    /// Transients labelled `explosion`.
    pub explosions: usize,
    /// Incidents they form (see [`Index::incidents`]).
    #[serde(default)]
    pub incidents: usize,
}

/// One input file and what was found in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The path as given, or relative to the scanned folder.
    pub path: String,
    /// Where the file was read from at scan time (absolute), for cutting clips.
    #[serde(default)]
    pub source: Option<String>,
    /// The file's content hash, size and modification time when it was scanned.
    #[serde(default)]
    pub file: Option<FileId>,
    /// Length of the decoded audio, seconds.
    pub duration_s: f64,
    /// Source sample rate, Hz (0 if unknown).
    pub sample_rate: u32,
    /// Source channel count (0 if unknown).
    pub channels: u16,
    /// Codec short name, empty if the file could not be opened.
    pub codec: String,
    /// Packets that failed to decode and were skipped.
    pub skipped_packets: u64,
    /// Problems that did not stop decoding.
    pub decode_warnings: Vec<String>,
    /// Why the file could not be analysed; `None` when it was.
    pub error: Option<String>,
    /// The kind of that failure, for machines: `io`, `empty`, `unknown_format`,
    /// `no_audio_track`, `unsupported_codec`, `decode` or `no_audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// When the recording was sent (ISO 8601), see [`Index::timezone`].
    #[serde(default)]
    pub sent_at: Option<String>,
    /// Where `sent_at` came from.
    #[serde(default)]
    pub date_source: Option<DateSource>,
    /// Which moment of the recording `sent_at` marks: `end` (a voice note is sent when
    /// recording stops) or `start` (recorder file names, MP4 tags).
    #[serde(default)]
    pub date_marks: Option<Anchor>,
    /// Who sent it, when known.
    #[serde(default)]
    pub sender: Option<String>,
    /// Which chat it came from, when known.
    #[serde(default)]
    pub chat: Option<String>,
    /// A caveat about the date (ambiguous day/month order, day only, weak source).
    #[serde(default)]
    pub date_note: Option<String>,
    /// The transcript linked to this recording.
    #[serde(default)]
    pub transcript: Option<String>,
    /// Transients found, in time order.
    pub detections: Vec<Detection>,
}

impl Recording {
    /// Why part of the recording's audio may be missing (skipped packets, a mended or
    /// cut-short container), if it may; `None` for a recording decoded whole.
    pub fn partial_decode(&self) -> Option<String> {
        let mut why = self.decode_warnings.clone();
        if self.skipped_packets > 0 {
            why.insert(0, format!("{} packets skipped", self.skipped_packets));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Marks the recording as failed with `error`, keeping its kind and its sentence.
    pub fn fail(&mut self, kind: ErrorKind, sentence: String) {
        self.error = Some(sentence);
        self.error_kind = Some(kind);
    }

    /// Re-draws every detection's label from its confidence at `threshold`.
    pub fn relabel(&mut self, threshold: f32) {
        for d in &mut self.detections {
            d.label = Label::for_confidence(d.confidence, threshold);
        }
    }
}

impl Index {
    /// Builds an index from per-file results, computing the summary.
    pub fn new(detector: DetectorParams, mut recordings: Vec<Recording>) -> Self {
        recordings.sort_by(|a, b| a.path.cmp(&b.path));
        let summary = Summary {
            files: recordings.len(),
            failed: recordings.iter().filter(|r| r.error.is_some()).count(),
            // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.00 h".
            audio_hours: recordings.iter().map(|r| r.duration_s).sum::<f64>() / 3600.0 + 0.0,
            detections: recordings.iter().map(|r| r.detections.len()).sum(),
            explosions: recordings
                .iter()
                .flat_map(|r| &r.detections)
                .filter(|d| d.label == Label::Explosion)
                .count(),
            // Counted when they are grouped (`link::incidents`).
            incidents: 0,
        };
        Index {
            schema_version: SCHEMA_VERSION,
            tool: "blastscan".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            detector,
            fingerprint: String::new(),
            summary,
            timezone: None,
            time_note: None,
            link_warnings: Vec::new(),
            incident_settings: IncidentSettings::default(),
            incidents: Vec::new(),
            recordings,
        }
    }
}

/// File name without folders, as the scorer matches recordings.
pub fn base_name(path: &str) -> String {
    let trimmed = path.trim();
    trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_index_has_zero_hours_not_minus_zero() {
        let index = Index::new(DetectorParams::default(), Vec::new());
        assert!(index.summary.audio_hours.is_sign_positive());
        assert_eq!(format!("{:.2}", index.summary.audio_hours), "0.00");
    }
}
