//! Issue 19 end to end: chat exports from phones in other languages date their voice
//! notes from the chat (`date_source` whatsapp), with the right time and sender.

mod common;

use common::*;

/// The six lines issue 19 found undated, each in its own export folder with its note.
const LINES: &[(&str, &str, &str, &str)] = &[
    (
        "\u{200f}13\u{200f}/6\u{200f}/2018 9:25 م - Abu Karim: PTT-20180612-WA0002.opus (ملف مرفق)",
        "PTT-20180612-WA0002.opus",
        "2018-06-13T21:25:00",
        "Abu Karim",
    ),
    (
        "١٣\u{200f}/٦\u{200f}/٢٠١٨ ٩:٢٥ م - Abu Karim: PTT-20180612-WA0003.opus (ملف مرفق)",
        "PTT-20180612-WA0003.opus",
        "2018-06-13T21:25:00",
        "Abu Karim",
    ),
    ("13.06.18 21.25.15: a: note3.opus (file attached)", "note3.opus", "2018-06-13T21:25:15", "a"),
    (
        "13.6.2018 klo 21.25.15 - a: note5.opus (file attached)",
        "note5.opus",
        "2018-06-13T21:25:15",
        "a",
    ),
    (
        "13. 6. 2018. 21:25:15 a: note6.opus (file attached)",
        "note6.opus",
        "2018-06-13T21:25:15",
        "a",
    ),
    (
        "2018-06-13, 21:25 - Luke: note11.opus (file attached)",
        "note11.opus",
        "2018-06-13T21:25:00",
        "Luke",
    ),
];

#[test]
fn every_line_of_issue_19_dates_its_note_from_the_chat() {
    let tmp = tempfile::tempdir().expect("temp");
    let archive = tmp.path().join("archive");
    for (i, (line, note, _, _)) in LINES.iter().enumerate() {
        let folder = archive.join(format!("chat{i}"));
        copy("blast_at_3s_16k.opus", &folder.join(note));
        write(&folder.join("_chat.txt"), format!("{line}\n"));
    }
    let out = tmp.path().join("out");
    let run = run(&["scan", "--quiet", "--out", s(&out), s(&archive)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let index = index(&out);
    for (i, (line, note, sent, sender)) in LINES.iter().enumerate() {
        let rec = recording(&index, &format!("chat{i}/{note}"));
        assert_eq!(rec["date_source"], "whatsapp", "{line}: {rec}");
        assert_eq!(rec["sent_at"], *sent, "{line}");
        assert_eq!(rec["sender"], *sender, "{line}");
    }
}
