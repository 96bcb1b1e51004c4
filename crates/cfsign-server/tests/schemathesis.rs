//! The OpenAPI document against the real server: schemathesis (PyPI) reads `/openapi.json`,
//! sends requests the schema accepts and requests it refuses, and checks every answer against
//! the document (status, content type, body schema, `Allow` on 405, 401 without the token, no
//! 5xx). The settings are in `tests/data/schemathesis.toml`; `tests/data/schemathesis_hooks.py`
//! adds a check of its own. Skips loudly without schemathesis, unless `CI=true`.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cfsign_tests::proc::{self, Launch};
use common::*;

/// The fixed seed, so that a failure reproduces.
const SEED: &str = "20260101";

/// Test cases per operation and phase: enough for every keyword of the schema, and the whole
/// run stays well under a minute.
const MAX_EXAMPLES: &str = "40";

/// Whether `schemathesis` 4 runs (the settings and the options are version 4's); with `CI=true` a
/// missing or older one fails the test.
fn have_schemathesis() -> bool {
    // `schemathesis, version 4.32.5`
    let version = Command::new("schemathesis")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let major = version
        .as_deref()
        .and_then(|v| v.rsplit(' ').next())
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse::<u32>().ok());
    if major.is_some_and(|major| major >= 4) {
        return true;
    }
    let found = version.unwrap_or_else(|| "no `schemathesis --version`".to_owned());
    cfsign_tests::require::skip_or_fail(&format!(
        "schemathesis 4 is needed ({found}); `python3 -m pip install 'schemathesis>=4.32,<5'`"
    ));
    false
}

#[test]
fn the_server_answers_as_its_openapi_document_says() {
    if !have_schemathesis() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(&config, config_toml(KEY_A, "")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-server"));
    cmd.arg("--config")
        .arg(&config)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env_remove("AWS_CLOUDFRONT_KEY")
        .env_remove("AWS_CLOUDFRONT_KEY_ID")
        .env("RUST_LOG", "warn");
    let server = Launch::new("cfsign-server", cmd)
        .log(&dir.path().join("server.log"))
        .start()
        .unwrap();

    let data = data_dir();
    let mut st = schemathesis(&data, dir.path());
    st.arg(format!("{}/openapi.json", server.url()))
        .args(["--header", &format!("Authorization: Bearer {WEB_TOKEN}")]);
    let start = Instant::now();
    let out = proc::capture(&mut st, None).unwrap();
    let took = start.elapsed();
    eprintln!("{}", proc::describe(&st));
    eprintln!("schemathesis took {took:.1?}");
    assert!(
        out.ok(),
        "schemathesis found answers that differ from /openapi.json (exit {:?}); its report:\n{}\n{}\n\
         server log (last 40 lines):\n{}",
        out.code,
        out.stdout,
        out.stderr,
        server.log_tail(40)
    );
}

/// `schemathesis run` with the settings of `data/schemathesis.toml` and its hooks, working in
/// `work` (where hypothesis would otherwise keep its example database).
fn schemathesis(data: &Path, work: &Path) -> Command {
    let mut cmd = Command::new("schemathesis");
    cmd.current_dir(work)
        .env("SCHEMATHESIS_HOOKS", data.join("schemathesis_hooks.py"))
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(data.join("schemathesis.toml"))
        .args([
            "run",
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
            "--generation-database",
            "none",
            "--no-color",
        ]);
    cmd
}
