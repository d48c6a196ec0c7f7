//! The house's layout, checked: every `crate::` and `super::` path in `src/` (tests and comments
//! left out) is an arrow from its file's module to the module it names. No two files and no two
//! folders import each other, however indirectly, and every arrow between folders points down
//! the layers below. Nothing below the command layer reaches the crate root (`crate::Cli`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A folder (or top-level file) may use its own and lower layers.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["calendar", "clock", "units", "input", "files", "signals", "process"],
    &["model", "plan", "view"],
    &["artefact"],
    &["analysis", "ingest", "sim"],
    &["load", "present", "output"],
    &["launch"],
    &["cmd"],
    &["cli", "main", ""],
];

fn layer(top: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&top))
        .unwrap_or_else(|| panic!("src/{top} is in no layer of tests/layout.rs"))
}

type Module = Vec<String>;

fn modules(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut m = prefix.clone();
            m.push(name);
            modules(&path, &m, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut m = prefix.clone();
            if !["mod", "lib", "main"].contains(&name.as_str()) {
                m.push(name.clone());
            }
            // main.rs is its own crate; it is the top layer either way.
            let key = if prefix.is_empty() && name == "main" { vec!["main".to_string()] } else { m };
            out.insert(key, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The source without its tests and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap();
    text.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n")
}

/// Every path in a `use` tree or expression that starts at `at`: `a::b`, `a::{b, c::d}`.
fn paths(s: &[u8], mut at: usize, base: Module, out: &mut Vec<Module>) -> usize {
    let mut path = base;
    loop {
        let start = at;
        while at < s.len() && (s[at].is_ascii_alphanumeric() || s[at] == b'_') {
            at += 1;
        }
        if at > start {
            path.push(String::from_utf8_lossy(&s[start..at]).into_owned());
        }
        if s[at..].starts_with(b"::{") {
            at += 3;
            loop {
                while at < s.len() && s[at].is_ascii_whitespace() {
                    at += 1;
                }
                at = paths(s, at, path.clone(), out);
                while at < s.len() && s[at].is_ascii_whitespace() {
                    at += 1;
                }
                match s.get(at).copied().unwrap_or(b'}') {
                    b',' => at += 1,
                    b'}' => return at + 1,
                    _ => return at,
                }
                while at < s.len() && s[at].is_ascii_whitespace() {
                    at += 1;
                }
                if s.get(at) == Some(&b'}') {
                    return at + 1;
                }
            }
        }
        if s[at..].starts_with(b"::") {
            at += 2;
            continue;
        }
        out.push(path);
        return at;
    }
}

/// The module each path names: its longest prefix that is a module.
fn arrows(me: &Module, text: &str, all: &BTreeMap<Module, String>) -> BTreeSet<Module> {
    let s = code(text).into_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let word_start = i == 0 || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] == b':');
        if word_start && s[i..].starts_with(b"crate::") {
            i = paths(&s, i + 7, Vec::new(), &mut found);
        } else if word_start && s[i..].starts_with(b"super::") {
            let mut base = me.clone();
            // `super` is the parent module: a file's folder, or a folder's parent.
            while s[i..].starts_with(b"super::") {
                base.pop();
                i += 7;
            }
            i = paths(&s, i, base, &mut found);
        } else {
            i += 1;
        }
    }
    found
        .into_iter()
        .map(|p| (0..=p.len()).rev().map(|n| p[..n].to_vec()).find(|m| all.contains_key(m)).unwrap_or_default())
        .filter(|m| m != me)
        .collect()
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let mut all = BTreeMap::new();
    modules(Path::new("src"), &Vec::new(), &mut all);
    all.iter().map(|(m, text)| (m.clone(), arrows(m, text, &all))).collect()
}

/// The cycles of a graph: its strongly connected components of more than one node.
fn cycles<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    let nodes: Vec<N> = edges.keys().cloned().collect();
    let reach = |from: &N| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<N, BTreeSet<N>> = nodes.iter().map(|n| (n.clone(), reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(n) || !reaches[n].contains(n) {
            continue;
        }
        let comp: Vec<N> =
            nodes.iter().filter(|m| reaches[n].contains(*m) && reaches[*m].contains(n)).cloned().collect();
        done.extend(comp.iter().cloned());
        out.push(comp);
    }
    out
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate root".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_two_files_import_each_other() {
    let found: Vec<String> =
        cycles(&graph()).iter().map(|c| c.iter().map(name).collect::<Vec<_>>().join(" ⇄ ")).collect();
    assert!(found.is_empty(), "circular imports between files:\n{}", found.join("\n"));
}

#[test]
fn every_arrow_between_folders_points_down_the_layers() {
    let mut folders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut up = Vec::new();
    for (from, tos) in graph() {
        let a = from.first().cloned().unwrap_or_default();
        for to in tos {
            let b = to.first().cloned().unwrap_or_default();
            if a == b {
                continue;
            }
            if layer(&b) >= layer(&a) {
                up.push(format!("{} → {}", name(&from), name(&to)));
            }
            folders.entry(a.clone()).or_default().insert(b);
        }
    }
    assert!(up.is_empty(), "arrows across or up the layers:\n{}", up.join("\n"));
    assert!(cycles(&folders).is_empty(), "folders that import each other: {:?}", cycles(&folders));
}

#[test]
fn the_checker_sees_what_it_checks() {
    // A circle and an arrow up, written here, are found: the test can fail.
    let all: BTreeMap<Module, String> = [
        (vec!["load".to_string()], String::new()),
        (vec!["load".into(), "a".into()], "use super::b::X;".into()),
        (vec!["load".into(), "b".into()], "use crate::load::{a::{self, Y}, c};\n// use crate::cmd;".into()),
        (vec!["cmd".to_string()], String::new()),
    ]
    .into();
    let edges: BTreeMap<Module, BTreeSet<Module>> = all.iter().map(|(m, t)| (m.clone(), arrows(m, t, &all))).collect();
    assert_eq!(cycles(&edges).len(), 1);
    assert!(!edges[&vec!["load".to_string(), "b".to_string()]].contains(&vec!["cmd".to_string()]));
    assert!(layer("cmd") > layer("load"));
}
