//! Onset picking: adaptive threshold and peak picking on the onset detection function.
//!
//! The classic order (aubio `aubio_onset_do`; Bello et al. 2005 §4): a frame is an onset
//! when its flux is a local maximum within ±[`PEAK_RADIUS`] frames, exceeds the moving
//! median of the preceding second by `delta_db`, exceeds an absolute floor `min_flux_db`,
//! and lies at least `min_gap_s` after the previous onset. The median looks back only, so
//! the picker streams with a delay of [`PEAK_RADIUS`] frames.

use std::collections::VecDeque;

use crate::detect::stft::FRAMES_PER_S;
use crate::index::OnsetParams;

/// Frames on each side that a peak must dominate (30 ms, librosa's `pre_max`/`post_max`).
pub const PEAK_RADIUS: usize = 3;
/// Length of the median window, in frames (1 s).
const MEDIAN_FRAMES: usize = 100;
/// The median is refreshed every this many frames (it moves slowly; this saves time).
const MEDIAN_EVERY: u64 = 10;

/// Streaming peak picker over the onset function.
#[derive(Debug)]
pub struct OnsetPicker {
    params: OnsetParams,
    /// Recent flux values; `recent[i]` is frame `next - recent.len() + i`.
    recent: VecDeque<f32>,
    next: u64,
    median: f32,
    sort_buf: Vec<f32>,
    last_onset: Option<u64>,
}

impl OnsetPicker {
    /// A picker with `params`.
    pub fn new(params: OnsetParams) -> Self {
        OnsetPicker {
            params,
            recent: VecDeque::with_capacity(MEDIAN_FRAMES + 2 * PEAK_RADIUS + 2),
            next: 0,
            median: 0.0,
            sort_buf: Vec::with_capacity(MEDIAN_FRAMES),
            last_onset: None,
        }
    }

    /// Feeds the flux of the next frame; returns the index of an onset frame if the frame
    /// [`PEAK_RADIUS`] frames back is one.
    pub fn push(&mut self, flux_db: f32) -> Option<u64> {
        self.recent.push_back(flux_db);
        self.next += 1;
        let capacity = MEDIAN_FRAMES + 2 * PEAK_RADIUS + 1;
        if self.recent.len() > capacity {
            self.recent.pop_front();
        }
        if self.next.is_multiple_of(MEDIAN_EVERY) {
            self.refresh_median();
        }
        let len = self.recent.len();
        if len < 2 * PEAK_RADIUS + 1 {
            return None;
        }
        let centre = len - 1 - PEAK_RADIUS;
        let value = self.recent[centre];
        let frame = self.next - 1 - PEAK_RADIUS as u64;
        let neighbours = (centre - PEAK_RADIUS..=centre + PEAK_RADIUS).filter(|&i| i != centre);
        // Ties resolve to the earliest frame: strictly greater than those before.
        let is_peak = neighbours.map(|i| (i, self.recent[i])).all(|(i, v)| {
            if i < centre {
                value > v
            } else {
                value >= v
            }
        });
        let min_gap = (self.params.min_gap_s as f64 * FRAMES_PER_S).round() as u64;
        let gap_ok = self.last_onset.is_none_or(|last| frame >= last + min_gap);
        if is_peak
            && value >= self.params.min_flux_db
            && value >= self.median + self.params.delta_db
            && gap_ok
        {
            self.last_onset = Some(frame);
            return Some(frame);
        }
        None
    }

    fn refresh_median(&mut self) {
        // The window ends before the frames still under test, so a peak does not raise
        // its own threshold.
        let end = self.recent.len().saturating_sub(2 * PEAK_RADIUS + 1);
        self.sort_buf.clear();
        self.sort_buf.extend(self.recent.iter().take(end));
        if self.sort_buf.is_empty() {
            return;
        }
        let mid = self.sort_buf.len() / 2;
        let (_, m, _) = self.sort_buf.select_nth_unstable_by(mid, f32::total_cmp);
        self.median = *m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_isolated_peaks_above_the_median_and_respects_the_gap() {
        let mut flux = vec![0.5f32; 400];
        flux[150] = 10.0;
        flux[154] = 12.0; // a peak of its own, but within 0.05 s of 150: suppressed
        flux[300] = 2.0; // below the absolute floor
        flux[350] = 6.0;
        let mut picker = OnsetPicker::new(OnsetParams::default());
        let onsets: Vec<u64> = flux.iter().filter_map(|&f| picker.push(f)).collect();
        assert_eq!(onsets, vec![150, 350]);
    }

    #[test]
    fn steady_flux_gives_nothing() {
        let mut picker = OnsetPicker::new(OnsetParams::default());
        assert!((0..1000).filter_map(|_| picker.push(4.0)).next().is_none());
    }
}
