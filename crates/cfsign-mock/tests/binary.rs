//! The real `cfsign-mock` binary: the ready line on stdout, state across restarts, clean
//! shutdown on SIGTERM, and a clear error for bad flags.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::process::Command;
use std::time::Duration;

use cfsign_tests::http;
use cfsign_tests::proc::{Launch, Service};

/// The binary on port 0 with `args`, killed on drop; its first line on stdout is the ready line.
fn spawn(args: &[&str]) -> Service {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"));
    cmd.args(["--port", "0"]).args(args);
    let mock = Launch::new("cfsign-mock", cmd).start().unwrap();
    let ready = format!("cfsign-mock listening on http://127.0.0.1:{}", mock.port());
    assert_eq!(mock.first_line().map(str::trim), Some(ready.as_str()));
    mock
}

fn get(mock: &Service, path: &str, host: Option<&str>) -> (u16, String) {
    let mut request = http::get(&format!("{}{path}", mock.url()));
    if let Some(host) = host {
        request = request.host(host);
    }
    let resp = request.send().unwrap();
    (resp.status, resp.text())
}

#[test]
fn demo_state_survives_restart_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let p = spawn(&["--demo", "--state-file", state_arg]);
    let (status, body) = get(&p, "/2020-05-31/distribution", None);
    assert_eq!(status, 200);
    let domain = common::xml_value(&body, "DomainName").unwrap();
    assert_eq!(get(&p, "/public/hello.txt", Some(&domain)).0, 200);
    let (status, body) = get(&p, "/private/secret.txt", Some(&domain));
    assert_eq!(status, 403);
    assert!(
        body.ends_with(&cfsign::DenyCode::MissingKey.xml_body()),
        "{body}"
    );
    assert!(dir.path().join("state.json.demo-key.pem").exists());
    // SIGTERM: a clean exit with status 0.
    let mut p = p;
    p.signal("TERM").unwrap();
    let status = p.wait_exit(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "{status:?}");
    drop(p);
    // Restart: the same distribution is served again, not a new one.
    let p = spawn(&["--demo", "--state-file", state_arg]);
    let (_, body) = get(&p, "/2020-05-31/distribution", None);
    assert_eq!(common::xml_value(&body, "DomainName").unwrap(), domain);
    assert!(
        body.contains("<Quantity>1</Quantity><Items><DistributionSummary>"),
        "{body}"
    );
}

#[test]
fn bad_flags_fail_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"))
        .args(["--port", "0", "--fixed-time", "yesterday-ish"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--fixed-time `yesterday-ish`"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"))
        .args(["--port", "0", "--origin"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a directory"));
}

#[test]
fn s3_endpoint_from_the_flag_the_environment_or_the_config_file() {
    // An https endpoint is refused with what to do, whichever way it comes.
    let out = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"))
        .args(["--port", "0"])
        .env("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`https://s3.amazonaws.com`") && stderr.contains("plain HTTP"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mock.toml");
    std::fs::write(
        &config,
        "[s3]\nendpoint = \"http://127.0.0.1:9/x\"\naccess_key_id = \"a\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"))
        .args(["--port", "0", "--config"])
        .arg(&config)
        .env_remove("AWS_ENDPOINT_URL_S3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[s3] endpoint"), "{stderr}");
    // A good endpoint with nothing behind it: the S3 origin answers CloudFront's 502.
    let port = cfsign_tests::proc::free_port().unwrap();
    let p = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"));
        cmd.args([
            "--port",
            "0",
            "--s3-endpoint",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
        Launch::new("cfsign-mock", cmd).start().unwrap()
    };
    let body = format!(
        "<DistributionConfig xmlns=\"{}\"><CallerReference>s3</CallerReference><Origins><Quantity>1</Quantity><Items>{}</Items></Origins><DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior><Comment>s3</Comment><Enabled>true</Enabled></DistributionConfig>",
        common::NS,
        common::origin_xml("media.s3.eu-west-1.amazonaws.com", "", None, None)
    );
    let resp = http::Request::new("POST", &format!("{}/2020-05-31/distribution", p.url()))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status, 201, "{}", resp.text());
    let domain = resp.xml("DomainName").unwrap();
    let (status, body) = get(&p, "/a.txt", Some(&domain));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("<H1>502 ERROR</H1>"), "{body}");
}
