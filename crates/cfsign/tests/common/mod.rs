//! Helpers shared by the integration tests: test keys, backends, and tool availability.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};

use cfsign::{Backend, PrivateKey};

/// The directory holding the vectors and keys.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The bytes of a key file under `tests/data/keys`.
pub fn key_bytes(name: &str) -> Vec<u8> {
    let path = data_dir().join("keys").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The text of a key file under `tests/data/keys`.
pub fn key_text(name: &str) -> String {
    String::from_utf8(key_bytes(name)).unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
}

/// Loads a private key fixture.
pub fn private_key(name: &str) -> PrivateKey {
    PrivateKey::parse(&key_bytes(name)).unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// Every backend compiled in.
pub fn backends() -> Vec<Backend> {
    #[cfg(feature = "native")]
    return vec![Backend::RustCrypto, Backend::OpenSsl];
    #[cfg(not(feature = "native"))]
    return vec![Backend::RustCrypto];
}

/// Whether `program` can be run. With `CI=true` a missing program fails the test; otherwise the
/// caller skips, and this prints loudly why.
pub fn tool_available(program: &str, args: &[&str], test: &str) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "{test}: `{program}` is not available, and CI=true forbids skipping; install it"
            );
        }
        eprintln!(
            "\n*** SKIPPED {test}: `{program} {}` did not run. Install it to run this test (CI=true makes this a failure). ***\n",
            args.join(" ")
        );
    }
    ok
}
