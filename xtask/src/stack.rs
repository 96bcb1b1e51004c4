//! What e2e and demo add to the harness's stack (`cfsign_tests::stack`, the mock provisioned
//! by cfsign-provision, and cfsign-server): the origin's test files, the server's config with
//! xtask's client, and small helpers for the server's answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cfsign_tests::proc::capture;
use cfsign_tests::stack::Stack;
use cfsign_tests::{BINARIES, Binaries};

use crate::Result;

/// The key group `setup` creates (and `rotate` works on).
pub(crate) const KEY_GROUP: &str = "cfsign-xtask";

/// The bearer token the e2e/demo client uses with cfsign-server (a throwaway for loopback).
pub(crate) const CLIENT_TOKEN: &str = "xtask-e2e-token-0123456789abcdef";

/// A small picture for the demo's private path (viewable in a browser).
const DEMO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="360" height="120" viewBox="0 0 360 120">
<rect width="360" height="120" rx="12" fill="#232f3e"/>
<text x="180" y="55" font-family="sans-serif" font-size="22" fill="#ff9900" text-anchor="middle">private media</text>
<text x="180" y="88" font-family="sans-serif" font-size="15" fill="#ffffff" text-anchor="middle">served because the URL is signed</text>
</svg>
"##;

/// Test files: path under the origin → contents.
pub(crate) fn origin_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut binary: Vec<u8> = (0..=255u8).collect();
    binary.extend_from_slice(b"\r\n\0end");
    vec![
        (
            "private/hello.txt",
            b"hello from the private path\n".to_vec(),
        ),
        ("private/data.bin", binary),
        ("private/video/seg-0001.ts", b"segment one\n".to_vec()),
        ("private/video/seg-0002.ts", b"segment two\n".to_vec()),
        (
            "private/video/index.m3u8",
            b"#EXTM3U\n#EXTINF:4,\nseg-0001.ts\n#EXTINF:4,\nseg-0002.ts\n".to_vec(),
        ),
        ("private/other.txt", b"another private file\n".to_vec()),
        (
            "public/index.html",
            b"<!doctype html><p>public page</p>\n".to_vec(),
        ),
        ("private/image.svg", DEMO_SVG.as_bytes().to_vec()),
    ]
}

/// Builds the binaries, then brings up the stack in `work` (see `cfsign_tests::stack`): the
/// origin above, the key group [`KEY_GROUP`], services stopped with SIGTERM and a grace period.
pub(crate) fn start(work: &Path, release: bool) -> Result<Stack> {
    let bins = Binaries::build(&BINARIES, release.then_some("--release"))?;
    let stack = Stack::builder(bins, work)
        .files(origin_files())
        .key_names(KEY_GROUP, "cfsign-xtask-rsa")
        .graceful_stop(Duration::from_secs(3))
        .start()?;
    Ok(stack)
}

/// A key the server holds.
#[derive(Debug, Clone)]
pub(crate) struct ServerKey {
    /// Key-Pair-Id.
    pub(crate) id: String,
    /// Private key PEM path.
    pub(crate) path: PathBuf,
}

/// Writes the server's TOML config: `keys` (the last one active), one client allowed to sign
/// anything under the distribution's edge URL, with cookies and custom policies.
pub(crate) fn write_server_config(stack: &Stack, keys: &[ServerKey], path: &Path) -> Result<()> {
    let active = keys.last().ok_or("the server needs at least one key")?;
    let token_hash = sha256_hex(CLIENT_TOKEN)?;
    let mut toml = String::new();
    toml.push_str(&format!("active_key = \"{}\"\n\n", active.id));
    for k in keys {
        toml.push_str(&format!(
            "[[keys]]\nid = \"{}\"\nfile = {}\n\n",
            k.id,
            serde_json::Value::String(k.path.display().to_string())
        ));
    }
    toml.push_str(&format!(
        "[[clients]]\nname = \"xtask\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{}\"]\nmax_ttl = \"1d\"\ncookies = true\ncustom_policy = true\n",
        stack.edge_url("/")
    ));
    // Write then rename, so a server watching the file never reads half of it.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, toml).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// SHA-256 of `text` in hex, computed by `openssl` (xtask carries no hash crate).
pub(crate) fn sha256_hex(text: &str) -> Result<String> {
    let out = capture(
        Command::new("openssl").args(["dgst", "-sha256", "-r"]),
        Some(text.as_bytes()),
    )?;
    if !out.ok() {
        return Err(format!("openssl dgst -sha256 failed: {}", out.summary()));
    }
    out.stdout
        .split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "openssl dgst printed nothing".to_owned())
}

/// Cookie header built from `Set-Cookie` lines (or `name=value` pairs) found in `text`.
pub(crate) fn cookie_header_from(text: &str) -> Option<String> {
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line
            .strip_prefix("Set-Cookie:")
            .or_else(|| line.strip_prefix("set-cookie:"))
            .or_else(|| line.strip_prefix("Cookie:"))
            .unwrap_or(line)
            .trim();
        for part in line.split(';') {
            if let Some((k, v)) = part.trim().split_once('=')
                && k.starts_with("CloudFront-")
            {
                pairs.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    if pairs.is_empty() {
        None
    } else {
        Some(
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}
