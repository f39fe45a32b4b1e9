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

use crate::error::Error;

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
}

/// Reference events per recording, keyed by file base name.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Events per file base name.
    pub by_file: BTreeMap<String, Vec<Reference>>,
}

/// File name without folders, as the scorer matches recordings.
pub fn base_name(path: &str) -> String {
    let trimmed = path.trim();
    trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed).to_string()
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
        Reference { onset_s: on, offset_s: off, class: class.into() }
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
}
