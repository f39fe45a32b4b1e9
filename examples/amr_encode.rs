//! Encodes a mono 16-bit WAV at 8 or 16 kHz as an AMR storage file (AMR-NB 12.2 kbit/s or
//! AMR-WB 23.85 kbit/s, [`blastscan::synth::amr_file`]): Debian's ffmpeg has no AMR encoder,
//! and the test fixtures are made with this (`tests/fixtures/make.sh`).
//!
//! ```text
//! cargo run --release --example amr_encode -- IN.wav OUT.amr
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: amr_encode IN.wav OUT.amr".into());
    };
    let mut wav = hound::WavReader::open(input)?;
    let spec = wav.spec();
    if spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(format!("{input}: needs mono 16-bit PCM").into());
    }
    let samples: Vec<i16> = wav.samples::<i16>().collect::<Result<_, _>>()?;
    let amr = blastscan::synth::amr_file(&samples, spec.sample_rate)
        .map_err(|e| format!("{input}: {e}"))?;
    std::fs::write(output, amr)?;
    Ok(())
}
