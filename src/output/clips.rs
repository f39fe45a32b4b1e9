//! Audio clips around detections: cut from the original recording at its source rate
//! (mono), with short fades, written as 16-bit WAV (hound), plus `clips.csv`.
//!
//! Clip names sort by date and say where they come from:
//! `2018-12-31T23-14-02_PTT-20181231-WA0012_at_0003.09s.wav` (estimated wall-clock time
//! of the peak, or `undated`; the recording's name, see [`recording_name`]; the peak's
//! offset). Names are built from untrusted file names, so they keep only letters, digits, `-`, `_` and `.`,
//! never start with a dot, and are joined to the output folder as a single component.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic::write_atomic;
use crate::batch::pipeline;
use crate::detect::decode::Decoder;
use crate::detect::{Detection, Label};
use crate::error::{AudioUnavailable, Error, FileError};
use crate::index::{Index, Recording};
use crate::output::row::spreadsheet_safe;

/// Fade-in and fade-out length, seconds (removes clicks at the cut points).
pub const FADE_S: f64 = 0.01;

/// Mono audio cut from a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Samples in -1..1.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Time of the first sample in the recording, seconds.
    pub start_s: f64,
}

/// Cuts several time ranges (`from_s..to_s`, clamped to the recording) from one recording
/// in a single decoding pass; decoding stops after the last range.
pub fn read_spans(path: &Path, ranges: &[(f64, f64)]) -> Result<Vec<Span>, FileError> {
    let mut decoder = Decoder::open(path)?;
    let mut spans: Vec<Span> = ranges
        .iter()
        .map(|&(from, _)| Span { samples: Vec::new(), rate: 0, start_s: from.max(0.0) })
        .collect();
    let last_end = ranges.iter().map(|r| r.1).fold(0.0f64, f64::max);
    let mut chunk = Vec::new();
    let mut position = 0u64;
    while decoder.next_chunk(&mut chunk)? {
        let rate = decoder.info().sample_rate.max(1);
        let chunk_start = position;
        position += chunk.len() as u64;
        for (span, &(from, to)) in spans.iter_mut().zip(ranges) {
            span.rate = rate;
            let a = (from.max(0.0) * f64::from(rate)) as u64;
            let b = (to.max(0.0) * f64::from(rate)) as u64;
            let lo = a.max(chunk_start);
            let hi = b.min(position);
            if lo < hi {
                span.samples.extend_from_slice(
                    &chunk[(lo - chunk_start) as usize..(hi - chunk_start) as usize],
                );
            }
        }
        if position as f64 / f64::from(rate) > last_end {
            break;
        }
    }
    Ok(spans)
}

/// Applies linear fades of [`FADE_S`] at both ends.
pub fn fade(samples: &mut [f32], rate: u32) {
    let n = ((FADE_S * f64::from(rate)) as usize).min(samples.len() / 2);
    for i in 0..n {
        let g = i as f32 / n as f32;
        samples[i] *= g;
        let j = samples.len() - 1 - i;
        samples[j] *= g;
    }
}

/// 16-bit mono WAV bytes.
pub fn wav_bytes(samples: &[f32], rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate.max(1),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    // Writing to memory fails only on absurd sizes (over 4 GiB); the clip is then empty.
    if let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) {
        for &s in samples {
            let _ = w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16);
        }
        let _ = w.finalize();
    }
    cursor.into_inner()
}

/// Keeps letters, digits, `-`, `_` and `.`; everything else becomes `_`. At most 60
/// characters, never empty, never starting with a dot.
pub fn sanitise(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(60)
        .collect();
    while out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// A recording's name for output files: its path inside the scanned folder, without
/// extension, each part sanitised, folders joined with `__` (unique where paths are).
pub fn recording_name(rec: &Recording) -> String {
    let without_ext = Path::new(&rec.path).with_extension("");
    let parts: Vec<String> = without_ext
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(sanitise(&p.to_string_lossy())),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        "recording".into()
    } else {
        parts.join("__")
    }
}

/// Output names for every recording of an index, by path: [`recording_name`], made
/// unique where two recordings would share one (`note.opus` and `note.flac` become
/// `note_opus` and `note_flac`; a numbered suffix settles any name still shared), so no
/// output file is written twice.
pub fn recording_names(recordings: &[Recording]) -> BTreeMap<String, String> {
    let mut by_name: BTreeMap<String, Vec<&Recording>> = BTreeMap::new();
    for rec in recordings {
        by_name.entry(recording_name(rec)).or_default().push(rec);
    }
    let mut names = BTreeMap::new();
    let mut taken: BTreeSet<String> =
        by_name.iter().filter(|(_, r)| r.len() == 1).map(|(n, _)| n.clone()).collect();
    for (name, recs) in by_name {
        if recs.len() == 1 {
            names.insert(recs[0].path.clone(), name);
            continue;
        }
        for rec in recs {
            let mut unique = format!("{name}_{}", ext_or_empty(&rec.path));
            let mut n = 2;
            while taken.contains(&unique) {
                unique = format!("{name}_{}_{n}", ext_or_empty(&rec.path));
                n += 1;
            }
            taken.insert(unique.clone());
            names.insert(rec.path.clone(), unique);
        }
    }
    names
}

fn ext_or_empty(path: &str) -> String {
    Path::new(path).extension().map(|e| sanitise(&e.to_string_lossy())).unwrap_or_default()
}

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

/// Which detections an export includes: those at or above `min_confidence`, or, without
/// one, those labelled `explosion`.
pub fn selected(d: &Detection, min_confidence: Option<f32>) -> bool {
    match min_confidence {
        Some(min) => d.confidence >= min,
        None => d.label == Label::Explosion,
    }
}

/// One row of `clips.csv`.
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
    /// The transcript around the peak.
    pub transcript_text: String,
}

/// What [`write_clips`] did.
#[derive(Debug, Default)]
pub struct ClipsOutcome {
    /// Clips written.
    pub rows: Vec<ClipRow>,
    /// Recordings whose clips could not be cut, with the reason.
    pub failures: Vec<(String, AudioUnavailable)>,
}

/// Where a recording's audio is: the path recorded at scan time.
pub fn source_of(rec: &Recording) -> Result<PathBuf, AudioUnavailable> {
    let path = rec.source.as_deref().map(PathBuf::from).ok_or(AudioUnavailable::NotRecorded)?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(AudioUnavailable::Moved(path))
    }
}

/// Cuts and writes one recording's clips; returns their rows, or why its audio could not
/// be read.
fn cut_clips(
    rec: &Recording,
    name: &str,
    dir: &Path,
    pad_s: f64,
    min_confidence: Option<f32>,
) -> Result<Result<Vec<ClipRow>, AudioUnavailable>, Error> {
    let picked: Vec<&Detection> =
        rec.detections.iter().filter(|d| selected(d, min_confidence)).collect();
    let ranges: Vec<(f64, f64)> = picked
        .iter()
        .map(|d| ((d.start_s - pad_s).max(0.0), (d.end_s + pad_s).min(rec.duration_s)))
        .collect();
    let spans = match spans_of(rec, &ranges) {
        Ok(spans) => spans,
        Err(why) => return Ok(Err(why)),
    };
    let ms = |s: f64| (s * 1000.0).round() / 1000.0;
    let mut rows = Vec::with_capacity(picked.len());
    for ((d, mut span), (from, _)) in picked.into_iter().zip(spans).zip(ranges) {
        fade(&mut span.samples, span.rate);
        let name = clip_name(name, rec, d);
        write_atomic(&dir.join(&name), &wav_bytes(&span.samples, span.rate))?;
        rows.push(ClipRow {
            clip: name,
            file: rec.path.clone(),
            clip_start_s: ms(from),
            clip_end_s: ms(from + span.samples.len() as f64 / f64::from(span.rate.max(1))),
            start_s: ms(d.start_s),
            peak_s: ms(d.peak_s),
            confidence: (d.confidence * 1000.0).round() / 1000.0,
            sent_at: rec.sent_at.clone().unwrap_or_default(),
            wall_clock_estimate: d.wall_clock_estimate.clone().unwrap_or_default(),
            transcript_text: d.transcript.as_ref().map(|t| t.text.clone()).unwrap_or_default(),
        });
    }
    Ok(Ok(rows))
}

/// Cuts `ranges` from a recording found at its [`source_of`] path; the error says, in
/// words, why the audio could not be read.
pub fn spans_of(rec: &Recording, ranges: &[(f64, f64)]) -> Result<Vec<Span>, AudioUnavailable> {
    source_of(rec).and_then(|p| Ok(read_spans(&p, ranges)?))
}

/// Writes one clip per selected detection (`pad_s` before the onset and after the tail)
/// into `dir`, and `dir/clips.csv`, recordings in parallel. A recording that cannot be
/// read is reported and skipped.
pub fn write_clips(
    index: &Index,
    dir: &Path,
    pad_s: f64,
    min_confidence: Option<f32>,
    progress: bool,
) -> Result<ClipsOutcome, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.into(), source })?;
    let picked: Vec<&Recording> = index
        .recordings
        .iter()
        .filter(|r| r.detections.iter().any(|d| selected(d, min_confidence)))
        .collect();
    let names = recording_names(&index.recordings);
    let made = pipeline::par_map(&picked, "clips", progress, |rec| {
        let name = names.get(&rec.path).map_or("recording", String::as_str);
        cut_clips(rec, name, dir, pad_s, min_confidence)
    });
    let mut outcome = ClipsOutcome::default();
    for (rec, made) in picked.into_iter().zip(made) {
        match made? {
            Ok(rows) => outcome.rows.extend(rows),
            Err(why) => outcome.failures.push((rec.path.clone(), why)),
        }
    }
    outcome.rows.sort_by(|a, b| a.clip.cmp(&b.clip));
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in &outcome.rows {
        let safe = ClipRow {
            file: spreadsheet_safe(&row.file),
            transcript_text: spreadsheet_safe(&row.transcript_text),
            ..row.clone()
        };
        let _ = w.serialize(safe);
    }
    let bytes = w.into_inner().unwrap_or_default();
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
