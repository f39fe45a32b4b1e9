//! Queries over an index: which detections match a date range, a confidence, words in the
//! transcript, a recording name pattern.

use crate::detect::Detection;
use crate::error::Error;
use crate::index::{Index, Recording};
use crate::output::row::selected;
use crate::output::row::{self, DetectionRow};
use chrono::TimeDelta;

use crate::link::dates::{order_key, parse_iso, Stamp};

/// What to look for. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Sent on or after this date or time (ISO 8601; with `Z` or an offset an instant,
    /// else in the index's time zone).
    pub from: Option<String>,
    /// Sent on or before this date or time (a date includes the whole day).
    pub to: Option<String>,
    /// Confidence at least this; `None`: detections labelled `explosion`.
    pub min_confidence: Option<f32>,
    /// Words that must all appear in the transcript around the detection (any case).
    pub text: Option<String>,
    /// Recording path pattern (`*`, `?`, `[...]`), e.g. `night2/*.opus`.
    pub recording: Option<glob::Pattern>,
    /// Blasts of this incident only (an `id` of `Index::incidents`).
    pub incident: Option<String>,
}

impl Query {
    /// Checks the dates and pattern given on the command line.
    pub fn new(
        from: Option<String>,
        to: Option<String>,
        min_confidence: Option<f32>,
        text: Option<String>,
        recording: Option<&str>,
    ) -> Result<Self, Error> {
        for (flag, value) in [("--from", &from), ("--to", &to)] {
            if let Some(v) = value {
                if parse_iso(v).is_none() {
                    return Err(Error::Usage(format!(
                        "{flag} `{v}` is not a date; write it like 2024-03-13 or 2024-03-13T23:00"
                    )));
                }
            }
        }
        let recording = recording
            .map(|p| {
                glob::Pattern::new(p).map_err(|e| {
                    Error::Usage(format!("--recording `{p}` is not a valid pattern: {e}"))
                })
            })
            .transpose()?;
        Ok(Query { from, to, min_confidence, text, recording, incident: None })
    }

    /// Checks what the query names against `index`: an incident it does not hold is an
    /// error, not an empty answer.
    pub fn check_against(&self, index: &Index) -> Result<(), Error> {
        self.incident.as_deref().map_or(Ok(()), |id| check_incident(index, id))
    }

    fn matches(&self, rec: &Recording, d: &Detection, zone: Option<&str>) -> bool {
        if !selected(d, self.min_confidence) {
            return false;
        }
        if let Some(p) = &self.recording {
            if !p.matches(&rec.path) {
                return false;
            }
        }
        if self.incident.is_some() && d.incident != self.incident {
            return false;
        }
        // Times compare as instants where they are known (`Z`, offsets), see
        // [`crate::link::dates::order_key`].
        let sent = rec.sent_at.as_deref().and_then(|s| order_key(s, zone));
        if let Some(from) = self.from.as_deref().and_then(|f| order_key(f, zone)) {
            if sent.is_none_or(|s| s < from) {
                return false;
            }
        }
        if let Some(to) = self.to.as_deref().and_then(|t| upper_bound(t, zone)) {
            if sent.is_none_or(|s| s >= to) {
                return false;
            }
        }
        if let Some(text) = &self.text {
            let Some(t) = &d.transcript else { return false };
            let haystack =
                format!("{} {} {}", t.context_before, t.text, t.context_after).to_lowercase();
            if !text.to_lowercase().split_whitespace().all(|w| haystack.contains(w)) {
                return false;
            }
        }
        true
    }
}

/// An incident id given on the command line (`query`, `clips`) must be one `index` holds.
pub fn check_incident(index: &Index, id: &str) -> Result<(), Error> {
    if index.incidents.iter().any(|i| i.id == id) {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "this index has no incident `{id}`; incidents.csv in the output folder lists them ({} in all)",
        index.incidents.len()
    )))
}

/// The first instant after `--to`: a date includes its whole day, a time without
/// seconds its whole minute.
fn upper_bound(text: &str, zone: Option<&str>) -> Option<chrono::NaiveDateTime> {
    let key = order_key(text, zone)?;
    let step = match parse_iso(text)? {
        Stamp::Day(_) => TimeDelta::days(1),
        // `2024-03-13T23:00`, maybe with an offset: no seconds.
        _ if text.trim().as_bytes().get(16) != Some(&b':') => TimeDelta::minutes(1),
        _ => TimeDelta::seconds(1),
    };
    Some(key + step)
}

/// The matching detections, in index order (recording path, then time).
pub fn run(index: &Index, query: &Query) -> Vec<DetectionRow> {
    let zone = index.timezone.as_deref();
    index
        .recordings
        .iter()
        .flat_map(|rec| {
            rec.detections
                .iter()
                .filter(move |d| query.matches(rec, d, zone))
                .map(move |d| DetectionRow::new(rec, d))
        })
        .collect()
}

/// Rows as CSV (the columns of `detections.csv`; untrusted text defused for spreadsheets).
pub fn to_csv(rows: &[DetectionRow]) -> Result<String, Error> {
    let bytes = row::to_csv(rows)
        .map_err(|e| Error::Serialise { what: "query CSV", reason: e.to_string() })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Rows as a JSON array.
pub fn to_json(rows: &[DetectionRow]) -> Result<String, Error> {
    serde_json::to_string_pretty(rows)
        .map_err(|e| Error::Serialise { what: "query JSON", reason: e.to_string() })
}

/// Rows as an aligned table for a terminal (long text shortened).
pub fn to_table(rows: &[DetectionRow]) -> String {
    let cut = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            format!("{}…", s.chars().take(n - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                cut(&r.file, 40),
                cut(
                    if r.wall_clock_estimate.is_empty() {
                        &r.sent_at
                    } else {
                        &r.wall_clock_estimate
                    },
                    25,
                ),
                format!("{:.2}", r.peak_s),
                format!("{:.2}", r.confidence),
                r.label.to_string(),
                r.incident.clone(),
                cut(&r.transcript_text, 50),
            ]
        })
        .collect();
    let header =
        ["recording", "when (estimated)", "peak_s", "conf", "label", "incident", "transcript"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| -> String {
        row.iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str(&format!("{} detections\n", rows.len()));
    out
}
