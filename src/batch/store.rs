//! The output folder as a store, so work is never done twice or lost.
//!
//! ```text
//! OUT/
//!   .blastscan.lock            held (flock) for the whole run: a second run is refused
//!   store/results/ab/<blake3 of the file's content>-<detector fingerprint>.json
//!   index.json, detections.csv views rebuilt at the end of every run
//! ```
//!
//! * Each recording's analysis is written atomically (temporary file, rename) the moment
//!   it is done, keyed by the content's BLAKE3 hash and a fingerprint of the tool
//!   version, detector parameters and model weights. A renamed or moved file has the same
//!   key; a changed detector has a different one.
//! * Hashing is skipped when a file's size and modification time are what the previous
//!   index recorded for the same path (as `git status` does), so re-scanning an unchanged
//!   archive touches no audio.
//! * The lock is an OS advisory lock (`flock`), released by the kernel when a process
//!   dies, so a killed run never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::atomic::{write_atomic, write_atomic_with};
use crate::detect::classify::Model;
use crate::detect::DetectorParams;
use crate::error::Error;
use crate::index::{FileId, Index, Recording};

/// The lock file inside an output folder.
pub const LOCK_FILE: &str = ".blastscan.lock";

/// Files written from an index beside `index.json` at the end of every run and merge
/// (`detections.csv`). The output stage implements it
/// ([`crate::output::export::Tables`]), so this stage does not depend on it.
pub trait Views {
    /// Writes the views of `index` into `dir`, atomically; returns the files written.
    fn write(&self, dir: &Path, index: &Index) -> Result<Vec<PathBuf>, Error>;
}

/// File name of the index inside an output folder.
pub const INDEX_JSON: &str = "index.json";

/// Creates the output folder and checks it can be written, before any work starts.
pub fn prepare_out_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    tempfile::Builder::new()
        .prefix(".blastscan-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|source| Error::Write { path: dir.to_path_buf(), source })
}

/// `index.json` as pretty-printed JSON.
pub fn index_json(index: &Index) -> Result<Vec<u8>, Error> {
    let mut out = serde_json::to_vec_pretty(index)
        .map_err(|e| Error::Serialise { what: INDEX_JSON, reason: e.to_string() })?;
    out.push(b'\n');
    Ok(out)
}

/// Writes `index.json` into `dir` and, before it, `views` of the same index; returns the
/// files written, `index.json` first. The index is serialised before anything is written,
/// and a failure leaves the previous `index.json` in place.
pub fn write_index(dir: &Path, index: &Index, views: &dyn Views) -> Result<Vec<PathBuf>, Error> {
    let json = dir.join(INDEX_JSON);
    let others = views.write(dir, index)?;
    write_atomic_with(&json, |w| {
        serde_json::to_writer_pretty(&mut *w, index)?;
        w.write_all(b"\n")
    })?;
    Ok(std::iter::once(json).chain(others).collect())
}

/// Reads an `index.json` written by [`write_index`].
pub fn read_index(path: &Path) -> Result<Index, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "no index there; make one with `blastscan scan RECORDINGS --out FOLDER` and pass that folder".into()
        } else {
            e.to_string()
        },
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: format!("not a blastscan index ({e}); run `blastscan scan` to make one"),
    })
}

/// Size and modification time of a file.
pub fn stat(path: &Path) -> std::io::Result<(u64, i128)> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Ok((meta.len(), modified))
}

/// Identifies a file, reusing `known` (from the previous index) when size and mtime match.
pub fn identify(path: &Path, known: Option<&FileId>) -> std::io::Result<FileId> {
    let (size, modified_ns) = stat(path)?;
    if let Some(k) = known.filter(|k| k.size == size && k.modified_ns == modified_ns) {
        return Ok(k.clone());
    }
    let mut hasher = blake3::Hasher::new();
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(FileId { blake3: hasher.finalize().to_hex().to_string(), size, modified_ns })
}

/// Revision of what the analysis computes from the same audio: raised whenever a change
/// moves any result (even within rounding), so an index made before it is analysed again
/// rather than mixed with new results, or when files that failed may now decode (stored
/// failures are reused like any result). 2: the look-ahead off-by-one fix and the faster
/// arithmetic of issue 16 (tails can move by 10 ms, confidences by 1e-6). 3: AMR decoding
/// (a 3GP with AMR sound was stored as "no audio track") and AAC priming from the MP4 edit
/// list (Apple-encoded files' times move 1088 frames earlier).
const ANALYSIS_REVISION: u32 = 3;

/// Fingerprint of everything that decides a result besides the audio: tool version,
/// analysis revision, detector parameters, model weights. 16 hex digits. The label
/// threshold is left out: labels are re-drawn from the stored confidences, so
/// `--threshold` needs no decoding.
pub fn fingerprint(params: &DetectorParams, model: &Model) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&ANALYSIS_REVISION.to_le_bytes());
    let analysis = DetectorParams { threshold: 0.0, ..*params };
    let analysis = serde_json::to_string(&analysis)
        .expect("detector parameters are plain numbers, which always serialise");
    h.update(analysis.as_bytes());
    h.update(&crate::detect::model::canonical_bytes(model));
    h.finalize().to_hex()[..16].to_string()
}

/// An output folder opened for writing: locked until dropped.
#[derive(Debug)]
pub struct Store {
    results: PathBuf,
    _lock: File,
}

impl Store {
    /// Creates `out/store/` if needed and takes the folder's lock. A folder another run
    /// holds is refused with [`Error::Locked`].
    pub fn open(out: &Path) -> Result<Store, Error> {
        let results = out.join("store").join("results");
        std::fs::create_dir_all(&results)
            .map_err(|source| Error::Write { path: results.clone(), source })?;
        let lock_path = out.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| Error::Write { path: lock_path.clone(), source })?;
        match lock.try_lock() {
            Ok(()) => {
                remove_leftovers(out, &results);
                Ok(Store { results, _lock: lock })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(out.to_path_buf())),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(Error::Write { path: lock_path, source })
            }
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.results.join(shard).join(format!("{key}.json"))
    }

    /// The stored result for `key`, if any (an unreadable entry counts as missing).
    pub fn load(&self, key: &str) -> Option<Recording> {
        let bytes = std::fs::read(self.path_of(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores a result atomically.
    pub fn save(&self, key: &str, rec: &Recording) -> Result<(), Error> {
        let path = self.path_of(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
        }
        let bytes = serde_json::to_vec(rec)
            .map_err(|e| Error::Serialise { what: "a stored result", reason: e.to_string() })?;
        write_atomic(&path, &bytes)
    }

    /// Copies every stored result of `other` (another output folder) that this store
    /// lacks; returns how many were copied.
    pub fn absorb(&self, other: &Path) -> Result<usize, Error> {
        let from = other.join("store").join("results");
        let mut copied = 0;
        let Ok(shards) = std::fs::read_dir(&from) else { return Ok(0) };
        for shard in shards.flatten() {
            let Ok(entries) = std::fs::read_dir(shard.path()) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(key) = name.strip_suffix(".json") else { continue };
                if key.starts_with('.') || self.path_of(key).exists() {
                    continue;
                }
                let bytes = std::fs::read(entry.path())
                    .map_err(|e| Error::Read { path: entry.path(), reason: e.to_string() })?;
                let target = self.path_of(key);
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
                }
                write_atomic(&target, &bytes)?;
                copied += 1;
            }
        }
        Ok(copied)
    }
}

/// Recordings of the previous index to keep beside this run's `current` ones: made by the
/// same detector (`fingerprint`), not scanned again now, and not gone from a scanned
/// folder. A file under one of `roots` that was not `discovered` this time was deleted,
/// moved or renamed, so its old entry is dropped (a moved file reappears under its new
/// path, from the store, without being analysed again).
pub fn carry_over(
    prior: crate::index::Index,
    fingerprint: &str,
    current: &[Recording],
    roots: &[PathBuf],
    discovered: &std::collections::HashSet<String>,
) -> Vec<Recording> {
    if prior.fingerprint != fingerprint {
        return Vec::new();
    }
    let now: std::collections::HashSet<&str> =
        current.iter().filter_map(|r| r.source.as_deref()).collect();
    prior
        .recordings
        .into_iter()
        .filter(|r| match r.source.as_deref() {
            Some(src) if !now.contains(src) => {
                let under_root = roots.iter().any(|root| Path::new(src).starts_with(root));
                !under_root || discovered.contains(src)
            }
            _ => false,
        })
        .collect()
}

/// Removes temporary files a killed run left behind (`.blastscan-*`, never read as
/// results). Only called with the lock held, so no live run owns them.
fn remove_leftovers(out: &Path, results: &Path) {
    let mut folders = vec![out.to_path_buf()];
    if let Ok(shards) = std::fs::read_dir(results) {
        folders.extend(shards.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".blastscan-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The key of a result: content hash and detector fingerprint.
pub fn key(id: &FileId, fingerprint: &str) -> String {
    format!("{}-{fingerprint}", id.blake3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_store_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp");
        let first = Store::open(dir.path()).expect("first");
        let err = Store::open(dir.path()).expect_err("second");
        assert!(err.to_string().contains("another blastscan run"), "{err}");
        drop(first);
        Store::open(dir.path()).expect("free again");
    }

    #[test]
    fn identify_reuses_a_known_hash_only_when_size_and_mtime_match() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("a.wav");
        std::fs::write(&path, b"abc").expect("write");
        let id = identify(&path, None).expect("id");
        assert_eq!(id.blake3, blake3::hash(b"abc").to_hex().to_string());
        let fake = FileId { blake3: "cafe".into(), ..id.clone() };
        assert_eq!(identify(&path, Some(&fake)).expect("id").blake3, "cafe", "stat matched");
        let moved = FileId { size: 4, ..fake };
        assert_eq!(identify(&path, Some(&moved)).expect("id"), id, "stat differs: rehash");
    }

    #[test]
    fn the_fingerprint_follows_analysis_settings_but_not_the_label_threshold() {
        use crate::detect::model::DEFAULT_MODEL;
        let base = DetectorParams::default();
        let f = |p: &DetectorParams, m: &Model| fingerprint(p, m);
        let relabel = DetectorParams { threshold: 0.9, ..base };
        assert_eq!(f(&base, &DEFAULT_MODEL), f(&relabel, &DEFAULT_MODEL));
        let gate = DetectorParams { min_snr_db: 6.0, ..base };
        assert_ne!(f(&base, &DEFAULT_MODEL), f(&gate, &DEFAULT_MODEL));
        let recalibrated = Model { calibration: (1.0, 0.5), ..*DEFAULT_MODEL };
        assert_ne!(f(&base, &DEFAULT_MODEL), f(&base, &recalibrated));
    }

    #[test]
    fn shards_split_by_content() {
        let id = |h: &str| FileId { blake3: h.into(), size: 0, modified_ns: 0 };
        assert_eq!(id("0000000000000005ff").shard(3), 2);
        assert_eq!(id("0000000000000006").shard(3), 0);
        assert_eq!(id("zz").shard(4), 0);
    }
}
