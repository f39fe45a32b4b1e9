//! Incidents: blasts grouped in time, within a recording (a [`Sequence`]) and across
//! recordings and senders (an [`Incident`]). Built from the rest of the index on every
//! run and merge (see `crate::link::incidents`), never stored on their own.

use serde::{Deserialize, Serialize};

use super::DateSource;

/// How the blasts are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncidentSettings {
    /// Blasts of one recording closer than this (seconds) form one sequence.
    pub sequence_gap_s: f64,
    /// Sequences of different recordings whose estimated times come this close (seconds)
    /// form one incident, when both dates are firm; weaker dates widen it.
    pub tolerance_s: f64,
}

impl Default for IncidentSettings {
    fn default() -> Self {
        IncidentSettings { sequence_gap_s: 60.0, tolerance_s: 180.0 }
    }
}

/// Grouping settings given for a run, each over a base where it is not given: the
/// defaults for a scan, the first index's settings for a merge.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IncidentOverrides {
    /// [`IncidentSettings::sequence_gap_s`], if given.
    pub sequence_gap_s: Option<f64>,
    /// [`IncidentSettings::tolerance_s`], if given.
    pub tolerance_s: Option<f64>,
}

impl IncidentOverrides {
    /// `base` with the settings given here.
    pub fn over(self, base: IncidentSettings) -> IncidentSettings {
        IncidentSettings {
            sequence_gap_s: self.sequence_gap_s.unwrap_or(base.sequence_gap_s),
            tolerance_s: self.tolerance_s.unwrap_or(base.tolerance_s),
        }
    }
}

/// How firmly a sequence or incident is placed in time, from its recordings' dates.
/// Ordered from firmest to weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Firmness {
    /// A message or recorder time (chat export, manifest, tag, file name with a time):
    /// joined within the tolerance.
    Firm,
    /// The file's modification time, which copying or saving can move: joined within ten
    /// times the tolerance.
    Loose,
    /// A day only: joined to the one incident of that day it can belong to.
    Day,
    /// No usable date: never joined to anything.
    Undated,
}

impl Firmness {
    /// The firmness of a date from `source`, or [`Firmness::Day`] when it names a day only.
    pub fn of(source: Option<DateSource>, day_only: bool) -> Self {
        match source {
            None => Firmness::Undated,
            Some(_) if day_only => Firmness::Day,
            Some(DateSource::Mtime) => Firmness::Loose,
            Some(_) => Firmness::Firm,
        }
    }

    /// The name written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Firmness::Firm => "firm",
            Firmness::Loose => "loose",
            Firmness::Day => "day",
            Firmness::Undated => "undated",
        }
    }
}

/// Blasts of one recording, each closer than the sequence gap to the one before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// The recording, as in the index.
    pub recording: String,
    /// Who sent it, when known.
    #[serde(default)]
    pub sender: Option<String>,
    /// Number of blasts.
    pub blasts: usize,
    /// Peak of the first blast, seconds into the recording.
    pub first_s: f64,
    /// Peak of the last blast, seconds into the recording.
    pub last_s: f64,
    /// Seconds between consecutive blasts (one fewer than `blasts`).
    pub intervals_s: Vec<f64>,
    /// Estimated wall-clock time of the first blast, as `wall_clock_estimate`.
    #[serde(default)]
    pub first_wall_clock: Option<String>,
    /// Estimated wall-clock time of the last blast.
    #[serde(default)]
    pub last_wall_clock: Option<String>,
    /// Highest confidence among its blasts.
    pub strongest_confidence: f32,
    /// How firmly its recording's date places it.
    pub firmness: Firmness,
}

/// Sequences of one or more recordings that captured the same event, as far as their
/// dates can tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `I-YYYYMMDD-HHMM` from its start (`I-YYYYMMDD-day` for a day-only one,
    /// `I-undated-N` for an undated one), with `-2`, `-3`, ... when two start in the same
    /// minute. Rebuilt on every run: a new recording can move an incident's start.
    pub id: String,
    /// Estimated wall-clock time of its first blast (ISO 8601, as the detections'
    /// `wall_clock_estimate`; the day for a day-only incident); `None` when undated.
    #[serde(default)]
    pub start: Option<String>,
    /// Estimated wall-clock time of its last blast.
    #[serde(default)]
    pub end: Option<String>,
    /// The day it falls on (`YYYY-MM-DD`), as the report's timeline groups it.
    #[serde(default)]
    pub day: Option<String>,
    /// The weakest firmness among its sequences: how sure it is that they all heard the
    /// same event. `start` and `end` come from its firmest sequences.
    pub firmness: Firmness,
    /// Where its recordings' dates came from.
    pub date_sources: Vec<DateSource>,
    /// Number of blasts over all its recordings.
    pub blasts: usize,
    /// Highest confidence among them.
    pub strongest_confidence: f32,
    /// The recordings that captured it, as in the index.
    pub recordings: Vec<String>,
    /// Their senders, where known.
    pub senders: Vec<String>,
    /// Their chats, where known.
    pub chats: Vec<String>,
    /// Its sequences, in time order.
    pub sequences: Vec<Sequence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_not_given_keeps_the_base() {
        let base = IncidentSettings { sequence_gap_s: 30.0, tolerance_s: 600.0 };
        let given = IncidentOverrides { sequence_gap_s: Some(90.0), tolerance_s: None };
        assert_eq!(given.over(base), IncidentSettings { sequence_gap_s: 90.0, tolerance_s: 600.0 });
        assert_eq!(IncidentOverrides::default().over(base), base);
    }
}
