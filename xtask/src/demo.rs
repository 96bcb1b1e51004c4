//! `cargo xtask demo`: a local CloudFront with private media, provisioned and signed, until Ctrl-C.

use crate::{Options, Result};

/// Runs the demo.
pub(crate) fn run(_options: Options) -> Result<()> {
    Err("not yet".into())
}
