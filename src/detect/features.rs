//! What the classifier sees of a transient: features, a coarse profile and a log-band patch.
//!
//! For every onset we measure, on the 8 kHz analysis frames around it, what physically
//! separates a blast from a gunshot crack, a door slam, a mic bump, a clap or a plosive:
//!
//! * **Low-frequency share** (`low_share`, `low_share_tail`): a blast's pressure pulse and
//!   its reverberant tail carry most energy below ~250 Hz; cracks, claps and plosives carry
//!   little there (Maher 2007, "Acoustical characterization of gunshots"; Freytag et al.,
//!   ARL blast-wave spectra; distant blasts are low-passed by the atmosphere, ISO 9613-1).
//! * **Tail length** (`tail_s`, `low_tail_s`): time until the level falls 20 dB below the
//!   peak or to the background. A blast rumbles for seconds; a muzzle blast, a slam or a
//!   bump is over in tens to hundreds of milliseconds.
//! * **Rise time** (`rise_s`) from onset to within 3 dB of the peak: near blasts and cracks are abrupt;
//!   speech syllables rise over tens of milliseconds.
//! * **Salience** (`snr_db`: peak over the median level of the preceding second;
//!   `jump_db`: the first 100 ms over the level just before the onset) and onset strength
//!   (`flux_db`).
//!   Both are relative, so a recording 20 dB quieter gives the same values.
//! * **Brightness**: the share above 2 kHz at the onset (a supersonic crack or a clap is
//!   bright). Measured and reported, not used by the model: codecs at low bit rates cut
//!   that band, so it says more about the codec than the source.
//!
//! With them goes a [`Profile`]: the transient's coarse spectrum over eight time windows.
//!
//! They are combined by the [`crate::detect::classify::Model`] into the `confidence`.

use crate::detect::stft::{powers_db, Frame, FRAMES_PER_S, HIGH, LOW, SUB_BANDS};
use crate::index::Features;

/// Frames kept before an onset to measure the background (1.5 s).
pub const LOOKBACK: usize = 150;
/// Frames needed after an onset to measure its tail (4 s).
pub const LOOKAHEAD: usize = 400;

/// Time windows of the [`Profile`], in frames (10 ms) relative to the onset: the
/// 300 ms before it, the attack (0-50 ms), the body (50-150, 150-300 ms) and the tail
/// (0.3-0.6, 0.6-1, 1-2, 2-3.5 s).
pub const PROFILE_WINDOWS: [(i64, i64); 8] =
    [(-30, 0), (0, 5), (5, 15), (15, 30), (30, 60), (60, 100), (100, 200), (200, 350)];
/// Cells of a [`Profile`]: every sub-band in every window, twice (see [`Profile`]).
pub const PROFILE_LEN: usize = 2 * SUB_BANDS * PROFILE_WINDOWS.len();
/// Named features the model uses, see [`model_inputs`].
pub const SCALAR_INPUTS: usize = 8;
/// Number of model inputs: the named features, then the profile.
pub const INPUTS: usize = SCALAR_INPUTS + PROFILE_LEN;

/// A coarse spectro-temporal picture of a transient: the mean level of each of the
/// [`SUB_BANDS`] sub-bands (30 Hz-3.8 kHz, log-spaced) in each of the [`PROFILE_WINDOWS`],
/// first in dB over that sub-band's background (the median of the second before the
/// onset), then in dB under the loudest cell. Both are differences of levels, so a gain
/// or a quieter recording leaves them unchanged. It lets the model see the spectral shape
/// of attack, body and tail together (a blast: broadband attack, low rumble that lasts;
/// a gunshot: bright attack, short tail; speech: formant bands that come and go), as the
/// log-mel patches of audio-event classifiers do (Piczak 2015, "Environmental sound
/// classification with convolutional neural networks"), at a resolution a linear model
/// can learn from a hundred examples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile(pub [f32; PROFILE_LEN]);

impl Default for Profile {
    fn default() -> Self {
        Profile([0.0; PROFILE_LEN])
    }
}

/// Names of the model's inputs, in [`model_inputs`] order.
pub fn input_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "snr_db",
        "jump_db",
        "low_jump_db",
        "ln(rise_s + 0.02)",
        "ln(tail_s + 0.05)",
        "ln(low_tail_s + 0.05)",
        "low_share",
        "low_share_tail",
    ]
    .map(String::from)
    .into();
    for reference in ["over_background", "under_peak"] {
        for (a, b) in PROFILE_WINDOWS {
            for band in 0..SUB_BANDS {
                names.push(format!("band{band}_{}to{}ms_{reference}", a * 10, b * 10));
            }
        }
    }
    names
}

/// The model's input vector. Durations enter as logarithms (their spread is
/// multiplicative). The high-band share is reported but not used (see the module doc).
pub fn model_inputs(features: &Features, profile: &Profile) -> [f32; INPUTS] {
    let mut x = [0.0f32; INPUTS];
    x[..SCALAR_INPUTS].copy_from_slice(&[
        features.snr_db,
        features.jump_db,
        features.low_jump_db,
        (features.rise_s + 0.02).ln(),
        (features.tail_s + 0.05).ln(),
        (features.low_tail_s + 0.05).ln(),
        features.low_share,
        features.low_share_tail,
    ]);
    x[SCALAR_INPUTS..].copy_from_slice(&profile.0);
    x
}

/// Each sub-band's background level in dB before the onset at `frames[onset]`: the median
/// of the second before it (skipping the 30 ms the analysis window shares with the onset).
/// [`profile`] and [`patch`] measure over it.
pub fn band_background(frames: &[Frame], onset: usize, scratch: &mut Vec<i32>) -> [f32; SUB_BANDS] {
    let before = &frames[..onset];
    if let Some(window) = before.len().checked_sub(3 + BACKGROUND_FRAMES).map(|s| &before[s..]) {
        return band_medians(&window[..BACKGROUND_FRAMES]);
    }
    // Near the start of a recording: fewer frames, one band at a time.
    let mut background = [0.0f32; SUB_BANDS];
    for (b, bg) in background.iter_mut().enumerate() {
        let second = before.iter().rev().skip(3).take(100).map(|f| f.sub_db[b]);
        *bg = median(second, scratch).unwrap_or(frames[onset].sub_db[b]);
    }
    background
}

/// Frames of 10 ms per time step of a [`patch`].
pub const PATCH_STEP_FRAMES: usize = 2;
/// Time steps of a [`patch`] (20 ms each).
pub const PATCH_STEPS: usize = 160;
/// Frames of a [`patch`] before the onset (1.2 s); the rest (2 s) follow it.
pub const PATCH_BEFORE: usize = 60 * PATCH_STEP_FRAMES;
/// Values of a [`patch`]: every sub-band at every step, time-major.
pub const PATCH_LEN: usize = PATCH_STEPS * SUB_BANDS;

/// The log-band patch around an onset that [`crate::detect::network`] reads: the level of
/// each of the [`SUB_BANDS`] sub-bands in 20 ms steps from 1.2 s before the onset to 2 s
/// after it, in dB over that sub-band's background (as in [`profile`]), clamped to
/// -20..60 dB and divided by 20. Time-major (`patch[t * SUB_BANDS + band]`). The context
/// is wider than the profile's on purpose: whether syllables come and go around a
/// transient says whether it is speech (Piczak 2015 reads log-mel patches the same way;
/// here the bands are the detector's own, so no second spectrum is computed). Steps
/// outside the recording are at the background (0).
///
/// Like [`profile`], compiled a second time for AVX2 and chosen at run time (same bits).
pub fn patch(
    frames: &[Frame],
    onset: usize,
    background: &[f32; SUB_BANDS],
) -> Box<[f32; PATCH_LEN]> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2, the only requirement.
        return unsafe { patch_avx2(frames, onset, background) };
    }
    patch_portable(frames, onset, background)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn patch_avx2(
    frames: &[Frame],
    onset: usize,
    background: &[f32; SUB_BANDS],
) -> Box<[f32; PATCH_LEN]> {
    patch_portable(frames, onset, background)
}

#[inline(always)]
fn patch_portable(
    frames: &[Frame],
    onset: usize,
    background: &[f32; SUB_BANDS],
) -> Box<[f32; PATCH_LEN]> {
    let mut out = Box::new([0.0f32; PATCH_LEN]);
    for t in 0..PATCH_STEPS {
        let first = (onset + t * PATCH_STEP_FRAMES).checked_sub(PATCH_BEFORE);
        let Some(window) = first.and_then(|a| frames.get(a..a + PATCH_STEP_FRAMES)) else {
            continue;
        };
        let means = sub_power_sums(window).map(|sum| sum / PATCH_STEP_FRAMES as f32);
        for ((cell, db), &bg) in
            out[t * SUB_BANDS..][..SUB_BANDS].iter_mut().zip(powers_db(&means)).zip(background)
        {
            *cell = ((db - bg).clamp(-20.0, 60.0)) / 20.0;
        }
    }
    out
}

/// Each sub-band's linear power summed over `frames`, in frame order. One pass over the
/// frames with all sixteen sums side by side (vector code), not a strided pass per band;
/// each sum adds the same values in the same order, so the result is the same.
#[inline(always)]
fn sub_power_sums(frames: &[Frame]) -> [f32; SUB_BANDS] {
    let mut sums = [0.0f32; SUB_BANDS];
    for f in frames {
        for (sum, p) in sums.iter_mut().zip(&f.sub_power) {
            *sum += p;
        }
    }
    sums
}

/// Measures the [`Profile`] of the transient whose onset is `frames[onset]`, over the
/// [`band_background`] before it.
///
/// On x86-64 CPUs with AVX2 this is compiled a second time for them and chosen at run time:
/// eight dB values per instruction instead of four, the same arithmetic in the same order
/// (no fused multiply-adds), so the same bits.
pub fn profile(frames: &[Frame], onset: usize, background: &[f32; SUB_BANDS]) -> Profile {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2, the only requirement.
        return unsafe { profile_avx2(frames, onset, background) };
    }
    profile_portable(frames, onset, background)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn profile_avx2(frames: &[Frame], onset: usize, background: &[f32; SUB_BANDS]) -> Profile {
    profile_portable(frames, onset, background)
}

#[inline(always)]
fn profile_portable(frames: &[Frame], onset: usize, background: &[f32; SUB_BANDS]) -> Profile {
    let cells = SUB_BANDS * PROFILE_WINDOWS.len();
    let mut level = [0.0f32; SUB_BANDS * 8];
    for (w, &(a, z)) in PROFILE_WINDOWS.iter().enumerate() {
        let from = (onset as i64 + a).clamp(0, frames.len() as i64) as usize;
        let to = (onset as i64 + z).clamp(0, frames.len() as i64) as usize;
        // Past the end of the recording the window repeats the onset frame.
        let window = if from < to { &frames[from..to] } else { &frames[onset..onset + 1] };
        let means = sub_power_sums(window).map(|sum| sum / window.len() as f32);
        level[w * SUB_BANDS..][..SUB_BANDS].copy_from_slice(&powers_db(&means));
    }
    let top = level.iter().copied().fold(f32::MIN, f32::max);
    let mut p = Profile::default();
    for (i, &l) in level.iter().enumerate() {
        p.0[i] = l - background[i % SUB_BANDS];
        p.0[cells + i] = l - top;
    }
    p
}

/// Where a transient sits in time, in frames relative to the onset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// Frame of the peak level, after the onset.
    pub peak: usize,
    /// Frame where the tail ends.
    pub end: usize,
}

/// Frames in a background window (one second).
const BACKGROUND_FRAMES: usize = 100;
/// Rows the median network orders: the window padded to a power of two.
const NETWORK_ROWS: usize = 128;

/// The median of each sub-band over `window` ([`BACKGROUND_FRAMES`] frames), all bands at
/// once: the same values [`median`] selects band by band (the upper middle one, in
/// `f32::total_cmp` order), found by a sorting network whose every compare-exchange works
/// on the 16 bands side by side (Batcher 1968, "Sorting networks and their applications",
/// odd-even merge sort; Knuth, TAOCP vol. 3, 5.3.4), pruned to the exchanges the median row
/// depends on. On x86-64 CPUs with AVX2 it runs compiled for them (chosen at run time).
fn band_medians(window: &[Frame]) -> [f32; SUB_BANDS] {
    let mut rows = [[i32::MAX; SUB_BANDS]; NETWORK_ROWS];
    for (row, frame) in rows.iter_mut().zip(window) {
        *row = frame.sub_db.map(total_order_key);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2, the only requirement of
        // `exchange_avx2`.
        unsafe { exchange_avx2(&mut rows, median_network()) };
        return rows[BACKGROUND_FRAMES / 2].map(from_total_order_key);
    }
    exchange(&mut rows, median_network());
    rows[BACKGROUND_FRAMES / 2].map(from_total_order_key)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exchange_avx2(rows: &mut [[i32; SUB_BANDS]; NETWORK_ROWS], pairs: &[(u8, u8)]) {
    exchange(rows, pairs);
}

/// Applies the compare-exchanges `pairs` to every band (column) of `rows`.
#[inline(always)]
fn exchange(rows: &mut [[i32; SUB_BANDS]; NETWORK_ROWS], pairs: &[(u8, u8)]) {
    for &(a, b) in pairs {
        let (x, y) = (rows[usize::from(a)], rows[usize::from(b)]);
        let mut lo = [0i32; SUB_BANDS];
        let mut hi = [0i32; SUB_BANDS];
        for band in 0..SUB_BANDS {
            lo[band] = x[band].min(y[band]);
            hi[band] = x[band].max(y[band]);
        }
        rows[usize::from(a)] = lo;
        rows[usize::from(b)] = hi;
    }
}

/// The compare-exchanges of Batcher's odd-even merge sort of [`NETWORK_ROWS`] rows that row
/// `BACKGROUND_FRAMES / 2` depends on, in order; built once.
fn median_network() -> &'static [(u8, u8)] {
    static PAIRS: std::sync::OnceLock<Vec<(u8, u8)>> = std::sync::OnceLock::new();
    PAIRS.get_or_init(|| {
        let n = NETWORK_ROWS;
        let mut all = Vec::new();
        let mut p = 1;
        while p < n {
            let mut k = p;
            while k >= 1 {
                let mut j = k % p;
                while j + k < n {
                    for i in 0..k.min(n - j - k) {
                        if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                            all.push(((i + j) as u8, (i + j + k) as u8));
                        }
                    }
                    j += 2 * k;
                }
                k /= 2;
            }
            p *= 2;
        }
        // Backwards from the median row: keep an exchange if it touches a row that matters.
        let mut needed = [false; NETWORK_ROWS];
        needed[BACKGROUND_FRAMES / 2] = true;
        let mut kept: Vec<(u8, u8)> = Vec::new();
        for &(a, b) in all.iter().rev() {
            if needed[usize::from(a)] || needed[usize::from(b)] {
                needed[usize::from(a)] = true;
                needed[usize::from(b)] = true;
                kept.push((a, b));
            }
        }
        kept.reverse();
        kept
    })
}

/// The median of `values` (the upper middle one of an even count), `None` if there are
/// none. Exact: the values are ordered as `f32::total_cmp` orders them, through integer
/// keys (in `keys`) that compare faster than floats; this runs 18 times per candidate.
fn median(values: impl Iterator<Item = f32>, keys: &mut Vec<i32>) -> Option<f32> {
    keys.clear();
    keys.extend(values.map(total_order_key));
    if keys.is_empty() {
        return None;
    }
    let mid = keys.len() / 2;
    let (_, m, _) = keys.select_nth_unstable(mid);
    Some(from_total_order_key(*m))
}

/// An integer that orders as `f32::total_cmp` orders `v` (its own bit trick).
fn total_order_key(v: f32) -> i32 {
    let bits = v.to_bits() as i32;
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// The float of a [`total_order_key`] (the trick undoes itself).
fn from_total_order_key(key: i32) -> f32 {
    f32::from_bits((key ^ (((key >> 31) as u32) >> 1) as i32) as u32)
}

/// Measures the transient whose onset is `frames[onset]`. `frames` holds up to
/// [`LOOKBACK`] frames before it and up to [`LOOKAHEAD`] after it (fewer at the file's edges).
pub fn measure(frames: &[Frame], onset: usize, scratch: &mut Vec<i32>) -> (Features, Extent) {
    let after = &frames[onset..];
    let before = &frames[..onset];
    let secs = |n: usize| n as f32 / FRAMES_PER_S as f32;

    let second = before.iter().rev().take(100);
    let background =
        median(second.clone().map(|f| f.level_db), scratch).unwrap_or(after[0].level_db);
    let low_background =
        median(second.map(|f| f.band_db[LOW]), scratch).unwrap_or(after[0].band_db[LOW]);
    // The level just before the onset: frames 3..8 back (30-80 ms), clear of the window's
    // overlap with the onset itself.
    let pre_frames = || before.iter().rev().skip(3).take(5);
    let pre_level =
        if before.len() > 3 { max_of(pre_frames(), |f| f.level_db) } else { background };
    let pre_low =
        max_of(pre_frames(), |f| f.band_db[LOW]).max(low_background.min(after[0].band_db[LOW]));

    // Peak within 0.5 s of the onset.
    let search = after.len().min(50);
    let (peak, peak_db) = argmax(&after[..search], |f| f.level_db);
    let (low_peak_at, low_peak) = argmax(&after[..search], |f| f.band_db[LOW]);
    // The rises are measured over the first 100 ms: a later, louder sound in the same
    // half-second must not be credited to this onset.
    let early = &after[..after.len().min(10)];
    let early_level = max_of(early.iter(), |f| f.level_db);
    let early_low = max_of(early.iter(), |f| f.band_db[LOW]);

    // Tail: first frame after the peak below max(peak - 20 dB, background + 3 dB), held for
    // 50 ms so a single quiet frame does not end it.
    let floor_db = (peak_db - 20.0).max(background + 3.0);
    let end = tail_end(after, peak, |f| f.level_db < floor_db);
    let low_floor = (low_peak - 20.0).max(low_background + 10.0).min(low_peak);
    let low_end = tail_end(after, low_peak_at, |f| f.band_db[LOW] < low_floor);

    let share = |range: std::ops::Range<usize>, band: usize| -> f32 {
        let range = range.start.min(after.len())..range.end.min(after.len());
        let (mut b, mut t) = (0.0f32, 0.0f32);
        for f in &after[range] {
            b += f.band_power[band];
            t += f.level_power;
        }
        if t > 0.0 {
            (b / t).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };

    let features = Features {
        snr_db: peak_db - background,
        jump_db: early_level - pre_level,
        flux_db: after[0].flux_db,
        rise_s: secs(
            after[..search].iter().position(|f| f.level_db >= peak_db - 3.0).unwrap_or(peak),
        ),
        tail_s: secs(end.saturating_sub(peak)),
        low_tail_s: secs(low_end),
        low_share: share(0..30, LOW),
        low_share_tail: share(30..150, LOW),
        high_share: share(0..5, HIGH),
        low_jump_db: early_low - pre_low,
    };
    (features, Extent { peak, end })
}

/// Largest value of `value` over `frames` (`f32::MIN` when there are none).
fn max_of<'a>(frames: impl Iterator<Item = &'a Frame>, value: impl Fn(&Frame) -> f32) -> f32 {
    frames.map(value).fold(f32::MIN, f32::max)
}

/// Index and value of the first largest `value` over `frames` (0 and `f32::MIN` if empty).
fn argmax(frames: &[Frame], value: impl Fn(&Frame) -> f32) -> (usize, f32) {
    frames
        .iter()
        .map(value)
        .enumerate()
        .fold((0, f32::MIN), |acc, (i, v)| if v > acc.1 { (i, v) } else { acc })
}

/// First frame at or after `from` where `quiet` holds for 5 frames in a row (or the end).
fn tail_end(frames: &[Frame], from: usize, quiet: impl Fn(&Frame) -> bool) -> usize {
    let mut run = 0;
    for (i, f) in frames.iter().enumerate().skip(from) {
        if quiet(f) {
            run += 1;
            if run == 5 {
                return i + 1 - run;
            }
        } else {
            run = 0;
        }
    }
    frames.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_medians_of_the_network_are_those_of_the_selection() {
        let mut state = 99u32;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            // Coarse values, so ties are common, with negative and positive dB.
            ((state >> 20) % 200) as f32 * 0.5 - 60.0
        };
        let network = median_network();
        assert!(network.len() < 1471, "pruned below the full network's 1471: {}", network.len());
        for _ in 0..50 {
            let frames: Vec<Frame> = (0..BACKGROUND_FRAMES + 10)
                .map(|_| Frame::with_sub_db(std::array::from_fn(|_| next())))
                .collect();
            let onset = frames.len() - 7;
            let fast = band_background(&frames, onset, &mut Vec::new());
            for (b, &got) in fast.iter().enumerate() {
                let second = frames[..onset].iter().rev().skip(3).take(100).map(|f| f.sub_db[b]);
                let want = median(second, &mut Vec::new()).expect("values");
                assert_eq!(got.to_bits(), want.to_bits(), "band {b}");
            }
        }
    }

    /// The AVX2 builds of `profile` and `patch` give the portable builds' bits.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_builds_match_the_portable_ones_to_the_bit() {
        assert!(std::arch::is_x86_feature_detected!("avx2"), "this test needs an AVX2 CPU");
        let mut state = 5u32;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / 65_536.0 * 0.8 - 120.0
        };
        let frames: Vec<Frame> =
            (0..600).map(|_| Frame::with_sub_db(std::array::from_fn(|_| next()))).collect();
        for onset in [0, 1, 130, 300, 599] {
            let background = band_background(&frames, onset, &mut Vec::new());
            // SAFETY: AVX2 was asserted above.
            let (vector, portable) = unsafe {
                (
                    profile_avx2(&frames, onset, &background),
                    profile_portable(&frames, onset, &background),
                )
            };
            assert_eq!(
                vector.0.map(f32::to_bits),
                portable.0.map(f32::to_bits),
                "profile at {onset}"
            );
            // SAFETY: as above.
            let (vector, portable) = unsafe {
                (
                    patch_avx2(&frames, onset, &background),
                    patch_portable(&frames, onset, &background),
                )
            };
            assert!(
                vector.iter().zip(portable.iter()).all(|(a, b)| a.to_bits() == b.to_bits()),
                "patch at {onset}"
            );
        }
    }

    #[test]
    fn the_median_is_the_middle_value_in_total_order() {
        let mut state = 7u32;
        let mut values: Vec<f32> = (0..101)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / 65_536.0 - 128.0
            })
            .collect();
        values.extend([-0.0, 0.0, f32::NEG_INFINITY, -1e-30]);
        for n in [1, 2, 3, 50, values.len()] {
            let mut sorted = values[..n].to_vec();
            sorted.sort_by(f32::total_cmp);
            let got = median(values[..n].iter().copied(), &mut Vec::new());
            assert_eq!(got.map(f32::to_bits), Some(sorted[n / 2].to_bits()), "n = {n}");
        }
        assert_eq!(median(std::iter::empty(), &mut Vec::new()), None);
    }

    #[test]
    fn a_patch_is_each_band_over_its_background_in_20_ms_steps_around_the_onset() {
        // 0.5 s of frames at -60 dB, then band 3 jumps to -30 dB and band 5 to +40 dB
        // (past the clamp) from the onset on; the recording starts 0.5 s before the onset,
        // so the patch's first 0.7 s lie before it.
        let onset = 50;
        let frames: Vec<Frame> = (0..300)
            .map(|i| {
                let mut sub_db = [-60.0; SUB_BANDS];
                if i >= onset {
                    sub_db[3] = -30.0;
                    sub_db[5] = 40.0;
                }
                Frame::with_sub_db(sub_db)
            })
            .collect();
        let background = band_background(&frames, onset, &mut Vec::new());
        let p = patch(&frames, onset, &background);
        let at = |t: usize, band: usize| p[t * SUB_BANDS + band];
        let onset_step = PATCH_BEFORE / PATCH_STEP_FRAMES;
        for t in 0..PATCH_STEPS {
            for band in 0..SUB_BANDS {
                let want = match (t >= onset_step, band) {
                    (true, 3) => 30.0 / 20.0,
                    (true, 5) => 60.0 / 20.0,
                    _ => 0.0,
                };
                assert!((at(t, band) - want).abs() < 1e-3, "step {t} band {band}: {}", at(t, band));
            }
        }
    }
}
