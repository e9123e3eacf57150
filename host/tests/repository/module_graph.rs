//! The modules of the host's `src/`, and of every crate under `components/`,
//! depend on each other in one direction only, and so do their folders: a cycle
//! (`app` needs `state` needs `app`, or `postgres/` needs `telemetry/` needs
//! `postgres/`) is a design that can no longer be read, or changed, one part at
//! a time. And no file outside tests runs past 300 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// `postgres::pool` for `src/postgres/pool.rs`, `postgres` for `src/postgres/mod.rs`.
fn module_name(relative: &Path) -> String {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "main" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts.join("::")
}

fn sources(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = module_name(path.strip_prefix(root).expect("under src/"));
            out.insert(name, fs::read_to_string(&path).expect("a source file is readable"));
        }
    }
}

/// The paths a source names after `crate::` or `super::`, each as far as it goes
/// (`crate::{a, b::c}` names `a` and `b::c`).
fn named_paths(module: &str, source: &str) -> Vec<String> {
    let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
    let mut paths = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_owned())] {
        for (at, _) in source.match_indices(prefix) {
            let preceded_by_ident = source[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
            if preceded_by_ident {
                continue;
            }
            let rest = &source[at + prefix.len()..];
            let items: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for item in items {
                let path: String =
                    item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                let path = path.trim_end_matches(':');
                if path.is_empty() || path == "self" {
                    continue;
                }
                paths.push(if base.is_empty() { path.to_owned() } else { format!("{base}::{path}") });
            }
        }
    }
    paths
}

/// The longest known module a path starts with.
fn resolve<'a>(path: &str, modules: &'a BTreeMap<String, String>) -> Option<&'a str> {
    let mut candidate = path;
    loop {
        if let Some((name, _)) = modules.get_key_value(candidate) {
            return Some(name);
        }
        candidate = candidate.rsplit_once("::")?.0;
    }
}

fn find_cycle(graph: &BTreeMap<&str, BTreeSet<&str>>) -> Option<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        done: &mut BTreeSet<&'a str>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[start..].iter().map(|n| n.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn module_graph(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, source) in modules {
        let edges = graph.entry(module.as_str()).or_default();
        for path in named_paths(module, source) {
            if let Some(target) = resolve(&path, modules)
                && target != module
                && !target.is_empty()
            {
                edges.insert(target);
            }
        }
    }
    graph
}

/// Each edge between two modules as the edge between the two parts of their
/// closest common folder that hold them (`capabilities::postgres::pool` →
/// `observe::telemetry` is `capabilities` → `observe`; `capabilities::postgres`
/// → `capabilities::allow` stays): a cycle here is one among siblings.
fn folder_graph<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let mut folders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, targets) in graph {
        for to in targets {
            let (a, b): (Vec<&str>, Vec<&str>) = (from.split("::").collect(), to.split("::").collect());
            let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            // A folder and what it holds (`mod.rs` and its files) are one part.
            if from.is_empty() || common == a.len() || common == b.len() {
                continue;
            }
            let part = |path: &'a str, depth: usize| -> &'a str {
                let end = path.split("::").take(depth).map(|s| s.len()).sum::<usize>() + 2 * (depth - 1);
                &path[..end]
            };
            folders.entry(part(from, common + 1)).or_default().insert(part(to, common + 1));
        }
    }
    folders
}

fn crate_sources(root: &Path) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    sources(root, root, &mut modules);
    modules
}

fn host_sources() -> BTreeMap<String, String> {
    crate_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// Each crate under `components/` (the domains, `common`, the address check,
/// the development token) by name, with its modules.
fn component_crates() -> Vec<(String, BTreeMap<String, String>)> {
    let components = Path::new(env!("CARGO_MANIFEST_DIR")).join("../components");
    let mut crates: Vec<(String, BTreeMap<String, String>)> = fs::read_dir(&components)
        .expect("components/ is readable")
        .map(|entry| entry.expect("a directory entry").path().join("src"))
        .filter(|src| src.is_dir())
        .map(|src| {
            let name = src.parent().and_then(Path::file_name).expect("a crate folder").to_string_lossy().into_owned();
            (name, crate_sources(&src))
        })
        .collect();
    crates.sort();
    crates
}

/// The modules of each file over `MAX_LINES` lines before its tests.
fn long_files(modules: &BTreeMap<String, String>) -> Vec<(String, usize)> {
    modules
        .iter()
        .map(|(module, source)| (module.clone(), source.lines().take_while(|l| l.trim() != "#[cfg(test)]").count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .collect()
}

#[test]
fn the_modules_of_the_host_form_no_cycle() {
    let modules = host_sources();
    let graph = module_graph(&modules);
    assert!(graph["app"].contains("app::state"), "the graph is read from the sources: {graph:?}");
    assert_eq!(find_cycle(&graph), None, "modules that import each other, in order");
}

#[test]
fn the_folders_of_the_host_import_one_way() {
    let modules = host_sources();
    let graph = module_graph(&modules);
    let folders = folder_graph(&graph);
    assert!(folders["app"].contains("capabilities"), "the folders are read from the sources: {folders:?}");
    assert!(folders["capabilities::postgres"].contains("capabilities::allow"), "{folders:?}");
    assert_eq!(find_cycle(&folders), None, "folders that import each other, in order");
}

#[test]
fn a_folder_cycle_through_different_files_is_found() {
    let graph: BTreeMap<&str, BTreeSet<&str>> = [
        ("capabilities::postgres::pool", BTreeSet::from(["observe::telemetry"])),
        ("observe::metrics", BTreeSet::from(["capabilities::postgres"])),
        ("observe::telemetry", BTreeSet::new()),
    ]
    .into();
    assert_eq!(find_cycle(&graph), None, "no cycle among the modules themselves");
    let folders = folder_graph(&graph);
    assert_eq!(find_cycle(&folders).map(|c| c.len()), Some(3), "{folders:?}");
}

/// Lines before a file's `#[cfg(test)]`: what a reader of the code reads.
const MAX_LINES: usize = 300;

#[test]
fn no_file_of_the_host_runs_past_300_lines_outside_its_tests() {
    let modules = host_sources();
    assert!(modules.len() > 30, "the sources are read");
    assert_eq!(long_files(&modules), [], "files over {MAX_LINES} lines outside their tests");
}

#[test]
fn the_crates_of_the_components_form_no_cycle_and_no_long_file() {
    let crates = component_crates();
    let names: Vec<&str> = crates.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.contains(&"tickets") && names.contains(&"common"), "the crates are read: {names:?}");
    let tickets = &crates.iter().find(|(name, _)| name == "tickets").expect("tickets").1;
    assert!(module_graph(tickets)["sale"].contains("repo"), "the graph is read from the sources");
    for (name, modules) in &crates {
        let graph = module_graph(modules);
        assert_eq!(find_cycle(&graph), None, "{name}: modules that import each other, in order");
        assert_eq!(find_cycle(&folder_graph(&graph)), None, "{name}: folders that import each other, in order");
        assert_eq!(long_files(modules), [], "{name}: files over {MAX_LINES} lines outside their tests");
    }
}

#[test]
fn a_planted_cycle_is_found() {
    let graph: BTreeMap<&str, BTreeSet<&str>> = [
        ("app", BTreeSet::from(["state"])),
        ("state", BTreeSet::from(["postgres"])),
        ("postgres", BTreeSet::from(["app"])),
    ]
    .into();
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(4));
}

/// Where each black-box binary runs is read from its `main.rs` (the Makefile's
/// `runs_on`): every binary says it, once, in words the Makefile knows, and
/// every test lives in a binary of its own folder (a `tests/*.rs` file would be
/// a binary of its own that says nothing).
#[test]
fn every_test_binary_says_where_it_runs() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut on_spin = Vec::new();
    for entry in fs::read_dir(&tests).expect("tests/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().expect("a name").to_string_lossy().into_owned();
        assert!(path.extension().is_none_or(|e| e != "rs"), "{name} is a test binary outside the folders");
        let Ok(source) = fs::read_to_string(path.join("main.rs")) else { continue };
        let lines: Vec<&str> = source.lines().filter_map(|l| l.strip_prefix("// runtimes:")).collect();
        let [runtimes] = lines.as_slice() else {
            panic!("{name}/main.rs needs one `// runtimes:` line, has {}", lines.len());
        };
        let words: Vec<&str> = runtimes.split_whitespace().collect();
        assert!(!words.is_empty(), "{name} runs nowhere");
        assert!(words.iter().all(|w| ["eventos", "spin", "node"].contains(w)), "{name}: {runtimes}");
        if words.contains(&"spin") {
            on_spin.push(name);
        }
    }
    on_spin.sort();
    assert_eq!(on_spin, ["platform", "spin_semantics"], "the lines are read");
}
