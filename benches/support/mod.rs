//! Shared by the benches that need voice notes: encoding generated audio as Ogg Opus with
//! ffmpeg (a bench-time helper, never a runtime dependency of blastscan).

use std::path::Path;
use std::process::Command;

use blastscan::synth::write_wav;

/// Writes `track` (mono at `rate` Hz) to `opus` as Ogg Opus at 24 kbit/s, through a
/// temporary WAV beside it.
pub fn write_opus(opus: &Path, track: &[f32], rate: u32) {
    let wav = opus.with_extension("tmp.wav");
    write_wav(&wav, track, rate).expect("write WAV");
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-c:a", "libopus", "-b:a", "24k"])
        .arg(opus)
        .status()
        .expect("ffmpeg is needed to make the bench files (apt-get install ffmpeg)");
    assert!(ok.success(), "ffmpeg failed");
    let _ = std::fs::remove_file(&wav);
}
