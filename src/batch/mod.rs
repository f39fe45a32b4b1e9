//! Batch runs over an output folder: the incremental, resumable scan and the merge of
//! several output folders. The CLI's `scan` and `merge` are thin wrappers around these.
//!
//! A run: lock the folder ([`Store::open`]), discover recordings, read the previous index
//! (what was scanned before, and file identities that spare re-hashing), analyse what the
//! store lacks ([`scan_with`]), keep the previous entries that still stand
//! ([`store::carry_over`]), link transcripts and dates again ([`link`]), write the views
//! the caller asks for ([`Views`], implemented by the output stage) and `index.json`.

pub mod discover;
pub mod pipeline;
pub mod store;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::batch::pipeline::{scan_with, Incremental, RunCounts, ScanConfig};
use crate::batch::store::Store;
use crate::error::Error;
use crate::index::{FileId, IncidentOverrides, IncidentSettings, Input, Warning};
use crate::index::{Index, Recording};
use crate::link::{incidents, link, LinkConfig};

pub use store::Views;

/// A scan into an output folder.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Files and folders to scan.
    pub inputs: Vec<PathBuf>,
    /// The output folder (the store).
    pub out: PathBuf,
    /// Detector, threads, progress, shard.
    pub scan: ScanConfig,
    /// Transcripts and dates; chat exports found in scanned folders are added to
    /// `link.messages`.
    pub link: LinkConfig,
    /// How blasts are grouped into sequences and incidents.
    pub incidents: IncidentSettings,
}

/// What a batch run did.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The index written.
    pub index: Index,
    /// What the run did with its files.
    pub counts: RunCounts,
    /// Wall time of the analysis.
    pub elapsed: Duration,
    /// Problems found while discovering files (unreadable folders).
    pub discovery_warnings: Vec<String>,
    /// Problems met while linking (also in the index).
    pub link_warnings: Vec<Warning>,
    /// A previous index that could not be read (the run started a fresh one).
    pub prior_unreadable: Option<String>,
    /// Where the views were written.
    pub written: Vec<PathBuf>,
}

/// A run in numbers, for scripts (`scan --summary json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    /// What this run did with its files.
    #[serde(flatten)]
    pub counts: RunCounts,
    /// Files of this run that could not be analysed.
    pub failed: usize,
    /// Files decoded only in part.
    pub partly_decoded: usize,
    /// Paths that could not be read while looking for recordings.
    pub paths_not_read: usize,
    /// The index's totals.
    pub index: crate::index::Summary,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
    /// The files written, `index.json` first.
    pub written: Vec<PathBuf>,
}

impl BatchOutcome {
    /// The run in numbers; `seconds` is the whole run's wall time as the caller measured it.
    pub fn summary(&self, seconds: f64) -> RunSummary {
        let analysed = self.index.recordings.iter().filter(|r| r.error.is_none());
        RunSummary {
            counts: self.counts,
            failed: self.index.recordings.iter().filter(|r| r.error.is_some()).count(),
            partly_decoded: analysed.filter(|r| r.partial_decode().is_some()).count(),
            paths_not_read: self.discovery_warnings.len(),
            index: self.index.summary.clone(),
            seconds,
            written: self.written.clone(),
        }
    }
}

/// Runs one batch: see the module doc. `cancel` stops new analyses from starting.
pub fn run(batch: &Batch, views: &dyn Views, cancel: &AtomicBool) -> Result<BatchOutcome, Error> {
    store::prepare_out_dir(&batch.out)?;
    let store = Store::open(&batch.out)?;
    let mut discovery_warnings = Vec::new();
    let inputs = discover::discover(&batch.inputs, &mut discovery_warnings)?;
    if inputs.is_empty() {
        let mut what: Vec<String> = batch.inputs.iter().map(|p| p.display().to_string()).collect();
        what.extend(discovery_warnings.iter().map(|w| format!("({w})")));
        return Err(Error::NoRecordings(what.join(", ")));
    }
    let index_path = batch.out.join(store::INDEX_JSON);
    let (prior, prior_unreadable) = match store::read_index(&index_path) {
        Ok(index) => (Some(index), None),
        Err(_) if !index_path.exists() => (None, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let known: HashMap<String, FileId> = prior
        .iter()
        .flat_map(|p| &p.recordings)
        .filter_map(|r| Some((r.source.clone()?, r.file.clone()?)))
        .collect();
    let incremental = Incremental { store: &store, known: &known, cancel };
    let outcome = scan_with(&inputs, &batch.scan, Some(incremental))?;
    let fingerprint = outcome.index.fingerprint.clone();
    let mut recordings = outcome.index.recordings;
    if let Some(prior) = prior {
        let roots: Vec<PathBuf> = batch.inputs.iter().map(|r| absolute(r)).collect();
        let discovered: HashSet<String> = inputs.iter().map(Input::source).collect();
        let mut kept = store::carry_over(prior, &fingerprint, &recordings, &roots, &discovered);
        for rec in &mut kept {
            rec.relabel(batch.scan.params.threshold);
        }
        recordings.extend(kept);
    }
    let mut index = Index::new(batch.scan.params, recordings);
    index.fingerprint = fingerprint;
    let mut link_config = batch.link.clone();
    link_config.messages.extend(discover::message_files(&batch.inputs));
    link_config.messages.dedup();
    let link_warnings = link(&mut index, &inputs, &link_config);
    incidents::group(&mut index, batch.incidents);
    let written = store::write_index(&batch.out, &index, views)?;
    Ok(BatchOutcome {
        index,
        counts: outcome.counts,
        elapsed: outcome.elapsed,
        discovery_warnings,
        link_warnings,
        prior_unreadable,
        written,
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a merge did, per source folder: (folder, recordings, stored results copied).
pub type MergeReport = Vec<(PathBuf, usize, usize)>;

/// Unions output folders into `out`: their stored results and their indexes (`out`'s own
/// index, if any, first; later folders win for the same recording). All must come from
/// the same detector. Incidents are grouped again over the union, with the settings of the
/// first index where `incidents` gives none. The merge of N shards equals one run over
/// everything.
pub fn merge(
    folders: &[PathBuf],
    out: &Path,
    incidents: IncidentOverrides,
    views: &dyn Views,
) -> Result<(Index, MergeReport), Error> {
    store::prepare_out_dir(out)?;
    let store = Store::open(out)?;
    let mut sources: Vec<PathBuf> = Vec::new();
    if out.join(store::INDEX_JSON).exists() {
        sources.push(out.to_path_buf());
    }
    sources.extend(folders.iter().cloned());
    let mut indexes: Vec<(PathBuf, Index)> = Vec::new();
    let mut report = Vec::new();
    for dir in &sources {
        let index = store::read_index(&dir.join(store::INDEX_JSON))?;
        if let Some((first_dir, first)) = indexes.first() {
            if first.fingerprint != index.fingerprint || first.detector != index.detector {
                return Err(Error::Incompatible {
                    dir: dir.clone(),
                    first: first_dir.clone(),
                    what: "was made by a different detector version or settings",
                });
            }
            if first.timezone != index.timezone {
                return Err(Error::Incompatible {
                    dir: dir.clone(),
                    first: first_dir.clone(),
                    what: "was linked with another --timezone",
                });
            }
        }
        let copied = if dir.as_path() == out { 0 } else { store.absorb(dir)? };
        report.push((dir.clone(), index.recordings.len(), copied));
        indexes.push((dir.clone(), index));
    }
    let Some((_, first)) = indexes.first() else {
        return Err(Error::Usage("nothing to merge: name at least one output folder".into()));
    };
    let (detector, fingerprint, timezone) =
        (first.detector, first.fingerprint.clone(), first.timezone.clone());
    let settings = incidents.over(first.incident_settings);
    let mut by_recording: BTreeMap<(String, Option<String>), Recording> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (_, index) in indexes {
        warnings.extend(index.link_warnings);
        for rec in index.recordings {
            by_recording.insert((rec.path.clone(), rec.source.clone()), rec);
        }
    }
    warnings.sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
    warnings.dedup();
    let mut merged = Index::new(detector, by_recording.into_values().collect());
    merged.fingerprint = fingerprint;
    merged.timezone = timezone;
    merged.link_warnings = warnings;
    merged.time_note = crate::link::time_note(&merged);
    crate::link::incidents::group(&mut merged, settings);
    store::write_index(out, &merged, views)?;
    Ok((merged, report))
}
