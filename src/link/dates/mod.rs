//! When was each recording sent, by whom, and how do we know.
//!
//! Sources, strongest first (the first that knows a recording wins; among manifests and
//! exports the most specific one, see [`MessageBook`]):
//!
//! 1. A **manifest** CSV: `file,sent_at[,sender,chat,message_id,note]`; `sent_at` in ISO 8601
//!    (`2018-12-31T23:14:05`, `2018-12-31 23:14`, optionally with `Z` or `+03:00`).
//! 2. A **WhatsApp** chat export (`_chat.txt`, `WhatsApp Chat with NAME.txt`), Android
//!    or iOS form, in any locale (see [`crate::link::dates::whatsapp`]).
//! 3. A **Telegram** Desktop export `result.json` (single chat or whole account):
//!    messages with `file`, `date` (local) and `date_unixtime` (UTC, when present).
//! 4. A date in the **file name**: WhatsApp `PTT-`/`AUD-`/`VID-YYYYMMDD-WA####` (day
//!    only), `WhatsApp Audio YYYY-MM-DD at HH.MM.SS`,
//!    `AUDIO-YYYY-MM-DD-HH-MM-SS`, Telegram `audio_N@DD-MM-YYYY_HH-MM-SS`, phone recorders'
//!    `Recording_YYYYMMDD_HHMMSS` / `YYYYMMDD_HHMMSS` (start of the recording), ISO dates.
//! 5. A container **tag**: the MP4/M4A/3GP/MOV movie header's creation time (UTC).
//! 6. The file's **modification time** (UTC).
//!
//! Chat exports carry no time zone: their times are kept as the phone's local time and
//! written without an offset, unless `--timezone` says which offset they are in. Times
//! that are instants (`date_unixtime`, tags, mtimes, manifest entries with an offset) are
//! written in UTC (`Z`) or in the `--timezone` offset.

mod filename;
mod manifest;
mod stamp;
mod tag;
mod telegram;
mod timezone;
pub mod whatsapp;

pub use filename::from_filename;
use manifest::parse_manifest;
pub use stamp::{order_key, parse_iso, MessageDate, Stamp};
pub use tag::{from_mtime, from_tag};
use telegram::parse_telegram;
pub use timezone::{parse_offset, parse_timezone};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::index::{base_name, DateSource, Warning};
use crate::link::transcript::decode_text;

/// Which recordings a dated entry may apply to.
#[derive(Debug, Clone, PartialEq)]
enum Scope {
    /// A manifest row whose file has folders (`chatB/PTT-1.opus`): recordings whose path
    /// ends with those components.
    Path(PathBuf),
    /// A manifest row with a bare file name: any recording of that name.
    Name,
    /// A chat export: the recordings of its folder and below; elsewhere only when none of
    /// its folder has the name (an export kept apart from its media).
    Folder(PathBuf),
}

/// One recording named by a manifest or chat export.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    scope: Scope,
    date: MessageDate,
    /// Where it was read: `file:line`.
    origin: String,
    /// The manifest's warning for a row that names no scanned file.
    unlisted: Option<Warning>,
}

/// How specific an entry is for a recording, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    ManifestPath,
    ManifestName,
    /// A chat export in a folder above the recording: the nearest (deepest) first.
    ExportAbove(std::cmp::Reverse<usize>),
    ExportElsewhere,
}

/// An entry that may date a recording.
#[derive(Debug, Clone, Copy)]
struct Claim {
    level: Level,
    entry: usize,
    /// The entry fits more than one recording.
    shared: bool,
}

/// What the manifests and chat exports say about one recording.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// One date, from the most specific source that names the recording.
    Date(MessageDate),
    /// The most specific sources disagree (or one names several recordings): no date from
    /// them, and why.
    Ambiguous(String),
    /// No manifest or export names it.
    Nothing,
}

/// Dates from manifests and chat exports, matched to recordings by path and folder.
///
/// The most specific source wins: a manifest row whose path has folders matching the
/// recording's, then a manifest row with a bare name, then the chat export nearest above
/// the recording's folder, then an export elsewhere. Two sources at the same level that
/// disagree, or a name that fits several recordings, date none of them: the recording is
/// reported as ambiguous, never guessed.
#[derive(Debug, Default)]
pub struct MessageBook {
    entries: Vec<Entry>,
    /// Problems met while reading, with file and line.
    pub warnings: Vec<Warning>,
}

impl MessageBook {
    /// Reads one manifest or chat export, recognised by its name and content. Fails only
    /// if the file cannot be read.
    pub fn load(&mut self, path: &Path, display: &str) -> std::io::Result<()> {
        let text = decode_text(&std::fs::read(path)?);
        let text = text.as_str();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
        let folder = path.parent().map(absolute).unwrap_or_default();
        let dates = if name.ends_with(".csv") {
            parse_manifest(text, display, &mut self.warnings)
        } else if name.ends_with(".json") {
            parse_telegram(text, display, &mut self.warnings)
        } else {
            crate::link::dates::whatsapp::parse(text, display, &chat_name(path), &mut self.warnings)
        };
        for (file, date, line) in dates {
            let (scope, unlisted) = if date.source == DateSource::Manifest {
                let listed = relative_path(&file);
                let warning = Warning {
                    file: display.to_string(),
                    line: Some(line),
                    message: format!("`{file}` is listed but was not among the scanned files"),
                };
                let scope =
                    if listed.components().count() > 1 { Scope::Path(listed) } else { Scope::Name };
                (scope, Some(warning))
            } else {
                (Scope::Folder(folder.clone()), None)
            };
            let origin = if line > 0 { format!("{display}:{line}") } else { display.to_string() };
            self.entries.push(Entry { name: base_name(&file), scope, date, origin, unlisted });
        }
        Ok(())
    }

    /// The date of each recording in `recordings` (absolute paths: every file found,
    /// including those other shards analyse), in the same order, and warnings for
    /// manifest rows that name none of them.
    pub fn assign(&self, recordings: &[PathBuf]) -> (Vec<Found>, Vec<Warning>) {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in recordings.iter().enumerate() {
            let name = r.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            by_name.entry(name).or_default().push(i);
        }
        let mut claims: Vec<Vec<Claim>> = vec![Vec::new(); recordings.len()];
        let mut unlisted = Vec::new();
        for (entry, e) in self.entries.iter().enumerate() {
            let same_name = by_name.get(&e.name).map(Vec::as_slice).unwrap_or_default();
            let claimed: Vec<(usize, Level)> = match &e.scope {
                Scope::Path(p) => same_name
                    .iter()
                    .filter(|&&i| recordings[i].ends_with(p))
                    .map(|&i| (i, Level::ManifestPath))
                    .collect(),
                Scope::Name => same_name.iter().map(|&i| (i, Level::ManifestName)).collect(),
                Scope::Folder(dir) => {
                    let depth = dir.components().count();
                    let inside: Vec<_> = same_name
                        .iter()
                        .filter(|&&i| recordings[i].starts_with(dir))
                        .map(|&i| (i, Level::ExportAbove(std::cmp::Reverse(depth))))
                        .collect();
                    if inside.is_empty() {
                        same_name.iter().map(|&i| (i, Level::ExportElsewhere)).collect()
                    } else {
                        inside
                    }
                }
            };
            if claimed.is_empty() {
                unlisted.extend(e.unlisted.clone());
            }
            let shared = claimed.len() > 1;
            for (i, level) in claimed {
                claims[i].push(Claim { level, entry, shared });
            }
        }
        let found = claims.iter().map(|c| self.decide(c)).collect();
        (found, unlisted)
    }

    /// One date from the entries that claim a recording at its most specific level.
    fn decide(&self, claims: &[Claim]) -> Found {
        let Some(best) = claims.iter().map(|c| c.level).min() else { return Found::Nothing };
        let at_best = claims.iter().filter(|c| c.level == best);
        let (shared, own): (Vec<&Claim>, Vec<&Claim>) = at_best.partition(|c| c.shared);
        let origins = |list: &[&Claim]| {
            list.iter()
                .map(|c| self.entries[c.entry].origin.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !shared.is_empty() {
            return Found::Ambiguous(format!(
                "{} names a file of this name in several folders; not dated from it: put each chat export in the folder of its recordings, or give the manifest's path with its folders",
                origins(&shared)
            ));
        }
        let dates: Vec<&MessageDate> = own.iter().map(|c| &self.entries[c.entry].date).collect();
        let first = dates[0];
        if dates.iter().all(|d| d.stamp == first.stamp && d.sender == first.sender) {
            Found::Date(first.clone())
        } else {
            Found::Ambiguous(format!(
                "{} give different dates or senders for it; not dated from them: keep only the export it belongs to beside it",
                origins(&own)
            ))
        }
    }

    /// Number of entries read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A manifest's file column as a relative path (`./`, `\\` and leading `/` dropped).
fn relative_path(file: &str) -> PathBuf {
    Path::new(&file.trim().replace('\\', "/"))
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect()
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Names recognised as chat exports or manifests when found in a scanned folder.
pub fn is_message_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower == "_chat.txt"
        || (lower.starts_with("whatsapp chat") && lower.ends_with(".txt"))
        || lower == "result.json"
        || lower == "manifest.csv"
}

/// The chat's name: from `WhatsApp Chat with NAME.txt` or an export folder named
/// `WhatsApp Chat - NAME`, else the export's folder name.
fn chat_name(path: &Path) -> String {
    let strip = |name: &str| -> Option<String> {
        ["WhatsApp Chat with ", "WhatsApp Chat - "]
            .iter()
            .find_map(|p| name.strip_prefix(p))
            .map(str::to_string)
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let folder = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    strip(stem).or_else(|| strip(folder)).unwrap_or_else(|| folder.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime};

    use crate::index::Anchor;

    fn local(s: &str) -> Stamp {
        Stamp::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test time"))
    }

    #[test]
    fn telegram_export_prefers_the_unix_time() {
        let json = r#"{"name":"Neighbours","type":"private_group","messages":[
            {"id":1,"type":"message","date":"2018-12-31T23:14:05","date_unixtime":"1546287245","from":"Omar","media_type":"voice_message","file":"voice_messages/audio_1@31-12-2018_23-14-05.ogg","duration_seconds":12},
            {"id":2,"type":"message","date":"2018-12-31T23:20:00","from":"Omar","media_type":"voice_message","file":"voice_messages/audio_2@31-12-2018_23-20-00.ogg"},
            {"id":3,"type":"message","date":"2018-12-31T23:21:00","media_type":"voice_message","file":"(File not included. Change data exporting settings to download.)"},
            {"id":4,"type":"message","date":"2018-12-31T23:22:00","text":"hello"}]}"#;
        let mut w = Vec::new();
        let out = parse_telegram(json, "result.json", &mut w);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1.stamp.render(None), "2018-12-31T20:14:05Z");
        assert_eq!(out[1].1.stamp, local("2018-12-31 23:20:00"));
        assert_eq!(out[0].1.chat.as_deref(), Some("Neighbours"));
        assert_eq!(out[0].1.sender.as_deref(), Some("Omar"));
    }

    #[test]
    fn manifest_rows_and_bad_dates() {
        let csv = "file,sent_at,sender,chat,message_id,note\nrec/a.opus,2018-12-31T23:14:05,Ahmad,Family,17,\nb.m4a,2018-12-31 23:14+03:00,,,,\nc.mp3,yesterday,,,,\n";
        let mut w = Vec::new();
        let out = parse_manifest(csv, "m.csv", &mut w);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "rec/a.opus", "the path as listed: its folders must match");
        assert_eq!(out[0].1.stamp, local("2018-12-31 23:14:05"));
        assert_eq!(out[1].1.stamp.render(None), "2018-12-31T20:14:00Z");
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(4));
    }

    #[test]
    fn file_name_patterns() {
        let cases = [
            ("PTT-20181231-WA0012.opus", "2018-12-31"),
            ("00000012-AUDIO-2018-12-31-23-14-05.opus", "2018-12-31T23:14:05"),
            ("audio_3@31-12-2018_23-14-05.ogg", "2018-12-31T23:14:05"),
            ("Recording_20181231_231405.m4a", "2018-12-31T23:14:05"),
            ("2018-12-31 23.14.05 street.wav", "2018-12-31T23:14:05"),
            ("notes 2018-12-31.mp3", "2018-12-31"),
            ("AUD-20181231-WA0003.m4a", "2018-12-31"),
            ("VID-20181231-WA0004.mp4", "2018-12-31"),
            ("WhatsApp Audio 2018-12-31 at 23.14.05.opus", "2018-12-31T23:14:05"),
            ("WhatsApp Ptt 2018-12-31 at 9.14.05 PM.ogg", "2018-12-31T21:14:05"),
        ];
        for (name, want) in cases {
            let d = from_filename(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(d.stamp.render(None), want, "{name}");
        }
        assert_eq!(
            from_filename("Recording_20181231_231405.m4a").map(|d| d.anchor),
            Some(Anchor::Start)
        );
        assert!(from_filename("PTT-20181340-WA0001.opus").is_none(), "month 13");
        assert!(from_filename("voice.opus").is_none());
    }

    #[test]
    fn wall_clock_from_the_end_or_the_start_and_time_zones() {
        let sent =
            MessageDate::new(local("2018-12-31 23:14:05"), DateSource::Whatsapp, Anchor::End);
        // A 60 s note sent at 23:14:05: a blast 12.5 s in happened at 23:13:17.5.
        let at = sent.wall_clock(60.0, 12.5).expect("time");
        assert_eq!(at.render(None), "2018-12-31T23:13:17");
        let plus3 = parse_offset("+03:00");
        assert_eq!(at.render(plus3), "2018-12-31T23:13:17+03:00");
        let start = MessageDate { anchor: Anchor::Start, ..sent.clone() };
        assert_eq!(
            start.wall_clock(60.0, 12.5).map(|s| s.render(None)).as_deref(),
            Some("2018-12-31T23:14:17")
        );
        let utc = Stamp::Utc(DateTime::from_timestamp(1_546_287_245, 0).expect("time"));
        assert_eq!(utc.render(plus3), "2018-12-31T23:14:05+03:00");
        let day = MessageDate::new(
            Stamp::Day(NaiveDate::from_ymd_opt(2018, 12, 31).expect("day")),
            DateSource::Filename,
            Anchor::End,
        );
        assert_eq!(day.wall_clock(60.0, 1.0), None);
        assert_eq!(parse_offset("-0430").map(|o| o.local_minus_utc()), Some(-16200));
        assert_eq!(parse_offset("+3").map(|o| o.local_minus_utc()), Some(10800));
        assert_eq!(parse_offset("03:00"), None);
    }

    proptest::proptest! {
        #[test]
        fn no_chat_manifest_or_name_makes_a_parser_panic(
            text in "(\\PC|[0-9/.,:\\[\\] \\-\n]|AM|PM|\\(file attached\\)|<attached: |\\.opus){0,150}",
        ) {
            let mut w = Vec::new();
            let _ = crate::link::dates::whatsapp::parse(&text, "p", "c", &mut w);
            let _ = parse_telegram(&text, "p", &mut w);
            let _ = parse_manifest(&text, "p", &mut w);
            let _ = from_filename(&text);
            let _ = parse_iso(&text);
            let _ = parse_offset(&text);
        }
    }
}
