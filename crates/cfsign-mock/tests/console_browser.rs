//! The web console in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `playwright-core` (pinned in `tests/browser/console/package.json`) loads `/_cfsign/`, sees a
//! denied and a served request appear with their reasons, and reads the explanation of a pasted
//! expired URL. Screenshots go to `target/browser-artifacts/console/`. Needs `node`, Chromium
//! and `npm ci` in `tests/browser/console`: missing, this fails with `CI=true` and skips otherwise.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cfsign::{PrivateKey, Signer, UnixTime};
use cfsign_mock::MockConfig;
use common::*;

fn chromium() -> String {
    std::env::var("CFSIGN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/console")
}

fn ready() -> Result<(), String> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !node.status.success() {
        return Err("node --version failed".to_owned());
    }
    if !Path::new(&chromium()).exists() {
        return Err(format!(
            "{} does not exist (apt-get install chromium)",
            chromium()
        ));
    }
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Err(
            "playwright-core is not installed: run `npm ci` in tests/browser/console".to_owned(),
        );
    }
    Ok(())
}

#[test]
fn the_console_shows_requests_and_verifies_urls_in_chromium() {
    if require("the console browser test", ready()).is_err() {
        return;
    }
    let key_dir = tempfile::tempdir().unwrap();
    let m = Mock::start(
        MockConfig::default()
            .with_demo(true)
            .with_demo_key_file(key_dir.path().join("demo.pem")),
    );
    let demo = m.handle().demo().unwrap();
    let edge = format!("{}/_edge/{}", m.endpoint(), demo.distribution_id());
    let signer = Signer::new(
        demo.key_pair_id().parse().unwrap(),
        PrivateKey::from_pem(demo.private_key_pem()).unwrap(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secret = format!("{edge}/private/secret.txt");
    let served = signer
        .sign_canned_url(&secret, UnixTime::from_secs(now + 3600).unwrap())
        .unwrap();
    let expired = signer
        .sign_canned_url(&secret, UnixTime::from_secs(now - 600).unwrap())
        .unwrap();
    let artifacts =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts/console");
    std::fs::create_dir_all(&artifacts).unwrap();
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec", "console.test.mjs"])
        .current_dir(browser_dir())
        .env("CONSOLE_URL", format!("{}/_cfsign/", m.endpoint()))
        .env("DENIED_URL", &secret)
        .env("SERVED_URL", &served)
        .env("EXPIRED_URL", &expired)
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    for shot in ["console-requests.png", "console-verify.png"] {
        assert!(artifacts.join(shot).is_file(), "no screenshot {shot}");
    }
}
