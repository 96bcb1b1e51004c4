//! Black-box tests of the `cfsign` binary: each runs the real executable in its own temp dir.

mod botocore;
mod bulk;
mod keys;
mod sign;
mod util;
mod verify;
