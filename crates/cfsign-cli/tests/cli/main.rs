//! Black-box tests of the `cfsign` binary: each runs the real executable in its own temp dir.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod botocore;
mod bulk;
mod conformance;
mod keys;
mod passphrase;
mod sign;
mod stream;
mod util;
mod verify;
