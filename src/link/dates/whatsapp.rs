//! WhatsApp chat exports (`_chat.txt`, `WhatsApp Chat with NAME.txt`): who sent which
//! voice note, and when, in every locale a phone writes.
//!
//! A message line starts with the phone's short date and time, in the phone's language
//! and region. `head` reads that start in any of the forms the public WhatsApp parsers
//! document (the test table below names where each came from):
//!
//! * digits: ASCII, Arabic-Indic (`٠-٩`) and Eastern Arabic-Indic (`۰-۹`); Unicode
//!   direction marks and odd spaces anywhere (Arabic and Hebrew phones put them around
//!   every number);
//! * dates: `d/m/y`, `m/d/y`, `y/m/d` (ISO, Chinese, Japanese, Hungarian `2018. 06. 13.`),
//!   with `/`, `.` or `-`, spaces after the separators, a trailing dot (`13. 6. 2018.`),
//!   two- or four-digit years, even `m/yyyy/d`;
//! * between date and time: `,` (also the Arabic comma `،`), nothing, `klo` (Finnish),
//!   `à` (French), `um` (German);
//! * times: `h:mm`, `h.mm`, with or without seconds, a trailing dot, 24-hour or 12-hour
//!   with a day period before or after: `AM`/`PM`, `a.m.`/`p. m.`, `ص`/`م` (Arabic),
//!   `vorm.`/`nachm.` (German), `上午`/`下午` (Chinese), `午前`/`午後` (Japanese),
//!   `오전`/`오후` (Korean);
//! * before the sender: ` - ` (Android), `] ` (iOS brackets), `: ` or a space.
//!
//! The day/month order is the export's, inferred from all its lines (a first number
//! above 12 means day first, a second above 12 month first); when every date fits both,
//! the attachments' own dated names decide, and failing that day-first is assumed and
//! said. Year-first dates are always year-month-day. A line that names a recording but
//! whose date cannot be read is a warning naming the line, never a silent fallback.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime};
use regex::Regex;

use super::filename::{from_filename, twenty_four};
use super::stamp::{Dated, MessageDate, Stamp};
use crate::index::{base_name, Anchor, DateSource, Warning};

/// Audio or video file names inside a chat message.
pub static ATTACHMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)([^\s<>:/\\|?*]+\.(?:opus|ogg|oga|m4a|mp4|3gp|aac|mp3|wav|flac|amr|caf|mkv|webm|mov|m4v))\b")
        .expect("valid regex")
});

/// Day periods of 12-hour clocks, morning forms first in each pair.
const DAY_PERIODS: &str = r"[AaPp]\.?\s?[Mm]\.?|ص|م|vorm\.|nachm\.|上午|下午|午前|午後|오전|오후";

/// The start of a message line, after [`normalise`].
static HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?<open>\[)?\s*(?<a>\d{{1,4}})\s?[./-]\s?(?<b>\d{{1,4}})\s?[./-]\s?(?<c>\d{{1,4}})\.?,?\s*(?:(?:klo|à|um)\s+)?(?:(?<pre>{DAY_PERIODS})\s*)?(?<h>\d{{1,2}})[:.](?<m>\d{{2}})(?:[:.](?<s>\d{{2}}))?\.?(?:\s*(?<post>{DAY_PERIODS}))?\s*(?:\]\s*|[-–]\s+|:\s+|\s+)(?<body>.*)$"
    ))
    .expect("valid regex")
});

/// A line that starts like a message (a time near its start) but that [`HEAD`] cannot
/// read: a locale not known here.
static LOOKS_LIKE_A_HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\W{0,3}\d|^.{0,40}?\b\d{1,2}[:.]\d{2}\b").expect("valid regex"));

/// A message line's date as written: which part is the year is known, the order of the
/// other two may not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// Year first (`2018-06-13`, `2018. 06. 13.`): always year, month, day.
    YearFirst { y: i32, m: u32, d: u32 },
    /// Day and month in the export's order, then (or around) the year.
    Either { first: u32, second: u32, y: i32 },
}

/// The date and time at the start of a message line, as written.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    date: Written,
    clock: (u32, u32, u32),
    /// `Some(true)` for an afternoon day period, `Some(false)` for a morning one.
    pm: Option<bool>,
    body: String,
}

struct ChatMessage {
    line: usize,
    head: Head,
}

/// Removes direction marks and odd spaces, and turns Arabic-Indic digits and the Arabic
/// comma into ASCII.
fn normalise(line: &str) -> String {
    line.trim_end_matches('\r')
        .chars()
        .filter(|c| {
            !matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06f0}'..='\u{06f9}' => char::from(b'0' + (c as u32 - 0x06f0) as u8),
            '\u{060c}' => ',',
            '\u{202f}' | '\u{00a0}' | '\u{2009}' => ' ',
            c => c,
        })
        .collect()
}

/// Reads the date and time at the start of a normalised line.
fn head(line: &str) -> Option<Head> {
    let c = HEAD.captures(line)?;
    let num = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let year = |v: u32| if v < 100 { 2000 + v as i32 } else { v as i32 };
    let wide = |name: &str| c.name(name).is_some_and(|m| m.as_str().len() == 4);
    let (a, b, cc) = (num("a")?, num("b")?, num("c")?);
    let date = if wide("a") {
        Written::YearFirst { y: year(a), m: b, d: cc }
    } else if wide("b") {
        Written::Either { first: a, second: cc, y: year(b) }
    } else {
        Written::Either { first: a, second: b, y: year(cc) }
    };
    let period = c.name("pre").or(c.name("post")).map(|m| m.as_str().to_lowercase());
    let pm = period.map(|p| {
        p.starts_with('p') || ["م", "nachm.", "下午", "午後", "오후"].contains(&p.as_str())
    });
    Some(Head {
        date,
        clock: (num("h")?, num("m")?, num("s").unwrap_or(0)),
        pm,
        body: c.name("body").map_or("", |m| m.as_str()).to_string(),
    })
}

fn warn(warnings: &mut Vec<Warning>, file: &str, line: Option<usize>, message: String) {
    warnings.push(Warning { file: file.to_string(), line, message });
}

/// A line shortened for a warning.
fn quote(line: &str) -> String {
    let short: String = line.chars().take(80).collect();
    if short.len() < line.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The recordings a chat export names, with their sent times and senders.
pub fn parse(text: &str, display: &str, chat: &str, warnings: &mut Vec<Warning>) -> Vec<Dated> {
    let mut messages: Vec<ChatMessage> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = normalise(raw);
        if let Some(head) = head(&line) {
            messages.push(ChatMessage { line: i + 1, head });
            continue;
        }
        // A line that names a recording yet has no readable date: say so.
        if let Some(file) = ATTACHMENT.captures(&line).and_then(|c| c.get(1)) {
            if LOOKS_LIKE_A_HEAD.is_match(&line) || messages.is_empty() {
                warn(
                    warnings,
                    display,
                    Some(i + 1),
                    format!(
                        "names {} but its date could not be read (`{}`); not dated from this chat",
                        file.as_str(),
                        quote(&line)
                    ),
                );
                continue;
            }
        }
        match messages.last_mut() {
            // A message continues on the following lines.
            Some(last) => {
                last.head.body.push('\n');
                last.head.body.push_str(&line);
            }
            None if !line.trim().is_empty() => warn(
                warnings,
                display,
                Some(i + 1),
                "not a WhatsApp message line (expected `31/12/2018, 23:14 - Name: ...` or `[31/12/2018, 23:14:05] Name: ...`); ignored".into(),
            ),
            None => {}
        }
    }
    if messages.is_empty() {
        warn(warnings, display, None, "no WhatsApp messages found; file ignored".into());
        return Vec::new();
    }
    let (day_first, note) = day_month_order(&messages);
    if let Some(n) = &note {
        warn(warnings, display, None, n.clone());
    }
    let mut out = Vec::new();
    for m in &messages {
        let Some(file) = ATTACHMENT
            .captures(&m.head.body)
            .and_then(|c| c.get(1))
            .map(|f| f.as_str().to_string())
        else {
            continue;
        };
        let Some(when) = time_of(&m.head, day_first) else {
            warn(
                warnings,
                display,
                Some(m.line),
                format!(
                    "names {file} but gives an impossible date or time; not dated from this chat"
                ),
            );
            continue;
        };
        let sender = m
            .head
            .body
            .split_once(": ")
            .map(|(s, _)| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let mut date = MessageDate::new(Stamp::Local(when), DateSource::Whatsapp, Anchor::End);
        date.sender = sender;
        date.chat = (!chat.is_empty()).then(|| chat.to_string());
        date.note = note.clone();
        out.push((base_name(&file), date, m.line));
    }
    out
}

/// The local time a message head gives, in the export's day/month order.
fn time_of(head: &Head, day_first: bool) -> Option<NaiveDateTime> {
    let (y, mo, d) = match head.date {
        Written::YearFirst { y, m, d } => (y, m, d),
        Written::Either { first, second, y } if day_first => (y, second, first),
        Written::Either { first, second, y } => (y, first, second),
    };
    let (h, min, s) = head.clock;
    let h = twenty_four(h, head.pm)?;
    NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, min, s)
}

/// Day/month order of a whole chat: (day first?, a caveat when it had to be assumed).
fn day_month_order(messages: &[ChatMessage]) -> (bool, Option<String>) {
    let parts = |m: &ChatMessage| match m.head.date {
        Written::Either { first, second, .. } => Some((first, second)),
        Written::YearFirst { .. } => None,
    };
    let day_first = messages.iter().filter_map(parts).filter(|p| p.0 > 12).count();
    let month_first = messages.iter().filter_map(parts).filter(|p| p.1 > 12).count();
    match (day_first > 0, month_first > 0) {
        (true, false) => return (true, None),
        (false, true) => return (false, None),
        (true, true) => {
            return (
                day_first >= month_first,
                Some(format!(
                    "dates mix day/month ({day_first} lines) and month/day ({month_first} lines) order; using the more common; check the dates"
                )),
            )
        }
        (false, false) => {}
    }
    if messages.iter().all(|m| parts(m).is_none()) {
        return (true, None);
    }
    // Every date fits both orders: let dated attachment names decide.
    let (mut agree_dm, mut agree_md) = (0, 0);
    for m in messages.iter().filter(|m| parts(m).is_some()) {
        let Some(named) = ATTACHMENT
            .captures(&m.head.body)
            .and_then(|c| c.get(1))
            .and_then(|f| from_filename(f.as_str()))
        else {
            continue;
        };
        let day = match named.stamp {
            Stamp::Day(d) => d,
            Stamp::Local(t) => t.date(),
            Stamp::Utc(t) => t.date_naive(),
        };
        agree_dm += usize::from(time_of(&m.head, true).is_some_and(|t| t.date() == day));
        agree_md += usize::from(time_of(&m.head, false).is_some_and(|t| t.date() == day));
    }
    if agree_dm > agree_md {
        (true, Some("day/month order taken from the attachments' dated file names".into()))
    } else if agree_md > agree_dm {
        (false, Some("month/day order taken from the attachments' dated file names".into()))
    } else {
        (
            true,
            Some("day/month order cannot be inferred (no day above 12, no dated file names); assumed day first: check the dates".into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> Stamp {
        Stamp::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test time"))
    }

    fn whatsapp(text: &str) -> (Vec<Dated>, Vec<Warning>) {
        let mut w = Vec::new();
        let out = parse(text, "_chat.txt", "Family", &mut w);
        (out, w)
    }

    /// Export lines in many locales: (locale and form, where the line's form comes from,
    /// the line, the time it gives, the sender). Message texts are replaced by a voice
    /// note. "Pustur" is the test suite of the whatsapp-chat-parser npm package
    /// (github.com/Pustur/whatsapp-chat-parser, tests/unit/parser.test.ts, MIT); "whatsapp-
    /// archive" is github.com/automaciej/whatsapp-archive (whatsapp_archive_test.py);
    /// "chat-miner" is github.com/joweich/chat-miner (test/whatsapp/); "issue 19" is the
    /// Arabic phone export quoted in this project's issue 19. Rows marked "constructed"
    /// put a documented day-period or digit set (Unicode CLDR) into a documented line form.
    const LOCALES: &[(&str, &str, &str, &str, &str)] = &[
        ("ar: RTL marks, م = PM", "issue 19", "\u{200f}13\u{200f}/6\u{200f}/2018 9:25 م - Abu Karim: PTT-20180612-WA0002.opus (ملف مرفق)", "2018-06-13 21:25:00", "Abu Karim"),
        ("ar: Arabic-Indic digits", "issue 19", "١٣\u{200f}/٦\u{200f}/٢٠١٨ ٩:٢٥ م - Abu Karim: PTT-20180612-WA0003.opus (ملف مرفق)", "2018-06-13 21:25:00", "Abu Karim"),
        ("ar: Arabic comma, ص = AM", "constructed (Android form, CLDR ar)", "13/6/2018، 9:25 ص - أبو كريم: note.opus (ملف مرفق)", "2018-06-13 09:25:00", "أبو كريم"),
        ("fa: Eastern Arabic-Indic digits", "constructed (Android form, CLDR fa digits)", "۱۳/۶/۲۰۱۸، ۲۱:۲۵ - رضا: note.opus (file attached)", "2018-06-13 21:25:00", "رضا"),
        ("es-419: p.m.", "Pustur format1", "3/6/18, 1:55 p.m. - a: note1.opus (archivo adjunto)", "2018-06-03 13:55:00", "a"),
        ("en-IN: dashes, dotted time, PM", "Pustur format2", "03-06-2018, 01.55 PM - a: note2.opus (file attached)", "2018-06-03 13:55:00", "a"),
        ("dotted date and time, colon before the sender", "Pustur format3", "13.06.18 21.25.15: a: note3.opus (file attached)", "2018-06-13 21:25:15", "a"),
        ("en-US iOS: dotted, month first", "Pustur format4", "[06.13.18 21:25:15] a: note4.opus", "2018-06-13 21:25:15", "a"),
        ("fi: klo", "Pustur format5", "13.6.2018 klo 21.25.15 - a: note5.opus (file attached)", "2018-06-13 21:25:15", "a"),
        ("hu: spaced dots, no separator", "Pustur format6", "13. 6. 2018. 21:25:15 a: note6.opus (file attached)", "2018-06-13 21:25:15", "a"),
        ("es iOS: p. m.", "Pustur format7", "[3/6/18 1:55:00 p. m.] a: note7.opus", "2018-06-03 13:55:00", "a"),
        ("es iOS: left-to-right mark first", "Pustur format8", "\u{200e}[3/6/18 1:55:00 p. m.] a: note8.opus", "2018-06-03 13:55:00", "a"),
        ("ja/zh iOS: year first", "Pustur format9", "[2018/06/13, 21:25:15] a: note9.opus", "2018-06-13 21:25:15", "a"),
        ("month/year/day", "Pustur format10", "[06/2018/13, 21:25:15] a: note10.opus", "2018-06-13 21:25:15", "a"),
        ("ISO order", "issue 19 (from Pustur's README)", "2018-06-13, 21:25 - Luke: note11.opus (file attached)", "2018-06-13 21:25:00", "Luke"),
        ("es-ES: dashes, no comma", "whatsapp-archive INPUT_5", "19-02-18 17:02 - human1: note.opus (archivo adjunto)", "2018-02-19 17:02:00", "human1"),
        ("en: ISO with AM and a colon", "whatsapp-archive INPUT_6", "2016-06-27, 8:04:08 AM: Neil: note.opus (file attached)", "2016-06-27 08:04:08", "Neil"),
        ("fr: à", "whatsapp-archive INPUT_7", "17/12/2022 à 17:25 - personne1: note.opus (fichier joint)", "2022-12-17 17:25:00", "personne1"),
        ("zh-TW: year first, dot after the time", "chat-miner dateformat3", "2022/12/14, 13:34. - John Doe: note.opus (file attached)", "2022-12-14 13:34:00", "John Doe"),
        ("en-GB: seconds", "chat-miner dateformat6", "21/10/21, 15:21:45 - John Doe: note.opus (file attached)", "2021-10-21 15:21:45", "John Doe"),
        ("de: nachm.", "constructed (German Android form, CLDR de)", "02.01.21, 3:00 nachm. - B: note.opus (Datei angehängt)", "2021-01-02 15:00:00", "B"),
        ("de: vorm.", "constructed (German Android form, CLDR de)", "02.01.21, 10:00 vorm. - A: note.opus (Datei angehängt)", "2021-01-02 10:00:00", "A"),
        ("zh-CN: 下午 before the time", "constructed (year-first form, CLDR zh)", "2021/1/2 下午3:05 - 小明: note.opus (文件附件)", "2021-01-02 15:05:00", "小明"),
        ("zh-CN: 上午", "constructed (year-first form, CLDR zh)", "2021/1/2 上午10:00 - 小明: note.opus (文件附件)", "2021-01-02 10:00:00", "小明"),
        ("ja: 午後", "constructed (year-first form, CLDR ja)", "2021/01/02 午後1:00 - 太郎: note.opus", "2021-01-02 13:00:00", "太郎"),
        ("ko iOS: 오후", "constructed (iOS form, CLDR ko)", "[2021-01-02 오후 2:30:00] 민수: note.opus", "2021-01-02 14:30:00", "민수"),
        ("hu: year first", "constructed (Hungarian yyyy. mm. dd., CLDR hu)", "2018. 06. 13. 21:25 - a: note.opus (file attached)", "2018-06-13 21:25:00", "a"),
    ];

    #[test]
    fn every_locale_in_the_table_dates_its_note_with_the_right_time_and_sender() {
        for (locale, source, line, want, sender) in LOCALES {
            let (out, w) = whatsapp(line);
            assert_eq!(out.len(), 1, "{locale} ({source}): {line}\n{w:?}");
            assert_eq!(out[0].1.stamp, local(want), "{locale} ({source}): {line}");
            assert_eq!(out[0].1.sender.as_deref(), Some(*sender), "{locale} ({source})");
            assert!(w.iter().all(|w| !w.message.contains("could not be read")), "{locale}: {w:?}");
        }
        let locales: std::collections::BTreeSet<&str> =
            LOCALES.iter().map(|r| r.0.split(':').next().unwrap_or_default()).collect();
        assert!(locales.len() >= 12, "{locales:?}");
    }

    #[test]
    fn a_line_naming_a_note_without_a_readable_date_is_a_warning_naming_the_line() {
        let chat = "13/06/2018, 21:25 - a: hello\nJune 13 2018 at 9:25 pm - a: note.opus (file attached)\n";
        let (out, w) = whatsapp(chat);
        assert!(out.is_empty(), "the note must not take the previous message's date");
        let w = w.iter().find(|w| w.line == Some(2)).expect("a warning for line 2");
        assert!(w.message.contains("note.opus") && w.message.contains("June 13 2018"), "{w:?}");
    }

    #[test]
    fn year_first_lines_keep_their_order_whatever_the_other_lines_say() {
        let chat = "2018-06-03, 10:00 - a: one.opus (file attached)\n13/06/2018, 10:00 - a: two.opus (file attached)\n";
        let (out, _) = whatsapp(chat);
        assert_eq!(out[0].1.stamp, local("2018-06-03 10:00:00"));
        assert_eq!(out[1].1.stamp, local("2018-06-13 10:00:00"));
    }

    #[test]
    fn android_export_month_first_inferred_from_the_whole_file() {
        let chat = "\u{feff}12/31/18, 23:14 - Messages and calls are end-to-end encrypted.\r\n\
12/31/18, 23:14 - \u{200f}أحمد 🌙: PTT-20181231-WA0012.opus (file attached)\r\n\
12/31/18, 23:15 - Sara: are you ok?\r\nstill there?\r\n\
1/2/19, 1:05 AM - Sara: PTT-20190102-WA0003.opus (file attached)\r\n";
        let (out, w) = whatsapp(chat);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "PTT-20181231-WA0012.opus");
        assert_eq!(out[0].1.stamp, local("2018-12-31 23:14:00"));
        assert_eq!(out[0].1.sender.as_deref(), Some("أحمد 🌙"));
        assert_eq!(out[0].1.chat.as_deref(), Some("Family"));
        assert_eq!(out[1].1.stamp, local("2019-01-02 01:05:00"));
    }

    #[test]
    fn ios_export_with_direction_marks_and_seconds() {
        let chat = "[31/12/2018, 23:14:05] Ahmad: \u{200e}<attached: 00000012-AUDIO-2018-12-31-23-14-05.opus>\n[01/01/2019, 00:02:11] Ahmad: long message\nover lines\n";
        let (out, w) = whatsapp(chat);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, "00000012-AUDIO-2018-12-31-23-14-05.opus");
        assert_eq!(out[0].1.stamp, local("2018-12-31 23:14:05"));
        assert_eq!(out[0].1.note, None);
    }

    #[test]
    fn ambiguous_order_is_settled_by_dated_names_or_said() {
        let chat = "03/04/19, 10:00 - A: PTT-20190403-WA0001.opus (file attached)\n";
        let (out, w) = whatsapp(chat);
        assert_eq!(out[0].1.stamp, local("2019-04-03 10:00:00"));
        assert!(w[0].message.contains("taken from the attachments"), "{w:?}");
        let chat = "03/04/19, 10:00 - A: voice.opus (file attached)\n";
        let (out, w) = whatsapp(chat);
        assert_eq!(out[0].1.stamp, local("2019-04-03 10:00:00"));
        assert!(w[0].message.contains("cannot be inferred"), "{w:?}");
        assert!(out[0].1.note.as_deref().is_some_and(|n| n.contains("assumed day first")));
    }

    #[test]
    fn stray_lines_before_the_first_message_are_warnings_with_line_numbers() {
        let (out, w) = whatsapp("garbage\n31/12/2018, 25:99 - A: x.opus (file attached)\n");
        assert!(out.is_empty());
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[0].line, Some(1));
        assert_eq!(w[1].line, Some(2));
    }

    proptest::proptest! {
        #[test]
        fn every_well_formed_android_line_is_read(
            d in 13u32..=28, m in 1u32..=12, y in 2000i32..2030, h in 0u32..24, mi in 0u32..60,
        ) {
            let line = format!("{d}/{m}/{y}, {h:02}:{mi:02} - A: x.opus (file attached)");
            let mut w = Vec::new();
            let out = parse(&line, "p", "c", &mut w);
            let want = NaiveDate::from_ymd_opt(y, m, d).and_then(|x| x.and_hms_opt(h, mi, 0));
            proptest::prop_assert_eq!(out.first().map(|o| o.1.stamp), want.map(Stamp::Local));
        }
    }
}
