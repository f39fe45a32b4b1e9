//! Names of output files made from recordings' paths: untrusted text, so only letters,
//! digits, `-`, `_` and `.` survive, and each name is one path component.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::index::Recording;

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
