//! Streaming short-time Fourier transform and per-frame spectral measurements.
//!
//! Input: mono samples at [`ANALYSIS_RATE`]. Each frame is [`FRAME_LEN`] samples (32 ms)
//! with a Hann window, taken every [`HOP_LEN`] samples (10 ms). For each frame we keep only
//! what the onset and classification stages need (a [`Frame`]): log energies in a few
//! bands and a band-wise log-energy flux. Bins are never stored, so the
//! history kept by later stages is a few floats per 10 ms.
//!
//! Frames go through the FFT two at a time, as the real and imaginary parts of one complex
//! transform (method in `Stft::transform`); the FFT is planned once per stream with `rustfft`,
//! and its buffers are owned by the stream and reused, so the hot loop does not allocate.
//! Which frames are paired is fixed by their numbers (0 with 1, 2 with 3, ...), so the
//! frames do not depend on how the samples arrive; [`Stft::finish`] takes a last, unpaired
//! frame.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use crate::detect::resample::{fold, ANALYSIS_RATE};

/// Samples per analysis frame (32 ms at 8 kHz).
pub const FRAME_LEN: usize = 256;
/// Samples between frames (10 ms at 8 kHz).
pub const HOP_LEN: usize = 80;
/// Seconds between frames.
pub const HOP_S: f64 = HOP_LEN as f64 / ANALYSIS_RATE as f64;
/// Frames per second.
pub const FRAMES_PER_S: f64 = 1.0 / HOP_S;

/// Coarse bands used by the classifier, in Hz: low (blast body), low-mid, mid, high.
pub const BANDS_HZ: [(f64, f64); 4] =
    [(30.0, 250.0), (250.0, 1000.0), (1000.0, 2000.0), (2000.0, 3800.0)];
/// Index of the low band in [`Frame::band_db`].
pub const LOW: usize = 0;
/// Index of the high band in [`Frame::band_db`].
pub const HIGH: usize = 3;

/// Number of log-spaced sub-bands (30-3800 Hz) the onset function is computed over and
/// whose levels each [`Frame`] keeps.
pub const SUB_BANDS: usize = 16;
/// Energy floor (about -120 dB re full scale) so digital silence stays finite.
const FLOOR: f32 = 1e-12;

/// What one STFT frame contributes to later stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Frame {
    /// Energy of 30-3800 Hz in dB re a full-scale sine.
    pub level_db: f32,
    /// Energy per band of [`BANDS_HZ`], dB re a full-scale sine.
    pub band_db: [f32; 4],
    /// Onset detection function: mean positive rise of sub-band log energy since the
    /// previous frame, in dB.
    pub flux_db: f32,
    /// Mean energy per FFT bin in each of the [`SUB_BANDS`] log-spaced sub-bands, dB: a
    /// coarse spectrum (single bins below 250 Hz, about a third of an octave above).
    pub sub_db: [f32; SUB_BANDS],
    /// The same energies on a linear scale (floor included): `sub_db = 10 log10(sub_power)`.
    /// Kept so the classifier can average them over time without an `exp` per cell.
    pub sub_power: [f32; SUB_BANDS],
    /// `band_db` and `level_db` on a linear scale (floor included), for the same reason.
    pub band_power: [f32; 4],
    /// See `band_power`.
    pub level_power: f32,
}

impl Frame {
    /// A frame with these sub-band levels in dB (and the linear powers that go with them),
    /// for tests.
    #[cfg(test)]
    pub fn with_sub_db(sub_db: [f32; SUB_BANDS]) -> Self {
        Frame { sub_db, sub_power: sub_db.map(from_db), ..Frame::default() }
    }
}

/// Converts a stream of samples into [`Frame`]s.
pub struct Stft {
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    pending: Vec<f32>,
    /// Two windowed frames as one complex signal, transformed in place.
    buffer: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Power per bin (0..=FRAME_LEN / 2) of the two frames of the last transform.
    powers: [[f32; FRAME_LEN / 2 + 1]; 2],
    band_bins: [(usize, usize); 4],
    flux_bins: [(usize, usize); SUB_BANDS],
    prev_flux_db: [f32; SUB_BANDS],
    analysed_bins: (usize, usize),
    norm: f32,
    first: bool,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft").field("pending", &self.pending.len()).finish_non_exhaustive()
    }
}

impl Default for Stft {
    fn default() -> Self {
        Self::new()
    }
}

fn bin_of(hz: f64) -> usize {
    (hz * FRAME_LEN as f64 / f64::from(ANALYSIS_RATE)).round() as usize
}

impl Stft {
    /// A new stream. Frame `i` covers samples `i * HOP_LEN .. i * HOP_LEN + FRAME_LEN`.
    pub fn new() -> Self {
        let fft = FftPlanner::<f32>::new().plan_fft_forward(FRAME_LEN);
        // Periodic Hann window.
        let window: Vec<f32> = (0..FRAME_LEN)
            .map(|n| {
                let x = std::f32::consts::TAU * n as f32 / FRAME_LEN as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let wsum: f32 = window.iter().sum();
        // A full-scale sine puts |X| = wsum / 2 in its bin; count both of its neighbours.
        let norm = 1.0 / (wsum * wsum / 4.0 * 1.5);
        let band_bins = BANDS_HZ.map(|(lo, hi)| (bin_of(lo).max(1), bin_of(hi)));
        let (lo, hi) = (bin_of(BANDS_HZ[0].0).max(1), bin_of(BANDS_HZ[3].1));
        // Log-spaced sub-bands for the flux, each at least one bin wide.
        // 30-3800 Hz is bins 1..122, so every sub-band gets at least one bin of its own.
        let ratio = (hi as f64 / lo as f64).powf(1.0 / SUB_BANDS as f64);
        let mut flux_bins = [(0, 0); SUB_BANDS];
        let mut start = lo;
        for (b, bins) in flux_bins.iter_mut().enumerate() {
            let end = ((lo as f64 * ratio.powi(b as i32 + 1)).round() as usize).max(start + 1);
            *bins = (start, end.min(hi).max(start + 1));
            start = bins.1;
        }
        Stft {
            buffer: vec![Complex::default(); FRAME_LEN],
            scratch: vec![Complex::default(); fft.get_inplace_scratch_len()],
            fft,
            window,
            pending: Vec::with_capacity(FRAME_LEN * 4),
            powers: [[0.0; FRAME_LEN / 2 + 1]; 2],
            band_bins,
            prev_flux_db: [0.0; SUB_BANDS],
            flux_bins,
            analysed_bins: (lo, hi),
            norm,
            first: true,
        }
    }

    /// Feeds samples; calls `emit` for each completed frame, in order.
    ///
    /// On x86-64 CPUs with AVX2 the per-frame work is compiled a second time for them and
    /// chosen at run time (eight dB values per instruction instead of four). It is the same
    /// arithmetic in the same order (no fused multiply-adds), so frames are the same to the
    /// bit either way.
    pub fn process(&mut self, samples: &[f32], emit: impl FnMut(Frame)) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been found to support AVX2, the only requirement of
            // `process_avx2`.
            return unsafe { self.process_avx2(samples, emit) };
        }
        self.process_portable(samples, emit);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn process_avx2(&mut self, samples: &[f32], emit: impl FnMut(Frame)) {
        self.process_portable(samples, emit);
    }

    #[inline(always)]
    fn process_portable(&mut self, samples: &[f32], mut emit: impl FnMut(Frame)) {
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        // A pair is taken once both of its frames are complete.
        while start + HOP_LEN + FRAME_LEN <= self.pending.len() {
            self.transform(start, Some(start + HOP_LEN));
            emit(self.frame(0));
            emit(self.frame(1));
            start += 2 * HOP_LEN;
        }
        self.pending.drain(..start);
    }

    /// Ends the stream: emits the last frame if it is complete and was left without a
    /// partner.
    pub fn finish(&mut self, mut emit: impl FnMut(Frame)) {
        if self.pending.len() >= FRAME_LEN {
            self.transform(0, None);
            emit(self.frame(0));
        }
        self.pending.clear();
    }

    /// Windows the frames starting at `pending[a]` and `pending[b]` (zeros if none) and
    /// puts their power spectra in `powers[0]` and `powers[1]`.
    ///
    /// Two real signals with one complex FFT (Press et al., "Numerical Recipes", 3rd ed.,
    /// §12.3.2): for `z = a + i b`, `A[k] = (Z[k] + conj Z[N-k]) / 2` and
    /// `B[k] = (Z[k] - conj Z[N-k]) / 2i`, so `|A[k]|² = |Z[k] + conj Z[N-k]|² / 4` and
    /// `|B[k]|² = |Z[k] - conj Z[N-k]|² / 4`. Half the transforms of a real FFT per frame,
    /// and no separate post-processing pass.
    #[inline(always)]
    fn transform(&mut self, a: usize, b: Option<usize>) {
        let first = &self.pending[a..a + FRAME_LEN];
        let second = b.map(|b| &self.pending[b..b + FRAME_LEN]);
        for (n, (z, &w)) in self.buffer.iter_mut().zip(&self.window).enumerate() {
            *z = Complex::new(first[n] * w, second.map_or(0.0, |s| s[n] * w));
        }
        self.fft.process_with_scratch(&mut self.buffer, &mut self.scratch);
        let scale = self.norm / 4.0;
        let half = FRAME_LEN / 2;
        // Z[N-k] for k = 1..N/2 is Z[N/2..N] read backwards; k = 0 pairs with itself.
        let mirrored = std::iter::once(&self.buffer[0]).chain(self.buffer[half..].iter().rev());
        let [a, b] = &mut self.powers;
        for (((pa, pb), p), q) in
            a.iter_mut().zip(b.iter_mut()).zip(&self.buffer[..=half]).zip(mirrored)
        {
            let (sr, si) = (p.re + q.re, p.im - q.im);
            let (dr, di) = (p.re - q.re, p.im + q.im);
            *pa = (sr * sr + si * si) * scale;
            *pb = (dr * dr + di * di) * scale;
        }
    }

    /// The [`Frame`] of `powers[which]`, the next frame of the stream.
    #[inline(always)]
    fn frame(&mut self, which: usize) -> Frame {
        let power = &self.powers[which];
        let band_sum = |(a, b): (usize, usize)| lane_sum(&power[a..b]);
        let (lo, hi) = self.analysed_bins;
        let [b0, b1, b2, b3, total] = [
            band_sum(self.band_bins[0]),
            band_sum(self.band_bins[1]),
            band_sum(self.band_bins[2]),
            band_sum(self.band_bins[3]),
            band_sum((lo, hi)),
        ]
        .map(|p| p + FLOOR);
        let [b0_db, b1_db, b2_db, b3_db, level_db, ..] =
            powers_db(&[b0, b1, b2, b3, total, 1.0, 1.0, 1.0]);
        // Band-wise log-energy flux (after Bello et al. 2005, "A tutorial on onset detection
        // in music signals", §3.1.1 spectral difference, on log-compressed sub-band energies
        // as in Klapuri 1999): level-independent, since a gain shifts every band equally.
        let sub_power = self.flux_bins.map(|r| band_sum(r) / (r.1 - r.0) as f32 + FLOOR);
        let sub_db = powers_db(&sub_power);
        let flux_db = if self.first {
            0.0
        } else {
            sub_db.iter().zip(&self.prev_flux_db).map(|(c, p)| (c - p).max(0.0)).sum::<f32>()
                / SUB_BANDS as f32
        };
        self.first = false;
        self.prev_flux_db = sub_db;
        Frame {
            level_db,
            band_db: [b0_db, b1_db, b2_db, b3_db],
            flux_db,
            sub_db,
            sub_power,
            band_power: [b0, b1, b2, b3],
            level_power: total,
        }
    }
}

/// Sum of `values` over eight running partial sums: one chain of dependent adds per band
/// (122 bins for the whole band) was most of a frame's own cost. Rounds differently from a
/// left-to-right sum, by about one part in 10^7.
#[inline(always)]
fn lane_sum(values: &[f32]) -> f32 {
    let (chunks, rest) = values.as_chunks::<8>();
    let mut lanes = [0.0f32; 8];
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    fold(&lanes) + rest.iter().sum::<f32>()
}

/// Power to dB with a floor.
#[cfg(test)]
fn to_db(power: f32) -> f32 {
    power_db(power + FLOOR)
}

/// Power (floor already added) to dB.
#[inline(always)]
pub fn power_db(power: f32) -> f32 {
    ln(power) * (10.0 / std::f32::consts::LN_10)
}

/// [`power_db`] of each of `N` powers: a plain loop over a branch-free [`ln`], which the
/// compiler turns into vector code (four or eight at a time).
#[inline(always)]
pub fn powers_db<const N: usize>(powers: &[f32; N]) -> [f32; N] {
    let mut out = [0.0; N];
    for i in 0..N {
        out[i] = power_db(powers[i]);
    }
    out
}

/// Natural logarithm of a positive, finite, normal `x` (powers here are at least the
/// floor, 1e-12), without branches, so the compiler can run a frame's 16 sub-bands through
/// it as vectors; glibc's `logf` is a call per value and was 6% of a scan.
///
/// Method: Cephes `logf` (S. L. Moshier, "Methods and Programs for Mathematical
/// Functions", 1989): split `x = m 2^e` with `m` in `[sqrt(1/2), sqrt(2))`, then
/// `ln x = e ln 2 + ln m`, `ln m` by its minimax polynomial in `m - 1`, and `ln 2` in two
/// parts so `e ln 2` adds without rounding. Within 2 ulp of `f32::ln` on that domain (a test
/// checks it), i.e. about 1e-6 dB.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    // Exponent and mantissa of x = m * 2^e, m in [1, 2).
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // Move m into [sqrt(1/2), sqrt(2)) so m - 1 is small either side of zero.
    let high = m > std::f32::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    e += i32::from(high);
    let x = m - 1.0;
    let z = x * x;
    let mut y = 7.037_683_6e-2;
    for c in [
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_5e-1,
        -2.499_999_4e-1,
        3.333_333e-1,
    ] {
        y = y * x + c;
    }
    let e = e as f32;
    let y = y * x * z + e * -2.121_944_4e-4 - 0.5 * z;
    x + y + e * 0.693_359_4
}

/// dB to power: the inverse of [`power_db`] (for test frames).
#[cfg(test)]
fn from_db(db: f32) -> f32 {
    // 10^(db/10) as one exp: cheaper than powf.
    (db * (std::f32::consts::LN_10 / 10.0)).exp()
}

/// Time in seconds of the centre of frame `index`.
pub fn frame_time_s(index: u64) -> f64 {
    (index as f64 * HOP_LEN as f64 + FRAME_LEN as f64 / 2.0) / f64::from(ANALYSIS_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(signal: &[f32]) -> Vec<Frame> {
        let mut stft = Stft::new();
        let mut out = Vec::new();
        for chunk in signal.chunks(333) {
            stft.process(chunk, |f| out.push(f));
        }
        stft.finish(|f| out.push(f));
        out
    }

    #[test]
    fn ln_is_within_two_ulp_of_the_standard_library() {
        let ulps = |a: f32, b: f32| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut worst = (0, 0.0f32);
        // Every 97th float from the floor (1e-12) to 1e12, both sides of each power of two.
        let (lo, hi) = (1e-12f32.to_bits(), 1e12f32.to_bits());
        for bits in (lo..hi).step_by(97).chain([1.0f32.to_bits(), 2.0f32.to_bits()]) {
            let x = f32::from_bits(bits);
            let (fast, exact) = (ln(x), f64::from(x).ln() as f32);
            // Near x = 1 the result is tiny and ulps are too: compare absolutely there.
            let err = if exact.abs() < 1e-3 {
                u64::from((fast - exact).abs() > 1e-9) * 99
            } else {
                ulps(fast, exact)
            };
            if err > worst.0 {
                worst = (err, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulp at {}", worst.0, worst.1);
    }

    #[test]
    fn a_full_scale_tone_reads_near_zero_db_in_its_band() {
        let tone: Vec<f32> =
            (0..8000).map(|i| (std::f32::consts::TAU * 125.0 * i as f32 / 8000.0).sin()).collect();
        let f = frames(&tone);
        assert_eq!(f.len(), (8000 - FRAME_LEN) / HOP_LEN + 1);
        let mid = f[50];
        assert!(mid.band_db[LOW].abs() < 2.0, "{:?}", mid);
        assert!(mid.band_db[HIGH] < -60.0, "{:?}", mid);
    }

    /// The AVX2 build of the per-frame work gives the portable build's bits.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_build_matches_the_portable_one_to_the_bit() {
        assert!(std::arch::is_x86_feature_detected!("avx2"), "this test needs an AVX2 CPU");
        let signal: Vec<f32> = (0..16000)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * (i as f32 * 3e-4).sin())
            .collect();
        let (mut vector, mut portable) = (Vec::new(), Vec::new());
        let (mut a, mut b) = (Stft::new(), Stft::new());
        // SAFETY: AVX2 was asserted above.
        unsafe { a.process_avx2(&signal, |f| vector.push(f)) };
        b.process_portable(&signal, |f| portable.push(f));
        assert_eq!(vector.len(), portable.len());
        let bits = |f: &Frame| {
            let mut v = vec![f.level_db.to_bits(), f.flux_db.to_bits()];
            v.extend(f.band_db.iter().chain(&f.sub_db).chain(&f.sub_power).map(|x| x.to_bits()));
            v
        };
        for (i, (x, y)) in vector.iter().zip(&portable).enumerate() {
            assert_eq!(bits(x), bits(y), "frame {i}");
        }
    }

    #[test]
    fn a_step_in_level_gives_flux() {
        let mut state = 12345u32;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as f32 / u32::MAX as f32 - 0.5
        };
        let signal: Vec<f32> =
            (0..16000).map(|i| noise() * if i < 8000 { 0.01 } else { 0.5 }).collect();
        let f = frames(&signal);
        let (argmax, max) = f
            .iter()
            .enumerate()
            .map(|(i, fr)| (i, fr.flux_db))
            .fold((0, 0.0f32), |a, b| if b.1 > a.1 { b } else { a });
        // 34 dB step: the flux peaks on a frame that straddles sample 8000.
        assert!(max > 15.0, "{max}");
        let t = frame_time_s(argmax as u64);
        assert!((t - 1.0).abs() < 0.03, "{t}");
    }

    /// Every frame against a direct O(N²) DFT of the same Hann-windowed samples: band and
    /// sub-band levels within 0.01 dB, and the flux recomputed from those levels.
    #[test]
    fn frames_match_a_direct_dft() {
        let signal: Vec<f32> = (0..4000)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let tone = (std::f32::consts::TAU * 440.0 * t).sin() * 0.3;
                let chirp = (std::f32::consts::TAU * (200.0 + 900.0 * t) * t).sin() * 0.2;
                let click = if i % 1333 == 0 { 0.9 } else { 0.0 };
                tone + chirp + click
            })
            .collect();
        let stft = Stft::new();
        let fast = frames(&signal);
        let mut prev: Option<[f32; SUB_BANDS]> = None;
        for (index, frame) in fast.iter().enumerate() {
            let chunk = &signal[index * HOP_LEN..index * HOP_LEN + FRAME_LEN];
            let power: Vec<f64> = (0..=FRAME_LEN / 2)
                .map(|k| {
                    let (mut re, mut im) = (0.0f64, 0.0f64);
                    for (n, (&s, &w)) in chunk.iter().zip(&stft.window).enumerate() {
                        let phase = std::f64::consts::TAU * (k * n) as f64 / FRAME_LEN as f64;
                        re += f64::from(s * w) * phase.cos();
                        im -= f64::from(s * w) * phase.sin();
                    }
                    (re * re + im * im) * f64::from(stft.norm)
                })
                .collect();
            let level = |(a, b): (usize, usize), per_bin: bool| {
                let sum: f64 = power[a..b].iter().sum();
                let sum = if per_bin { sum / (b - a) as f64 } else { sum };
                to_db(sum as f32)
            };
            let total = level(stft.analysed_bins, false);
            // f32 rounding: 0.01 dB for bands within 40 dB of the frame's level, more below.
            let tolerance = |db: f32| if db > total - 40.0 { 0.01 } else { 0.1 };
            for (band, &range) in stft.band_bins.iter().enumerate() {
                let direct = level(range, false);
                let d = (frame.band_db[band] - direct).abs();
                assert!(d < tolerance(direct), "frame {index} band {band} at {direct} dB: {d} dB");
            }
            let sub = stft.flux_bins.map(|r| level(r, true));
            for (b, (&fast_db, &direct_db)) in frame.sub_db.iter().zip(&sub).enumerate() {
                let d = (fast_db - direct_db).abs();
                assert!(d < tolerance(direct_db), "frame {index} sub-band {b}: {d} dB");
            }
            assert!((frame.level_db - total).abs() < 0.01, "frame {index} level");
            let flux = prev.map_or(0.0, |p| {
                sub.iter().zip(&p).map(|(c, p)| (c - p).max(0.0)).sum::<f32>() / SUB_BANDS as f32
            });
            assert!((frame.flux_db - flux).abs() < 0.05, "frame {index} flux");
            prev = Some(sub);
        }
    }
}
