//! The streaming detector: samples in, labelled transients out.
//!
//! `decode` → [`Resampler`] (to 8 kHz) → [`Stft`] (frames) → [`OnsetPicker`] → [`measure`]
//! → [`Model`]. Only a few seconds of frames are kept (the classifier's look-back and
//! look-ahead), so memory does not depend on the recording's length.

pub mod amr;
pub mod classify;
pub mod decode;
pub mod features;
pub mod iso;
pub mod model;
pub mod network;
pub mod onset;
pub mod opus;
pub mod pcm;
pub mod resample;
pub mod salvage;
pub mod sniff;
pub mod stft;

use std::collections::VecDeque;

use crate::detect::classify::Model;
use crate::detect::features::{
    band_background, measure, model_inputs, patch, profile, INPUTS, LOOKAHEAD, LOOKBACK, PATCH_LEN,
};
use crate::detect::onset::OnsetPicker;
use crate::detect::resample::Resampler;
use crate::detect::stft::{frame_time_s, Frame, Stft, HOP_S};
pub use crate::index::{Detection, DetectorParams, Label};

/// A reported transient with what the model saw of it. The detector hands these out
/// only when asked ([`Detector::keeping_model_inputs`], for training); otherwise it keeps
/// them only until the event is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The transient as the index stores it.
    pub detection: Detection,
    /// The model's inputs ([`crate::detect::features::model_inputs`]).
    pub inputs: Option<Box<[f32; INPUTS]>>,
    /// The log-band patch around the onset ([`crate::detect::features::patch`]), measured for an
    /// onset that stood for its cluster when the model has a network or inputs are kept.
    pub patch: Option<Box<[f32; PATCH_LEN]>>,
}

/// How strongly a transient stands out from what came just before it, over the whole
/// spectrum and in the low band: the onset of a cluster that best captures the event.
fn rise_strength(c: &Candidate) -> f32 {
    c.detection.features.jump_db + c.detection.features.low_jump_db
}

/// Streaming detector for one recording.
#[derive(Debug)]
pub struct Detector {
    params: DetectorParams,
    model: Model,
    resampler: Resampler,
    stft: Stft,
    picker: OnsetPicker,
    resampled: Vec<f32>,
    /// Recent frames; `frames[0]` is frame number `first_frame`.
    frames: VecDeque<Frame>,
    first_frame: u64,
    pending: VecDeque<u64>,
    /// Peak |sample| at the source rate per 10 ms block; `native_peaks[0]` is block `first_block`.
    native_peaks: VecDeque<f32>,
    first_block: u64,
    native_rate: u64,
    native_count: u64,
    scratch: Vec<i32>,
    /// The strongest transient of the cluster being gathered; its start anchors the window.
    cluster: Option<Candidate>,
    detections: Vec<Candidate>,
    keep_inputs: bool,
}

/// Onsets closer than this to the strongest onset of a cluster so far are one event: a
/// blast's leading edge, its peak and its echoes give several onset-function peaks, and a
/// speech syllable just before a blast must not take its place. The onset with the largest
/// rise strength (`jump_db + low_jump_db`) stands for it, and the window runs from it, so
/// a weak onset just before a blast does not cut the blast's own echoes off the cluster.
pub const MERGE_S: f64 = 0.5;

/// An onset inside a reported event's tail is a new event only if it peaks at least this
/// much louder than the event, dB.
pub const TAIL_MARGIN_DB: f32 = 0.0;

impl Detector {
    /// A detector for audio at `sample_rate` Hz.
    pub fn new(sample_rate: u32, params: DetectorParams, model: Model) -> Self {
        Detector {
            params,
            model,
            resampler: Resampler::new(sample_rate),
            stft: Stft::new(),
            picker: OnsetPicker::new(params.onset),
            resampled: Vec::with_capacity(8192),
            // Room for four times the history kept, so the ring rarely wraps and
            // `classify` can read the frames around an onset in place.
            frames: VecDeque::with_capacity(4 * (LOOKBACK + LOOKAHEAD)),
            first_frame: 0,
            pending: VecDeque::new(),
            native_peaks: VecDeque::new(),
            first_block: 0,
            native_rate: u64::from(sample_rate.max(1)),
            native_count: 0,
            scratch: Vec::with_capacity(128),
            cluster: None,
            detections: Vec::new(),
            keep_inputs: false,
        }
    }

    /// Keeps each detection's model inputs and patch, for training (see
    /// [`Detector::finish_candidates`]).
    pub fn keeping_model_inputs(mut self) -> Self {
        self.keep_inputs = true;
        self
    }

    /// Feeds the next mono samples at the source rate.
    pub fn push(&mut self, samples: &[f32]) {
        self.track_native_peaks(samples);
        self.resampled.clear();
        self.resampler.process(samples, &mut self.resampled);
        self.analyse_resampled(false);
    }

    /// Ends the stream and returns every reported transient, in time order.
    pub fn finish(self) -> Vec<Detection> {
        self.finish_candidates().into_iter().map(|c| c.detection).collect()
    }

    /// [`Detector::finish`] with what the model saw of each transient (kept only by a
    /// detector made with [`Detector::keeping_model_inputs`]).
    pub fn finish_candidates(mut self) -> Vec<Candidate> {
        self.resampled.clear();
        self.resampler.finish(&mut self.resampled);
        self.analyse_resampled(true);
        while let Some(onset) = self.pending.pop_front() {
            self.classify(onset);
        }
        if let Some(winner) = self.cluster.take() {
            let winner = self.settle(winner);
            self.detections.push(winner);
        }
        self.detections
    }

    fn track_native_peaks(&mut self, mut samples: &[f32]) {
        // Whole 10 ms blocks at a time: one division per block, not per sample.
        while !samples.is_empty() {
            let block = self.native_count * 100 / self.native_rate;
            let block_end = ((block + 1) * self.native_rate).div_ceil(100);
            let take = ((block_end - self.native_count) as usize).clamp(1, samples.len());
            let (head, rest) = samples.split_at(take);
            let peak = peak_abs(head);
            if block >= self.first_block + self.native_peaks.len() as u64 {
                self.native_peaks.push_back(0.0);
            }
            if let Some(p) = self.native_peaks.back_mut() {
                *p = p.max(peak);
            }
            self.native_count += take as u64;
            samples = rest;
        }
    }

    /// Analyses the resampled samples; at the end of the stream (`last`), the STFT's last
    /// frame too.
    fn analyse_resampled(&mut self, last: bool) {
        let Detector { stft, resampled, frames, picker, pending, .. } = self;
        let mut take = |frame: Frame| {
            frames.push_back(frame);
            if let Some(onset) = picker.push(frame.flux_db) {
                pending.push_back(onset);
            }
        };
        stft.process(resampled, &mut take);
        if last {
            stft.finish(take);
        }
        let last = self.first_frame + self.frames.len() as u64;
        while let Some(&onset) = self.pending.front() {
            // `classify` reads frames up to and including onset + LOOKAHEAD: wait for all of
            // them, or the window (and the measured tail) would depend on where the decoder's
            // packets happen to end.
            if onset + LOOKAHEAD as u64 >= last {
                break;
            }
            self.pending.pop_front();
            self.classify(onset);
        }
        self.trim_history();
    }

    fn trim_history(&mut self) {
        let keep_from = match self.pending.front() {
            Some(&onset) => onset.saturating_sub(LOOKBACK as u64),
            None => {
                (self.first_frame + self.frames.len() as u64).saturating_sub((LOOKBACK + 16) as u64)
            }
        };
        while self.first_frame < keep_from && !self.frames.is_empty() {
            self.frames.pop_front();
            self.first_frame += 1;
        }
        // Native peaks are kept for the same span (10 ms blocks = frames).
        let keep_block = (frame_time_s(self.first_frame) * 100.0) as u64;
        while self.first_block + 1 < keep_block && self.native_peaks.len() > 1 {
            self.native_peaks.pop_front();
            self.first_block += 1;
        }
    }

    fn classify(&mut self, onset: u64) {
        let from = onset.saturating_sub(LOOKBACK as u64).max(self.first_frame);
        let to = (onset + LOOKAHEAD as u64 + 1).min(self.first_frame + self.frames.len() as u64);
        if onset < self.first_frame || onset >= to {
            return;
        }
        let start = (from - self.first_frame) as usize;
        let end = (to - self.first_frame) as usize;
        // In place: the ring is made contiguous (rarely a copy, see `Detector::new`).
        self.frames.make_contiguous();
        let window = &self.frames.as_slices().0[start..end];
        let at = (onset - from) as usize;
        let (features, extent) = measure(window, at, &mut self.scratch);
        let stands_out = features.snr_db >= self.params.min_snr_db
            || features.low_jump_db >= self.params.min_low_rise_db;
        if !stands_out {
            return;
        }
        let background = band_background(window, at, &mut self.scratch);
        let inputs = model_inputs(&features, &profile(window, at, &background));
        // The model scores each reported event once, when its cluster is settled
        // ([`Detector::settle`]): an onset that loses to a stronger one is never scored.
        // The onset function peaks when the frame's centre reaches the rise; half a hop earlier
        // is the best estimate of where the sound starts.
        let start_s = (frame_time_s(onset) - HOP_S / 2.0).max(0.0);
        let peak_s = frame_time_s(onset + extent.peak as u64);
        let end_s = frame_time_s(onset + extent.end as u64).max(peak_s);
        let (peak, clipped) = self.native_peak_between(start_s, peak_s + 0.25);
        // Times to the microsecond: no float noise (20.531000000000002) in the outputs.
        let us = |t: f64| (t * 1e6).round() / 1e6;
        let detection = Detection {
            start_s: us(start_s),
            end_s: us(end_s),
            peak_s: us(peak_s),
            label: Label::Other,
            confidence: 0.0,
            peak_dbfs: 20.0 * (peak + 1e-9).log10(),
            clipped,
            features,
            wall_clock_estimate: None,
            transcript: None,
            incident: None,
        };
        let candidate = Candidate { detection, inputs: Some(Box::new(inputs)), patch: None };
        // The patch is measured only for an onset that now stands for its cluster.
        if self.gather(candidate) && (self.keep_inputs || self.model.ensemble.is_some()) {
            if let Some(winner) = &mut self.cluster {
                let window = &self.frames.as_slices().0[start..end];
                winner.patch = Some(patch(window, at, &background));
            }
        }
    }

    /// Non-maximum suppression over [`MERGE_S`] clusters, streaming. True if `detection`
    /// now stands for its cluster.
    fn gather(&mut self, candidate: Candidate) -> bool {
        let new = &candidate.detection;
        match &mut self.cluster {
            Some(winner) if new.start_s - winner.detection.start_s < MERGE_S => {
                let stronger = rise_strength(&candidate) > rise_strength(winner);
                if stronger {
                    *winner = candidate;
                }
                stronger
            }
            // Inside the tail of the event just found and no louder: its reverberation or
            // rumble, not a new event.
            Some(winner)
                if new.start_s < winner.detection.end_s
                    && new.peak_dbfs <= winner.detection.peak_dbfs + TAIL_MARGIN_DB =>
            {
                false
            }
            slot => {
                if let Some(done) = slot.replace(candidate) {
                    let done = self.settle(done);
                    self.detections.push(done);
                }
                true
            }
        }
    }

    /// The final confidence and label of a reported event: the whole model, with the
    /// network over its patch if the model has one. Drops the inputs and the patch unless
    /// the detector keeps them for training.
    fn settle(&self, mut c: Candidate) -> Candidate {
        if let Some(x) = &c.inputs {
            let d = &mut c.detection;
            d.confidence = self.model.confidence(x, c.patch.as_deref());
            d.label = Label::for_confidence(d.confidence, self.params.threshold);
        }
        if !self.keep_inputs {
            c.inputs = None;
            c.patch = None;
        }
        c
    }

    /// Largest source-rate sample between two times, and whether it reached full scale.
    fn native_peak_between(&self, from_s: f64, to_s: f64) -> (f32, bool) {
        let a = ((from_s * 100.0) as u64).max(self.first_block);
        let b = (to_s * 100.0).ceil() as u64;
        let peak = (a..=b)
            .filter_map(|blk| self.native_peaks.get((blk - self.first_block) as usize))
            .fold(0.0f32, |m, &p| m.max(p));
        (peak, peak >= 0.999)
    }
}

/// Largest absolute sample (NaN ignored), eight lanes at a time: `f32::max` in a fold is
/// not vectorised (it must order NaNs), a compare-and-select per lane is.
fn peak_abs(samples: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (chunks, rest) = samples.as_chunks::<8>();
    for chunk in chunks {
        for (lane, s) in lanes.iter_mut().zip(chunk) {
            let a = s.abs();
            *lane = if a > *lane { a } else { *lane };
        }
    }
    rest.iter().chain(&lanes).fold(0.0f32, |m, s| m.max(s.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::model::DEFAULT_MODEL;
    use crate::index::Features;
    use crate::synth::{blast, mix, wind, Distance};

    fn transient(start_s: f64, end_s: f64, rise_db: f32, peak_dbfs: f32) -> Candidate {
        let detection = Detection {
            start_s,
            end_s,
            peak_s: start_s + 0.1,
            label: Label::Explosion,
            confidence: 0.5,
            peak_dbfs,
            clipped: false,
            features: Features { jump_db: rise_db, ..Features::default() },
            wall_clock_estimate: None,
            transcript: None,
            incident: None,
        };
        Candidate { detection, inputs: None, patch: None }
    }

    #[test]
    fn the_peak_is_the_largest_magnitude_wherever_it_is() {
        for len in [0usize, 1, 7, 8, 9, 31] {
            for at in 0..len {
                let mut v: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin() * 0.5).collect();
                v[at] = -0.9;
                if len > 2 {
                    v[(at + 1) % len] = f32::NAN;
                }
                assert_eq!(peak_abs(&v), 0.9, "length {len}, peak at {at}");
            }
        }
        assert_eq!(peak_abs(&[]), 0.0);
    }

    #[test]
    fn a_weak_onset_before_a_blast_does_not_split_the_blast() {
        let mut d = Detector::new(8000, DetectorParams::default(), *DEFAULT_MODEL);
        // A faint click, then the blast 0.47 s later, then the blast's own second onset
        // 0.07 s after it: 0.54 s after the click, slightly louder than the first.
        d.gather(transient(25.45, 25.6, 5.0, -20.0));
        d.gather(transient(25.92, 29.7, 25.0, -3.5));
        d.gather(transient(25.99, 29.4, 20.0, -3.1));
        // Later, a separate event after the tail.
        d.gather(transient(31.0, 32.0, 15.0, -10.0));
        let starts: Vec<f64> = d.finish().iter().map(|x| x.start_s).collect();
        assert_eq!(starts, vec![25.92, 31.0]);
    }

    /// Onset times of the transients `params` reports in `samples`.
    fn reported(samples: &[f32], rate: u32, params: DetectorParams) -> Vec<f64> {
        let mut d = Detector::new(rate, params, *DEFAULT_MODEL);
        for chunk in samples.chunks(4096) {
            d.push(chunk);
        }
        d.finish().iter().map(|x| x.start_s).collect()
    }

    #[test]
    fn a_distant_blast_under_a_loud_voice_band_passes_the_gate_by_its_low_band_rise() {
        let rate = 16000;
        let mut track = voiced_hum(rate, 20.0);
        mix(&mut track, &blast(rate, Distance::Distant, 0.2, 2), 10.0, rate);
        let near_blast = |starts: &[f64]| starts.iter().any(|t| (t - 10.0).abs() < 0.1);
        let broadband_only =
            DetectorParams { min_low_rise_db: f32::INFINITY, ..Default::default() };
        assert!(!near_blast(&reported(&track, rate, broadband_only)), "stands out over speech");
        assert!(near_blast(&reported(&track, rate, DetectorParams::default())));
    }

    /// Steady tones at 500 Hz-3 kHz: a loud background with nothing below 250 Hz.
    fn voiced_hum(rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        let tau = std::f32::consts::TAU;
        (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                [500.0f32, 1100.0, 1700.0, 2900.0].iter().map(|f| 0.1 * (tau * f * t).sin()).sum()
            })
            .collect()
    }

    #[test]
    fn a_reported_event_is_scored_by_the_whole_model_over_its_own_patch() {
        let rate = 16000;
        let mut track = voiced_hum(rate, 12.0);
        mix(&mut track, &blast(rate, Distance::Near, 0.5, 5), 6.0, rate);
        let mut d =
            Detector::new(rate, DetectorParams::default(), *DEFAULT_MODEL).keeping_model_inputs();
        d.push(&track);
        let found = d.finish_candidates();
        assert!(found.iter().any(|c| (c.detection.start_s - 6.0).abs() < 0.1), "{found:#?}");
        for c in &found {
            let (x, inputs, patch) = (&c.detection, c.inputs.as_deref(), c.patch.as_deref());
            let inputs = inputs.expect("kept inputs");
            assert!(patch.is_some(), "every reported event has its patch");
            let whole = DEFAULT_MODEL.confidence(inputs, patch);
            assert_eq!(x.confidence, whole, "at {} s", x.start_s);
            assert_eq!(x.label, Label::for_confidence(whole, DetectorParams::default().threshold));
        }
    }

    /// Decoders hand over packets of any size (Symphonia's WAV reader, the direct one,
    /// 960-sample Opus frames): what is reported must not depend on them.
    #[test]
    fn reports_do_not_depend_on_how_the_stream_is_cut() {
        let rate = 16000;
        let mut track = wind(rate, 40.0, 0.01, 9);
        for (at, seed) in [(3.0, 1), (9.5, 2), (30.0, 4)] {
            mix(&mut track, &blast(rate, Distance::Near, 0.6, seed), at, rate);
        }
        // And a burst whose tail outlasts the detector's look-ahead: its measured end is
        // where the look-ahead stops, which must not move with the packet size.
        let mut state = 7u32;
        let long_tail: Vec<f32> = (0..rate as usize * 8)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = state as f32 / u32::MAX as f32 - 0.5;
                noise * (-(i as f32) / rate as f32 / 2.0).exp()
            })
            .collect();
        mix(&mut track, &long_tail, 17.25, rate);
        let run = |chunk: usize| {
            let mut d = Detector::new(rate, DetectorParams::default(), *DEFAULT_MODEL);
            for c in track.chunks(chunk) {
                d.push(c);
            }
            d.finish()
        };
        let whole = run(track.len());
        assert!(whole.len() >= 4, "{whole:#?}");
        for chunk in [37, 960, 1000, 4096, 6000, 65536] {
            assert_eq!(run(chunk), whole, "pushed {chunk} samples at a time");
        }
    }

    #[test]
    fn history_stays_bounded_however_long_the_stream() {
        let rate = 16000;
        let mut minute = wind(rate, 60.0, 0.01, 3);
        mix(&mut minute, &blast(rate, Distance::Near, 0.8, 4), 30.0, rate);
        let mut d = Detector::new(rate, DetectorParams::default(), *DEFAULT_MODEL);
        let mut most = 0;
        for _ in 0..20 {
            for chunk in minute.chunks(960) {
                d.push(chunk);
                most = most.max(d.frames.len()).max(d.native_peaks.len());
            }
        }
        assert!(most <= LOOKBACK + LOOKAHEAD + 64, "kept {most} frames");
        let found = d.finish();
        let blasts = found.iter().filter(|x| x.label == Label::Explosion).count();
        assert_eq!(blasts, 20, "one blast per minute for 20 minutes");
    }
}
