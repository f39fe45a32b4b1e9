//! Streaming sample-rate conversion to the analysis rate.
//!
//! Every recording is analysed at [`ANALYSIS_RATE`] (8 kHz, telephone band), so the same sound
//! gives the same features whether it arrives as 48 kHz WAV, 16 kHz Opus or 8 kHz AMR-like
//! audio, and the STFT costs the same per second of audio whatever the source rate.
//!
//! Method: band-limited interpolation with a Kaiser-windowed sinc kernel, tabulated in
//! polyphase form (J. O. Smith, "Digital Audio Resampling Home Page", CCRMA, the
//! `resample` algorithm). Output sample `n` sits exactly at input position `n * R / F`
//! (integer arithmetic, no drift); the kernel is centred there, so there is no delay.

/// The rate every later stage works at, in Hz.
pub const ANALYSIS_RATE: u32 = 8000;

/// Kernel half-width in output samples: longer is sharper and slower.
const HALF_WIDTH_OUT: f64 = 6.0;
/// Kaiser window shape (about 60 dB stop-band).
const KAISER_BETA: f64 = 6.0;
/// Cut-off as a fraction of the lower of the two Nyquist rates.
const CUTOFF: f64 = 0.92;
/// Kernel rows are padded with zeros to a multiple of this many taps (see [`dot`]).
const LANES: usize = 8;
/// Fractional positions tabulated.
const PHASES: usize = 64;

/// Converts a mono stream from `input_rate` to [`ANALYSIS_RATE`].
#[derive(Debug)]
pub struct Resampler {
    /// The output rate divided by the rates' greatest common divisor (16000 -> 8000
    /// becomes 2 -> 1): the denominator of `next_rem`.
    output_rate: u64,
    /// `input_rate / output_rate` and its remainder: the step between outputs.
    step_whole: i64,
    step_rem: u64,
    /// Offset in `table` of the kernel row for each value of `next_rem` (no division per
    /// output sample).
    row_of_rem: Vec<usize>,
    /// Kernel taps per phase (`PHASES + 1` rows of `taps` each).
    table: Vec<f32>,
    taps: usize,
    /// Kernel half-width in input samples (the kernel's centre; taps past `2 * half` are 0).
    half: i64,
    /// Input samples kept; `history[0]` is input sample number `base` (negative at the
    /// start: the stream is preceded by zeros so the first kernels are complete).
    history: Vec<f32>,
    base: i64,
    /// Input position of the next output sample: `next_pos + next_rem / output_rate`,
    /// i.e. `n * input_rate / output_rate` for output number `n`, kept incrementally (exact,
    /// no division per sample).
    next_pos: i64,
    next_rem: u64,
    passthrough: bool,
    /// The CPU has AVX2, so [`Resampler::emit`] takes its vector loop (tests clear it to
    /// compare with the portable one).
    avx2: bool,
}

impl Resampler {
    /// A resampler from `input_rate` Hz to [`ANALYSIS_RATE`].
    pub fn new(input_rate: u32) -> Self {
        Self::between(input_rate, ANALYSIS_RATE)
    }

    /// A resampler from `input_rate` Hz to `output_rate` Hz (for the report's spectrograms).
    pub fn between(input_rate: u32, output_rate: u32) -> Self {
        let (input_rate, output_rate) =
            (u64::from(input_rate.max(1)), u64::from(output_rate.max(1)));
        let common = gcd(input_rate, output_rate);
        let (input_rate, output_rate) = (input_rate / common, output_rate / common);
        let step = input_rate as f64 / output_rate as f64;
        let half_in = (HALF_WIDTH_OUT * step.max(1.0)).ceil() as usize;
        let taps = (2 * half_in).next_multiple_of(LANES);
        // Cut-off in cycles per input sample.
        let fc = 0.5 * CUTOFF * (output_rate.min(input_rate) as f64) / input_rate as f64;
        let mut table = vec![0.0f32; (PHASES + 1) * taps];
        for phase in 0..=PHASES {
            let frac = phase as f64 / PHASES as f64;
            let row = &mut table[phase * taps..(phase + 1) * taps];
            let mut sum = 0.0;
            let mut values = vec![0.0f64; taps];
            for (k, v) in values.iter_mut().enumerate().take(2 * half_in) {
                // Tap k multiplies input sample floor(pos) - half_in + 1 + k.
                let t = k as f64 - half_in as f64 + 1.0 - frac;
                let x = 2.0 * fc * t;
                let sinc = if x.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let w = kaiser(t / half_in as f64, KAISER_BETA);
                *v = sinc * w;
                sum += *v;
            }
            for (r, v) in row.iter_mut().zip(&values) {
                *r = (v / sum) as f32;
            }
        }
        // The tabulated phase nearest each fractional position `rem / output_rate`:
        // `round(frac * PHASES)` in integers.
        let row_of_rem = (0..output_rate)
            .map(|rem| {
                let phase = (rem * PHASES as u64 * 2 + output_rate) / (2 * output_rate);
                phase as usize * taps
            })
            .collect();
        Resampler {
            output_rate,
            step_whole: (input_rate / output_rate) as i64,
            step_rem: input_rate % output_rate,
            row_of_rem,
            table,
            taps,
            history: vec![0.0; half_in],
            half: half_in as i64,
            base: -(half_in as i64),
            next_pos: 0,
            next_rem: 0,
            passthrough: input_rate == output_rate,
            avx2: avx2_available(),
        }
    }

    /// Feeds `input` and appends every output sample that can now be computed to `out`.
    ///
    /// The input is read where it lies: only the outputs whose kernel straddles the end of
    /// the last input are computed from a copy (the kept history and the first `taps`
    /// samples of this input), and only what the next output needs is kept.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.passthrough {
            out.extend_from_slice(input);
            return;
        }
        let input_base = self.base + self.history.len() as i64;
        let bridge = input.len().min(self.taps);
        let mut history = std::mem::take(&mut self.history);
        history.extend_from_slice(&input[..bridge]);
        self.emit(&history, self.base, out, i64::MAX);
        self.emit(input, input_base, out, i64::MAX);
        // Keep from the next output's first sample (the input's end at most).
        let end = input_base + input.len() as i64;
        let keep_from = (self.next_position() + 1 - self.half).clamp(self.base, end);
        if keep_from >= input_base {
            history.clear();
            history.extend_from_slice(&input[(keep_from - input_base) as usize..]);
        } else {
            history.extend_from_slice(&input[bridge..]);
            history.drain(..(keep_from - self.base) as usize);
        }
        self.history = history;
        self.base = keep_from;
    }

    /// Flushes the last samples (the kernel's right half sees zeros).
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.passthrough {
            return;
        }
        let end = self.base + self.history.len() as i64;
        let mut history = std::mem::take(&mut self.history);
        history.extend(std::iter::repeat_n(0.0, self.taps));
        self.emit(&history, self.base, out, end);
    }

    /// Input position (integer part) of the next output sample.
    fn next_position(&self) -> i64 {
        self.next_pos
    }

    fn advance(&mut self) {
        self.next_pos += self.step_whole;
        self.next_rem += self.step_rem;
        if self.next_rem >= self.output_rate {
            self.next_rem -= self.output_rate;
            self.next_pos += 1;
        }
    }

    /// Emits outputs whose kernel lies inside `samples` (input samples from `base` on) and
    /// whose centre is before `limit`.
    ///
    /// On x86-64 CPUs with AVX2 the loop is compiled a second time for them and chosen at
    /// run time; [`dot`] adds in the same order at any vector width, so the output is the
    /// same to the bit.
    fn emit(&mut self, samples: &[f32], base: i64, out: &mut Vec<f32>, limit: i64) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU was found to support AVX2, the only
            // requirement of `emit_avx2`.
            return unsafe { self.emit_avx2(samples, base, out, limit) };
        }
        self.emit_portable(samples, base, out, limit);
    }

    /// [`Self::emit_portable`] with AVX intrinsics, [`BATCH`] outputs at a time. Per output
    /// the work is the same multiplies and adds in the same order as [`dot`] (a multiply,
    /// then an add, never a fused multiply-add, which rounds differently); what changes is
    /// the last step. Folding one output's eight lanes is a chain of dependent adds that cost
    /// more than its whole dot product; here the lanes of eight outputs are transposed so
    /// that [`fold`]'s adds run across all eight at once, in the same order.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn emit_avx2(&mut self, samples: &[f32], base: i64, out: &mut Vec<f32>, limit: i64) {
        use std::arch::x86_64::{
            __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps,
        };
        // When the rates divide, every output shares one kernel row: a loop of its own.
        if self.step_rem == 0 {
            self.emit_integer_avx2(samples, base, out, limit);
        }
        let taps = self.taps;
        let mut jobs = [Job::default(); BATCH];
        while self.plan(&mut jobs, samples, base, limit) {
            // Bounds checked here, once per output, so the loads below stay in range.
            let kernels = jobs.map(|j| self.table[j.row..j.row + taps].as_ptr());
            let inputs = jobs.map(|j| samples[j.start..j.start + taps].as_ptr());
            let mut acc: [__m256; BATCH] = [_mm256_setzero_ps(); BATCH];
            for c in (0..taps).step_by(LANES) {
                for n in 0..BATCH {
                    // SAFETY: both slices hold `taps` floats and c + LANES <= taps.
                    let (x, y) = unsafe {
                        (_mm256_loadu_ps(kernels[n].add(c)), _mm256_loadu_ps(inputs[n].add(c)))
                    };
                    acc[n] = _mm256_add_ps(acc[n], _mm256_mul_ps(x, y));
                }
            }
            out.extend_from_slice(&fold8(acc));
        }
        self.emit_portable(samples, base, out, limit);
    }

    /// The AVX2 loop when the rates divide (48 or 16 kHz to 8 kHz): every output uses the
    /// same kernel row and starts `step` input samples after the last, so a batch of eight
    /// is planned with one position test and one bounds check instead of eight.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn emit_integer_avx2(&mut self, samples: &[f32], base: i64, out: &mut Vec<f32>, limit: i64) {
        use std::arch::x86_64::{
            __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps,
        };
        let (taps, step) = (self.taps, self.step_whole);
        let row = self.row_of_rem[0];
        let kernel = &self.table[row..row + taps];
        let available = base + samples.len() as i64;
        let span = (BATCH as i64 - 1) * step;
        loop {
            let first = self.next_pos + 1 - self.half;
            if self.next_pos + span >= limit
                || first < base
                || first + span + taps as i64 > available
            {
                return;
            }
            let start = (first - base) as usize;
            let window = &samples[start..start + span as usize + taps];
            let mut acc: [__m256; BATCH] = [_mm256_setzero_ps(); BATCH];
            for c in (0..taps).step_by(LANES) {
                // SAFETY: c + LANES <= taps, the kernel's length.
                let x = unsafe { _mm256_loadu_ps(kernel.as_ptr().add(c)) };
                for (n, sum) in acc.iter_mut().enumerate() {
                    // SAFETY: n * step + c + LANES <= span + taps, the window's length.
                    let y = unsafe { _mm256_loadu_ps(window.as_ptr().add(n * step as usize + c)) };
                    *sum = _mm256_add_ps(*sum, _mm256_mul_ps(x, y));
                }
            }
            out.extend_from_slice(&fold8(acc));
            self.next_pos += BATCH as i64 * step;
        }
    }

    /// Emits outputs one [`dot`] at a time, while their kernels lie inside `samples` (input
    /// samples from `base` on) and their centres are before `limit`.
    #[inline(always)]
    fn emit_portable(&mut self, samples: &[f32], base: i64, out: &mut Vec<f32>, limit: i64) {
        let mut jobs = [Job::default(); 1];
        while self.plan(&mut jobs, samples, base, limit) {
            let Job { row, start } = jobs[0];
            out.push(dot(&self.table[row..row + self.taps], &samples[start..start + self.taps]));
        }
    }

    /// Fills `jobs` with the next `N` outputs and advances past them, if all `N` have their
    /// kernel inside `samples` and their centre before `limit`; otherwise leaves the
    /// position where it was and returns false.
    #[inline(always)]
    fn plan<const N: usize>(
        &mut self,
        jobs: &mut [Job; N],
        samples: &[f32],
        base: i64,
        limit: i64,
    ) -> bool {
        let available = base + samples.len() as i64;
        let (pos, rem) = (self.next_pos, self.next_rem);
        for job in jobs.iter_mut() {
            let first = self.next_pos + 1 - self.half;
            let inside = first >= base && first + self.taps as i64 <= available;
            if self.next_pos >= limit || !inside {
                (self.next_pos, self.next_rem) = (pos, rem);
                return false;
            }
            let row = self.row_of_rem[self.next_rem as usize];
            *job = Job { row, start: (first - base) as usize };
            self.advance();
        }
        true
    }
}

/// Outputs computed together by the AVX2 loop of [`Resampler::emit`].
const BATCH: usize = 8;

/// One output sample to compute: where its kernel row starts in the table and where its
/// first input sample is in the samples being read.
#[derive(Debug, Clone, Copy, Default)]
struct Job {
    row: usize,
    start: usize,
}

/// Eight outputs' sums from their eight lanes each, added as [`fold`] adds them: the lanes
/// are transposed so each of `fold`'s adds runs across all eight outputs at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold8(acc: [std::arch::x86_64::__m256; 8]) -> [f32; 8] {
    use std::arch::x86_64::{_mm256_add_ps, _mm256_storeu_ps};
    let lane = transpose8(acc);
    let s = [
        _mm256_add_ps(lane[0], lane[4]),
        _mm256_add_ps(lane[1], lane[5]),
        _mm256_add_ps(lane[2], lane[6]),
        _mm256_add_ps(lane[3], lane[7]),
    ];
    let sums = _mm256_add_ps(_mm256_add_ps(s[0], s[2]), _mm256_add_ps(s[1], s[3]));
    let mut values = [0.0f32; 8];
    // SAFETY: `values` holds eight floats.
    unsafe { _mm256_storeu_ps(values.as_mut_ptr(), sums) };
    values
}

/// Transposes eight vectors of eight lanes: lane `i` of vector `j` becomes lane `j` of
/// vector `i` (the usual unpack, shuffle and cross-lane permute sequence).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::{
        _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Kernels are padded to a multiple of LANES, so there is no scalar tail; the eight
    // accumulators (one 8-wide or two 4-wide vectors) are folded once at the end.
    let mut acc = [0.0f32; LANES];
    let (a, _) = a.as_chunks::<LANES>();
    let (b, _) = b.as_chunks::<LANES>();
    for (x, y) in a.iter().zip(b) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    fold(&acc)
}

/// Adds eight partial sums in a fixed order (as two 4-wide vectors would).
#[inline(always)]
pub(crate) fn fold(acc: &[f32; LANES]) -> f32 {
    let s = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
    (s[0] + s[2]) + (s[1] + s[3])
}

/// Whether this CPU runs AVX2 code.
fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// Greatest common divisor (Euclid).
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Kaiser window at `x` in -1..1.
fn kaiser(x: f64, beta: f64) -> f64 {
    if x.abs() > 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - x * x).sqrt()) / bessel_i0(beta)
}

/// Zeroth-order modified Bessel function of the first kind (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: u32, input: &[f32], chunk: usize) -> Vec<f32> {
        let mut r = Resampler::new(rate);
        let mut out = Vec::new();
        for c in input.chunks(chunk) {
            r.process(c, &mut out);
        }
        r.finish(&mut out);
        out
    }

    #[test]
    fn output_length_follows_the_rate_ratio() {
        for rate in [8000u32, 11025, 16000, 22050, 44100, 48000] {
            let input = vec![0.1f32; rate as usize * 3];
            let out = run(rate, &input, 997);
            let expected = 3 * ANALYSIS_RATE as usize;
            assert!(out.len().abs_diff(expected) <= 1, "{rate}: {} vs {expected}", out.len());
        }
    }

    #[test]
    fn a_tone_in_band_keeps_its_level_and_one_above_is_removed() {
        let rate = 48000;
        let tone = |f: f32| -> Vec<f32> {
            (0..rate * 2)
                .map(|i| (2.0 * std::f32::consts::PI * f * i as f32 / rate as f32).sin())
                .collect()
        };
        let rms = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        let pass = run(rate, &tone(1000.0), 4096);
        let stop = run(rate, &tone(6000.0), 4096);
        let mid = &pass[2000..14000];
        assert!((rms(mid) - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.02, "{}", rms(mid));
        assert!(rms(&stop[2000..14000]) < 0.01, "{}", rms(&stop[2000..14000]));
    }

    /// The AVX2 loop (eight outputs at once, shared or separate kernel rows) gives the
    /// portable loop's output to the bit, chunk ends and flush included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_loop_matches_the_portable_one_to_the_bit() {
        assert!(avx2_available(), "this test compares the AVX2 loop: it needs an AVX2 CPU");
        for rate in [48000u32, 44100, 16000, 22050, 11025, 96000] {
            let input: Vec<f32> = (0..rate as usize)
                .map(|i| {
                    ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * (1.0 + (i as f32 * 1e-3).sin())
                })
                .collect();
            let run_with = |avx2: bool| {
                let mut r = Resampler::new(rate);
                r.avx2 = avx2;
                let mut out = Vec::new();
                for c in input.chunks(1237) {
                    r.process(c, &mut out);
                }
                r.finish(&mut out);
                out
            };
            let (vector, portable) = (run_with(true), run_with(false));
            assert_eq!(vector.len(), portable.len(), "{rate} Hz");
            let differing =
                vector.iter().zip(&portable).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(differing, 0, "{rate} Hz: {differing} samples differ");
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input: Vec<f32> =
            (0..44100).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
        for rate in [44100, 48000, 16000] {
            let whole = run(rate, &input, input.len());
            // Chunks shorter than the kernel (72 taps) too: outputs then wait on more input.
            for chunk in [1, 7, 50, 71, 72, 100, 997] {
                assert_eq!(run(rate, &input, chunk), whole, "{rate} Hz in chunks of {chunk}");
            }
        }
    }

    /// The resampler against a direct evaluation of its formula: each output sample as the
    /// sum over input samples of the exact (untabulated, f64) normalised Kaiser-windowed
    /// sinc at the exact position `n * R / F`. The difference is the polyphase table's
    /// phase rounding (at most 1/128 of an input sample).
    #[test]
    fn matches_a_direct_evaluation_of_band_limited_interpolation() {
        let tau = std::f64::consts::TAU;
        for rate in [48000u32, 44100, 16000, 11025] {
            let signal = |t: f64| {
                0.5 * (tau * 440.0 * t).sin()
                    + 0.3 * (tau * 1900.0 * t + 1.0).sin()
                    + 0.1 * (tau * 3100.0 * t).sin()
            };
            let input: Vec<f32> =
                (0..rate as usize / 2).map(|i| signal(i as f64 / f64::from(rate)) as f32).collect();
            let fast = run(rate, &input, 1000);
            let step = f64::from(rate) / f64::from(ANALYSIS_RATE);
            let half = (HALF_WIDTH_OUT * step.max(1.0)).ceil() as i64;
            let fc = 0.5 * CUTOFF * f64::from(ANALYSIS_RATE.min(rate)) / f64::from(rate);
            let direct = |n: usize| -> f64 {
                let pos = n as f64 * step;
                let first = pos.floor() as i64 - half + 1;
                let (mut acc, mut norm) = (0.0, 0.0);
                for j in first..first + 2 * half {
                    let t = j as f64 - pos;
                    let x = 2.0 * fc * t;
                    let sinc = if x.abs() < 1e-12 {
                        1.0
                    } else {
                        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                    };
                    let w = sinc * kaiser(t / half as f64, KAISER_BETA);
                    let sample = usize::try_from(j).ok().and_then(|j| input.get(j));
                    acc += w * f64::from(sample.copied().unwrap_or(0.0));
                    norm += w;
                }
                acc / norm
            };
            let worst = (0..fast.len())
                .map(|n| (f64::from(fast[n]) - direct(n)).abs())
                .fold(0.0f64, f64::max);
            assert!(worst < 5e-3, "{rate} Hz: largest difference {worst}");
            // And both follow the band-limited signal itself away from the edges.
            let ideal = (100..fast.len() - 100)
                .map(|n| (f64::from(fast[n]) - signal(n as f64 / 8000.0)).abs())
                .fold(0.0f64, f64::max);
            assert!(ideal < 0.02, "{rate} Hz: {ideal} from the ideal signal");
        }
    }
}
