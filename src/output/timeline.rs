//! The report's incident timeline: one row per day with a 24-hour axis, each incident a
//! mark at its estimated time (as long as it lasted, at least a sliver), linked to its
//! entry in the incident list below, whose recordings link to their cards. Day-only and
//! undated incidents are listed in their own rows. A month of material is 30 short rows.
//!
//! Every string from the index goes through [`escape`]: ids, recording names and senders
//! can come from outside.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::index::{Firmness, Incident, Index, Sequence};
use crate::output::html::escape;

/// Card numbers of the report, by (recording path, incident id): the first shown card of
/// that incident's blasts in that recording.
pub type CardOf = BTreeMap<(String, String), usize>;

/// The HTML anchor of an incident's entry.
pub fn anchor(id: &str) -> String {
    format!("incident-{}", escape(id))
}

/// Seconds since midnight of an ISO 8601 time as the index writes it (`...THH:MM:SS`).
fn time_of_day(iso: &str) -> Option<f64> {
    let hms = iso.get(11..19)?;
    let mut parts = hms.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(f64::from(h * 3600 + m * 60 + s))
}

/// Writes the timeline and the incident list (nothing when there are no incidents).
pub fn write(h: &mut String, index: &Index, cards: &CardOf) {
    if index.incidents.is_empty() {
        return;
    }
    let multi = index.incidents.iter().filter(|i| i.recordings.len() > 1).count();
    let settings = index.incident_settings;
    let _ = write!(
        h,
        "<section id=\"incidents\"><h2>Incidents</h2><p class=\"muted\">{} incidents, {multi} \
heard in more than one recording. Blasts less than {:.0} s apart in a recording form a \
sequence; sequences of different recordings whose estimated times come within {:.0} s \
form an incident (wider for weak dates). Times are estimates from the message dates.</p>\
<p class=\"muted\">Each mark is an incident at its estimated time of day, \
numbered with its recordings when more than one heard it; a faded mark holds a recording \
dated only by its file's time or day; day-only incidents stand at the right.</p>\
<div class=\"tl\"><div class=\"tl-row tl-axis\"><span class=\"tl-date\"></span><div class=\"tl-track\">",
        index.incidents.len(),
        settings.sequence_gap_s,
        settings.tolerance_s
    );
    for hour in (0..=24).step_by(3) {
        let _ = write!(
            h,
            "<span class=\"tl-tick\" style=\"left:{:.3}%\">{hour:02}</span>",
            f64::from(hour) / 24.0 * 100.0
        );
    }
    h.push_str("</div><div class=\"tl-extra\"></div></div>");
    let mut by_day: BTreeMap<&str, Vec<&Incident>> = BTreeMap::new();
    let mut undated = Vec::new();
    for incident in &index.incidents {
        match incident.day.as_deref() {
            Some(day) => by_day.entry(day).or_default().push(incident),
            None => undated.push(incident),
        }
    }
    for (day, incidents) in &by_day {
        let _ = write!(
            h,
            "<div class=\"tl-row\"><span class=\"tl-date\">{}</span><div class=\"tl-track\">",
            escape(day)
        );
        let mut day_only = Vec::new();
        for incident in incidents {
            let span = incident
                .start
                .as_deref()
                .and_then(time_of_day)
                .zip(incident.end.as_deref().and_then(time_of_day));
            match span {
                None => day_only.push(*incident),
                Some((from, to)) => {
                    let left = from / 86_400.0 * 100.0;
                    let width = ((to - from).max(0.0) / 86_400.0 * 100.0).max(0.35);
                    mark(h, incident, &format!("left:{left:.3}%;width:{width:.3}%"));
                }
            }
        }
        // Incidents known to the day only, in a column of their own.
        h.push_str("</div><div class=\"tl-extra\">");
        for incident in day_only {
            mark(h, incident, "");
        }
        h.push_str("</div></div>");
    }
    if !undated.is_empty() {
        h.push_str(
            "<div class=\"tl-row\"><span class=\"tl-date\">undated</span><div class=\"tl-list\">",
        );
        for incident in &undated {
            mark(h, incident, "");
        }
        h.push_str("</div></div>");
    }
    h.push_str("</div><ol class=\"incident-list\">");
    for incident in &index.incidents {
        entry(h, incident, cards);
    }
    h.push_str("</ol></section>\n");
}

/// One incident on the timeline: placed by `style` on a day's track, or inline.
fn mark(h: &mut String, incident: &Incident, style: &str) {
    let class = if incident.recordings.len() > 1 { "tl-inc tl-multi" } else { "tl-inc" };
    let placed = if style.is_empty() { " tl-inline" } else { "" };
    let label = if incident.recordings.len() > 1 {
        incident.recordings.len().to_string()
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "<a class=\"{class}{placed} tl-f-{}\" href=\"#{}\" style=\"{style}\" title=\"{}\">{label}</a>",
        incident.firmness.as_str(),
        anchor(&incident.id),
        escape(&format!("{}: {}", incident.id, description(incident)))
    );
}

/// What an incident is: when, how many blasts, recordings and senders.
fn description(incident: &Incident) -> String {
    let when = match (&incident.start, &incident.end) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.clone(),
        _ => "undated".into(),
    };
    let senders = match incident.senders.len() {
        0 => String::new(),
        1 => format!(", sent by {}", incident.senders[0]),
        n => format!(", {n} senders"),
    };
    let firmness = match incident.firmness {
        Firmness::Firm => "time firm (message or recorder times)",
        Firmness::Loose => "time loose: a recording is dated by its file's modification time",
        Firmness::Day => "a recording is dated to the day only",
        Firmness::Undated => "no usable date",
    };
    format!(
        "{when}, {} blast{} in {} recording{}{senders}; {firmness}",
        incident.blasts,
        if incident.blasts == 1 { "" } else { "s" },
        incident.recordings.len(),
        if incident.recordings.len() == 1 { "" } else { "s" },
    )
}

/// An incident's entry in the list, its recordings linked to their cards.
fn entry(h: &mut String, incident: &Incident, cards: &CardOf) {
    let _ = write!(
        h,
        "<li id=\"{}\"><b>{}</b> {} <span class=\"muted\">max confidence {:.2}</span>",
        anchor(&incident.id),
        escape(&incident.id),
        escape(&description(incident)),
        incident.strongest_confidence
    );
    if !incident.senders.is_empty() {
        let _ = write!(h, "<br>senders: {}", escape(&incident.senders.join(", ")));
    }
    // Each recording's sequence: how many blasts, when in the recording, how far apart
    // (a strike's rhythm: a double tap, a salvo).
    h.push_str("<ul class=\"seqs\">");
    for seq in &incident.sequences {
        let name = escape(&seq.recording);
        let _ = match cards.get(&(seq.recording.clone(), incident.id.clone())) {
            Some(card) => write!(h, "<li><a href=\"#det-{card}\">{name}</a>: "),
            None => write!(h, "<li>{name}: "),
        };
        let _ = write!(h, "{}", rhythm(seq));
        if let Some(sender) = &seq.sender {
            let _ = write!(h, " <span class=\"muted\">({})</span>", escape(sender));
        }
        h.push_str("</li>");
    }
    h.push_str("</ul></li>");
}

/// A sequence in words: `3 blasts from 12.4 s, 6.1 and 6.0 s apart`.
fn rhythm(seq: &Sequence) -> String {
    if seq.blasts == 1 {
        return format!("1 blast at {:.1} s", seq.first_s);
    }
    let gaps: Vec<String> = seq.intervals_s.iter().map(|g| format!("{g:.1}")).collect();
    let gaps = match gaps.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    format!("{} blasts from {:.1} s, {gaps} s apart", seq.blasts, seq.first_s)
}

/// Style rules of the timeline, added to the report's.
pub const STYLE: &str = "#incidents{background:#fff;border:1px solid #ddd;border-radius:6px;\
padding:12px;margin:12px 0}.tl{margin:8px 0 12px}.tl-row{display:flex;align-items:center;\
gap:8px;min-height:18px;margin:2px 0}.tl-date{flex:0 0 6.5em;font-size:12px;color:#555}\
.tl-track{position:relative;flex:1;height:16px;background:#eee;border-radius:3px}\
.tl-axis .tl-track{background:none;height:14px}.tl-tick{position:absolute;font-size:11px;\
color:#777;transform:translateX(-50%)}.tl-list{display:flex;flex-wrap:wrap;gap:4px}\
.tl-extra{flex:0 0 3.5em;display:flex;gap:2px}\
.tl-inc{position:absolute;top:1px;height:14px;min-width:4px;background:#e07b39;\
border-radius:2px;font-size:10px;line-height:14px;color:#fff;text-align:center;\
text-decoration:none;overflow:hidden}.tl-multi{background:#b3261e;top:0;height:16px;\
min-width:14px;font-weight:bold}.tl-inline{position:static;display:inline-block;\
width:14px;margin-left:2px}.tl-f-loose,.tl-f-day{opacity:.6}\
.incident-list{font-size:13px;padding-left:1.5em;max-height:24em;overflow:auto}\
.incident-list li{margin:4px 0}.seqs{margin:2px 0;padding-left:1.2em}.incident-list li:target{background:#fff3c4}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{DetectorParams, IncidentSettings};

    fn incident(
        id: &str,
        start: Option<&str>,
        recordings: &[&str],
        firmness: Firmness,
    ) -> Incident {
        Incident {
            id: id.into(),
            start: start.map(str::to_string),
            end: start.map(str::to_string),
            day: start.map(|s| s[..10].to_string()),
            firmness,
            date_sources: Vec::new(),
            blasts: recordings.len(),
            strongest_confidence: 0.9,
            recordings: recordings.iter().map(|r| r.to_string()).collect(),
            senders: vec!["<b>Mariam</b>".into()],
            chats: Vec::new(),
            sequences: Vec::new(),
        }
    }

    #[test]
    fn incidents_are_placed_by_time_of_day_linked_and_escaped() {
        let mut index = Index::new(DetectorParams::default(), Vec::new());
        index.incident_settings = IncidentSettings::default();
        index.incidents = vec![
            incident(
                "I-20240313-1800",
                Some("2024-03-13T18:00:00"),
                &["a.opus", "<x>.opus"],
                Firmness::Firm,
            ),
            incident("I-20240314-day", Some("2024-03-14"), &["d.m4a"], Firmness::Day),
            incident("I-undated-1", None, &["u.wav"], Firmness::Undated),
        ];
        index.incidents[0].sequences = vec![Sequence {
            recording: "a.opus".into(),
            sender: None,
            blasts: 3,
            first_s: 12.4,
            last_s: 24.5,
            intervals_s: vec![6.1, 6.0],
            first_wall_clock: None,
            last_wall_clock: None,
            strongest_confidence: 0.9,
            firmness: Firmness::Firm,
        }];
        let mut hostile = index.incidents[0].sequences[0].clone();
        hostile.recording = "<x>.opus".into();
        hostile.sender = Some("<b>Mariam</b>".into());
        hostile.blasts = 1;
        index.incidents[0].sequences.push(hostile);
        let cards: CardOf = [(("a.opus".to_string(), "I-20240313-1800".to_string()), 7)].into();
        let mut h = String::new();
        write(&mut h, &index, &cards);
        // 18:00 is three quarters of the day; two recordings: the mark says 2.
        assert!(h.contains("href=\"#incident-I-20240313-1800\" style=\"left:75.000%;"), "{h}");
        assert!(h.contains(">2</a>"), "{h}");
        // Day-only and undated incidents are listed in their rows, not placed on an axis.
        assert!(h.contains("<span class=\"tl-date\">undated</span>"), "{h}");
        assert!(
            h.contains("tl-inline tl-f-day\" href=\"#incident-I-20240314-day\" style=\"\""),
            "{h}"
        );
        // The list links a recording to its card, and escapes what came from outside.
        assert!(
            h.contains("<a href=\"#det-7\">a.opus</a>: 3 blasts from 12.4 s, 6.1 and 6.0 s apart"),
            "{h}"
        );
        assert!(h.contains("<li>&lt;x&gt;.opus: 1 blast at 12.4 s") && !h.contains("<x>"), "{h}");
        assert!(!h.contains("<b>Mariam"), "{h}");
    }

    #[test]
    fn no_incidents_no_timeline() {
        let index = Index::new(DetectorParams::default(), Vec::new());
        let mut h = String::new();
        write(&mut h, &index, &CardOf::new());
        assert!(h.is_empty());
    }
}
