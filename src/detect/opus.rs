//! Opus decoded straight at the analysis rate.
//!
//! libopus decodes any Opus stream to 8, 12, 16, 24 or 48 kHz, and to mono from a stereo
//! stream, inside the decoder (RFC 6716 §4.3 and `opus_decoder_create`): at 8 kHz it skips
//! the upper bands' synthesis, and it makes the 48 kHz to 8 kHz resampling step
//! unnecessary. The Ogg demuxer still counts in 48 kHz units (RFC 7845 §4), so the
//! packets' start and end trims are scaled to the decoding rate here; the decoder scales
//! the stream's pre-skip itself.

use symphonia::core::audio::layouts::CHANNEL_LAYOUT_MONO;
use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::RegisterableAudioDecoder;
use symphonia::core::codecs::CodecInfo;
use symphonia::core::errors::Result;
use symphonia::core::packet::PacketRef;
use symphonia::core::units::Duration;
use symphonia_adapter_libopus::OpusDecoder;

/// The rate the scan decodes Opus at, Hz. libopus could hand out 8 kHz directly, but its
/// 8 kHz output has another band edge than the 48 kHz path decimated by
/// [`crate::detect::resample`] (measured on `dev/`: one label in 1,179 changed, and one
/// confidence by 0.09); at 16 kHz, decimated 2:1 by the same resampler, every label and
/// every confidence within 0.031 stay as on the 48 kHz path.
pub const ANALYSIS_DECODE_RATE: u32 = 16_000;

/// The rates libopus decodes to, Hz.
pub const LIBOPUS_RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];
/// The rate Opus timestamps and trims count in (RFC 7845 §4), Hz.
const GRANULE_RATE: u64 = 48_000;

/// An Opus decoder that hands out mono audio at `rate` (one of [`LIBOPUS_RATES`]).
pub struct AtRate {
    inner: Box<dyn AudioDecoder>,
    /// The stream's own parameters (48 kHz, its channels), as the container gave them.
    params: AudioCodecParameters,
    /// 48 kHz samples per output sample.
    ratio: u64,
}

impl std::fmt::Debug for AtRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtRate").field("ratio", &self.ratio).finish_non_exhaustive()
    }
}

impl AtRate {
    /// A decoder for the stream described by `params` that outputs mono at `rate`; `None`
    /// when libopus offers no such rate.
    pub fn new(params: &AudioCodecParameters, rate: u32) -> Option<Result<Self>> {
        if !LIBOPUS_RATES.contains(&rate) {
            return None;
        }
        let mut at_rate = params.clone();
        at_rate.sample_rate = Some(rate);
        at_rate.channels = Some(CHANNEL_LAYOUT_MONO);
        let inner = OpusDecoder::try_registry_new(&at_rate, &AudioDecoderOptions::default());
        Some(inner.map(|inner| AtRate {
            inner,
            params: params.clone(),
            ratio: GRANULE_RATE / u64::from(rate),
        }))
    }

    /// A 48 kHz duration in output samples, rounded.
    fn scaled(&self, d: Duration) -> Duration {
        Duration::new((d.get() + self.ratio / 2) / self.ratio)
    }
}

impl AudioDecoder for AtRate {
    fn reset(&mut self) {
        self.inner.reset();
    }

    fn codec_info(&self) -> &CodecInfo {
        self.inner.codec_info()
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        let mut at_rate = *packet;
        at_rate.trim_start = self.scaled(packet.trim_start);
        at_rate.trim_end = self.scaled(packet.trim_end);
        self.inner.decode_ref(&at_rate)
    }

    fn finalize(&mut self) -> FinalizeResult {
        self.inner.finalize()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.inner.last_decoded()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::detect::decode::Decoder;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    fn decode(mut decoder: Decoder) -> (Vec<f32>, u32, u32) {
        let (mut all, mut chunk) = (Vec::new(), Vec::new());
        while decoder.next_chunk(&mut chunk).expect("decodes") {
            all.extend_from_slice(&chunk);
        }
        (all, decoder.info().sample_rate, decoder.info().source_rate)
    }

    /// Energy per 10 ms block of audio at `rate`.
    fn envelope(samples: &[f32], rate: usize) -> Vec<f64> {
        samples.chunks(rate / 100).map(|b| b.iter().map(|s| f64::from(s * s)).sum()).collect()
    }

    /// Correlation of two envelopes with `b` shifted by `lag` blocks.
    fn correlation(a: &[f64], b: &[f64], lag: i64) -> f64 {
        let pairs = a.iter().enumerate().filter_map(|(i, x)| {
            let j = usize::try_from(i as i64 + lag).ok()?;
            Some((x, b.get(j)?))
        });
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for (x, y) in pairs {
            (ab, aa, bb) = (ab + x * y, aa + x * x, bb + y * y);
        }
        ab / (aa * bb).sqrt().max(1e-30)
    }

    #[test]
    fn opus_for_analysis_is_the_same_audio_at_a_third_of_the_rate() {
        for name in ["blast_at_3s_24k.opus", "blast_at_3s_16k.opus"] {
            let path = fixture(name);
            let (full, full_rate, _) = decode(Decoder::open(&path).expect("opens"));
            let (low, rate, source) = decode(Decoder::open_for_analysis(&path).expect("opens"));
            assert_eq!((full_rate, rate, source), (48_000, super::ANALYSIS_DECODE_RATE, 48_000));
            // Same length (pre-skip and end trim scaled), within a sample.
            assert!((full.len() as i64 - 3 * low.len() as i64).abs() <= 3, "{name}");
            // The same sound at the same time: the 10 ms energy envelopes agree best unshifted.
            let (a, b) = (envelope(&full, 48_000), envelope(&low, 16_000));
            let aligned = correlation(&a, &b, 0);
            assert!(aligned > 0.99, "{name}: {aligned}");
            for lag in [-3, -2, -1, 1, 2, 3] {
                assert!(correlation(&a, &b, lag) < aligned, "{name}: shifted by {lag} fits better");
            }
        }
    }

    #[test]
    fn only_the_rates_libopus_offers_are_accepted() {
        let params = symphonia::core::codecs::audio::AudioCodecParameters::new();
        assert!(super::AtRate::new(&params, 11_025).is_none());
        assert!(super::AtRate::new(&params, 44_100).is_none());
    }
}
