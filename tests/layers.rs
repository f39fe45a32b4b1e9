//! The stage layout holds: no module imports from a stage above its own (see the crate
//! doc). Each `crate::STAGE` reference in library code (comments and `#[cfg(test)]`
//! modules aside) is checked against this order:
//! `synth`, `index` < `atomic`, `error` < `detect` < `link` < `batch` < `output` < `eval`,
//! `train`. A second test reads the module graph itself (file by file, `crate::` and
//! `super::` paths) and finds no cycle, parent and child modules included.

mod common;

use std::collections::{BTreeMap, BTreeSet};
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

/// A module's path from its file: `src/link/dates/tag.rs` is `link::dates::tag`,
/// `src/batch/mod.rs` is `batch`.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> =
        relative.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The modules `code` (the library code of module `own`) imports: each `crate::a::b::c` or
/// `super::x::y` path resolved to the longest prefix that is a module of the crate.
fn imports(own: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let parent = own.rsplit_once("::").map_or("", |(p, _)| p).to_string();
    let mut found = BTreeSet::new();
    for line in code.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or_default();
        for (anchor, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            let mut rest = code;
            while let Some(at) = rest.find(anchor) {
                rest = &rest[at + anchor.len()..];
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
                while !parts.is_empty() {
                    let name = parts.join("::");
                    let full = if base.is_empty() { name } else { format!("{base}::{name}") };
                    if modules.contains(&full) {
                        if full != own {
                            found.insert(full);
                        }
                        break;
                    }
                    parts.pop();
                }
                if parts.is_empty() && !base.is_empty() && modules.contains(&base) && base != own {
                    found.insert(base.clone());
                }
            }
        }
    }
    found
}

/// A cycle in `graph`, if there is one (depth-first search).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The crate's module graph, read from `src/` (`main.rs` and `lib.rs` aside): each module
/// with the modules its library code imports.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let named: Vec<(String, String)> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs") && !f.ends_with("lib.rs"))
        .map(|f| {
            let relative = f.strip_prefix(&src).expect("under src");
            (module_of(relative), std::fs::read_to_string(f).expect("read"))
        })
        .collect();
    let modules: BTreeSet<String> = named.iter().map(|(m, _)| m.clone()).collect();
    named.iter().map(|(m, code)| (m.clone(), imports(m, code, &modules))).collect()
}

/// The stage a module belongs to: its top-level module's [`rank`].
fn stage(module: &str) -> Option<u8> {
    rank(module.split("::").next().unwrap_or_default())
}

#[test]
fn no_module_imports_from_a_stage_above_its_own() {
    let graph = module_graph();
    let mut checked = 0;
    let mut violations = Vec::new();
    for (module, imported) in &graph {
        let Some(own) = stage(module) else { continue };
        for other in imported {
            checked += 1;
            if stage(other).is_some_and(|r| r > own) {
                violations.push(format!("{module} uses {other}"));
            }
        }
    }
    assert!(checked > 60, "only {checked} imports found: is the scan broken?");
    assert!(violations.is_empty(), "imports from a later stage:\n{}", violations.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = module_graph();
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(graph.len() > 30 && edges > 60, "{} modules, {edges} edges", graph.len());
    assert_eq!(cycle(&graph), None, "an import cycle");
}

#[test]
fn the_check_sees_a_reference_to_a_later_stage_and_ignores_tests_and_comments() {
    let modules: BTreeSet<String> =
        ["detect", "output", "output::row", "batch"].iter().map(|s| s.to_string()).collect();
    let code = "use crate::output::row;\n// crate::batch in a comment\nfn f() {}\n#[cfg(test)]\nmod tests { use crate::batch; }\n";
    let found = imports("detect", code, &modules);
    assert_eq!(found, BTreeSet::from(["output::row".to_string()]));
    assert!(stage("output::row") > stage("detect"));
}

#[test]
fn the_cycle_check_finds_a_parent_child_cycle() {
    let modules: BTreeSet<String> = ["a", "a::b", "c"].iter().map(|s| s.to_string()).collect();
    let a = imports("a", "pub use crate::a::b::Thing;", &modules);
    let b = imports("a::b", "use super::Other;\nuse crate::c::X;", &modules);
    assert_eq!(a, BTreeSet::from(["a::b".to_string()]));
    assert_eq!(b, BTreeSet::from(["a".to_string(), "c".to_string()]));
    let graph = BTreeMap::from([("a".to_string(), a), ("a::b".to_string(), b)]);
    assert_eq!(cycle(&graph), Some(vec!["a".into(), "a::b".into(), "a".into()]));
}
