//! Synthetic test sounds with exactly known times, for `sample_audio/`, tests and benches.
//!
//! Not a sound-design tool: each generator is a textbook model, deterministic (seeded
//! xorshift noise) so a test can assert exact answers.
//!
//! * Blast: the Friedlander waveform `p(t) = P (1 - t/t*) e^(-b t/t*)` (Friedlander 1946;
//!   Kinney & Graham, "Explosive Shocks in Air", 1985) followed by a reverberant tail of
//!   low-passed noise decaying over seconds. A distant blast is low-passed further, rises
//!   more slowly and is quieter (atmospheric absorption, ISO 9613-1).
//! * Crack: a ~1 ms N-wave (supersonic bullet) and a 40 ms bright muzzle-blast decay.
//! * Slam: a damped 90 Hz mode with a short click, over in ~200 ms.
//! * Speech-like: a glottal pulse train (100-220 Hz, gliding) through two resonances,
//!   gated into 4-5 syllables per second.
//! * Wind: low-passed noise with slow gusts.

/// Deterministic noise source (xorshift32).
#[derive(Debug, Clone)]
pub struct Noise(u32);

impl Noise {
    /// A source seeded with `seed` (0 is replaced by 1).
    pub fn new(seed: u32) -> Self {
        Noise(seed.max(1))
    }
    /// Uniform in -1..1.
    pub fn sample(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as f32 / u32::MAX as f32 * 2.0 - 1.0
    }
}

/// One-pole low-pass coefficient for `cutoff_hz` at `rate`.
fn one_pole(cutoff_hz: f32, rate: u32) -> f32 {
    1.0 - (-std::f32::consts::TAU * cutoff_hz / rate as f32).exp()
}

/// How far away a synthetic blast is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    /// A few hundred metres: abrupt, broadband onset.
    Near,
    /// Kilometres: low-passed, slower rise, long rumble.
    Distant,
}

/// Adds `sound` into `track` starting at `at_s` (clipped to the track's end).
pub fn mix(track: &mut [f32], sound: &[f32], at_s: f64, rate: u32) {
    let start = (at_s * f64::from(rate)).round() as usize;
    for (t, s) in track.iter_mut().skip(start).zip(sound) {
        *t += s;
    }
}

/// A blast with peak amplitude about `amplitude`.
pub fn blast(rate: u32, distance: Distance, amplitude: f32, seed: u32) -> Vec<f32> {
    let r = rate as f32;
    let len = (r * 4.0) as usize;
    let mut noise = Noise::new(seed);
    let (t_star, tail_cut, tail_s, rise_s) = match distance {
        Distance::Near => (0.012, 180.0, 1.2, 0.0),
        Distance::Distant => (0.03, 90.0, 2.0, 0.02),
    };
    let b = 1.5f32;
    let a_tail = one_pole(tail_cut, rate);
    let a_hf = one_pole(if distance == Distance::Near { 3000.0 } else { 400.0 }, rate);
    let (mut lp, mut lp2, mut hf) = (0.0f32, 0.0f32, 0.0f32);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let t = i as f32 / r;
        // Positive and negative phases of the Friedlander pulse.
        let pulse =
            if t < 6.0 * t_star { (1.0 - t / t_star) * (-b * t / t_star).exp() } else { 0.0 };
        let n = noise.sample();
        lp += a_tail * (n - lp);
        lp2 += a_tail * (lp - lp2);
        hf += a_hf * (n - hf);
        let attack = if rise_s > 0.0 { (t / rise_s).min(1.0) } else { 1.0 };
        let tail = attack * (-t / (tail_s / 3.0)).exp();
        let crackle = hf * (-t / 0.08).exp() * 0.3;
        out.push(amplitude * (0.6 * pulse + 6.0 * lp2 * tail + crackle));
    }
    normalise_peak(&mut out, amplitude);
    out
}

/// A gunshot-like crack with peak amplitude `amplitude`.
pub fn crack(rate: u32, amplitude: f32, seed: u32) -> Vec<f32> {
    let r = rate as f32;
    let mut noise = Noise::new(seed);
    let mut prev = 0.0f32;
    let mut out: Vec<f32> = (0..(r * 0.25) as usize)
        .map(|i| {
            let t = i as f32 / r;
            let n_wave = if t < 0.001 { 1.0 - 2.0 * t / 0.001 } else { 0.0 };
            let n = noise.sample();
            // First difference: a bright (high-passed) muzzle blast.
            let bright = n - prev;
            prev = n;
            n_wave + 0.7 * bright * (-t / 0.015).exp()
        })
        .collect();
    normalise_peak(&mut out, amplitude);
    out
}

/// A door-slam-like thud with peak amplitude `amplitude`.
pub fn slam(rate: u32, amplitude: f32, seed: u32) -> Vec<f32> {
    let r = rate as f32;
    let mut noise = Noise::new(seed);
    let mut out: Vec<f32> = (0..(r * 0.4) as usize)
        .map(|i| {
            let t = i as f32 / r;
            let body = (std::f32::consts::TAU * 90.0 * t).sin() * (-t / 0.05).exp();
            let click = noise.sample() * (-t / 0.004).exp();
            body + 0.5 * click
        })
        .collect();
    normalise_peak(&mut out, amplitude);
    out
}

/// Speech-like babble lasting `seconds`, RMS about `level`.
pub fn speech(rate: u32, seconds: f64, level: f32, seed: u32) -> Vec<f32> {
    let r = rate as f32;
    let len = (seconds * f64::from(rate)) as usize;
    let mut noise = Noise::new(seed);
    let mut phase = 0.0f32;
    // Two resonators (formants) as damped second-order sections.
    let mut formants = [(700.0f32, 0.0f32, 0.0f32), (1800.0, 0.0, 0.0)];
    let mut syllable_end = 0.0f32;
    let mut syllable_start = 0.0f32;
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let t = i as f32 / r;
        if t >= syllable_end {
            syllable_start = t + 0.03 + 0.08 * noise.sample().abs();
            syllable_end = syllable_start + 0.12 + 0.12 * noise.sample().abs();
            formants[0].0 = 500.0 + 400.0 * noise.sample().abs();
            formants[1].0 = 1200.0 + 1200.0 * noise.sample().abs();
        }
        let f0 = 140.0 + 60.0 * (t * 0.7).sin() + 20.0 * (t * 5.0).sin();
        phase += f0 / r;
        let pulse = if phase >= 1.0 {
            phase -= 1.0;
            1.0
        } else {
            0.0
        };
        let env = if t >= syllable_start && t < syllable_end {
            let x = (t - syllable_start) / (syllable_end - syllable_start);
            (std::f32::consts::PI * x).sin()
        } else {
            0.0
        };
        let mut y = 0.0;
        for (f, y1, y2) in formants.iter_mut() {
            let radius = 0.97f32;
            let c = 2.0 * radius * (std::f32::consts::TAU * *f / r).cos();
            let v = pulse + c * *y1 - radius * radius * *y2;
            *y2 = *y1;
            *y1 = v;
            y += v;
        }
        out.push(y * env + 0.02 * noise.sample() * env);
    }
    normalise_rms(&mut out, level);
    out
}

/// Wind-like noise lasting `seconds`, RMS about `level`.
pub fn wind(rate: u32, seconds: f64, level: f32, seed: u32) -> Vec<f32> {
    let len = (seconds * f64::from(rate)) as usize;
    let mut noise = Noise::new(seed);
    let a = one_pole(300.0, rate);
    let mut lp = 0.0f32;
    let mut out: Vec<f32> = (0..len)
        .map(|i| {
            let t = i as f32 / rate as f32;
            lp += a * (noise.sample() - lp);
            let gust = 1.0 + 0.5 * (t * 0.37).sin() * (t * 0.11).cos();
            lp * gust
        })
        .collect();
    normalise_rms(&mut out, level);
    out
}

fn normalise_peak(v: &mut [f32], peak: f32) {
    let m = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if m > 0.0 {
        v.iter_mut().for_each(|x| *x *= peak / m);
    }
}

fn normalise_rms(v: &mut [f32], level: f32) {
    let rms = (v.iter().map(|x| x * x).sum::<f32>() / v.len().max(1) as f32).sqrt();
    if rms > 0.0 {
        v.iter_mut().for_each(|x| *x *= level / rms);
    }
}

/// Writes `samples` as 16-bit mono WAV (hound), clipping to full scale.
pub fn write_wav(path: &std::path::Path, samples: &[f32], rate: u32) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)?;
    }
    w.finalize()
}

/// 16-bit `samples` at 8 kHz (AMR-NB, 12.2 kbit/s) or 16 kHz (AMR-WB, 23.85 kbit/s) as an
/// AMR storage file (RFC 4867 §5), for fixtures and benches: Debian's ffmpeg has no AMR
/// encoder. `rvoip-codec-core`'s encoders are byte-exact with the 3GPP reference ones.
pub fn amr_file(samples: &[i16], rate: u32) -> Result<Vec<u8>, String> {
    use codec_core::codecs::amr::{AmrCodec, AmrVariant};
    use codec_core::types::{AudioCodec, CodecConfig};
    // The highest mode of each variant.
    let (variant, config, mode) = match rate {
        8000 => (AmrVariant::NarrowBand, CodecConfig::amr_nb(), 7),
        16000 => (AmrVariant::WideBand, CodecConfig::amr_wb(), 8),
        _ => return Err(format!("{rate} Hz: AMR needs 8 or 16 kHz")),
    };
    let mut codec = AmrCodec::new(&config.with_amr_mode_set(&[mode])).map_err(|e| e.to_string())?;
    let mut out = variant.storage_magic().to_vec();
    for frame in samples.chunks(variant.frame_samples()) {
        let mut padded = frame.to_vec();
        padded.resize(variant.frame_samples(), 0);
        // Table of contents: frame type (the mode) in bits 6-3, quality "good" in bit 2.
        out.push((mode << 3) | 0x04);
        out.extend(codec.encode(&padded).map_err(|e| e.to_string())?);
    }
    Ok(out)
}
