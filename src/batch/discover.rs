//! Discovery: which files under the given paths are recordings to scan.
//!
//! Folders are walked recursively (symbolic links are not followed but reported, hidden
//! entries and blastscan's own output folders are skipped); files are kept by extension. A file named directly on the command line is
//! always scanned, whatever its extension, so a user can point at an odd file on purpose.
//! The result is sorted, so the index never depends on the order the disk lists files in.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::index::Input;

/// Extensions of audio and video files phones and messaging apps produce. Some hold sound
/// blastscan cannot decode (`amr`, `awb`, `wma`; AMR in `3gp`/`3ga`): they are listed so
/// that such a file gets an error naming its format instead of being passed over unseen.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "opus", "ogg", "oga", "m4a", "mp4", "3gp", "3gpp", "3ga", "3g2", "aac", "mp3", "wav", "wave",
    "flac", "mka", "mkv", "webm", "caf", "aif", "aiff", "aifc", "mov", "m4v", "amr", "awb", "wma",
];

/// Is `path` named like a recording?
pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Lists the recordings under `roots`. Unreadable folders are reported in `warnings`.
pub fn discover(roots: &[PathBuf], warnings: &mut Vec<String>) -> Result<Vec<Input>, Error> {
    let mut inputs = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|_| Error::MissingInput(root.clone()))?;
        if meta.is_file() {
            inputs.push(Input { path: root.clone(), display: root.display().to_string() });
        } else {
            walk(
                root,
                root,
                &mut |path, relative| {
                    if is_audio(path) {
                        // With several folders, names keep the folder as given, so two
                        // `PTT-0001.opus` from two batches stay apart.
                        let display = if roots.len() > 1 {
                            root.join(&relative).display().to_string()
                        } else {
                            relative
                        };
                        inputs.push(Input { path: path.to_path_buf(), display });
                    }
                },
                warnings,
            );
        }
    }
    inputs.sort();
    inputs.dedup_by(|a, b| a.path == b.path);
    Ok(inputs)
}

/// Chat exports and manifests (see [`crate::link::dates::is_message_file`]) inside the given
/// folders, sorted. Files named directly are not included: pass those with `--messages`.
pub fn message_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for root in roots.iter().filter(|r| r.is_dir()) {
        walk(
            root,
            root,
            &mut |path, _| {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if crate::link::dates::is_message_file(name) {
                    found.push(path.to_path_buf());
                }
            },
            &mut Vec::new(),
        );
    }
    found.sort();
    found.dedup();
    found
}

/// Is `dir` a blastscan output folder (it holds the store's lock file)? Its clips and
/// report audio must never be scanned as recordings.
pub fn is_output_folder(dir: &Path) -> bool {
    dir.join(crate::batch::store::LOCK_FILE).is_file()
}

/// Calls `visit(path, path relative to root)` for every regular, non-hidden file under `dir`.
fn walk(
    root: &Path,
    dir: &Path,
    visit: &mut impl FnMut(&Path, String),
    warnings: &mut Vec<String>,
) {
    if is_output_folder(dir) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            warnings.push(format!("{}: cannot list folder: {e}", dir.display()));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warnings.push(format!("{}: cannot list folder: {e}", dir.display()));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            if path.is_dir() || is_audio(&path) {
                warnings.push(format!(
                    "{}: symbolic link not followed; name it on the command line to scan it",
                    path.display()
                ));
            }
        } else if kind.is_dir() {
            walk(root, &path, visit, warnings);
        } else if kind.is_file() {
            let display = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            visit(&path, display);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_keeps_audio_sorted_and_relative() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sub = dir.path().join("night 2");
        std::fs::create_dir(&sub).expect("mkdir");
        for name in ["b.opus", "a.M4A", "notes.txt", ".hidden.mp3"] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        std::fs::write(sub.join("c.wav"), b"x").expect("write");
        let mut warnings = Vec::new();
        let found = discover(&[dir.path().to_path_buf()], &mut warnings).expect("discover");
        let names: Vec<_> = found.iter().map(|i| i.display.as_str()).collect();
        assert_eq!(names, ["a.M4A", "b.opus", "night 2/c.wav"]);
    }

    #[test]
    fn with_several_folders_names_keep_their_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (dir.path().join("batch1"), dir.path().join("batch2"));
        for folder in [&a, &b] {
            std::fs::create_dir(folder).expect("mkdir");
            std::fs::write(folder.join("PTT-0001.opus"), b"x").expect("write");
        }
        let found = discover(&[a.clone(), b.clone()], &mut Vec::new()).expect("discover");
        let names: Vec<_> = found.iter().map(|i| i.display.clone()).collect();
        let want = [a.join("PTT-0001.opus"), b.join("PTT-0001.opus")];
        assert_eq!(names, want.map(|p| p.display().to_string()));
    }

    #[test]
    fn a_missing_path_is_a_fatal_error_naming_it() {
        let err = discover(&[PathBuf::from("/no/such/place")], &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("/no/such/place"));
    }
}
