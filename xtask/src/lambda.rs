//! The e2e leg for the Lambda build: `cfsign-server-lambda` under cargo-lambda's emulator
//! (`cfsign_tests::lambda`), configured with the running server's TOML in
//! `CFSIGN_SERVER_CONFIG_TOML`, signs a URL and cookies through the function-URL endpoint; the
//! mock's edge must serve them, and every signature joins the independent OpenSSL check.

use std::path::Path;

use serde_json::{Value, json};

use cfsign_tests::stack::Stack;
use cfsign_tests::{Binaries, http, lambda};

use crate::Result;
use crate::edge::expect_served;
use crate::harness::{Issued, issued_from_cookies, issued_from_url};
use crate::report::Report;
use crate::stack::CLIENT_TOKEN;

/// Runs the leg with the server configuration at `config`, reporting each check; signatures go
/// to `issued`.
pub(crate) fn leg(
    stack: &Stack,
    config: &Path,
    release: bool,
    report: &mut Report,
    issued: &mut Vec<Issued>,
) {
    report.section("the Lambda build under cargo-lambda's emulator (function URL)");
    if !lambda::available() {
        report.fail(
            "cargo-lambda",
            "cargo-lambda is not installed (pip install cargo-lambda)",
        );
        return;
    }
    let started = start(stack, config, release);
    let Some(emulator) = (match started {
        Ok(emulator) => {
            report.pass("cfsign-server-lambda polling the emulator", emulator.base());
            Some(emulator)
        }
        Err(e) => {
            report.fail("cfsign-server-lambda polling the emulator", e);
            None
        }
    }) else {
        return;
    };
    let hello = stack.edge_url("/private/hello.txt");
    let r = post(&emulator, "/v1/sign", &json!({"url": hello, "ttl": "5m"})).and_then(|v| {
        let url = v["signed_url"].as_str().ok_or("no signed_url")?.to_owned();
        issued.push(issued_from_url("Lambda URL", &url)?);
        expect_served(&url, None, "private/hello.txt")
    });
    report.check("Lambda: signed URL served by the edge", r);
    let pattern = stack.edge_url("/private/*");
    let body = json!({"resource": pattern, "ttl": "5m", "set_cookies": true});
    let r = post(&emulator, "/v1/cookies", &body).and_then(|v| {
        let header = v["cookie_header"]
            .as_str()
            .ok_or("no cookie_header")?
            .to_owned();
        issued.push(issued_from_cookies("Lambda cookies", &header, &hello)?);
        expect_served(&hello, Some(&header), "private/hello.txt")
    });
    report.check("Lambda: signed cookies served by the edge", r);
}

/// Builds the Lambda binary (as the workspace build does) and starts it under the emulator.
fn start(stack: &Stack, config: &Path, release: bool) -> Result<lambda::Emulator> {
    let bins = Binaries::build(&["cfsign-server-lambda"], release.then_some("--release"))?;
    let toml = std::fs::read_to_string(config).map_err(|e| format!("{}: {e}", config.display()))?;
    let dir = stack.dir().join("lambda");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(lambda::Emulator::start(
        bins.get("cfsign-server-lambda")?,
        &[("CFSIGN_SERVER_CONFIG_TOML", &toml)],
        &dir,
    )?)
}

/// `POST path` with the client token through the function URL; the JSON answer of a 200.
fn post(emulator: &lambda::Emulator, path: &str, body: &Value) -> Result<Value> {
    let response = http::post_json(&format!("{}{path}", emulator.base()), body)
        .bearer(CLIENT_TOKEN)
        .send()?;
    if response.status != 200 {
        return Err(format!("{path}: {} {}", response.status, response.text()));
    }
    Ok(response.json()?)
}
