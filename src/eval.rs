//! Scoring an index against reference labels, with the rules of `shared/eval/score.py`.
//!
//! Labels: `file,onset_s,offset_s,class[,...]`. A detection labelled `explosion` is a hit
//! when its start lies within the collar (0.5 s) of a reference explosion's onset; each
//! reference is matched at most once, detections taken in time order and matched to the
//! first unused reference. A detection starting inside a thunder or fireworks event (or
//! within the collar of its onset) is ignored; every other one is a false alarm, counted
//! by what it fell on (gunshot, impact, a blast's tail, speech/background).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::detect::Label;
use crate::error::Error;
use crate::index::{base_name, Index};

/// Classes the scorer ignores: they can sound like distant blasts.
pub const AMBIGUOUS: [&str; 2] = ["thunder", "fireworks"];
/// Default onset collar, seconds.
pub const COLLAR_S: f64 = 0.5;

/// One reference event.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Onset, seconds.
    pub onset_s: f64,
    /// Offset, seconds.
    pub offset_s: f64,
    /// Class name (`explosion`, `gunshot`, ...).
    pub class: String,
    /// Where the sound came from (the optional `source` column, `package:file`), or empty.
    pub source: String,
}

/// Reference events per recording, keyed by file base name.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Events per file base name.
    pub by_file: BTreeMap<String, Vec<Reference>>,
}

impl Labels {
    /// Reads a labels CSV.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let err = |reason: String| Error::Read { path: path.to_path_buf(), reason };
        let mut reader = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let headers = reader.headers().map_err(|e| err(e.to_string()))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
                err(format!("no `{name}` column; expected file,onset_s,offset_s,class"))
            })
        };
        let (f, on, off, class) = (col("file")?, col("onset_s")?, col("offset_s")?, col("class")?);
        let source = col("source").ok();
        let mut labels = Labels::default();
        for (line, row) in reader.records().enumerate() {
            let row = row.map_err(|e| err(e.to_string()))?;
            let num = |i: usize| -> Result<f64, Error> {
                row.get(i).and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
                    err(format!("line {}: not a number in column {}", line + 2, i + 1))
                })
            };
            let reference = Reference {
                onset_s: num(on)?,
                offset_s: num(off)?,
                class: row.get(class).unwrap_or("").trim().to_string(),
                source: source.and_then(|c| row.get(c)).unwrap_or("").trim().to_string(),
            };
            labels.by_file.entry(base_name(row.get(f).unwrap_or(""))).or_default().push(reference);
        }
        Ok(labels)
    }
}

/// What one detection turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Matched a reference explosion.
    Hit,
    /// Fell on thunder or fireworks: not counted.
    Ignored,
    /// A false alarm.
    FalseAlarm,
}

/// Matches explosion detections (start times) of one recording against its references.
/// Returns the outcome of each detection (in the order given) and the false-alarm causes.
pub fn match_recording(
    starts: &[f64],
    refs: &[Reference],
    collar_s: f64,
) -> (Vec<Outcome>, usize, Vec<String>) {
    let mut blasts: Vec<&Reference> = refs.iter().filter(|r| r.class == "explosion").collect();
    blasts.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s).then(a.offset_s.total_cmp(&b.offset_s)));
    let others: Vec<&Reference> = refs.iter().filter(|r| r.class != "explosion").collect();
    let mut used = vec![false; blasts.len()];
    let mut order: Vec<usize> = (0..starts.len()).collect();
    order.sort_by(|&a, &b| starts[a].total_cmp(&starts[b]));
    let mut outcomes = vec![Outcome::FalseAlarm; starts.len()];
    let mut causes = Vec::new();
    for i in order {
        let d = starts[i];
        if let Some(hit) =
            (0..blasts.len()).find(|&j| !used[j] && (d - blasts[j].onset_s).abs() <= collar_s)
        {
            used[hit] = true;
            outcomes[i] = Outcome::Hit;
            continue;
        }
        let near: Vec<&str> = others
            .iter()
            .filter(|r| r.onset_s - collar_s <= d && d <= r.offset_s.max(r.onset_s + collar_s))
            .map(|r| r.class.as_str())
            .collect();
        if near.iter().any(|c| AMBIGUOUS.contains(c)) {
            outcomes[i] = Outcome::Ignored;
        } else if let Some(first) = near.first() {
            causes.push(first.to_string());
        } else if blasts.iter().any(|b| b.onset_s - collar_s <= d && d <= b.offset_s) {
            causes.push("explosion tail (duplicate)".into());
        } else {
            causes.push("speech/background".into());
        }
    }
    (outcomes, used.iter().filter(|u| !**u).count(), causes)
}

/// Scores of one set of detections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// Hits / (hits + false alarms).
    pub precision: f64,
    /// Hits / reference explosions.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Hits.
    pub tp: usize,
    /// False alarms.
    pub fp: usize,
    /// Missed reference explosions.
    pub r#fn: usize,
    /// Detections on thunder or fireworks, not counted.
    pub ignored: usize,
    /// False alarms by what they fell on.
    pub false_alarms_by_cause: BTreeMap<String, usize>,
}

/// Scores explosion detections, given as (file base name, start_s) pairs.
pub fn score(labels: &Labels, detections: &[(String, f64)], collar_s: f64) -> Score {
    let mut per_file: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (file, start) in detections {
        per_file.entry(file.as_str()).or_default().push(*start);
    }
    let files: BTreeSet<&str> =
        labels.by_file.keys().map(String::as_str).chain(per_file.keys().copied()).collect();
    let mut s = Score::default();
    for file in files {
        let refs = labels.by_file.get(file).map(Vec::as_slice).unwrap_or(&[]);
        let starts = per_file.get(file).map(Vec::as_slice).unwrap_or(&[]);
        let (outcomes, missed, causes) = match_recording(starts, refs, collar_s);
        s.tp += outcomes.iter().filter(|o| **o == Outcome::Hit).count();
        s.ignored += outcomes.iter().filter(|o| **o == Outcome::Ignored).count();
        s.fp += outcomes.iter().filter(|o| **o == Outcome::FalseAlarm).count();
        s.r#fn += missed;
        for c in causes {
            *s.false_alarms_by_cause.entry(c).or_default() += 1;
        }
    }
    s.precision = ratio(s.tp, s.tp + s.fp);
    s.recall = ratio(s.tp, s.tp + s.r#fn);
    s.f1 = if s.precision + s.recall > 0.0 {
        2.0 * s.precision * s.recall / (s.precision + s.recall)
    } else {
        0.0
    };
    s
}

/// One point of the precision/recall curve: scores when every detection with
/// `confidence >= threshold` counts as an explosion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Confidence cut-off.
    pub threshold: f64,
    /// Precision at that cut-off.
    pub precision: f64,
    /// Recall at that cut-off.
    pub recall: f64,
    /// F1 at that cut-off.
    pub f1: f64,
    /// False alarms per hour of audio at that cut-off.
    pub false_alarms_per_hour: f64,
}

/// How often detections in one confidence band are blast onsets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBand {
    /// Lower bound of the band (inclusive).
    pub from: f64,
    /// Upper bound of the band (exclusive, except 1.0).
    pub to: f64,
    /// Detections in the band (thunder and fireworks left out).
    pub detections: usize,
    /// Of those, how many start within the collar of a reference explosion's onset.
    pub blasts: usize,
    /// `blasts / detections` (0 when the band is empty).
    pub share: f64,
}

/// Everything `blastscan eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Scores of the index's own labels (`label == explosion`).
    #[serde(flatten)]
    pub score: Score,
    /// Hours of audio in the recordings the labels name.
    pub hours: f64,
    /// False alarms per hour of that audio (`None` without audio).
    pub false_alarms_per_hour: Option<f64>,
    /// Scores at other confidence cut-offs.
    pub curve: Vec<CurvePoint>,
    /// Share of blast onsets per confidence band.
    pub calibration: Vec<CalibrationBand>,
    /// Recordings of the index that the labels name (the ones scored).
    pub recordings_scored: usize,
    /// Recordings of the index the labels do not name: left out, since nothing says what
    /// is in them.
    pub recordings_unlabelled: usize,
}

/// Cut-offs of [`Report::curve`].
pub const CURVE_THRESHOLDS: [f64; 10] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/// Bands of [`Report::calibration`].
pub const CALIBRATION_BANDS: [(f64, f64); 6] =
    [(0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0)];

/// Scores an index against reference labels with the scorer's rules.
///
/// Recordings are matched by file base name, like the scorer. Only recordings the labels
/// name are scored, so a user can label a few recordings of a large index (the scorer
/// would count every detection in an unlabelled file as a false alarm; on sets where
/// every file is labelled the two agree). Hours count the scored recordings.
pub fn evaluate(index: &Index, labels: &Labels, collar_s: f64) -> Report {
    let name_of = |path: &str| base_name(path);
    let mut all = Vec::new();
    let mut labelled = Vec::new();
    let scored: Vec<&crate::index::Recording> = index
        .recordings
        .iter()
        .filter(|r| labels.by_file.contains_key(&name_of(&r.path)))
        .collect();
    for rec in &scored {
        let name = name_of(&rec.path);
        for d in &rec.detections {
            all.push((name.clone(), d.start_s, f64::from(d.confidence)));
            if d.label == Label::Explosion {
                labelled.push((name.clone(), d.start_s));
            }
        }
    }
    let hours: f64 = scored.iter().map(|r| r.duration_s).sum::<f64>() / 3600.0;
    let per_hour = |fp: usize| if hours > 0.0 { Some(fp as f64 / hours) } else { None };
    let score_at = |threshold: f64| {
        let kept: Vec<(String, f64)> =
            all.iter().filter(|d| d.2 >= threshold).map(|d| (d.0.clone(), d.1)).collect();
        score(labels, &kept, collar_s)
    };
    let curve = CURVE_THRESHOLDS
        .iter()
        .map(|&threshold| {
            let s = score_at(threshold);
            CurvePoint {
                threshold,
                precision: s.precision,
                recall: s.recall,
                f1: s.f1,
                false_alarms_per_hour: per_hour(s.fp).unwrap_or(0.0),
            }
        })
        .collect();
    let main = score(labels, &labelled, collar_s);
    Report {
        false_alarms_per_hour: per_hour(main.fp),
        score: main,
        hours,
        curve,
        calibration: calibration(&all, labels, collar_s),
        recordings_scored: scored.len(),
        recordings_unlabelled: index.recordings.len() - scored.len(),
    }
}

/// Tallies, per confidence band, how many detections are blast onsets. Detections claim
/// reference explosions in order of decreasing confidence (as in average-precision
/// scoring), each reference once: a second detection on the same blast is not a blast onset.
fn calibration(all: &[(String, f64, f64)], labels: &Labels, collar_s: f64) -> Vec<CalibrationBand> {
    let mut bands: Vec<CalibrationBand> = CALIBRATION_BANDS
        .iter()
        .map(|&(from, to)| CalibrationBand { from, to, detections: 0, blasts: 0, share: 0.0 })
        .collect();
    let mut order: Vec<&(String, f64, f64)> = all.iter().collect();
    order.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.total_cmp(&b.1)));
    let mut claimed: BTreeSet<(&str, usize)> = BTreeSet::new();
    let empty = Vec::new();
    for (file, start, confidence) in order {
        let refs = labels.by_file.get(file).unwrap_or(&empty);
        let blast = refs.iter().enumerate().position(|(i, r)| {
            r.class == "explosion"
                && (start - r.onset_s).abs() <= collar_s
                && !claimed.contains(&(file.as_str(), i))
        });
        let blast = blast.map(|i| {
            claimed.insert((file.as_str(), i));
        });
        if blast.is_none() {
            let others: Vec<Reference> =
                refs.iter().filter(|r| r.class != "explosion").cloned().collect();
            if match_recording(&[*start], &others, collar_s).0[0] == Outcome::Ignored {
                continue;
            }
        }
        let last = bands.len() - 1;
        let band = bands.iter().position(|b| *confidence < b.to).unwrap_or(last);
        bands[band].detections += 1;
        bands[band].blasts += usize::from(blast.is_some());
    }
    for b in &mut bands {
        b.share = ratio(b.blasts, b.detections);
    }
    bands
}

/// The report as text for a terminal. `threshold` is the cut-off the index was labelled at.
pub fn render_text(r: &Report, threshold: f32) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let s = &r.score;
    let fa = r.false_alarms_per_hour.map_or("n/a".into(), |v| format!("{v:.1}"));
    // Writing to a String cannot fail.
    let _ = writeln!(
        t,
        "At the index's threshold ({threshold}): precision {:.3}  recall {:.3}  F1 {:.3}",
        s.precision, s.recall, s.f1
    );
    if r.recordings_unlabelled > 0 {
        let _ = writeln!(
            t,
            "  {} recordings scored; {} others in the index are not in the labels and were left out",
            r.recordings_scored, r.recordings_unlabelled
        );
    }
    let _ = writeln!(
        t,
        "  {} hits, {} false alarms, {} missed, {} on thunder/fireworks (ignored); \
         {:.3} h of audio, {fa} false alarms per hour",
        s.tp, s.fp, s.r#fn, s.ignored, r.hours
    );
    if !s.false_alarms_by_cause.is_empty() {
        let causes: Vec<String> =
            s.false_alarms_by_cause.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        let _ = writeln!(t, "  false alarms fell on: {}", causes.join(", "));
    }
    let _ = writeln!(t, "\nIf you cut at another confidence:");
    let _ = writeln!(
        t,
        "  {:>9} {:>9} {:>7} {:>6} {:>14}",
        "cut-off", "precision", "recall", "F1", "false alarms/h"
    );
    for p in &r.curve {
        let _ = writeln!(
            t,
            "  {:>9.2} {:>9.3} {:>7.3} {:>6.3} {:>14.1}",
            p.threshold, p.precision, p.recall, p.f1, p.false_alarms_per_hour
        );
    }
    let _ = writeln!(t, "\nHow often a detection in each confidence band is a blast onset:");
    let _ =
        writeln!(t, "  {:>11} {:>10} {:>7} {:>6}", "confidence", "detections", "blasts", "share");
    for b in &r.calibration {
        let _ = writeln!(
            t,
            "  {:>4.1} - {:<4.1} {:>10} {:>7} {:>6.3}",
            b.from, b.to, b.detections, b.blasts, b.share
        );
    }
    t
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(on: f64, off: f64, class: &str) -> Reference {
        Reference { onset_s: on, offset_s: off, class: class.into(), source: String::new() }
    }

    #[test]
    fn matching_follows_the_scorer_rules() {
        let refs = [r(10.0, 14.0, "explosion"), r(30.0, 31.0, "gunshot"), r(50.0, 55.0, "thunder")];
        let (outcomes, missed, causes) =
            match_recording(&[10.4, 11.0, 30.2, 52.0, 70.0], &refs, COLLAR_S);
        use Outcome::*;
        assert_eq!(outcomes, [Hit, FalseAlarm, FalseAlarm, Ignored, FalseAlarm]);
        assert_eq!(missed, 0);
        assert_eq!(causes, ["explosion tail (duplicate)", "gunshot", "speech/background"]);
    }

    #[test]
    fn calibration_gives_each_blast_to_its_most_confident_detection() {
        let mut labels = Labels::default();
        labels
            .by_file
            .insert("a.wav".into(), vec![r(10.0, 12.0, "explosion"), r(20.0, 25.0, "thunder")]);
        let dets = [
            ("a.wav".to_string(), 9.8, 0.4),   // on the blast, but less confident
            ("a.wav".to_string(), 10.3, 0.95), // claims the blast
            ("a.wav".to_string(), 21.0, 0.8),  // on thunder: left out
            ("a.wav".to_string(), 40.0, 0.6),  // nothing there
        ];
        let bands = calibration(&dets, &labels, COLLAR_S);
        let counts: Vec<(usize, usize)> = bands.iter().map(|b| (b.detections, b.blasts)).collect();
        assert_eq!(counts, [(0, 0), (0, 0), (1, 0), (1, 0), (0, 0), (1, 1)]);
    }
}
