//! Linking: after the scan, every recording gets its message date (with the date's
//! source) and every detection the words around it and an estimated wall-clock time.
//!
//! Cheap and sequential: it reads small text files and one box of an MP4 header per
//! recording, and never decodes audio. See [`crate::transcript`] and [`crate::messages`]
//! for the formats.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::FixedOffset;

use crate::discover::Input;
use crate::eval::base_name;
use crate::index::Index;
use crate::messages::{self, Anchor, MessageBook, MessageDate};
use crate::transcript::{self, Warning};

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
    // Every file found, including those another shard analyses.
    let scanned: BTreeSet<String> = index
        .recordings
        .iter()
        .map(|r| base_name(&r.path))
        .chain(inputs.iter().map(|i| base_name(&i.display)))
        .collect();
    warnings.extend(book.unmatched(&scanned));

    // By absolute source path: entries kept from earlier runs of other folders may share
    // a relative path with this run's files.
    let paths: BTreeMap<String, &Path> =
        inputs.iter().map(|i| (i.source(), i.path.as_path())).collect();
    let zone = config.timezone;
    for rec in &mut index.recordings {
        let Some(&path) = rec.source.as_ref().and_then(|s| paths.get(s)) else { continue };
        if let Some(mut date) = date_of(&book, &rec.path, path) {
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
    warnings
}

fn is_message_time(date: &MessageDate) -> bool {
    use messages::DateSource::*;
    matches!(date.source, Manifest | Whatsapp | Telegram)
}

/// The strongest date known for one recording.
fn date_of(book: &MessageBook, display: &str, path: &Path) -> Option<MessageDate> {
    book.lookup(display)
        .cloned()
        .or_else(|| messages::from_filename(display))
        .or_else(|| messages::from_tag(path))
        .or_else(|| messages::from_mtime(path))
}
