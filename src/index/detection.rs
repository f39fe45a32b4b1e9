//! A detection as the index stores it, and the detector settings stored with it.

use serde::{Deserialize, Serialize};

/// Settings of the whole detector. Stored in the index so a result says how it was made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorParams {
    /// Onset picking.
    pub onset: OnsetParams,
    /// Transients less than this far above the background are not reported at all, dB,
    /// unless their low band rises by at least `min_low_rise_db`. Low on purpose: a blast
    /// that never becomes a candidate cannot be found (0.97 of the training sets' blasts
    /// are candidates at 4.5 and 12 dB, 0.90 at 10 and 16); the classifier rejects the rest.
    pub min_snr_db: f32,
    /// A rise of the low band (30-250 Hz) over its level just before, dB, that reports a
    /// transient however little it stands out over the whole spectrum: a distant blast
    /// under speech is mostly below 250 Hz, where speech has little energy.
    #[serde(default = "default_min_low_rise_db")]
    pub min_low_rise_db: f32,
    /// Confidence at or above which a transient is labelled `explosion`.
    pub threshold: f32,
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams {
            onset: OnsetParams::default(),
            min_snr_db: 4.5,
            min_low_rise_db: default_min_low_rise_db(),
            threshold: 0.3,
        }
    }
}

fn default_min_low_rise_db() -> f32 {
    12.0
}

/// What a transient was judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A probable explosion.
    Explosion,
    /// Another impulsive sound.
    Other,
}

impl Label {
    /// `explosion` at or above `threshold`, `other` below.
    pub fn for_confidence(confidence: f32, threshold: f32) -> Label {
        if confidence >= threshold {
            Label::Explosion
        } else {
            Label::Other
        }
    }

    /// The label as written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Explosion => "explosion",
            Label::Other => "other",
        }
    }
}

/// A transient found in a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Onset time, seconds from the start of the recording.
    pub start_s: f64,
    /// End of the tail, seconds.
    pub end_s: f64,
    /// Time of the loudest frame, seconds.
    pub peak_s: f64,
    /// `explosion` or `other`.
    pub label: Label,
    /// Probability of an explosion, 0..1.
    pub confidence: f32,
    /// Peak sample level near the peak, dB re full scale (at the source rate).
    pub peak_dbfs: f32,
    /// True if samples near the peak reach full scale (the microphone or codec clipped).
    pub clipped: bool,
    /// The measurements the confidence was computed from.
    pub features: Features,
    /// Estimated wall-clock time of the peak (ISO 8601), from the recording's `sent_at`,
    /// its duration and `peak_s`; an estimate: phones' clocks and send delays vary.
    #[serde(default)]
    pub wall_clock_estimate: Option<String>,
    /// What was being said around the peak.
    #[serde(default)]
    pub transcript: Option<TranscriptLink>,
    /// The incident this blast belongs to (`Index::incidents`); `None` unless labelled
    /// `explosion`.
    #[serde(default)]
    pub incident: Option<String>,
}

/// Settings of the picker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnsetParams {
    /// Margin above the moving median, in dB of mean sub-band rise.
    pub delta_db: f32,
    /// Absolute floor on the onset function, in dB.
    pub min_flux_db: f32,
    /// Minimum time between two onsets, in seconds.
    pub min_gap_s: f32,
}

impl Default for OnsetParams {
    fn default() -> Self {
        OnsetParams { delta_db: 1.5, min_flux_db: 3.0, min_gap_s: 0.05 }
    }
}

/// Measurements of one transient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Features {
    /// Peak level over the median level of the preceding second, dB.
    pub snr_db: f32,
    /// Level over the first 100 ms over the level just before the onset (30-80 ms earlier), dB.
    pub jump_db: f32,
    /// Onset detection function at the onset, dB.
    pub flux_db: f32,
    /// Onset to the first frame within 3 dB of the peak level, seconds. (Not to the peak
    /// itself: two nearly equal maxima would make that jump with the codec.)
    pub rise_s: f32,
    /// Peak to 20 dB down (or back to the background), seconds.
    pub tail_s: f32,
    /// Time the low band stays 10 dB above its background after the onset, seconds.
    pub low_tail_s: f32,
    /// Share of energy below 250 Hz over the first 300 ms.
    pub low_share: f32,
    /// Share of energy below 250 Hz from 0.3 s to 1.5 s after the onset.
    pub low_share_tail: f32,
    /// Share of energy above 2 kHz over the first 50 ms.
    pub high_share: f32,
    /// Rise of the low band (30-250 Hz) in the first 100 ms over its level before, dB.
    pub low_jump_db: f32,
}

/// The transcript around one moment of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TranscriptLink {
    /// The segment containing the moment, or the nearest one within
    /// [`crate::link::transcript::NEAREST_WITHIN_S`]; the whole text for an untimed transcript.
    pub text: String,
    /// Seconds between the moment and that segment (0 when it contains it; absent for an
    /// untimed transcript).
    pub gap_s: Option<f64>,
    /// The segment just before (empty if none).
    pub context_before: String,
    /// The segment just after (empty if none).
    pub context_after: String,
}
