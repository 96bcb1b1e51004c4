//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use crate::proc::{cargo, run_inherit};
use crate::{Options, Result};

/// Runs fmt, clippy, the workspace tests, then e2e.
pub(crate) fn run(options: Options) -> Result<()> {
    println!("== ci: cargo fmt --check");
    run_inherit(cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}\nfix: run `cargo fmt --all`"))?;
    println!("== ci: cargo clippy");
    run_inherit(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    println!("== ci: cargo test");
    run_inherit(cargo().args(["test", "--workspace", "--locked"]))?;
    println!("== ci: e2e");
    crate::e2e::run(options)
}
