//! `cargo xtask bench`: runs the benchmarks and refreshes docs/benchmarks.md's anchors.

use crate::{Options, Result};

/// Runs the benchmarks.
pub(crate) fn run(_options: Options) -> Result<()> {
    Err("not yet".into())
}
