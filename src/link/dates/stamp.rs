//! The shared vocabulary of the date sources: a [`Stamp`] as precise as its source, the
//! [`MessageDate`] of one recording, and ISO 8601 parsing.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use super::timezone::parse_offset;
use crate::index::{Anchor, DateSource, Warning};

/// A point in time as precise as its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Local wall-clock time of the sender's phone, zone unknown.
    Local(NaiveDateTime),
    /// A day only (local).
    Day(NaiveDate),
    /// An instant.
    Utc(DateTime<Utc>),
}

impl Stamp {
    /// ISO 8601 text: local times without offset, instants with `Z` or the given offset,
    /// local times with the given offset when one is given (it says what zone they are in).
    pub fn render(&self, zone: Option<FixedOffset>) -> String {
        const FMT: &str = "%Y-%m-%dT%H:%M:%S";
        match (*self, zone) {
            (Stamp::Day(d), _) => d.format("%Y-%m-%d").to_string(),
            (Stamp::Local(t), None) => t.format(FMT).to_string(),
            (Stamp::Local(t), Some(z)) => format!("{}{z}", t.format(FMT)),
            (Stamp::Utc(t), None) => format!("{}Z", t.format(FMT)),
            (Stamp::Utc(t), Some(z)) => {
                t.with_timezone(&z).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            }
        }
    }

    /// A key that orders stamps by time: instants in UTC; local times and days read in
    /// `zone` when one is known, else taken as they are (approximate across time bases,
    /// see [`crate::index::Index::time_note`]). Days count from their midnight.
    pub fn order_key(&self, zone: Option<FixedOffset>) -> NaiveDateTime {
        let local = |t: NaiveDateTime| match zone {
            Some(z) => t - TimeDelta::seconds(i64::from(z.local_minus_utc())),
            None => t,
        };
        match *self {
            Stamp::Utc(t) => t.naive_utc(),
            Stamp::Local(t) => local(t),
            Stamp::Day(d) => local(d.and_time(chrono::NaiveTime::MIN)),
        }
    }

    fn shifted(&self, seconds: f64) -> Option<Stamp> {
        let delta = TimeDelta::milliseconds((seconds * 1000.0).round() as i64);
        match *self {
            Stamp::Local(t) => t.checked_add_signed(delta).map(Stamp::Local),
            Stamp::Utc(t) => t.checked_add_signed(delta).map(Stamp::Utc),
            Stamp::Day(_) => None,
        }
    }
}

/// The date of one recording and what else its source says.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDate {
    /// When.
    pub stamp: Stamp,
    /// Where that came from.
    pub source: DateSource,
    /// Which moment of the recording the stamp marks.
    pub anchor: Anchor,
    /// Who sent it, when known.
    pub sender: Option<String>,
    /// Which chat, when known.
    pub chat: Option<String>,
    /// A caveat (ambiguous day/month order, date only, ...).
    pub note: Option<String>,
}

impl MessageDate {
    pub(crate) fn new(stamp: Stamp, source: DateSource, anchor: Anchor) -> Self {
        MessageDate { stamp, source, anchor, sender: None, chat: None, note: None }
    }

    /// Estimated wall-clock time of a moment `at_s` seconds into a recording of
    /// `duration_s` seconds; `None` when the stamp is a day only.
    pub fn wall_clock(&self, duration_s: f64, at_s: f64) -> Option<Stamp> {
        match self.anchor {
            Anchor::End => self.stamp.shifted(at_s - duration_s),
            Anchor::Start => self.stamp.shifted(at_s),
        }
    }
}

/// The order key ([`Stamp::order_key`]) of an ISO 8601 time as written in the index;
/// `zone` is the index's `timezone`.
pub fn order_key(text: &str, zone: Option<&str>) -> Option<NaiveDateTime> {
    Some(parse_iso(text)?.order_key(zone.and_then(parse_offset)))
}

/// Parses an ISO 8601 date-time: local without offset, an instant with `Z`/`+hh:mm`.
pub fn parse_iso(text: &str) -> Option<Stamp> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(Stamp::Utc(dt.with_timezone(&Utc)));
    }
    for fmt in
        ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%d %H:%M:%S%:z", "%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"]
    {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(Stamp::Utc(dt.with_timezone(&Utc)));
        }
    }
    let z = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'));
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    {
        if let Ok(dt) = NaiveDateTime::parse_from_str(z.unwrap_or(t), fmt) {
            return Some(if z.is_some() { Stamp::Utc(dt.and_utc()) } else { Stamp::Local(dt) });
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(Stamp::Day)
}

/// A recording named by a manifest or export: (its name as written, its date, the line).
pub(crate) type Dated = (String, MessageDate, usize);

/// Adds a warning about `file` (at `line`, when known).
pub(crate) fn warn(warnings: &mut Vec<Warning>, file: &str, line: Option<usize>, message: String) {
    warnings.push(Warning { file: file.to_string(), line, message });
}
