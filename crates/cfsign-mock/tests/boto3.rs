//! boto3 (botocore's own REST-XML parser) against the mock: runs `tests/boto3_flow.py`.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.
//! Skips loudly without python3/boto3/cryptography unless `CI=true`, where it fails instead.

mod common;

use std::process::Command;

use cfsign_mock::MockConfig;
use common::Mock;

fn python_ready() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import boto3, botocore, cryptography"])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 lacks boto3/cryptography: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[test]
fn boto3_drives_every_operation() {
    if let Err(why) = python_ready() {
        cfsign_tests::require::skip_or_fail(&format!(
            "the boto3 test cannot run: {why} (set up python3 with boto3 and cryptography)"
        ));
        return;
    }
    let m = Mock::start(MockConfig::default());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_flow.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(m.endpoint())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3 flow failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("boto3 flow: OK"), "{stdout}\n{stderr}");
}
