//! Generates `sample_audio/`: short synthetic recordings with known events, and
//! `sample_audio/truth.csv` (the scorer's labels format).
//!
//! ```text
//! cargo run --release --example gen_samples
//! ```

use std::path::Path;

use blastscan::synth::{blast, crack, mix, slam, speech, wind, write_wav, Distance};

const RATE: u32 = 16000;

struct Event {
    at_s: f64,
    class: &'static str,
    sound: Vec<f32>,
    len_s: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_audio");
    std::fs::create_dir_all(&dir)?;
    let files: [(&str, f32, Vec<Event>); 3] = [
        (
            "01_speech_near_blast.wav",
            0.06,
            vec![
                ev(12.34, "explosion", blast(RATE, Distance::Near, 0.8, 11)),
                ev(21.0, "impact", slam(RATE, 0.5, 12)),
            ],
        ),
        (
            "02_distant_strikes.wav",
            0.0,
            vec![
                ev(5.0, "explosion", blast(RATE, Distance::Distant, 0.35, 21)),
                ev(9.5, "gunshot", crack(RATE, 0.7, 22)),
                ev(14.0, "explosion", blast(RATE, Distance::Distant, 0.3, 23)),
                ev(23.0, "explosion", blast(RATE, Distance::Near, 0.9, 24)),
            ],
        ),
        (
            "03_speech_slams_cracks.wav",
            0.06,
            vec![
                ev(6.0, "gunshot", crack(RATE, 0.8, 31)),
                ev(11.0, "impact", slam(RATE, 0.6, 32)),
                ev(17.0, "gunshot", crack(RATE, 0.5, 33)),
                ev(24.0, "impact", slam(RATE, 0.4, 34)),
            ],
        ),
    ];
    let mut truth = csv::Writer::from_path(dir.join("truth.csv"))?;
    truth.write_record(["file", "onset_s", "offset_s", "class"])?;
    for (i, (name, speech_level, events)) in files.into_iter().enumerate() {
        let seed = 100 * (i as u32 + 1);
        let mut track = wind(RATE, 30.0, 0.01, seed);
        if speech_level > 0.0 {
            mix(&mut track, &speech(RATE, 30.0, speech_level, seed + 1), 0.0, RATE);
        }
        for e in &events {
            mix(&mut track, &e.sound, e.at_s, RATE);
            truth.write_record([
                name.to_string(),
                format!("{:.3}", e.at_s),
                format!("{:.3}", e.at_s + e.len_s),
                e.class.to_string(),
            ])?;
        }
        write_wav(&dir.join(name), &track, RATE)?;
    }
    truth.flush()?;
    // What a transcription service or Whisper would have made of each note, and the chat
    // export the notes came from (WhatsApp Android form), so a scan shows the linking.
    std::fs::write(dir.join("01_speech_near_blast.srt"), TRANSCRIPT_01)?;
    std::fs::write(dir.join("02_distant_strikes.vtt"), TRANSCRIPT_02)?;
    std::fs::write(dir.join("03_speech_slams_cracks.json"), TRANSCRIPT_03)?;
    std::fs::write(dir.join("_chat.txt"), CHAT)?;
    println!("wrote {}", dir.display());
    Ok(())
}

fn ev(at_s: f64, class: &'static str, sound: Vec<f32>) -> Event {
    let len_s = sound.len() as f64 / f64::from(RATE);
    Event { at_s, class, sound, len_s }
}

const TRANSCRIPT_01: &str = "1
00:00:00,500 --> 00:00:05,000
We are still in the basement, all of us.

2
00:00:05,500 --> 00:00:11,800
The planes have been circling since the evening prayer.

3
00:00:12,000 --> 00:00:16,000
There! Did you hear that? That was very close.

4
00:00:17,000 --> 00:00:24,000
The children are crying, the door upstairs just slammed.
";

const TRANSCRIPT_02: &str = "WEBVTT

NOTE recorded from the roof, no speech until the end

00:00:25.000 --> 00:00:29.500
<v Sender>That one was the bakery street, I think.
";

const TRANSCRIPT_03: &str = r#"{"text": " Shots from the checkpoint again. Someone is banging on the doors.",
 "segments": [
  {"id": 0, "start": 2.0, "end": 7.5, "text": " Shots from the checkpoint again."},
  {"id": 1, "start": 9.0, "end": 14.0, "text": " Someone is banging on the doors."},
  {"id": 2, "start": 15.0, "end": 26.0, "text": " We will not open. More shots, listen."}
 ],
 "language": "en"}
"#;

const CHAT: &str = "13/03/2024, 21:02 - Messages and calls are end-to-end encrypted.
13/03/2024, 23:14 - Abu Karim: 01_speech_near_blast.wav (file attached)
13/03/2024, 23:15 - Reporter: Are you safe?
Tell me when you can.
14/03/2024, 02:41 - Abu Karim: 02_distant_strikes.wav (file attached)
14/03/2024, 06:05 - Abu Karim: 03_speech_slams_cracks.wav (file attached)
";
