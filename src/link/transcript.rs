//! Transcripts: reading SRT, WebVTT, Whisper JSON and plain text, and finding the words
//! around a moment of a recording.
//!
//! A transcript is found beside its recording with the same stem
//! (`PTT-20181231-WA0012.srt` for `PTT-20181231-WA0012.opus`) or in a folder given with
//! `--transcripts`, by stem. Formats, tried by extension:
//!
//! * `.srt` (SubRip): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, text lines.
//! * `.vtt` (WebVTT): a `WEBVTT` header, optional cue identifiers, `[HH:]MM:SS.mmm -->`
//!   timings with optional cue settings after them, `NOTE`/`STYLE`/`REGION` blocks.
//! * `.json`: openai-whisper (`segments[].start/end/text`, seconds) or whisper.cpp
//!   (`transcription[].offsets.from/to`, milliseconds, `.text`).
//! * `.txt`: text without times, linked to every detection as a whole.
//!
//! Parsing never fails on content: a cue that cannot be read becomes a warning naming the
//! file and line, and the rest is kept. Only an unreadable file is an error.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::index::{TranscriptLink, Warning};

/// Extensions tried for a transcript, in order of preference.
pub const EXTENSIONS: [&str; 4] = ["srt", "vtt", "json", "txt"];
/// A segment this far (seconds) or nearer from a moment is linked to it when none contains it.
pub const NEAREST_WITHIN_S: f64 = 5.0;
/// Longest text kept per link field, in characters (a whole `.txt` can be long).
pub const MAX_TEXT_CHARS: usize = 600;

/// One timed piece of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Start, seconds from the start of the recording.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// What was said, on one line.
    pub text: String,
}

/// A parsed transcript.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transcript {
    /// Timed segments in time order (empty for plain text).
    pub segments: Vec<Segment>,
    /// The whole text, for transcripts without times.
    pub untimed: Option<String>,
}

impl Transcript {
    /// The transcript around `at_s`, or `None` when no segment lies within
    /// [`NEAREST_WITHIN_S`].
    pub fn around(&self, at_s: f64) -> Option<TranscriptLink> {
        if let Some(text) = &self.untimed {
            return Some(TranscriptLink { text: clip(text), ..TranscriptLink::default() });
        }
        let gap = |s: &Segment| {
            if at_s < s.start_s {
                s.start_s - at_s
            } else if at_s > s.end_s {
                at_s - s.end_s
            } else {
                0.0
            }
        };
        let (best, dist) = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (i, gap(s)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if dist > NEAREST_WITHIN_S {
            return None;
        }
        let text_of = |i: Option<usize>| {
            i.and_then(|i| self.segments.get(i)).map(|s| clip(&s.text)).unwrap_or_default()
        };
        Some(TranscriptLink {
            text: text_of(Some(best)),
            gap_s: Some((dist * 1000.0).round() / 1000.0),
            context_before: text_of(best.checked_sub(1)),
            context_after: text_of(Some(best + 1)),
        })
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Finds the transcript of `recording`: beside it with the same stem, else in `dir`.
pub fn find(recording: &Path, dir: Option<&Path>) -> Option<PathBuf> {
    let stem = recording.file_stem()?;
    let beside = recording.parent().map(Path::to_path_buf).unwrap_or_default();
    for folder in std::iter::once(beside).chain(dir.map(Path::to_path_buf)) {
        for ext in EXTENSIONS {
            let mut name = stem.to_os_string();
            name.push(".");
            name.push(ext);
            let candidate = folder.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Text from a file's bytes: UTF-16 (little or big endian) when it starts with a byte
/// order mark, as Windows tools write it; else UTF-8 (a BOM dropped, invalid bytes
/// replaced).
pub fn decode_text(bytes: &[u8]) -> String {
    let utf16 = |bytes: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Reads and parses a transcript; `display` names it in warnings.
pub fn read(path: &Path, display: &str) -> Result<(Transcript, Vec<Warning>), std::io::Error> {
    let bytes = std::fs::read(path)?;
    let text = decode_text(&bytes);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Ok(parse(&text, &ext, display))
}

/// Parses transcript `text` in the format named by `ext` (`srt`, `vtt`, `json`, `txt`).
pub fn parse(text: &str, ext: &str, display: &str) -> (Transcript, Vec<Warning>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut warnings = Vec::new();
    let mut warn = |line: Option<usize>, message: String| {
        warnings.push(Warning { file: display.to_string(), line, message })
    };
    let mut transcript = match ext {
        "srt" | "vtt" => Transcript { segments: parse_cues(text, &mut warn), untimed: None },
        "json" => parse_json(text, &mut warn),
        _ => {
            let joined = one_line(text);
            Transcript { segments: Vec::new(), untimed: (!joined.is_empty()).then_some(joined) }
        }
    };
    transcript.segments.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    (transcript, warnings)
}

/// Collapses whitespace and line breaks to single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SRT and WebVTT share their shape: blocks separated by blank lines, a timing line with
/// `-->`, then text. Cue numbers, identifiers, the WEBVTT header and NOTE/STYLE/REGION
/// blocks are skipped; VTT tags (`<v Name>`, `<i>`) are removed from the text.
fn parse_cues(text: &str, warn: &mut impl FnMut(Option<usize>, String)) -> Vec<Segment> {
    let mut segments = Vec::new();
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    while i < lines.len() {
        // One block: lines up to the next blank line.
        let start = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let block = &lines[start..i];
        i += 1;
        let Some(first) = block.first() else { continue };
        let head = first.trim();
        if head.starts_with("WEBVTT")
            || head.starts_with("NOTE")
            || head.starts_with("STYLE")
            || head.starts_with("REGION")
        {
            continue;
        }
        let Some(timing) = block.iter().position(|l| l.contains("-->")) else {
            warn(Some(start + 1), "a block without a `-->` timing line; skipped".into());
            continue;
        };
        let line_no = start + timing + 1;
        match parse_timing(block[timing]) {
            Some((start_s, end_s)) => {
                let text = strip_tags(&block[timing + 1..].join(" "));
                segments.push(Segment { start_s, end_s: end_s.max(start_s), text });
            }
            None => warn(
                Some(line_no),
                format!("cannot read the timing `{}`; cue skipped", block[timing].trim()),
            ),
        }
    }
    segments
}

/// `00:01:02,500 --> 00:01:04.000 align:start` → (62.5, 64.0).
fn parse_timing(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let b = b.split_whitespace().next()?;
    Some((parse_clock(a.trim())?, parse_clock(b)?))
}

/// `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm` → seconds.
fn parse_clock(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, sec] => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?, *sec),
        [m, sec] => (0, m.parse::<u32>().ok()?, *sec),
        _ => return None,
    };
    let sec: f64 = sec.parse().ok()?;
    if !(0.0..60.0).contains(&sec) || m >= 60 {
        return None;
    }
    Some(f64::from(h) * 3600.0 + f64::from(m) * 60.0 + sec)
}

/// Removes `<...>` tags and collapses whitespace.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    one_line(&out)
}

#[derive(Deserialize)]
struct WhisperJson {
    segments: Option<Vec<serde_json::Value>>,
    transcription: Option<Vec<serde_json::Value>>,
    text: Option<String>,
}

/// openai-whisper (`segments`, seconds) or whisper.cpp (`transcription`, `offsets` in ms).
fn parse_json(text: &str, warn: &mut impl FnMut(Option<usize>, String)) -> Transcript {
    let doc: WhisperJson = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            warn(Some(e.line()), format!("not Whisper JSON ({e}); transcript not linked"));
            return Transcript::default();
        }
    };
    let mut segments = Vec::new();
    let number = |v: &serde_json::Value| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0);
    if let Some(items) = &doc.segments {
        for (n, item) in items.iter().enumerate() {
            let start = item.get("start").and_then(number);
            let end = item.get("end").and_then(number);
            let text = item.get("text").and_then(|t| t.as_str());
            match (start, end, text) {
                (Some(s), Some(e), Some(t)) => {
                    segments.push(Segment { start_s: s, end_s: e.max(s), text: one_line(t) })
                }
                _ => warn(None, format!("segments[{n}] lacks start, end or text; skipped")),
            }
        }
    } else if let Some(items) = &doc.transcription {
        for (n, item) in items.iter().enumerate() {
            let offsets = item.get("offsets");
            let from = offsets.and_then(|o| o.get("from")).and_then(number);
            let to = offsets.and_then(|o| o.get("to")).and_then(number);
            let text = item.get("text").and_then(|t| t.as_str());
            match (from, to, text) {
                (Some(f), Some(t), Some(x)) => segments.push(Segment {
                    start_s: f / 1000.0,
                    end_s: (t / 1000.0).max(f / 1000.0),
                    text: one_line(x),
                }),
                _ => warn(None, format!("transcription[{n}] lacks offsets or text; skipped")),
            }
        }
    } else if let Some(t) = doc.text.as_deref().map(one_line).filter(|t| !t.is_empty()) {
        return Transcript { segments, untimed: Some(t) };
    } else {
        warn(None, "no `segments` or `transcription` array; transcript not linked".into());
    }
    Transcript { segments, untimed: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str, ext: &str) -> (Transcript, Vec<Warning>) {
        parse(text, ext, "t")
    }

    #[test]
    fn srt_with_bom_crlf_and_multiline_cues() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:03,500\r\nWe are at home\r\nnow\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\nأسمع الطائرات\r\n";
        let (t, w) = parsed(srt, "srt");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.segments[0].text, "We are at home now");
        assert_eq!((t.segments[1].start_s, t.segments[1].end_s), (4.0, 6.0));
        assert_eq!(t.segments[1].text, "أسمع الطائرات");
    }

    #[test]
    fn vtt_with_header_notes_settings_identifiers_and_voice_tags() {
        let vtt = "WEBVTT - made by hand\n\nNOTE this is a note\nacross lines\n\nintro\n00:01.000 --> 00:02.500 align:start position:10%\n<v Ahmad>Listen</v> <i>now</i>\n\n01:00:00.000 --> 01:00:01.000\nlate\n";
        let (t, w) = parsed(vtt, "vtt");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.segments[0].text, "Listen now");
        assert_eq!((t.segments[0].start_s, t.segments[0].end_s), (1.0, 2.5));
        assert_eq!(t.segments[1].start_s, 3600.0);
    }

    #[test]
    fn a_bad_timing_is_a_warning_with_its_line_and_the_rest_is_kept() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:xx,000 --> 00:00:03,000\nbroken\n\n3\n00:00:05,000 --> 00:00:06,000\nalso fine\n";
        let (t, w) = parsed(srt, "srt");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(6));
        assert!(w[0].to_string().starts_with("t:6: cannot read the timing"), "{}", w[0]);
    }

    #[test]
    fn openai_whisper_and_whisper_cpp_json() {
        let openai = r#"{"text":" all","segments":[{"id":0,"start":0.0,"end":2.0,"text":" Hello"},{"id":1,"start":2.0,"end":4.5,"text":" a blast"},{"id":2,"start":"x","text":"bad"}]}"#;
        let (t, w) = parsed(openai, "json");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.segments[1].text, "a blast");
        assert_eq!(w.len(), 1, "{w:?}");
        let cpp = r#"{"transcription":[{"timestamps":{"from":"00:00:00,000","to":"00:00:01,500"},"offsets":{"from":0,"to":1500},"text":" One"},{"offsets":{"from":1500,"to":4000},"text":" Two"}]}"#;
        let (t, w) = parsed(cpp, "json");
        assert!(w.is_empty());
        assert_eq!((t.segments[1].start_s, t.segments[1].end_s), (1.5, 4.0));
        let (t, w) = parsed("{not json", "json");
        assert!(t.segments.is_empty() && w.len() == 1 && w[0].line == Some(1));
    }

    #[test]
    fn linking_takes_the_containing_segment_or_the_nearest_within_five_seconds() {
        let seg = |a: f64, b: f64, t: &str| Segment { start_s: a, end_s: b, text: t.into() };
        let t = Transcript {
            segments: vec![seg(0.0, 2.0, "one"), seg(2.0, 4.0, "two"), seg(10.0, 12.0, "three")],
            untimed: None,
        };
        let at = t.around(3.0).expect("inside");
        assert_eq!((at.text.as_str(), at.gap_s), ("two", Some(0.0)));
        assert_eq!((at.context_before.as_str(), at.context_after.as_str()), ("one", "three"));
        let near = t.around(7.5).expect("nearest");
        assert_eq!((near.text.as_str(), near.gap_s), ("three", Some(2.5)));
        assert_eq!(t.around(20.0), None);
        let plain = parse("line one\nline two\n", "txt", "t").0;
        let whole = plain.around(99.0).expect("untimed");
        assert_eq!((whole.text.as_str(), whole.gap_s), ("line one line two", None));
    }

    proptest::proptest! {
        #[test]
        fn no_text_makes_a_parser_panic(
            text in "(\\PC|[0-9:,.>\\- \n<]|-->|WEBVTT|\\{|\\}|\"segments\"|\"start\"){0,120}",
            at in -10.0f64..1e6,
        ) {
            for ext in ["srt", "vtt", "json", "txt"] {
                let (t, _) = parse(&text, ext, "p");
                for s in &t.segments {
                    proptest::prop_assert!(s.end_s >= s.start_s);
                }
                let _ = t.around(at);
            }
        }
    }
}
