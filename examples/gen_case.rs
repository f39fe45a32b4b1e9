//! Generates a case folder: six nights of voice notes from four senders, with strikes
//! that several of them recorded, speech-only notes, a WhatsApp chat export that dates
//! them, and one note dated by its file name only. It shows incidents at work; the
//! README's timeline screenshot is made from it.
//!
//! ```text
//! cargo run --release --example gen_case -- target/case
//! cargo run --release -- scan target/case --out target/case-out --report
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{NaiveDateTime, TimeDelta};

use blastscan::synth::{blast, crack, mix, slam, speech, wind, write_wav, Distance};

const RATE: u32 = 16000;
/// Length of every note, seconds.
const NOTE_S: f64 = 45.0;
const SENDERS: [&str; 4] = ["Abu Karim", "Mariam", "Yusuf", "Hanan"];

/// A strike: when its first blast fell (local time), how many blasts followed it and
/// seconds apart, whether it was near, and which senders recorded it.
struct Strike {
    at: &'static str,
    blasts: usize,
    spacing_s: f64,
    near: bool,
    heard_by: &'static [usize],
}

const STRIKES: [Strike; 11] = [
    Strike { at: "2024-03-10 22:41:10", blasts: 2, spacing_s: 9.0, near: true, heard_by: &[0, 1] },
    Strike { at: "2024-03-11 01:15:30", blasts: 1, spacing_s: 0.0, near: false, heard_by: &[2] },
    Strike {
        at: "2024-03-11 23:02:05",
        blasts: 3,
        spacing_s: 7.0,
        near: true,
        heard_by: &[0, 1, 3],
    },
    Strike { at: "2024-03-12 03:30:40", blasts: 1, spacing_s: 0.0, near: false, heard_by: &[1] },
    Strike {
        at: "2024-03-12 21:48:00",
        blasts: 2,
        spacing_s: 12.0,
        near: false,
        heard_by: &[2, 3],
    },
    Strike {
        at: "2024-03-13 23:14:20",
        blasts: 3,
        spacing_s: 6.0,
        near: true,
        heard_by: &[0, 1, 2, 3],
    },
    Strike { at: "2024-03-14 02:40:35", blasts: 2, spacing_s: 15.0, near: false, heard_by: &[0] },
    Strike { at: "2024-03-14 04:05:00", blasts: 1, spacing_s: 0.0, near: true, heard_by: &[3] },
    Strike { at: "2024-03-14 22:20:50", blasts: 2, spacing_s: 8.0, near: true, heard_by: &[1, 2] },
    Strike { at: "2024-03-15 00:55:15", blasts: 1, spacing_s: 0.0, near: false, heard_by: &[0, 3] },
    Strike { at: "2024-03-15 23:33:45", blasts: 3, spacing_s: 10.0, near: true, heard_by: &[1, 2] },
];

/// Speech-only notes (sender, when sent), some with door slams or shots.
const CALM: [(usize, &str); 5] = [
    (0, "2024-03-10 20:05:00"),
    (1, "2024-03-11 19:40:00"),
    (3, "2024-03-13 18:12:00"),
    (2, "2024-03-14 12:30:00"),
    (0, "2024-03-15 21:10:00"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir =
        std::env::args_os().nth(1).map_or_else(|| PathBuf::from("target/case"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    // (sent at, sender, file name), for the chat export.
    let mut messages: Vec<(NaiveDateTime, usize, String)> = Vec::new();
    let mut seed = 1;
    let mut next_name = |day: NaiveDateTime| {
        seed += 1;
        format!("PTT-{}-WA{:04}.wav", day.format("%Y%m%d"), seed)
    };
    for (k, strike) in STRIKES.iter().enumerate() {
        let first = NaiveDateTime::parse_from_str(strike.at, "%Y-%m-%d %H:%M:%S")?;
        for (j, &sender) in strike.heard_by.iter().enumerate() {
            let seed = (k * 10 + j) as u32 + 1;
            // Each sender started recording a little earlier or later.
            let lead_s = 8.0 + ((seed * 7) % 11) as f64;
            let mut track = wind(RATE, NOTE_S, 0.012, seed);
            mix(&mut track, &speech(RATE, NOTE_S, 0.035, seed + 500), 0.0, RATE);
            let distance = if strike.near { Distance::Near } else { Distance::Distant };
            for b in 0..strike.blasts {
                let level = if strike.near { 0.75 } else { 0.35 } - 0.05 * j as f32;
                let sound = blast(RATE, distance, level, seed * 31 + b as u32);
                mix(&mut track, &sound, lead_s + b as f64 * strike.spacing_s, RATE);
            }
            let start = first - TimeDelta::milliseconds((lead_s * 1000.0) as i64);
            let sent = start + TimeDelta::seconds(NOTE_S as i64);
            let name = next_name(sent);
            write_wav(&dir.join(&name), &track, RATE)?;
            messages.push((sent, sender, name));
        }
    }
    for (i, (sender, at)) in CALM.iter().enumerate() {
        let seed = 900 + i as u32;
        let mut track = wind(RATE, NOTE_S, 0.01, seed);
        mix(&mut track, &speech(RATE, NOTE_S, 0.05, seed + 1), 0.0, RATE);
        if i % 2 == 0 {
            mix(&mut track, &slam(RATE, 0.5, seed + 2), 20.0, RATE);
        } else {
            mix(&mut track, &crack(RATE, 0.6, seed + 3), 15.0, RATE);
        }
        let sent = NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S")?;
        let name = next_name(sent);
        write_wav(&dir.join(&name), &track, RATE)?;
        messages.push((sent, *sender, name));
    }
    // Saved outside the chat: dated by its name only (a day), it can still join the one
    // strike of 13 March that it can belong to.
    let mut track = wind(RATE, NOTE_S, 0.012, 77);
    mix(&mut track, &blast(RATE, Distance::Distant, 0.3, 78), 20.0, RATE);
    write_wav(&dir.join("AUD-20240313-WA0100.wav"), &track, RATE)?;

    messages.sort();
    let mut chat =
        String::from("10/03/2024, 19:00 - Messages and calls are end-to-end encrypted.\n");
    for (sent, sender, name) in &messages {
        let _ = writeln!(
            chat,
            "{} - {}: {name} (file attached)",
            sent.format("%d/%m/%Y, %H:%M"),
            SENDERS[*sender]
        );
    }
    std::fs::write(dir.join("_chat.txt"), chat)?;
    println!("wrote {} notes and _chat.txt to {}", messages.len() + 1, dir.display());
    Ok(())
}
