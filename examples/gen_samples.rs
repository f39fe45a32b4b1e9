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
    println!("wrote {}", dir.display());
    Ok(())
}

fn ev(at_s: f64, class: &'static str, sound: Vec<f32>) -> Event {
    let len_s = sound.len() as f64 / f64::from(RATE);
    Event { at_s, class, sound, len_s }
}
