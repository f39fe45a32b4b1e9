//! Audio clips around detections: cut from the original recording at its source rate
//! (mono), with short fades, written as 16-bit WAV (hound), plus `clips.csv`.
//!
//! Clip names sort by date and say where they come from:
//! `2018-12-31T23-14-02_PTT-20181231-WA0012_at_0003.09s.wav` (estimated wall-clock time
//! of the peak, or `undated`; the recording's name, see [`crate::output::names::recording_name`]; the peak's
//! offset). Names are built from untrusted file names, so they keep only letters, digits, `-`, `_` and `.`,
//! never start with a dot, and are joined to the output folder as a single component.

use std::path::Path;

use serde::Serialize;

use crate::atomic::write_atomic;
use crate::batch::pipeline;
use crate::detect::Detection;
use crate::error::{AudioUnavailable, Error};
use crate::index::{Index, Recording};
use crate::output::audio::{fade, spans_of, wav_bytes};
use crate::output::names::{recording_names, sanitise};
use crate::output::row::selected;
use crate::output::row::{round, DetectionRow};

/// The file name of a detection's clip (see the module doc); `name` is the recording's
/// name from [`recording_names`].
pub fn clip_name(name: &str, rec: &Recording, d: &Detection) -> String {
    let when = d
        .wall_clock_estimate
        .as_deref()
        .or(rec.sent_at.as_deref())
        .map(|t| sanitise(&t.replace(':', "-")))
        .unwrap_or_else(|| "undated".into());
    format!("{when}_{name}_at_{:07.2}s.wav", d.peak_s)
}

/// One row of `clips.csv`: the clip, where it lies in the recording, and the detection's
/// fields from its [`DetectionRow`] (spreadsheet-safe, [`DetectionRow::defused`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipRow {
    /// Clip file name, inside the clips folder.
    pub clip: String,
    /// The recording, as in the index.
    pub file: String,
    /// Where the clip starts in the recording, seconds.
    pub clip_start_s: f64,
    /// Where the clip ends in the recording, seconds.
    pub clip_end_s: f64,
    /// The detection's onset, seconds.
    pub start_s: f64,
    /// The detection's peak, seconds.
    pub peak_s: f64,
    /// The detection's confidence.
    pub confidence: f32,
    /// When the recording was sent.
    pub sent_at: String,
    /// Estimated wall-clock time of the peak.
    pub wall_clock_estimate: String,
    /// The incident the blast belongs to, if any.
    pub incident: String,
    /// The transcript around the peak.
    pub transcript_text: String,
}

impl ClipRow {
    /// The row of a clip named `clip` covering `from_s..to_s` of the detection in `row`.
    pub fn new(clip: String, (from_s, to_s): (f64, f64), row: &DetectionRow) -> Self {
        let row = row.defused();
        ClipRow {
            clip,
            file: row.file,
            clip_start_s: round(from_s, 3),
            clip_end_s: round(to_s, 3),
            start_s: row.start_s,
            peak_s: row.peak_s,
            confidence: row.confidence,
            sent_at: row.sent_at,
            wall_clock_estimate: row.wall_clock_estimate,
            incident: row.incident,
            transcript_text: row.transcript_text,
        }
    }
}

/// `clips.csv`: a header, then one [`ClipRow`] per clip.
fn clips_csv(rows: &[ClipRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Which clips [`write_clips`] cuts, and how.
#[derive(Debug, Clone, Default)]
pub struct ClipOptions {
    /// Seconds of audio kept before the onset and after the tail.
    pub pad_s: f64,
    /// Detections at or above this confidence; `None`: those labelled `explosion`.
    pub min_confidence: Option<f32>,
    /// Only the blasts of this incident (`Index::incidents`).
    pub incident: Option<String>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl ClipOptions {
    fn picks(&self, d: &Detection) -> bool {
        selected(d, self.min_confidence) && (self.incident.is_none() || d.incident == self.incident)
    }
}

/// What [`write_clips`] did.
#[derive(Debug, Default)]
pub struct ClipsOutcome {
    /// Clips written.
    pub rows: Vec<ClipRow>,
    /// Recordings whose clips could not be cut, with the reason.
    pub failures: Vec<(String, AudioUnavailable)>,
}

/// Cuts and writes one recording's clips; returns their rows, or why its audio could not
/// be read.
fn cut_clips(
    rec: &Recording,
    name: &str,
    dir: &Path,
    opts: &ClipOptions,
) -> Result<Result<Vec<ClipRow>, AudioUnavailable>, Error> {
    let pad_s = opts.pad_s;
    let picked: Vec<&Detection> = rec.detections.iter().filter(|d| opts.picks(d)).collect();
    let ranges: Vec<(f64, f64)> = picked
        .iter()
        .map(|d| ((d.start_s - pad_s).max(0.0), (d.end_s + pad_s).min(rec.duration_s)))
        .collect();
    let spans = match spans_of(rec, &ranges) {
        Ok(spans) => spans,
        Err(why) => return Ok(Err(why)),
    };
    let mut rows = Vec::with_capacity(picked.len());
    for ((d, mut span), (from, _)) in picked.into_iter().zip(spans).zip(ranges) {
        fade(&mut span.samples, span.rate);
        let name = clip_name(name, rec, d);
        write_atomic(&dir.join(&name), &wav_bytes(&span.samples, span.rate)?)?;
        let to = from + span.samples.len() as f64 / f64::from(span.rate.max(1));
        rows.push(ClipRow::new(name, (from, to), &DetectionRow::new(rec, d)));
    }
    Ok(Ok(rows))
}

/// Writes one clip per selected detection (`pad_s` before the onset and after the tail)
/// into `dir`, and `dir/clips.csv`, recordings in parallel. A recording that cannot be
/// read is reported and skipped.
pub fn write_clips(index: &Index, dir: &Path, opts: &ClipOptions) -> Result<ClipsOutcome, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.into(), source })?;
    let picked: Vec<&Recording> =
        index.recordings.iter().filter(|r| r.detections.iter().any(|d| opts.picks(d))).collect();
    let names = recording_names(&index.recordings);
    let made = pipeline::par_map(&picked, "clips", opts.progress, |rec| {
        let name = names.get(&rec.path).map_or("recording", String::as_str);
        cut_clips(rec, name, dir, opts)
    });
    let mut outcome = ClipsOutcome::default();
    for (rec, made) in picked.into_iter().zip(made) {
        match made? {
            Ok(rows) => outcome.rows.extend(rows),
            Err(why) => outcome.failures.push((rec.path.clone(), why)),
        }
    }
    outcome.rows.sort_by(|a, b| a.clip.cmp(&b.clip));
    let bytes = clips_csv(&outcome.rows)
        .map_err(|e| Error::Serialise { what: "clips.csv", reason: e.to_string() })?;
    write_atomic(&dir.join("clips.csv"), &bytes)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_safe_components() {
        for hostile in
            ["../../etc/passwd", "..", ".hidden", "a/b\\c", "", "x\0y", "\u{202e}exe.wav"]
        {
            let s = sanitise(hostile);
            assert!(!s.is_empty() && !s.starts_with('.'), "{hostile:?} -> {s:?}");
            assert!(!s.contains('/') && !s.contains('\\') && !s.contains('\0'), "{s:?}");
            assert_eq!(Path::new(&s).components().count(), 1, "{s:?}");
        }
        assert_eq!(sanitise("PTT-20181231-WA0012"), "PTT-20181231-WA0012");
        assert_eq!(sanitise("أبو كريم"), "أبو_كريم");
    }

    #[test]
    fn fades_reach_zero_at_both_ends_and_leave_the_middle() {
        let mut x = vec![1.0f32; 1000];
        fade(&mut x, 8000);
        assert_eq!((x[0], x[999]), (0.0, 0.0));
        assert_eq!(x[500], 1.0);
        assert!(x[40] < 0.6 && x[40] > 0.4);
    }
}
