//! No import circle between the top-level modules of any crate: each module may use the
//! ones before it, never one that uses it back (directly or through others).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module name of each `.rs` file under `src`, with the text of the file.
fn modules(src: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap();
                let top = relative.components().next().unwrap().as_os_str();
                let top = top.to_string_lossy().trim_end_matches(".rs").to_string();
                out.push((top, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

/// Which top-level modules each one names as `crate::<module>`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = modules(src);
    let names: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &files {
        let entry = edges.entry(module.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            for name in named(&text[at + "crate::".len()..]) {
                if names.contains(&name) && &name != module {
                    entry.insert(name);
                }
            }
        }
    }
    edges
}

/// The top-level names after `crate::`: one (`crate::a::b`) or a group
/// (`crate::{a, b::c, d}`).
fn named(rest: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut out = Vec::new();
    let (mut depth, mut item_start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(ident(&group[item_start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(ident(&group[item_start..i]));
                item_start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// A cycle, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
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
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_circle_between_its_modules() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["ingest", "query", "cli"] {
        let edges = graph(&crates.join(name).join("src"));
        assert!(edges.len() > 3, "{name}: {edges:?}");
        if let Some(found) = cycle(&edges) {
            panic!("crates/{name}: import circle {}", found.join(" -> "));
        }
    }
}

#[test]
fn grouped_imports_count() {
    assert_eq!(
        named("{Error, attribution, udf::x};"),
        ["Error", "attribution", "udf"]
    );
    assert_eq!(named("{a::{b, c}, d}"), ["a", "d"]);
    assert_eq!(named("session::new_context("), ["session"]);
}

#[test]
fn a_circle_is_found() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    edges.get_mut("c").unwrap().clear();
    assert_eq!(cycle(&edges), None);
}
