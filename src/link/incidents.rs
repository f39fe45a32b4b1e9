//! Incidents: the blasts of the index grouped in time, within each recording and across
//! recordings and senders.
//!
//! 1. **Sequences.** The blasts of a recording (detections labelled `explosion`, by peak
//!    time) split wherever two are more than `sequence_gap_s` apart.
//! 2. **Placing them in time.** A sequence spans the estimated wall-clock times of its
//!    first and last blast (the detections' `wall_clock_estimate`, compared as instants
//!    where the index knows how: [`Stamp::order_key`]). A day-only date places it
//!    somewhere in that day; a recording without a usable date does not place it at all.
//! 3. **Joining.** Sequences with firm dates (a message or recorder time) are swept in time
//!    order and join the incident before them when they start no later than
//!    `tolerance_s` after its end (single linkage on intervals). A sequence with a weaker
//!    date (a file's modification time: ten times the tolerance; a day only: its whole day)
//!    joins the firm incident its widened interval meets, if exactly one: it can belong to
//!    one, but not bridge two, and weak dates are not joined with each other (files copied
//!    together share a modification time without sharing an event). An undated sequence
//!    always stays an incident of its own: never guessed into one.
//!
//! The result depends on the index alone, so an incremental run, a sharded run and its
//! merge give the same incidents as a clean run.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeDelta};

use crate::index::{DateSource, Firmness, Incident, IncidentSettings, Index, Label, Sequence};
use crate::link::dates::{parse_iso, Stamp};

/// How much wider than the tolerance a modification-time date is joined.
pub const LOOSE_FACTOR: f64 = 10.0;

/// A sequence while incidents are being formed.
struct Draft {
    sequence: Sequence,
    /// Recording and detection indices of its blasts.
    recording: usize,
    blasts: Vec<usize>,
    /// Its interval as order keys (see the module doc); `None` when undated.
    span: Option<(NaiveDateTime, NaiveDateTime)>,
    /// The chat of its recording, and where its date came from.
    chat: Option<String>,
    source: Option<DateSource>,
}

/// Rebuilds `index.incidents` (and every detection's `incident`) with `settings`.
pub fn group(index: &mut Index, settings: IncidentSettings) {
    for rec in &mut index.recordings {
        for d in &mut rec.detections {
            d.incident = None;
        }
    }
    let drafts = sequences(index, settings);
    let clusters = join(&drafts, settings);
    let mut incidents: Vec<(Incident, Vec<usize>)> =
        clusters.into_iter().map(|members| (incident(&drafts, &members), members)).collect();
    // In time order of their firmest members (as their `start`), undated last; ties by
    // recording and time in it.
    let start = |m: &[usize]| {
        let firmest = m.iter().map(|&i| drafts[i].sequence.firmness).min();
        m.iter()
            .filter(|&&i| Some(drafts[i].sequence.firmness) == firmest)
            .filter_map(|&i| drafts[i].span)
            .map(|s| s.0)
            .min()
    };
    incidents.sort_by(|(a, ma), (b, mb)| {
        let (sa, sb) = (start(ma), start(mb));
        (sa.is_none(), sa, &a.recordings)
            .cmp(&(sb.is_none(), sb, &b.recordings))
            .then(a.sequences[0].first_s.total_cmp(&b.sequences[0].first_s))
    });
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut undated = 0;
    for (incident, members) in &mut incidents {
        // A start with a time of day names the minute; a day-only start, the day.
        let base = match &incident.start {
            Some(start) if start.len() > 10 => format!("I-{}", compact(start, true)),
            Some(start) => format!("I-{}-day", compact(start, false)),
            None => {
                undated += 1;
                format!("I-undated-{undated}")
            }
        };
        let n = taken.entry(base.clone()).or_insert(0);
        *n += 1;
        incident.id = if *n == 1 { base } else { format!("{base}-{n}") };
        for &m in members.iter() {
            let draft = &drafts[m];
            for &d in &draft.blasts {
                index.recordings[draft.recording].detections[d].incident =
                    Some(incident.id.clone());
            }
        }
    }
    index.incident_settings = settings;
    index.incidents = incidents.into_iter().map(|(i, _)| i).collect();
    index.summary.incidents = index.incidents.len();
}

/// `YYYYMMDD-HHMM` (or `YYYYMMDD`) from an ISO 8601 time as written in the index.
fn compact(iso: &str, with_time: bool) -> String {
    let digits = |range: std::ops::Range<usize>| -> String {
        iso.get(range).unwrap_or("").chars().filter(char::is_ascii_digit).collect()
    };
    if with_time {
        format!("{}-{}", digits(0..10), digits(11..16))
    } else {
        digits(0..10)
    }
}

/// Every recording's blasts, split into sequences and placed in time.
fn sequences(index: &Index, settings: IncidentSettings) -> Vec<Draft> {
    let zone = index.timezone.as_deref().and_then(crate::link::dates::parse_offset);
    let mut drafts = Vec::new();
    for (r, rec) in index.recordings.iter().enumerate() {
        if rec.error.is_some() {
            continue;
        }
        let mut blasts: Vec<usize> = (0..rec.detections.len())
            .filter(|&i| rec.detections[i].label == Label::Explosion)
            .collect();
        blasts.sort_by(|&a, &b| rec.detections[a].peak_s.total_cmp(&rec.detections[b].peak_s));
        let stamp = rec.sent_at.as_deref().and_then(parse_iso);
        let day_only = matches!(stamp, Some(Stamp::Day(_)));
        let dated = stamp.is_some().then_some(rec.date_source).flatten();
        let mut runs: Vec<Vec<usize>> = Vec::new();
        for b in blasts {
            let peak = rec.detections[b].peak_s;
            match runs.last_mut() {
                Some(run)
                    if peak - rec.detections[run[run.len() - 1]].peak_s
                        <= settings.sequence_gap_s =>
                {
                    run.push(b)
                }
                _ => runs.push(vec![b]),
            }
        }
        for run in runs {
            let dets: Vec<_> = run.iter().map(|&i| &rec.detections[i]).collect();
            let at = |i: usize| dets[i].wall_clock_estimate.clone();
            let key = |text: &Option<String>| {
                text.as_deref().and_then(parse_iso).map(|s| s.order_key(zone))
            };
            let mut firmness = Firmness::of(dated, day_only);
            let (first, last) = (at(0), at(dets.len() - 1));
            let span = match (firmness, stamp) {
                (Firmness::Undated, _) => None,
                (Firmness::Day, Some(day)) => {
                    let midnight = day.order_key(zone);
                    Some((midnight, midnight + TimeDelta::days(1)))
                }
                _ => key(&first).zip(key(&last)),
            };
            if span.is_none() {
                firmness = Firmness::Undated;
            }
            let (first_wall_clock, last_wall_clock) = match firmness {
                Firmness::Day => (rec.sent_at.clone(), rec.sent_at.clone()),
                Firmness::Undated => (None, None),
                _ => (first, last),
            };
            let peaks: Vec<f64> = dets.iter().map(|d| d.peak_s).collect();
            drafts.push(Draft {
                sequence: Sequence {
                    recording: rec.path.clone(),
                    sender: rec.sender.clone(),
                    blasts: dets.len(),
                    first_s: peaks[0],
                    last_s: peaks[peaks.len() - 1],
                    intervals_s: peaks.windows(2).map(|w| round_ms(w[1] - w[0])).collect(),
                    first_wall_clock,
                    last_wall_clock,
                    strongest_confidence: dets.iter().map(|d| d.confidence).fold(0.0, f32::max),
                    firmness,
                },
                recording: r,
                blasts: run,
                span,
                chat: rec.chat.clone(),
                source: dated,
            });
        }
    }
    drafts
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Groups the drafts into incidents (lists of draft indices), see the module doc.
fn join(drafts: &[Draft], settings: IncidentSettings) -> Vec<Vec<usize>> {
    let tolerance = TimeDelta::milliseconds((settings.tolerance_s.max(0.0) * 1000.0) as i64);
    let mut firm: Vec<usize> =
        (0..drafts.len()).filter(|&i| drafts[i].sequence.firmness == Firmness::Firm).collect();
    firm.sort_by_key(|&i| (drafts[i].span, drafts[i].recording, drafts[i].blasts[0]));
    // (start, end, members) of each firm incident, in time order.
    let mut clusters: Vec<(NaiveDateTime, NaiveDateTime, Vec<usize>)> = Vec::new();
    for i in firm {
        let Some((lo, hi)) = drafts[i].span else { continue };
        match clusters.last_mut() {
            Some((_, end, members)) if lo <= *end + tolerance => {
                *end = (*end).max(hi);
                members.push(i);
            }
            _ => clusters.push((lo, hi, vec![i])),
        }
    }
    let mut singles = Vec::new();
    for (i, draft) in drafts.iter().enumerate() {
        let widen = match draft.sequence.firmness {
            Firmness::Firm => continue,
            Firmness::Loose => tolerance * LOOSE_FACTOR as i32,
            Firmness::Day => tolerance,
            Firmness::Undated => {
                singles.push(vec![i]);
                continue;
            }
        };
        let Some((lo, hi)) = draft.span else {
            singles.push(vec![i]);
            continue;
        };
        let (from, to) = (lo - widen, hi + widen);
        let mut meets = clusters.iter_mut().filter(|(start, end, _)| *start <= to && *end >= from);
        match (meets.next(), meets.next()) {
            (Some((_, _, members)), None) => members.push(i),
            _ => singles.push(vec![i]),
        }
    }
    clusters.into_iter().map(|(_, _, members)| members).chain(singles).collect()
}

/// The incident of `members` (its id is given later).
fn incident(drafts: &[Draft], members: &[usize]) -> Incident {
    let mut members = members.to_vec();
    members.sort_by_key(|&i| (drafts[i].span.is_none(), drafts[i].span, drafts[i].recording));
    let firmest = members.iter().map(|&i| drafts[i].sequence.firmness).min();
    let weakest = members.iter().map(|&i| drafts[i].sequence.firmness).max();
    let placed: Vec<&Draft> = members
        .iter()
        .map(|&i| &drafts[i])
        .filter(|d| Some(d.sequence.firmness) == firmest)
        .collect();
    let start = placed
        .iter()
        .min_by_key(|d| d.span.map(|s| s.0))
        .and_then(|d| d.sequence.first_wall_clock.clone());
    let end = placed
        .iter()
        .max_by_key(|d| d.span.map(|s| s.1))
        .and_then(|d| d.sequence.last_wall_clock.clone());
    let sorted_unique = |values: Vec<String>| {
        let mut values = values;
        values.sort();
        values.dedup();
        values
    };
    let all = || members.iter().map(|&i| &drafts[i]);
    let mut date_sources: Vec<DateSource> = all().filter_map(|d| d.source).collect();
    date_sources.sort_by_key(|s| s.as_str());
    date_sources.dedup();
    Incident {
        id: String::new(),
        day: start.as_deref().and_then(|s| s.get(..10)).map(str::to_string),
        start,
        end,
        firmness: weakest.unwrap_or(Firmness::Undated),
        date_sources,
        blasts: all().map(|d| d.sequence.blasts).sum(),
        strongest_confidence: all().map(|d| d.sequence.strongest_confidence).fold(0.0, f32::max),
        recordings: sorted_unique(all().map(|d| d.sequence.recording.clone()).collect()),
        senders: sorted_unique(all().filter_map(|d| d.sequence.sender.clone()).collect()),
        chats: sorted_unique(all().filter_map(|d| d.chat.clone()).collect()),
        sequences: all().map(|d| d.sequence.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Anchor, Detection, DetectorParams, Features, Recording};
    use chrono::NaiveDateTime;

    const DURATION_S: f64 = 120.0;

    /// A 2-minute voice note sent (at its end) at `sent_at`, with blasts peaking at
    /// `peaks` seconds, each with the wall-clock estimate linking gives it.
    fn note(path: &str, sender: &str, sent_at: Option<&str>, peaks: &[f64]) -> Recording {
        let sent = sent_at.and_then(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok());
        let detections = peaks
            .iter()
            .map(|&peak_s| Detection {
                start_s: peak_s - 0.05,
                end_s: peak_s + 2.0,
                peak_s,
                label: Label::Explosion,
                confidence: 0.8,
                wall_clock_estimate: sent.map(|t| {
                    let at = t + TimeDelta::milliseconds(((peak_s - DURATION_S) * 1000.0) as i64);
                    at.format("%Y-%m-%dT%H:%M:%S").to_string()
                }),
                peak_dbfs: -6.0,
                clipped: false,
                features: Features::default(),
                transcript: None,
                incident: None,
            })
            .collect();
        Recording {
            path: path.into(),
            duration_s: DURATION_S,
            sent_at: sent_at.map(str::to_string),
            date_source: sent_at.map(|_| DateSource::Whatsapp),
            date_marks: sent_at.map(|_| Anchor::End),
            sender: Some(sender.into()),
            detections,
            ..Recording::default()
        }
    }

    fn grouped(recordings: Vec<Recording>) -> Index {
        let mut index = Index::new(DetectorParams::default(), recordings);
        group(&mut index, IncidentSettings::default());
        index
    }

    fn members(index: &Index) -> Vec<Vec<String>> {
        index.incidents.iter().map(|i| i.recordings.clone()).collect()
    }

    #[test]
    fn three_notes_of_two_senders_within_the_tolerance_are_one_incident() {
        let index = grouped(vec![
            note("a.opus", "Abu Karim", Some("2024-03-13T23:16:00"), &[30.0, 41.5]),
            note("b.opus", "Abu Karim", Some("2024-03-13T23:18:30"), &[10.0]),
            note("c.opus", "Mariam", Some("2024-03-13T23:17:10"), &[100.0]),
            note("d.opus", "Mariam", Some("2024-03-14T00:17:10"), &[100.0]),
            note("e.opus", "Mariam", None, &[5.0]),
        ]);
        assert_eq!(
            members(&index),
            vec![vec!["a.opus", "b.opus", "c.opus"], vec!["d.opus"], vec!["e.opus"]]
        );
        let first = &index.incidents[0];
        assert_eq!(first.id, "I-20240313-2314");
        assert_eq!(first.blasts, 4);
        assert_eq!(first.senders, ["Abu Karim", "Mariam"]);
        assert_eq!(first.firmness, Firmness::Firm);
        assert_eq!(first.start.as_deref(), Some("2024-03-13T23:14:30"));
        assert_eq!(first.end.as_deref(), Some("2024-03-13T23:16:50"));
        assert_eq!(first.date_sources, [DateSource::Whatsapp]);
        assert_eq!(index.incidents[1].id, "I-20240314-0016");
        let undated = &index.incidents[2];
        assert_eq!((undated.id.as_str(), undated.firmness), ("I-undated-1", Firmness::Undated));
        assert_eq!(undated.start, None);
        // Every blast names its incident.
        for rec in &index.recordings {
            let id = index.incidents.iter().find(|i| i.recordings.contains(&rec.path)).unwrap();
            assert!(rec.detections.iter().all(|d| d.incident.as_ref() == Some(&id.id)));
        }
    }

    #[test]
    fn notes_further_apart_than_the_tolerance_stay_apart() {
        // b's blast is 3 min 10 s after a's last one: past the 3-minute tolerance.
        let index = grouped(vec![
            note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]),
            note("b.opus", "B", Some("2024-03-13T23:19:10"), &[60.0]),
        ]);
        assert_eq!(members(&index), vec![vec!["a.opus"], vec!["b.opus"]]);
        let mut wide = Index::new(DetectorParams::default(), index.recordings.clone());
        group(&mut wide, IncidentSettings { tolerance_s: 200.0, ..IncidentSettings::default() });
        assert_eq!(members(&wide), vec![vec!["a.opus", "b.opus"]]);
    }

    #[test]
    fn blasts_of_a_recording_split_into_sequences_at_the_gap() {
        let index = grouped(vec![note("a.opus", "A", None, &[5.0, 12.5, 30.0, 95.0])]);
        // 30 -> 95 s is more than the 60 s gap: two sequences, each its own (undated) incident.
        let sequences: Vec<&Sequence> = index.incidents.iter().flat_map(|i| &i.sequences).collect();
        assert_eq!(sequences.len(), 2);
        assert_eq!(
            (sequences[0].blasts, sequences[0].first_s, sequences[0].last_s),
            (3, 5.0, 30.0)
        );
        assert_eq!(sequences[0].intervals_s, [7.5, 17.5]);
        assert_eq!((sequences[1].blasts, sequences[1].intervals_s.len()), (1, 0));
    }

    #[test]
    fn a_day_only_date_joins_the_one_incident_of_its_day_and_no_more() {
        let mut day_only = note("day.m4a", "C", None, &[20.0]);
        day_only.sent_at = Some("2024-03-13".into());
        day_only.date_source = Some(DateSource::Filename);
        let index = grouped(vec![
            note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]),
            day_only.clone(),
        ]);
        assert_eq!(members(&index), vec![vec!["a.opus", "day.m4a"]]);
        let joined = &index.incidents[0];
        assert_eq!(joined.firmness, Firmness::Day);
        // Named by its firm start, not as a day.
        assert_eq!(joined.id, "I-20240313-2315");
        // Its time comes from the firm note.
        assert_eq!(joined.start.as_deref(), Some("2024-03-13T23:15:00"));
        // Joined, it does not move its incident to midnight: the incident still sorts after
        // a (loose, so not firm) one at 10:00 that day.
        let mut morning = note("m.wav", "M", Some("2024-03-13T10:00:00"), &[60.0]);
        morning.date_source = Some(DateSource::Mtime);
        let index = grouped(vec![
            note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]),
            morning,
            day_only.clone(),
        ]);
        assert_eq!(members(&index), vec![vec!["m.wav"], vec!["a.opus", "day.m4a"]]);
        // Two incidents that day: it cannot tell which, so it stays alone.
        let index = grouped(vec![
            note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]),
            note("b.opus", "B", Some("2024-03-13T04:00:00"), &[60.0]),
            day_only,
        ]);
        // A day sorts from its midnight.
        assert_eq!(members(&index), vec![vec!["day.m4a"], vec!["b.opus"], vec!["a.opus"]]);
        assert_eq!(index.incidents[0].id, "I-20240313-day");
    }

    #[test]
    fn a_modification_time_is_joined_within_ten_times_the_tolerance() {
        let mut loose = note("saved.wav", "D", Some("2024-03-13T23:40:00"), &[60.0]);
        loose.date_source = Some(DateSource::Mtime);
        let index =
            grouped(vec![note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]), loose.clone()]);
        assert_eq!(members(&index), vec![vec!["a.opus", "saved.wav"]]);
        assert_eq!(index.incidents[0].firmness, Firmness::Loose);
        // Two modification times alone are not joined with each other.
        let mut other = loose.clone();
        other.path = "saved2.wav".into();
        let index = grouped(vec![loose, other]);
        assert_eq!(index.incidents.len(), 2);
    }

    #[test]
    fn ids_are_unique_when_two_incidents_start_in_the_same_minute() {
        // Two firm incidents in the same minute, kept apart by a zero tolerance.
        let mut index = Index::new(
            DetectorParams::default(),
            vec![
                note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0]),
                note("b.opus", "B", Some("2024-03-13T23:16:20"), &[60.0]),
            ],
        );
        group(&mut index, IncidentSettings { tolerance_s: 0.0, ..IncidentSettings::default() });
        let ids: Vec<&str> = index.incidents.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["I-20240313-2315", "I-20240313-2315-2"]);
    }

    #[test]
    fn only_blasts_count_and_regrouping_gives_the_same_incidents() {
        let mut a = note("a.opus", "A", Some("2024-03-13T23:16:00"), &[60.0, 70.0]);
        a.detections[1].label = Label::Other;
        let mut index = grouped(vec![a]);
        assert_eq!(index.incidents[0].blasts, 1);
        assert_eq!(index.recordings[0].detections[1].incident, None);
        let before = index.clone();
        group(&mut index, IncidentSettings::default());
        assert_eq!(index, before);
    }
}
