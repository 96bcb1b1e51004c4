//! Shared test fixtures: the test keys, tokens and a config that uses them.

#![allow(dead_code)] // Each test binary uses a different part of this module.
#![allow(clippy::unwrap_used)] // Fixtures panic on broken test data.

use std::path::{Path, PathBuf};

use cfsign::{PrivateKey, TrustedKeys};
use sha2::{Digest, Sha256};

pub(crate) const KEY_A: &str = "KAAAAAAAAAAAAA";
pub(crate) const KEY_B: &str = "KBBBBBBBBBBBBB";
pub(crate) const WEB_TOKEN: &str = "web-token-0123456789";
pub(crate) const BASIC_TOKEN: &str = "basic-token-0123456789";
pub(crate) const NOW: u64 = 1_800_000_000;

pub(crate) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub(crate) fn key_path(name: &str) -> PathBuf {
    data_dir().join(name)
}

pub(crate) fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A config with keys A and B (`active` signs), a `web` client (media prefix, avatar glob,
/// cookies and custom policies, max TTL 1 h) and a `basic` client (public prefix, 60 s, nothing
/// else). `extra` is appended to `[server]`/`[cache]`-free top level.
pub(crate) fn config_toml(active: &str, extra: &str) -> String {
    format!(
        r#"active_key = "{active}"
{extra}

[[keys]]
id = "{KEY_A}"
file = "{a}"

[[keys]]
id = "{KEY_B}"
file = "{b}"

[[clients]]
name = "web"
token_sha256 = "{web}"
allow = ["https://d1.example.net/media/", "https://d1.example.net/users/*/avatar.png"]
max_ttl = "1h"
cookies = true
custom_policy = true

[[clients]]
name = "basic"
token_sha256 = "{basic}"
allow = ["https://d1.example.net/public"]
max_ttl = 60
"#,
        a = key_path("test-key-a.pem").display(),
        b = key_path("test-key-b.pem").display(),
        web = sha256_hex(WEB_TOKEN),
        basic = sha256_hex(BASIC_TOKEN),
    )
}

pub(crate) fn trusted() -> TrustedKeys {
    let mut keys = TrustedKeys::new();
    for (id, file) in [(KEY_A, "test-key-a.pem"), (KEY_B, "test-key-b.pem")] {
        let bytes = std::fs::read(key_path(file)).unwrap();
        let key = PrivateKey::parse(&bytes).unwrap();
        keys.insert(id.parse().unwrap(), key.public_key());
    }
    keys
}

/// Whether CloudFront would serve `url` at `now`, and with which key.
pub(crate) fn verify_url(url: &str, now: u64) -> Result<String, String> {
    let request = cfsign::Request::new(url, cfsign::UnixTime::from_secs(now).unwrap());
    match cfsign::verify(&request, &trusted()) {
        cfsign::Decision::Granted(grant) => Ok(grant.key_pair_id().to_owned()),
        cfsign::Decision::Denied(denial) => Err(denial.to_string()),
    }
}
