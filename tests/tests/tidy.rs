//! Tidy checks (in the manner of rust-analyzer's `tidy.rs`): the architecture invariants of
//! `docs/architecture.md` that a compiler does not check, checked on every `cargo test`.
//!
//! - Dependency arrows: the core pulls in no async runtime, HTTP stack or AWS SDK; only
//!   `cfsign-provision` and `cfsign-aws` link an AWS SDK (the server only through its non-default
//!   `aws` feature, and the Lambda runtime only through its non-default `lambda` feature).
//! - No import cycles between the top-level modules of a crate.
//! - Every source file says what it is for (`//!`), and every member inherits the workspace lints
//!   (among them `missing_docs`, which CI's clippy `-D warnings` turns into an error).

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    cfsign_tests::workspace_root()
}

/// The crates under `crates/`.
fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The normal (non-dev) dependency names of `package` with its default features.
fn dependency_names(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn forbidden<'a>(names: &'a BTreeSet<String>, prefixes: &[&str]) -> Vec<&'a String> {
    names
        .iter()
        .filter(|n| {
            prefixes
                .iter()
                .any(|p| n == p || n.starts_with(&format!("{p}-")))
        })
        .collect()
}

#[test]
fn dependency_arrows_hold() {
    let aws = [
        "aws-config",
        "aws-sdk-cloudfront",
        "aws-sdk-kms",
        "aws-sdk-secretsmanager",
        "aws-sdk-ssm",
        "aws-smithy-runtime",
        "cfsign-aws",
        // The Lambda runtime: only the server's non-default `lambda` feature links it.
        "lambda_http",
        "lambda_runtime",
        "aws_lambda_events",
    ];
    let core = dependency_names("cfsign", &[]);
    let bad = forbidden(
        &core,
        &["tokio", "hyper", "axum", "reqwest", "ureq", "tower", "mio"],
    );
    assert!(
        bad.is_empty(),
        "the core must do no I/O, but depends on {bad:?}"
    );
    let bad = forbidden(&core, &aws);
    assert!(bad.is_empty(), "the core must not link an AWS SDK: {bad:?}");
    let native = dependency_names("cfsign", &["--features", "native"]);
    assert!(forbidden(&native, &["tokio", "hyper", "axum"]).is_empty());
    for package in ["cfsign-cli", "cfsign-server", "cfsign-mock"] {
        let names = dependency_names(package, &[]);
        let bad = forbidden(&names, &aws);
        assert!(
            bad.is_empty(),
            "{package} links an AWS SDK in its default build: {bad:?}; only cfsign-provision and cfsign-aws \
             (and the server's non-default `aws` and `lambda` features) may"
        );
    }
    // The server's `lambda` feature links the runtime (and, through `aws`, the SDK).
    let server_lambda = dependency_names("cfsign-server", &["--features", "lambda"]);
    assert!(
        server_lambda.contains("lambda_http") && server_lambda.contains("cfsign-aws"),
        "the check itself is broken: cfsign-server --features lambda: {server_lambda:?}"
    );
    // The server's `aws` feature is the one way it links the SDK, through cfsign-aws.
    let server_aws = dependency_names("cfsign-server", &["--features", "aws"]);
    assert!(
        server_aws.contains("cfsign-aws") && server_aws.contains("aws-sdk-kms"),
        "the check itself is broken: cfsign-server --features aws: {server_aws:?}"
    );
    let aws_crate = dependency_names("cfsign-aws", &[]);
    let bad = forbidden(&aws_crate, &["axum", "cfsign-server", "cfsign-provision"]);
    assert!(
        bad.is_empty(),
        "cfsign-aws is a library of key sources under the binaries, not above them: {bad:?}"
    );
    let provision = dependency_names("cfsign-provision", &[]);
    assert!(
        provision.contains("aws-sdk-cloudfront"),
        "the check itself is broken: {provision:?}"
    );
}

#[test]
fn every_member_inherits_the_workspace_lints() {
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for lint in [
        "missing_docs = \"warn\"",
        "unsafe_code = \"forbid\"",
        "unwrap_used = \"warn\"",
    ] {
        assert!(
            workspace.contains(lint),
            "the workspace lints lost `{lint}`"
        );
    }
    let mut members: Vec<PathBuf> = crate_dirs();
    members.extend([root().join("tests"), root().join("xtask")]);
    for dir in members {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{} does not inherit the workspace lints ([lints] workspace = true)",
            dir.display()
        );
    }
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let mut files = Vec::new();
    for dir in crate_dirs() {
        rust_files(&dir.join("src"), &mut files);
    }
    rust_files(&root().join("xtask/src"), &mut files);
    rust_files(&root().join("tests/src"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` line saying what they are for: {missing:?}"
    );
}

/// A crate's source: its top-level modules, and for each the top-level modules it refers to.
struct ModuleGraph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    fn of(src: &Path) -> ModuleGraph {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        // Top-level module of each file (the root file is `""`).
        let module_of = |file: &Path| -> String {
            let rel = file.strip_prefix(src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .into_owned();
            let name = first.trim_end_matches(".rs").to_owned();
            if rel.components().count() == 1 && matches!(name.as_str(), "lib" | "main") {
                String::new()
            } else {
                name
            }
        };
        let modules: BTreeSet<String> = files
            .iter()
            .map(|f| module_of(f))
            .filter(|m| !m.is_empty())
            .collect();
        // Names the root re-exports (`pub use crate::module::{A, B}`), mapped to their module.
        let mut reexports: BTreeMap<String, String> = BTreeMap::new();
        for root_file in ["lib.rs", "main.rs"] {
            let Ok(text) = std::fs::read_to_string(src.join(root_file)) else {
                continue;
            };
            for (module, names) in use_paths(&code_only(&text)) {
                for name in names {
                    reexports.insert(name, module.clone());
                }
            }
        }
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &files {
            let from = module_of(file);
            if from.is_empty() {
                continue;
            }
            let text = code_only(&std::fs::read_to_string(file).unwrap());
            let entry = edges.entry(from.clone()).or_default();
            for (first, names) in use_paths(&text) {
                let targets: Vec<String> = if modules.contains(&first) {
                    vec![first]
                } else {
                    // `crate::Name` or `crate::{A, B}`: where the root's re-exports come from.
                    std::iter::once(first)
                        .chain(names)
                        .filter_map(|n| reexports.get(&n).cloned())
                        .collect()
                };
                for to in targets {
                    if to != from {
                        entry.insert(to);
                    }
                }
            }
        }
        ModuleGraph { edges }
    }

    /// Every cycle, as the list of modules around it (each reported once, from its smallest name).
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut found = BTreeSet::new();
        for start in self.edges.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            while let Some((at, path)) = stack.pop() {
                for next in self.edges.get(&at).into_iter().flatten() {
                    if next == start {
                        let min = path.iter().min().unwrap();
                        if min == start {
                            found.insert(path.clone());
                        }
                    } else if !path.contains(next) && next > start {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        stack.push((next.clone(), longer));
                    }
                }
            }
        }
        found.into_iter().collect()
    }
}

/// The text without comments (doc links such as ``[`x`](crate::x)`` are not imports).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::` path in `text`: its first segment, and for `crate::{…}` groups every name in
/// the group (nested groups flattened) so re-exported items can be traced.
fn use_paths(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let preceded_by_ident = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        rest = &rest[i + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let inner = &group[..end];
            // Each comma-separated item at depth 0: its first segment and its names.
            let mut items = Vec::new();
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            for item in items {
                let item = item.trim();
                let first: String = item
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if first.is_empty() {
                    continue;
                }
                let names: Vec<String> = item
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|s| !s.is_empty() && *s != "as" && *s != "self")
                    .map(str::to_owned)
                    .collect();
                out.push((first, names));
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments = path.split("::").filter(|s| !s.is_empty());
            if let Some(first) = segments.next() {
                let mut names: Vec<String> = segments.map(str::to_owned).collect();
                // `crate::module::{A, B}`: the names in the group.
                if let Some(group) = rest[path.len()..].strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    names.extend(
                        group[..end]
                            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .filter(|s| !s.is_empty() && *s != "as" && *s != "self")
                            .map(str::to_owned),
                    );
                }
                out.push((first.to_owned(), names));
            }
        }
    }
    out
}

#[test]
fn no_import_cycles_between_modules() {
    let mut report = Vec::new();
    let mut dirs = crate_dirs();
    dirs.push(root().join("xtask"));
    dirs.push(root().join("tests"));
    for dir in dirs {
        let graph = ModuleGraph::of(&dir.join("src"));
        for cycle in graph.cycles() {
            report.push(format!(
                "{}: {} -> {}",
                dir.file_name().unwrap().to_string_lossy(),
                cycle.join(" -> "),
                cycle[0]
            ));
        }
    }
    assert!(
        report.is_empty(),
        "import cycles between modules:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "//! x\nmod a;\nmod b;\nmod c;\npub use crate::c::{Other, Thing};\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a.rs"),
        "//! a\nuse crate::b::B;\n// crate::c in a comment is no import\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "//! b\nuse crate::{Thing, other::X};\n").unwrap();
    std::fs::write(src.join("c.rs"), "//! c\nuse crate::{a::{A, B as _}};\n").unwrap();
    let graph = ModuleGraph::of(src);
    assert_eq!(
        graph.cycles(),
        vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
    );
    std::fs::write(src.join("c.rs"), "//! c\n").unwrap();
    assert!(ModuleGraph::of(src).cycles().is_empty());
}
