//! Dates in file names: WhatsApp, Telegram, phone recorders, ISO dates.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::stamp::{MessageDate, Stamp};
use crate::index::{base_name, Anchor, DateSource};

/// The patterns, tried in order. Digits are ASCII `[0-9]`: phones and apps write their
/// names so, `str::parse` reads only those, and Unicode's `\d` (some 70 digit ranges)
/// took most of the 4 ms these took to compile, on every scan.
static NAME_PATTERNS: LazyLock<[(Regex, Anchor); 7]> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("valid regex");
    [
        // WhatsApp Android voice note, audio file or video: the day only.
        (re(r"(?:PTT|AUD|VID)-([0-9]{4})([0-9]{2})([0-9]{2})-WA[0-9]+"), Anchor::End),
        // WhatsApp's own name for a shared or saved file, 24- or 12-hour clock.
        (
            re(
                r"(?i)WhatsApp (?:Audio|Video|Ptt|Voice)[^0-9]*([0-9]{4})-([0-9]{2})-([0-9]{2}) at ([0-9]{1,2})\.([0-9]{2})\.([0-9]{2})(?:\s*(?<pm>[AaPp])\.?\s?[Mm]\.?)?",
            ),
            Anchor::End,
        ),
        // WhatsApp iOS export attachment.
        (
            re(r"AUDIO-([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})"),
            Anchor::End,
        ),
        // Telegram Desktop voice message: day-month-year.
        (
            re(r"audio_[0-9]+@([0-9]{2})-([0-9]{2})-([0-9]{4})_([0-9]{2})-([0-9]{2})-([0-9]{2})"),
            Anchor::End,
        ),
        // Phone recorders: named when recording starts.
        (
            re(
                r"(?:^|[^0-9])([0-9]{4})([0-9]{2})([0-9]{2})[_-]([0-9]{2})([0-9]{2})([0-9]{2})(?:[^0-9]|$)",
            ),
            Anchor::Start,
        ),
        // ISO date and time.
        (
            re(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T _]([0-9]{2})[-:.h]([0-9]{2})[-:.m]([0-9]{2})"),
            Anchor::End,
        ),
        // ISO date only.
        (re(r"(?:^|[^0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[^0-9]|$)"), Anchor::End),
    ]
});

/// A date in a file name (see the module doc for the patterns).
pub fn from_filename(name: &str) -> Option<MessageDate> {
    let name = base_name(name);
    for (i, (re, anchor)) in NAME_PATTERNS.iter().enumerate() {
        let Some(captures) = re.captures(&name) else { continue };
        let n: Vec<u32> =
            captures.iter().skip(1).flatten().filter_map(|m| m.as_str().parse().ok()).collect();
        let Some(&[a, b, c]) = n.get(..3) else { continue };
        // Telegram names put the day first.
        let (y, mo, d) = if i == 3 { (c, b, a) } else { (a, b, c) };
        let Some(day) = NaiveDate::from_ymd_opt(y as i32, mo, d) else { continue };
        let pm = captures.name("pm").map(|m| m.as_str().eq_ignore_ascii_case("p"));
        let stamp = match n.get(3..6) {
            Some(&[h, mi, s]) => match day.and_hms_opt(twenty_four(h, pm).unwrap_or(99), mi, s) {
                Some(t) => Stamp::Local(t),
                None => continue,
            },
            _ => Stamp::Day(day),
        };
        let mut date = MessageDate::new(stamp, DateSource::Filename, *anchor);
        if matches!(stamp, Stamp::Day(_)) {
            date.note = Some("the file name gives the day only".into());
        } else if *anchor == Anchor::Start {
            date.note = Some("recorder file name: the time the recording started".into());
        }
        return Some(date);
    }
    None
}

/// An hour on the 24-hour clock from a 12-hour one (`Some(true)`: PM); `None` when the
/// hour does not fit the clock.
pub(crate) fn twenty_four(hour: u32, pm: Option<bool>) -> Option<u32> {
    match pm {
        None => Some(hour),
        Some(pm) if (1..=12).contains(&hour) => Some(hour % 12 + if pm { 12 } else { 0 }),
        Some(_) => None,
    }
}
