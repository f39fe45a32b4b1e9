//! Encodes a mono 16-bit WAV as an AMR storage file (RFC 4867 §5): AMR-NB at 12.2 kbit/s
//! from 8 kHz, AMR-WB at 23.85 kbit/s from 16 kHz, with `rvoip-codec-core`'s encoders
//! (byte-exact with the 3GPP reference encoders). Debian's ffmpeg has no AMR encoder; the
//! test fixtures are made with this (`tests/fixtures/make.sh`).
//!
//! ```text
//! cargo run --release --example amr_encode -- IN.wav OUT.amr
//! ```

use codec_core::codecs::amr::{AmrCodec, AmrVariant};
use codec_core::types::{AudioCodec, CodecConfig};

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
    // The highest mode of each variant.
    let (variant, config, mode) = match spec.sample_rate {
        8000 => (AmrVariant::NarrowBand, CodecConfig::amr_nb(), 7),
        16000 => (AmrVariant::WideBand, CodecConfig::amr_wb(), 8),
        rate => return Err(format!("{input}: {rate} Hz; AMR needs 8 or 16 kHz").into()),
    };
    let mut codec = AmrCodec::new(&config.with_amr_mode_set(&[mode]))?;
    let samples: Vec<i16> = wav.samples::<i16>().collect::<Result<_, _>>()?;
    let mut out = variant.storage_magic().to_vec();
    for frame in samples.chunks(variant.frame_samples()) {
        let mut padded = frame.to_vec();
        padded.resize(variant.frame_samples(), 0);
        // Table of contents: frame type (the mode) in bits 6-3, quality "good" in bit 2.
        out.push((mode << 3) | 0x04);
        out.extend(codec.encode(&padded)?);
    }
    std::fs::write(output, out)?;
    Ok(())
}
