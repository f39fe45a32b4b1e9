//! Linking: after the scan, every recording gets its message date (with the date's
//! source) and every detection the words around it and an estimated wall-clock time.
//!
//! Cheap and sequential: it reads small text files and one box of an MP4 header per
//! recording, and never decodes audio. See [`crate::link::transcript`] and [`crate::link::dates`]
//! for the formats.

pub mod dates;
pub mod incidents;
pub mod transcript;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::FixedOffset;

use crate::index::{Anchor, DateSource, Index, Input, Warning};
use crate::link::dates::{parse_iso, Found, MessageBook, MessageDate, Stamp};

/// Where to look for transcripts and dates, and how to write times.
#[derive(Debug, Clone, Default)]
pub struct LinkConfig {
    /// A folder holding transcripts named by recording stem (besides the recordings' own
    /// folders).
    pub transcripts: Option<PathBuf>,
    /// Manifests and chat exports, strongest first.
    pub messages: Vec<PathBuf>,
    /// The offset that chat-export times are in; also the offset instants are written in.
    pub timezone: Option<FixedOffset>,
    /// Treat message times (manifest, chat exports) as the start of the recording instead
    /// of its end.
    pub sent_at_start: bool,
}

/// Adds dates, senders, transcripts and wall-clock estimates to `index`. Problems (a
/// malformed line, an unreadable transcript, a manifest row naming no scanned file) are
/// returned and stored in [`Index::link_warnings`]; none stops the run.
pub fn link(index: &mut Index, inputs: &[Input], config: &LinkConfig) -> Vec<Warning> {
    let mut book = MessageBook::default();
    let mut warnings = Vec::new();
    for path in &config.messages {
        let display = path.display().to_string();
        if let Err(e) = book.load(path, &display) {
            warnings.push(Warning {
                file: display,
                line: None,
                message: format!("cannot read ({e}); its dates are not used"),
            });
        }
    }
    warnings.append(&mut book.warnings);
    // Every file found, including those another shard analyses: a name is ambiguous
    // whichever shard holds its twin.
    let sources: Vec<PathBuf> = inputs.iter().map(|i| PathBuf::from(i.source())).collect();
    let (found, unlisted) = book.assign(&sources);
    warnings.extend(unlisted);
    // By absolute source path: entries kept from earlier runs of other folders may share
    // a relative path with this run's files.
    let by_source: BTreeMap<String, (&Path, &Found)> =
        inputs.iter().zip(&found).map(|(i, f)| (i.source(), (i.path.as_path(), f))).collect();
    let zone = config.timezone;
    for rec in &mut index.recordings {
        let Some(&(path, found)) = rec.source.as_ref().and_then(|s| by_source.get(s)) else {
            continue;
        };
        let from_messages = match found {
            Found::Date(date) => Some(date.clone()),
            Found::Ambiguous(why) => {
                warnings.push(Warning { file: rec.path.clone(), line: None, message: why.clone() });
                None
            }
            Found::Nothing => None,
        };
        if let Some(mut date) = from_messages.or_else(|| date_from_file(&rec.path, path)) {
            if config.sent_at_start && is_message_time(&date) {
                date.anchor = Anchor::Start;
            }
            rec.sent_at = Some(date.stamp.render(zone));
            rec.date_source = Some(date.source);
            rec.date_marks = Some(date.anchor);
            rec.sender.clone_from(&date.sender);
            rec.chat.clone_from(&date.chat);
            rec.date_note.clone_from(&date.note);
            for d in &mut rec.detections {
                d.wall_clock_estimate =
                    date.wall_clock(rec.duration_s, d.peak_s).map(|s| s.render(zone));
            }
        }
        let Some(found) = transcript::find(path, config.transcripts.as_deref()) else {
            continue;
        };
        let display = found.display().to_string();
        match transcript::read(&found, &display) {
            Ok((t, _)) if t.segments.is_empty() && t.untimed.is_none() => {
                warnings.push(Warning {
                    file: display,
                    line: None,
                    message: "holds no text (wrong format or encoding?); not linked".into(),
                });
            }
            Ok((t, mut w)) => {
                warnings.append(&mut w);
                rec.transcript = Some(display);
                for d in &mut rec.detections {
                    d.transcript = t.around(d.peak_s);
                }
            }
            Err(e) => warnings.push(Warning {
                file: display,
                line: None,
                message: format!("cannot read the transcript ({e}); not linked"),
            }),
        }
    }
    warnings.sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
    warnings.dedup();
    index.link_warnings.clone_from(&warnings);
    index.timezone = zone.map(|z| z.to_string());
    index.time_note = time_note(index);
    warnings
}

/// [`Index::time_note`]: set when local wall-clock dates and UTC instants meet in one
/// index without a `--timezone`.
pub fn time_note(index: &Index) -> Option<String> {
    mixed_time_bases(index).then(|| {
        "some dates are the phones' local time (chat exports, file names) and some are UTC (Telegram, tags, file times, manifest times with an offset); without --timezone their order across recordings is approximate. Give --timezone with the phones' UTC offset".to_string()
    })
}

fn mixed_time_bases(index: &Index) -> bool {
    if index.timezone.is_some() {
        return false;
    }
    let stamps = index.recordings.iter().filter_map(|r| r.sent_at.as_deref()).filter_map(parse_iso);
    let (mut local, mut utc) = (false, false);
    for s in stamps {
        match s {
            Stamp::Utc(_) => utc = true,
            Stamp::Local(_) | Stamp::Day(_) => local = true,
        }
    }
    local && utc
}

fn is_message_time(date: &MessageDate) -> bool {
    use DateSource::*;
    matches!(date.source, Manifest | Whatsapp | Telegram)
}

/// The strongest date the file itself gives: its name, a container tag, its mtime.
fn date_from_file(display: &str, path: &Path) -> Option<MessageDate> {
    dates::from_filename(display)
        .or_else(|| dates::from_tag(path))
        .or_else(|| dates::from_mtime(path))
}
