//! Label tracks and subtitles, so producers jump straight to the blasts in their tools:
//!
//! * Audacity label track (`File > Import > Labels`): `start<TAB>end<TAB>label`, seconds.
//! * Raven selection table (Cornell's Raven Pro/Lite, `File > Open Selection Table`):
//!   tab-separated, with its standard columns.
//! * SubRip (`.srt`) and WebVTT (`.vtt`) subtitles of the detections, shown while playing
//!   (VLC loads a subtitle file with the recording's name from the same folder).
//!
//! One set per recording with at least one selected detection, named after the recording
//! (its path inside the scanned folder, sanitised, folders joined with `__`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::detect::Detection;
use crate::error::Error;
use crate::index::Index;
use crate::output::names::recording_names;
use crate::output::row::selected;

/// Subtitles stay on screen at least this long, seconds.
const MIN_CUE_S: f64 = 2.0;

/// Audacity label track.
pub fn audacity(dets: &[&Detection]) -> String {
    let mut out = String::new();
    for d in dets {
        let _ = write!(
            out,
            "{:.6}\t{:.6}\t{} {:.2}",
            d.start_s,
            d.end_s.max(d.start_s),
            d.label.as_str(),
            d.confidence
        );
        match &d.incident {
            Some(id) => {
                let _ = writeln!(out, " {id}");
            }
            None => out.push('\n'),
        }
    }
    out
}

/// Raven selection table.
pub fn raven(dets: &[&Detection]) -> String {
    let mut out = String::from(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tLabel\tConfidence\n",
    );
    for (i, d) in dets.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}\tSpectrogram 1\t1\t{:.3}\t{:.3}\t0\t4000\t{}\t{:.3}",
            i + 1,
            d.start_s,
            d.end_s.max(d.start_s),
            d.label.as_str(),
            d.confidence
        );
    }
    out
}

fn clock(seconds: f64, decimal: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{decimal}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn cue_text(d: &Detection) -> String {
    let mut text = format!("{} (confidence {:.2})", d.label.as_str(), d.confidence);
    if let Some(id) = &d.incident {
        let _ = write!(text, ", incident {id}");
    }
    if let Some(wall) = &d.wall_clock_estimate {
        let _ = write!(text, " about {wall}");
    }
    text
}

/// SubRip subtitles.
pub fn srt(dets: &[&Detection]) -> String {
    let mut out = String::new();
    for (i, d) in dets.iter().enumerate() {
        let end = d.end_s.max(d.start_s + MIN_CUE_S);
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(d.start_s, ','),
            clock(end, ','),
            cue_text(d)
        );
    }
    out
}

/// WebVTT subtitles.
pub fn vtt(dets: &[&Detection]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for d in dets {
        let end = d.end_s.max(d.start_s + MIN_CUE_S);
        let _ =
            write!(out, "{} --> {}\n{}\n\n", clock(d.start_s, '.'), clock(end, '.'), cue_text(d));
    }
    out
}

/// Writes the four files per recording into `dir`; returns the files written.
pub fn write_tracks(
    index: &Index,
    dir: &Path,
    min_confidence: Option<f32>,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.into(), source })?;
    let mut written = Vec::new();
    let names = recording_names(&index.recordings);
    for rec in &index.recordings {
        let dets: Vec<&Detection> =
            rec.detections.iter().filter(|d| selected(d, min_confidence)).collect();
        if dets.is_empty() {
            continue;
        }
        let base = names.get(&rec.path).map_or("recording", String::as_str);
        for (suffix, text) in [
            ("audacity.txt", audacity(&dets)),
            ("raven.txt", raven(&dets)),
            ("srt", srt(&dets)),
            ("vtt", vtt(&dets)),
        ] {
            let path = dir.join(format!("{base}.{suffix}"));
            write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Features, Label, Recording};
    use crate::output::names::recording_name;

    fn rec(path: &str) -> Recording {
        Recording { path: path.into(), ..Recording::default() }
    }

    #[test]
    fn same_stem_recordings_get_distinct_names() {
        let recs = [rec("note.opus"), rec("note.flac"), rec("a/b.wav"), rec("a__b.wav")];
        let names = recording_names(&recs);
        let mut all: Vec<&String> = names.values().collect();
        assert_eq!(names["note.opus"], "note_opus");
        assert_eq!(names["note.flac"], "note_flac");
        all.sort();
        all.dedup();
        assert_eq!(all.len(), recs.len(), "{names:?}");
    }

    #[test]
    fn base_names_flatten_folders_and_stay_inside() {
        assert_eq!(recording_name(&rec("night 2/PTT-1.opus")), "night_2__PTT-1");
        assert_eq!(recording_name(&rec("../../etc/passwd")), "etc__passwd", "parent steps dropped");
        assert_eq!(recording_name(&rec("/abs/x.wav")), "abs__x");
        assert!(!recording_name(&rec("..")).contains(".."));
    }

    #[test]
    fn clock_formats() {
        assert_eq!(clock(3723.4567, ','), "01:02:03,457");
        assert_eq!(clock(0.0, '.'), "00:00:00.000");
    }

    #[test]
    fn a_blast_of_an_incident_names_it_in_the_label_and_the_subtitle() {
        let d = Detection {
            start_s: 1.5,
            end_s: 3.0,
            peak_s: 1.6,
            label: Label::Explosion,
            confidence: 0.87,
            peak_dbfs: -3.0,
            clipped: false,
            features: Features::default(),
            wall_clock_estimate: Some("2024-03-13T23:14:02".into()),
            transcript: None,
            incident: Some("I-20240313-2314".into()),
        };
        assert_eq!(audacity(&[&d]), "1.500000\t3.000000\texplosion 0.87 I-20240313-2314\n");
        assert!(srt(&[&d]).contains(
            "explosion (confidence 0.87), incident I-20240313-2314 about 2024-03-13T23:14:02"
        ));
    }
}
