//! Building the workspace binaries the way `cargo test --workspace` does, and finding them.
//!
//! [`Binaries::build`] runs `cargo build` for [`BINARIES`] with the package selection
//! (`--workspace`) and feature resolution (dev-dependencies on, as `--examples` needs them) of
//! `cargo test --workspace`. Cargo's own up-to-date check thus decides what to rebuild: right
//! after `cargo test --workspace` (which builds these binaries for the crates' integration tests)
//! every unit is fresh and the build takes well under a second; run alone after an edit, it
//! rebuilds what changed, so a stale binary is never tested. A plain `cargo build -p <crate>…`
//! would resolve features without the dev-dependencies (serde's `alloc`, for one) and rebuild
//! about 40 crates (two minutes here) into a second copy of every binary. The tests ([`bin`])
//! and xtask (`cargo xtask e2e`, `demo`) both build through it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::proc::{self, describe};
use crate::{Error, Result};

/// The binaries the tests and xtask run.
pub const BINARIES: [&str; 4] = ["cfsign", "cfsign-mock", "cfsign-provision", "cfsign-server"];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// `cargo` as the one that runs us (`$CARGO`), in the workspace root, without the variables cargo
/// sets for the package being built or tested (`CARGO_PKG_NAME=cfsign-tests`, `CARGO_MANIFEST_DIR`,
/// …): build scripts that watch them (ring's watches `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`)
/// would otherwise rerun, and recompile ring, aws-config and cfsign-provision on every test run and
/// again on the next plain `cargo build`. xtask starts every cargo through this too.
pub fn cargo() -> Command {
    const SET_FOR_PACKAGE: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    for (key, _) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || SET_FOR_PACKAGE.contains(&name)
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Built binaries by name (`cfsign`, `cfsign-mock`, …).
#[derive(Debug, Clone, Default)]
pub struct Binaries {
    paths: BTreeMap<String, PathBuf>,
}

impl Binaries {
    /// Builds `names` as described in the module docs, with `extra` arguments (`--release`,
    /// `--target-dir …`), printing the command; compiler errors go to our stderr.
    pub fn build<I>(names: &[&str], extra: I) -> Result<Binaries>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut cmd = cargo();
        cmd.args(workspace_build_args(names))
            .args(extra.into_iter().map(Into::into))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        println!("$ {}", describe(&cmd));
        let mut child = proc::spawn(&mut cmd)
            .map_err(|e| Error::new(format!("cannot run `{}`: {e}", describe(&cmd))))?;
        let mut stdout = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            // A read error ends the artifact list; the exit status says whether cargo failed.
            let _ = pipe.read_to_end(&mut stdout);
        }
        let status = proc::wait(&mut child)
            .map_err(|e| Error::new(format!("waiting for `{}`: {e}", describe(&cmd))))?;
        if !status.success() {
            return Err(Error::new(format!(
                "`{}` failed with {status} (compiler errors above)",
                describe(&cmd)
            )));
        }
        Ok(Binaries {
            paths: built_binaries(&String::from_utf8_lossy(&stdout)),
        })
    }

    /// The path of binary `name`, or an error naming what was built.
    pub fn get(&self, name: &str) -> Result<&Path> {
        self.paths.get(name).map(PathBuf::as_path).ok_or_else(|| {
            Error::new(format!(
                "binary `{name}` was not built: does its crate define `[[bin]] name = \"{name}\"`? (built: {})",
                self.paths.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// A command for binary `name`.
    pub fn command(&self, name: &str) -> Result<Command> {
        Ok(Command::new(self.get(name)?))
    }
}

/// The arguments of a `cargo build` of the binaries `names` with the package selection and
/// feature resolution of `cargo test --workspace`, reporting artifacts as JSON lines on stdout.
fn workspace_build_args(names: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "build",
        "--message-format=json-render-diagnostics",
        "--workspace",
        "--examples",
    ]
    .map(str::to_owned)
    .to_vec();
    for name in names {
        args.extend(["--bin".to_owned(), (*name).to_owned()]);
    }
    args
}

/// The binaries (name → path) a `cargo build --message-format=json…` reported on `stdout`.
fn built_binaries(stdout: &str) -> BTreeMap<String, PathBuf> {
    let mut bins = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["kind"][0] != "bin" {
            continue;
        }
        if let (Some(exe), Some(name)) =
            (msg["executable"].as_str(), msg["target"]["name"].as_str())
        {
            bins.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    bins
}

/// `--target-dir`, `--target` and profile arguments that reproduce the build that made `exe`
/// (`<target-dir>[/<triple>]/<profile-dir>/deps/<name>`); none when `exe` is not laid out so.
fn layout_args(exe: &Path) -> Vec<OsString> {
    let Some(profile_dir) = exe
        .parent()
        .filter(|deps| deps.file_name().is_some_and(|n| n == "deps"))
        .and_then(Path::parent)
    else {
        return Vec::new();
    };
    let Some(profile) = profile_dir.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Some(parent) = profile_dir.parent() else {
        return Vec::new();
    };
    // Cargo tags the root of every target directory; a cross build nests `<triple>/` below it.
    let mut args: Vec<OsString> = Vec::new();
    if parent.join("CACHEDIR.TAG").is_file() {
        args.extend(["--target-dir".into(), parent.into()]);
    } else if let (Some(root), Some(triple)) = (parent.parent(), parent.file_name())
        && root.join("CACHEDIR.TAG").is_file()
    {
        args.extend(["--target-dir".into(), root.into()]);
        args.extend(["--target".into(), triple.to_owned()]);
    } else {
        return Vec::new();
    }
    match profile {
        // `dev` and `test` share `debug/`, and build the binaries alike.
        "debug" => {}
        "release" => args.push("--release".into()),
        custom => args.extend(["--profile".into(), custom.into()]),
    }
    args
}

/// What [`binaries`] built, and when the build started.
#[derive(Debug)]
struct Built {
    bins: Binaries,
    started: SystemTime,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<std::result::Result<Built, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let started = SystemTime::now();
        // The target directory and profile of the running test executable.
        let layout = std::env::current_exe()
            .map(|exe| layout_args(&exe))
            .unwrap_or_default();
        Binaries::build(&BINARIES, layout)
            .map(|bins| Built { bins, started })
            .map_err(String::from)
    });
    match built {
        Ok(built) => built,
        Err(e) => panic!("{e}"),
    }
}

/// [`BINARIES`], built once per test process into the target directory and profile of the
/// running test executable.
///
/// # Panics
/// When the build fails: no test that needs a binary can run.
pub fn binaries() -> &'static Binaries {
    &built().bins
}

/// The path of binary `name` (see [`binaries`]).
///
/// # Panics
/// When the build fails or no such binary exists: a test that needs it cannot run.
pub fn bin(name: &str) -> PathBuf {
    match binaries().get(name) {
        Ok(path) => path.to_owned(),
        Err(e) => panic!("{e}"),
    }
}

/// A `Command` for binary `name` (see [`binaries`]).
pub fn command(name: &str) -> Command {
    Command::new(bin(name))
}

/// The source files binary `name` was built from (cargo's dep-info next to it) that are newer
/// than the binary although they were saved before [`binaries`]' build started: empty unless
/// the binary is stale.
///
/// # Panics
/// When the binary or its dep-info file cannot be read.
pub fn stale_sources(name: &str) -> Vec<PathBuf> {
    let exe = bin(name);
    let mtime = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let built_at = mtime(&exe);
    let dep_info = exe.with_extension("d");
    let text = std::fs::read_to_string(&dep_info)
        .unwrap_or_else(|e| panic!("{}: {e}", dep_info.display()));
    let sources = text.split_once(": ").map_or("", |(_, deps)| deps);
    // Make-style list: spaces inside a path are escaped as `\ `.
    let sources = sources.replace("\\ ", "\0");
    sources
        .split_whitespace()
        // Relative when `build.dep-info-basedir` is set; taken as relative to the workspace.
        .map(|s| workspace_root().join(s.replace('\0', " ")))
        .filter(|path| {
            let modified = mtime(path);
            modified > built_at && modified < built().started
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_binaries_from_cargo_json() {
        let stdout = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"cfsign"},"executable":null}
not json
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"cfsign-mock"},"executable":"/t/debug/cfsign-mock"}
{"reason":"build-finished","success":true}"#;
        let bins = built_binaries(stdout);
        assert_eq!(
            bins.into_iter().collect::<Vec<_>>(),
            [(
                "cfsign-mock".to_owned(),
                PathBuf::from("/t/debug/cfsign-mock")
            )]
        );
    }

    #[test]
    fn builds_like_cargo_test_workspace() {
        assert_eq!(
            workspace_build_args(&["cfsign", "cfsign-mock"]).join(" "),
            "build --message-format=json-render-diagnostics --workspace --examples --bin cfsign --bin cfsign-mock"
        );
    }

    #[test]
    fn layout_of_a_test_executable_outside_a_target_dir_adds_nothing() {
        assert!(layout_args(Path::new("/nowhere/debug/deps/system-0123")).is_empty());
        assert!(layout_args(Path::new("/nowhere/system")).is_empty());
    }
}
