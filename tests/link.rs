//! Linking end to end: a scan picks up chat exports, manifests, transcripts, dated file
//! names, MP4 tags and modification times, and writes them into both outputs.

mod common;

use std::path::Path;

use common::{copy, recording, write};
use serde_json::Value;

fn scan(args: &[&str], paths: &[&Path], out: &Path) -> (Value, String, String) {
    let run = common::blastscan()
        .args(["scan", "--quiet", "--out"])
        .arg(out)
        .args(args)
        .args(paths)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let index = serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index"))
        .expect("json");
    let csv = std::fs::read_to_string(out.join("detections.csv")).expect("csv");
    (index, csv, stderr)
}

fn blast(rec: &Value) -> &Value {
    rec["detections"]
        .as_array()
        .expect("detections")
        .iter()
        .find(|d| d["label"] == "explosion")
        .unwrap_or_else(|| panic!("no blast in {}", rec["path"]))
}

#[test]
fn an_ios_whatsapp_export_dates_its_notes_and_sidecar_transcripts_are_linked() {
    let tmp = tempfile::tempdir().expect("temp");
    let chat_dir = tmp.path().join("WhatsApp Chat - Family");
    let note = "00000012-AUDIO-2018-12-31-23-14-05.opus";
    copy("blast_at_3s_16k.opus", &chat_dir.join(note));
    // BOM, CRLF, direction marks, a right-to-left name with an emoji, a multi-line message.
    write(
        &chat_dir.join("_chat.txt"),
        "\u{feff}[31/12/2018, 23:10:00] \u{200f}أبو كريم 🌙: the planes are back\r\n\
         and they are low\r\n\
         [31/12/2018, 23:14:05] \u{200f}أبو كريم 🌙: \u{200e}<attached: 00000012-AUDIO-2018-12-31-23-14-05.opus>\r\n",
    );
    write(
        &chat_dir.join("00000012-AUDIO-2018-12-31-23-14-05.srt"),
        "1\n00:00:00,000 --> 00:00:02,800\nWe are in the stairwell\n\n2\n00:00:02,800 --> 00:00:05,000\n=HYPERLINK(\"x\") God protect us\n\n3\n00:00:05,000 --> 00:00:06,000\nit stopped\n",
    );
    let (index, csv, _) = scan(&[], &[&chat_dir], &tmp.path().join("out"));
    let rec = recording(&index, note);
    assert_eq!(rec["sent_at"], "2018-12-31T23:14:05");
    assert_eq!(rec["date_source"], "whatsapp");
    assert_eq!(rec["date_marks"], "end");
    assert_eq!(rec["sender"], "أبو كريم 🌙");
    assert_eq!(rec["chat"], "Family");
    let d = blast(rec);
    // A 6 s note sent at 23:14:05 with its blast peaking about 3.1 s in: 23:14:02.
    assert_eq!(d["wall_clock_estimate"], "2018-12-31T23:14:02");
    assert_eq!(d["transcript"]["text"], "=HYPERLINK(\"x\") God protect us");
    assert_eq!(d["transcript"]["gap_s"], 0.0);
    assert_eq!(d["transcript"]["context_before"], "We are in the stairwell");
    assert_eq!(d["transcript"]["context_after"], "it stopped");
    // The CSV carries the same, with the formula-looking cell defused.
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().expect("headers").clone();
    for column in [
        "sent_at",
        "date_source",
        "sender",
        "wall_clock_estimate",
        "transcript_text",
        "context_before",
        "context_after",
    ] {
        assert!(headers.iter().any(|h| h == column), "{column} missing");
    }
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let row = rows
        .records()
        .map(|r| r.expect("row"))
        .find(|r| &r[col("label")] == "explosion")
        .expect("blast row");
    assert_eq!(&row[col("transcript_text")], "'=HYPERLINK(\"x\") God protect us");
    assert_eq!(&row[col("date_source")], "whatsapp");
}

#[test]
fn telegram_manifest_file_names_tags_and_mtime_each_date_a_recording() {
    let tmp = tempfile::tempdir().expect("temp");
    let data = tmp.path().join("data");
    // Telegram Desktop export: the voice message under voice_messages/.
    let tg = data.join("telegram");
    copy("blast_at_3s_vorbis.ogg", &tg.join("voice_messages/audio_1@31-12-2018_23-14-05.ogg"));
    write(
        &tg.join("result.json"),
        r#"{"name":"Neighbours","type":"private_group","id":1,"messages":[
          {"id":7,"type":"message","date":"2018-12-31T23:14:05","date_unixtime":"1546287245",
           "from":"Omar","media_type":"voice_message","mime_type":"audio/ogg",
           "file":"voice_messages/audio_1@31-12-2018_23-14-05.ogg","duration_seconds":6}]}"#,
    );
    // A whisper.cpp transcript, found under --transcripts by stem.
    let transcripts = tmp.path().join("transcripts");
    write(
        &transcripts.join("audio_1@31-12-2018_23-14-05.json"),
        r#"{"transcription":[{"offsets":{"from":0,"to":2000},"text":" Quiet now."},
           {"offsets":{"from":9000,"to":10000},"text":" Much later."}]}"#,
    );
    // A manifest for one file, and a row naming a file nobody scanned.
    copy("blast_at_3s_aac.3gp", &data.join("from_manifest.3gp"));
    let manifest = tmp.path().join("sent.csv");
    write(
        &manifest,
        "file,sent_at,sender,chat,message_id,note\n\
         from_manifest.3gp,2019-01-01 00:30:00,Lina,Street 5,44,\n\
         missing.opus,2019-01-01 00:31:00,Lina,Street 5,45,\n",
    );
    // A phone recorder's name (start of recording), an MP4 tag, and nothing at all.
    copy("blast_at_3s_aac.m4a", &data.join("Recording_20190101_010000.m4a"));
    copy("blast_at_3s_aac_creation_time.m4a", &data.join("tagged.m4a"));
    copy("blast_at_3s_64k.mp3", &data.join("undated.mp3"));
    write(&data.join("undated.txt"), "a plain transcript\nwithout times");

    let out = tmp.path().join("out");
    let args = ["--messages", manifest.to_str().expect("utf-8"), "--transcripts"];
    let (index, _, stderr) =
        scan(&[&args[..], &[transcripts.to_str().expect("utf-8")]].concat(), &[&data], &out);

    let tg_rec = recording(&index, "audio_1@31-12-2018_23-14-05.ogg");
    assert_eq!(tg_rec["date_source"], "telegram");
    assert_eq!(tg_rec["sent_at"], "2018-12-31T20:14:05Z", "date_unixtime is an instant");
    assert_eq!(
        (&tg_rec["sender"], &tg_rec["chat"]),
        (&Value::from("Omar"), &Value::from("Neighbours"))
    );
    let d = blast(tg_rec);
    assert_eq!(d["transcript"]["text"], "Quiet now.");
    assert!(d["transcript"]["gap_s"].as_f64().is_some_and(|g| (g - 1.0).abs() < 0.1), "{d}");
    assert_eq!(d["transcript"]["context_after"], "Much later.");

    let m = recording(&index, "from_manifest.3gp");
    assert_eq!(
        (&m["date_source"], &m["sent_at"]),
        (&Value::from("manifest"), &Value::from("2019-01-01T00:30:00"))
    );
    assert_eq!(m["sender"], "Lina");
    let warnings = index["link_warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w["message"].as_str().is_some_and(|m| m.contains("missing.opus"))
                && w["line"] == 3),
        "{warnings:?}"
    );
    assert!(stderr.contains("missing.opus"), "{stderr}");

    let r = recording(&index, "Recording_20190101_010000.m4a");
    assert_eq!(
        (&r["date_source"], &r["date_marks"]),
        (&Value::from("filename"), &Value::from("start"))
    );
    let peak = blast(r)["peak_s"].as_f64().expect("peak");
    let expected = format!("2019-01-01T01:00:{:02}", peak.floor() as u32);
    assert_eq!(blast(r)["wall_clock_estimate"], Value::from(expected));

    let t = recording(&index, "tagged.m4a");
    assert_eq!(
        (&t["date_source"], &t["sent_at"]),
        (&Value::from("tag"), &Value::from("2018-12-31T20:14:05Z"))
    );

    let u = recording(&index, "undated.mp3");
    assert_eq!(u["date_source"], "mtime");
    assert_eq!(blast(u)["transcript"]["text"], "a plain transcript without times");
    assert_eq!(blast(u)["transcript"]["gap_s"], Value::Null);
}

#[test]
fn a_timezone_is_applied_to_local_and_universal_times() {
    let tmp = tempfile::tempdir().expect("temp");
    let dir = tmp.path().join("notes");
    copy("blast_at_3s_16k.opus", &dir.join("PTT-20181231-WA0012.opus"));
    copy("blast_at_3s_aac_creation_time.m4a", &dir.join("tagged.m4a"));
    write(
        &dir.join("_chat.txt"),
        "12/31/18, 23:14 - Sami: PTT-20181231-WA0012.opus (file attached)\n",
    );
    let (index, _, _) = scan(&["--timezone", "+03:00"], &[&dir], &tmp.path().join("out"));
    assert_eq!(index["timezone"], "+03:00");
    let note = recording(&index, "PTT-20181231-WA0012.opus");
    assert_eq!(note["sent_at"], "2018-12-31T23:14:00+03:00");
    assert_eq!(recording(&index, "tagged.m4a")["sent_at"], "2018-12-31T23:14:05+03:00");
    // A bad offset is a usage error naming the value.
    let run = common::blastscan()
        .args(["scan", "--timezone", "Baghdad"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(1), "bad arguments exit 1");
    assert!(String::from_utf8_lossy(&run.stderr).contains("Baghdad"));
}
