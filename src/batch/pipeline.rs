//! The only place that knows about threads: files are analysed in parallel with rayon,
//! one file per task, and results are collected in input order, so the index does not
//! depend on the thread count.
//!
//! With a [`Store`] the scan is incremental: every file is identified by its content
//! ([`crate::batch::store::identify`]), a result already stored is loaded instead of computed,
//! and each new result is stored the moment it is done. A cancel flag (Ctrl-C) stops
//! new analyses from starting; files in flight finish and are stored.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::detect::classify::Model;
use crate::detect::decode::Decoder;
use crate::detect::{Candidate, Detector, DetectorParams};

use crate::batch::store::{self, Store};
use crate::error::{Error, FileError};
use crate::index::FileId;
use crate::index::{Index, Input, Recording};

/// How to run a scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Detector settings.
    pub params: DetectorParams,
    /// Classifier weights.
    pub model: Model,
    /// Worker threads; `None` means one per core.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Analyse only the share `I` of `N` (by content hash): `Some((I, N))`, `I < N`.
    pub shard: Option<(u32, u32)>,
}

/// What makes a scan incremental and resumable.
#[derive(Debug)]
pub struct Incremental<'a> {
    /// Where results are kept.
    pub store: &'a Store,
    /// File identities from the previous index, by source path (skips re-hashing).
    pub known: &'a HashMap<String, FileId>,
    /// Set to stop starting new analyses (Ctrl-C).
    pub cancel: &'a AtomicBool,
}

/// What a scan produced and how long it took.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The index.
    pub index: Index,
    /// Wall time.
    pub elapsed: Duration,
    /// What happened to the files.
    pub counts: RunCounts,
}

/// What a run did with its files.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct RunCounts {
    /// Files analysed in this run.
    pub new: usize,
    /// Files whose stored result (from an earlier run) was reused.
    pub unchanged: usize,
    /// Files new to the store whose content equals another file of this run: analysed
    /// once, for the first of them.
    pub duplicates: usize,
    /// Files left for a later run (cancelled before they started).
    pub pending: usize,
    /// Files that belong to other shards.
    pub other_shards: usize,
    /// Seconds of audio analysed in this run (not reused).
    pub new_audio_s: f64,
}

/// Parses `--shard I/N` (this machine takes the files whose content hash falls in shard
/// `I` of `N`).
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a shard; write I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) =
        (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Decodes and analyses one recording. Never panics on bad input: failures become
/// [`Recording::error`].
pub fn analyse_file(input: &Input, params: DetectorParams, model: Model) -> Recording {
    let (mut rec, candidates) = analyse_with(input, |rate| Detector::new(rate, params, model));
    rec.detections = candidates.into_iter().map(|c| c.detection).collect();
    rec
}

/// [`analyse_file`] with a detector of the caller's making (`detector(sample_rate)`), e.g.
/// one that keeps its model inputs for training: the recording without its detections,
/// and the detector's [`Candidate`]s (its detections with what the model saw).
pub fn analyse_with(
    input: &Input,
    detector: impl FnOnce(u32) -> Detector,
) -> (Recording, Vec<Candidate>) {
    let mut rec = Recording {
        path: input.display.clone(),
        source: Some(input.source()),
        ..Recording::default()
    };
    match run_detector(&input.path, detector, &mut rec) {
        Ok(candidates) => (rec, candidates),
        Err(e) => {
            e.record_in(&mut rec);
            (rec, Vec::new())
        }
    }
}

fn run_detector(
    path: &Path,
    detector: impl FnOnce(u32) -> Detector,
    rec: &mut Recording,
) -> Result<Vec<Candidate>, FileError> {
    let mut decoder = Decoder::open_for_analysis(path)?;
    let mut chunk = Vec::with_capacity(8192);
    // The rate may only be known once the first packet is decoded.
    let has_audio = decoder.next_chunk(&mut chunk)?;
    let info = decoder.info().clone();
    rec.sample_rate = info.source_rate;
    rec.channels = info.channels;
    rec.codec = info.codec.clone();
    if !has_audio || info.sample_rate == 0 {
        rec.decode_warnings = decoder.warnings().to_vec();
        return Err(FileError::NoAudio);
    }
    let mut detector = detector(info.sample_rate);
    let mut samples = 0u64;
    loop {
        samples += chunk.len() as u64;
        detector.push(&chunk);
        if !decoder.next_chunk(&mut chunk)? {
            break;
        }
    }
    rec.duration_s = samples as f64 / f64::from(info.sample_rate);
    rec.skipped_packets = decoder.skipped_packets();
    rec.decode_warnings = decoder.warnings().to_vec();
    Ok(detector.finish_candidates())
}

/// Scans `inputs` in parallel, reusing and filling `incremental`'s store.
pub fn scan_with(
    inputs: &[Input],
    config: &ScanConfig,
    incremental: Option<Incremental>,
) -> Result<ScanOutcome, Error> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    let fingerprint = store::fingerprint(&config.params, &config.model);
    // Identify every file by content when a store or a shard needs it.
    let ids: Vec<Option<std::io::Result<FileId>>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                (incremental.is_some() || config.shard.is_some()).then(|| {
                    let known = incremental.as_ref().and_then(|inc| inc.known.get(&input.source()));
                    store::identify(&input.path, known)
                })
            })
            .collect()
    });
    let mine: Vec<(&Input, Option<std::io::Result<FileId>>)> = inputs
        .iter()
        .zip(ids)
        .filter(|(_, id)| match (config.shard, id) {
            (Some((i, n)), Some(Ok(id))) => id.shard(n) == i,
            // A file that cannot be read is reported by the first shard only.
            (Some((i, _)), _) => i == 0,
            (None, _) => true,
        })
        .collect();
    let other_shards = inputs.len() - mine.len();
    // Files with the same content as an earlier one in this run are analysed once: the
    // copy takes its twin's result.
    let mut first_with: HashMap<String, usize> = HashMap::new();
    let twins: Vec<Option<usize>> = mine
        .iter()
        .enumerate()
        .map(|(i, (_, id))| match (&incremental, id) {
            (Some(_), Some(Ok(id))) => first_with.get(&id.blake3).copied().or_else(|| {
                first_with.insert(id.blake3.clone(), i);
                None
            }),
            _ => None,
        })
        .collect();
    let bar = progress_bar(mine.len() as u64, config.progress);
    let audio_ms = AtomicU64::new(0);
    let new_audio_ms = AtomicU64::new(0);
    let slots: Vec<Result<Slot, Error>> = pool.install(|| {
        mine.par_iter()
            .zip(&twins)
            .map(|((input, id), twin)| {
                if twin.is_some() {
                    return Ok(Slot::Twin);
                }
                let (rec, origin) = match (&incremental, id) {
                    (Some(inc), Some(Ok(id))) => {
                        let key = store::key(id, &fingerprint);
                        if let Some(mut stored) = inc.store.load(&key) {
                            stored.relabel(config.params.threshold);
                            stored.path = input.display.clone();
                            stored.source = Some(input.source());
                            stored.file = Some(id.clone());
                            (stored, Origin::Stored)
                        } else if inc.cancel.load(Ordering::Relaxed) {
                            bar.inc(1);
                            return Ok(Slot::Pending);
                        } else {
                            let mut rec = analyse_file(input, config.params, config.model);
                            rec.file = Some(id.clone());
                            inc.store.save(&key, &rec)?;
                            new_audio_ms
                                .fetch_add((rec.duration_s * 1000.0) as u64, Ordering::Relaxed);
                            (rec, Origin::New)
                        }
                    }
                    (_, Some(Err(e))) => {
                        let mut rec = Recording {
                            path: input.display.clone(),
                            source: Some(input.source()),
                            ..Recording::default()
                        };
                        FileError::Io(clone_io(e)).record_in(&mut rec);
                        (rec, Origin::New)
                    }
                    (_, id) => {
                        let mut rec = analyse_file(input, config.params, config.model);
                        new_audio_ms.fetch_add((rec.duration_s * 1000.0) as u64, Ordering::Relaxed);
                        rec.file = id.as_ref().and_then(|r| r.as_ref().ok()).cloned();
                        (rec, Origin::New)
                    }
                };
                let ms = (rec.duration_s * 1000.0) as u64;
                let total = audio_ms.fetch_add(ms, Ordering::Relaxed) + ms;
                if let Some(e) = &rec.error {
                    // Per-file errors are always shown, above the bar when there is one.
                    let line = format!("blastscan: {}: {e}", input.path.display());
                    if bar.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        bar.println(line);
                    }
                }
                bar.set_message(format!("{:.2} h of audio", total as f64 / 3.6e6));
                bar.inc(1);
                Ok(Slot::Done(Box::new(rec), origin))
            })
            .collect()
    });
    bar.finish_and_clear();
    let slots = slots.into_iter().collect::<Result<Vec<Slot>, Error>>()?;
    // Results move into place; a copy takes a clone of its twin's (always earlier).
    let mut done: Vec<Option<(Recording, Origin)>> = slots
        .into_iter()
        .map(|slot| match slot {
            Slot::Done(rec, origin) => Some((*rec, origin)),
            Slot::Twin | Slot::Pending => None,
        })
        .collect();
    for (i, twin) in twins.iter().enumerate() {
        let Some(twin) = *twin else { continue };
        let Some((rec, origin)) = &done[twin] else { continue };
        let (input, id) = &mine[i];
        let mut copy = rec.clone();
        copy.path = input.display.clone();
        copy.source = Some(input.source());
        copy.file = id.as_ref().and_then(|r| r.as_ref().ok()).cloned();
        let origin = match origin {
            Origin::New | Origin::Copy => Origin::Copy,
            Origin::Stored => Origin::Stored,
        };
        done[i] = Some((copy, origin));
    }
    let count = |o: Origin| done.iter().flatten().filter(|(_, origin)| *origin == o).count();
    let (new, unchanged, duplicates) =
        (count(Origin::New), count(Origin::Stored), count(Origin::Copy));
    let pending = done.iter().filter(|d| d.is_none()).count();
    let recordings: Vec<Recording> = done.into_iter().flatten().map(|(rec, _)| rec).collect();
    let mut index = Index::new(config.params, recordings);
    index.fingerprint = fingerprint;
    let counts = RunCounts {
        new,
        unchanged,
        duplicates,
        pending,
        other_shards,
        new_audio_s: new_audio_ms.into_inner() as f64 / 1000.0,
    };
    Ok(ScanOutcome { index, elapsed: started.elapsed(), counts })
}

/// What the parallel stage made of one file.
enum Slot {
    /// Analysed now (`New`) or loaded from the store (`Stored`).
    Done(Box<Recording>, Origin),
    /// Same content as an earlier file: takes its result.
    Twin,
    /// Not started (Ctrl-C).
    Pending,
}

/// Where a file's result came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Analysed in this run.
    New,
    /// Loaded from the store (an earlier run).
    Stored,
    /// Taken from a file of the same content analysed in this run.
    Copy,
}

/// An I/O error kept for a report: same kind and words.
fn clone_io(e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), e.to_string())
}

/// Runs `work` on every item, on all cores, and returns the results in the items' order.
/// A progress bar labelled `what` counts items when `progress` is set (and stderr is a
/// terminal). For the report and clips: one item per recording.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    what: &str,
    progress: bool,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let bar = progress_bar(items.len() as u64, progress);
    bar.set_message(what.to_string());
    let out = items
        .par_iter()
        .map(|item| {
            let r = work(item);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    out
}

fn progress_bar(len: u64, show: bool) -> ProgressBar {
    let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files, {msg} (ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_i_of_n_with_i_below_n() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard(" 3 / 4 "), Ok((3, 4)));
        for bad in ["4/4", "1/0", "-1/4", "1", "a/b", "1/2/3", ""] {
            let err = parse_shard(bad).expect_err(bad);
            assert!(err.contains("is not a shard") && err.contains("0/4"), "{bad}: {err}");
        }
    }
}
