//! The stage layout holds: no module imports from a stage above its own (see the crate
//! doc). Each `crate::STAGE` reference in library code (comments and `#[cfg(test)]`
//! modules aside) is checked against this order:
//! `synth`, `index` < `atomic`, `error` < `detect` < `link` < `batch` < `output` < `eval`,
//! `train`.

mod common;

use std::path::Path;

use common::root;

/// Rank of a top-level module; higher stages may use lower ones.
fn rank(module: &str) -> Option<u8> {
    Some(match module {
        "synth" | "index" => 0,
        "atomic" | "error" => 1,
        "detect" => 2,
        "link" => 3,
        "batch" => 4,
        "output" => 5,
        "eval" | "train" => 6,
        _ => return None,
    })
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `code` refers to as `crate::NAME`, with their line numbers.
fn references(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.push((n + 1, name));
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_stage_above_its_own() {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut checked = 0;
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative.components().next().expect("a component");
        let top = top.as_os_str().to_string_lossy();
        let Some(own) = rank(top.trim_end_matches(".rs")) else { continue };
        let code = std::fs::read_to_string(file).expect("read");
        for (line, module) in references(&code) {
            checked += 1;
            if rank(&module).is_some_and(|r| r > own) {
                violations.push(format!("{}:{line} uses crate::{module}", relative.display()));
            }
        }
    }
    assert!(checked > 100, "only {checked} references found: is the scan broken?");
    assert!(violations.is_empty(), "imports from a later stage:\n{}", violations.join("\n"));
}

#[test]
fn the_check_sees_a_reference_to_a_later_stage_and_ignores_tests_and_comments() {
    let code = "use crate::output::row;\n// crate::batch in a comment\nfn f() {}\n#[cfg(test)]\nmod tests { use crate::batch; }\n";
    let names: Vec<String> = references(code).into_iter().map(|(_, m)| m).collect();
    assert_eq!(names, ["output"]);
    assert!(rank("output") > rank("detect"));
}
