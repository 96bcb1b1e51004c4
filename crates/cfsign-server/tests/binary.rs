//! Black-box tests of the `cfsign-server` binary: start it on a free port with a temporary
//! config, talk HTTP to it, switch keys with SIGHUP and file changes under load, stop it with SIGTERM.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

#[path = "common/blackbox.rs"]
mod blackbox;
mod common;
#[path = "common/server.rs"]
mod server;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use cfsign_server::loadgen::{Load, Report, post_json};
use cfsign_tests::http;
use cfsign_tests::proc::truncate;
use common::*;
use serde_json::Value;
use server::{Server, wait_for};

/// Every request of a load run was answered with success.
#[track_caller]
fn assert_no_failed_requests(report: &Report) {
    assert_eq!(
        report.errors(),
        0,
        "{:?} {:?}",
        report.statuses(),
        report.first_error()
    );
}

/// Rewrites the config without changing its size or modification time, so only SIGHUP can
/// notice (the file poller compares both).
fn rewrite_unnoticed(path: &Path, text: &str) {
    let before = std::fs::metadata(path).unwrap();
    assert_eq!(
        before.len(),
        text.len() as u64,
        "same size, so only SIGHUP notices"
    );
    std::fs::write(path, text).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(before.modified().unwrap()).unwrap();
}

fn load_sign(addr: SocketAddr, seconds: u64) -> tokio::task::JoinHandle<Report> {
    tokio::spawn(async move {
        Load::new(addr, 8, Duration::from_secs(seconds))
            .run(|conn, seq| {
                post_json(
                    "/v1/sign",
                    WEB_TOKEN,
                    &format!(r#"{{"url":"https://d1.example.net/media/{conn}/{seq}.jpg"}}"#),
                )
            })
            .await
    })
}

/// The black-box suite that the Lambda build also answers (`tests/lambda.rs`).
#[test]
fn answers_the_shared_black_box_suite() {
    let server = Server::start(&config_toml(KEY_A, ""));
    blackbox::api_suite(&server.url(""));
}

#[test]
fn signs_with_one_audit_line_and_no_secret_in_the_log() {
    let server = Server::start(&config_toml(KEY_A, ""));
    let signed = server.sign("https://d1.example.net/media/a.jpg");
    let url = signed["signed_url"].as_str().unwrap();
    // One audit line per signature, without the signature.
    let log = server.stderr();
    let audit: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("signature issued"))
        .collect();
    assert_eq!(audit.len(), 1, "{log}");
    assert!(
        audit[0].contains("client=web") && audit[0].contains("https://d1.example.net/media/a.jpg"),
        "{}",
        audit[0]
    );
    let signature = url
        .split("Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(!log.contains(signature), "the signature is in the log");
    assert!(!log.contains("PRIVATE KEY"), "key material in the log");
}

#[test]
fn a_lower_case_key_id_loads_with_a_warning() {
    let lower = KEY_B.to_ascii_lowercase();
    let config =
        config_toml(KEY_A, "").replace(&format!("id = \"{KEY_B}\""), &format!("id = \"{lower}\""));
    let server = Server::start(&config);
    server.sign("https://d1.example.net/media/a.jpg");
    let log = server.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("lower-case letters") && l.contains(&lower)),
        "{log}"
    );
    assert!(!log.contains(&format!("`{KEY_A}` has lower-case")), "{log}");
}

#[test]
fn json_logs() {
    let server = Server::start(&config_toml(KEY_A, "[server]\nlog_format = \"json\"\n"));
    server.sign("https://d1.example.net/media/a.jpg");
    let log = server.stderr();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let audit = lines
        .iter()
        .find(|l| l["fields"]["message"] == "signature issued")
        .unwrap_or_else(|| panic!("no audit line in {log}"));
    assert_eq!(audit["fields"]["client"], "web");
    assert_eq!(
        audit["fields"]["resource"],
        "https://d1.example.net/media/a.jpg"
    );
    assert_eq!(audit["target"], "cfsign_server::audit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_switches_keys_with_zero_failed_requests() {
    let server = Server::start(&config_toml(KEY_A, ""));
    assert_eq!(server.signing_key(), KEY_A);
    let load = load_sign(server.addr(), 3);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    rewrite_unnoticed(&server.config_path(), &config_toml(KEY_B, ""));
    server.signal("HUP");
    let server = tokio::task::spawn_blocking(move || {
        wait_for("the switch to key B", Duration::from_secs(5), || {
            server.signing_key() == KEY_B
        });
        server
    })
    .await
    .unwrap();
    let report = load.await.unwrap();
    assert_no_failed_requests(&report);
    assert!(report.ok() > 10, "{:?}", report.statuses());
    let log = server.stderr();
    assert!(log.contains("SIGHUP"), "{log}");
    assert!(!log.contains("PRIVATE KEY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_change_reloads_and_a_bad_config_is_kept_out() {
    let server = Server::start(&config_toml(KEY_A, ""));
    let load = load_sign(server.addr(), 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A broken config (unknown active key) is refused; the old one keeps signing.
    std::fs::write(server.config_path(), config_toml("KZZZZZZZZZZZZZ", "")).unwrap();
    let server = tokio::task::spawn_blocking(move || {
        wait_for("the rejected reload", Duration::from_secs(5), || {
            server.stderr().contains("reload rejected")
        });
        assert_eq!(server.signing_key(), KEY_A);
        // Unparsable TOML too.
        std::fs::write(server.config_path(), "this is [not toml").unwrap();
        wait_for("the second rejected reload", Duration::from_secs(5), || {
            server.stderr().matches("reload rejected").count() >= 2
        });
        assert_eq!(server.signing_key(), KEY_A);
        // A good change is picked up within a couple of seconds, without a signal.
        std::fs::write(server.config_path(), config_toml(KEY_B, "")).unwrap();
        wait_for("the switch to key B", Duration::from_secs(5), || {
            server.signing_key() == KEY_B
        });
        server
    })
    .await
    .unwrap();
    let report = load.await.unwrap();
    assert_no_failed_requests(&report);
    let log = server.stderr();
    assert!(log.contains("KZZZZZZZZZZZZZ"), "the log says why: {log}");
    assert!(!log.contains("PRIVATE KEY"));
}

#[test]
fn sigterm_finishes_requests_in_flight() {
    let mut server = Server::start(&config_toml(
        KEY_A,
        "[server]\nmax_batch = 2000\nbody_limit_bytes = 1000000\n",
    ));
    let items: Vec<String> = (0..2000)
        .map(|i| format!(r#"{{"url":"https://d1.example.net/media/{i}.jpg"}}"#))
        .collect();
    let body = format!(r#"{{"requests":[{}]}}"#, items.join(","));
    let batch = http::Request::new("POST", &server.url("/v1/sign"))
        .bearer(WEB_TOKEN)
        .header("content-type", "application/json")
        .body(body);
    let in_flight = std::thread::spawn(move || batch.send().unwrap());
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    let response = in_flight.join().unwrap();
    assert_eq!(response.status, 200, "{}", truncate(&response.text(), 300));
    let json = response.json().unwrap();
    assert_eq!(json["results"].as_array().unwrap().len(), 2000);
    let status = server.service.wait_exit(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status}");
    assert!(
        TcpStream::connect(server.addr()).is_err(),
        "still listening"
    );
}

#[test]
fn a_config_that_fails_to_parse_counts_as_a_reload_failure() {
    let server = Server::start(&config_toml(KEY_A, ""));
    assert_eq!(server.metric("cfsign_reload_failures_total"), 0);
    // Written elsewhere and renamed into place, so the poller never reads half a file.
    let replace = |text: &str| {
        let next = server.dir.path().join("next.toml");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, server.config_path()).unwrap();
    };
    replace("this is [not toml");
    wait_for("the refused reload", Duration::from_secs(5), || {
        server.stderr().contains("reload rejected")
    });
    assert_eq!(server.metric("cfsign_reload_failures_total"), 1);
    // SIGHUP with the same broken file: refused and counted again.
    server.signal("HUP");
    wait_for("the second refused reload", Duration::from_secs(5), || {
        server.metric("cfsign_reload_failures_total") == 2
    });
    // A file that parses but names an unknown key, as before.
    replace(&config_toml("KZZZZZZZZZZZZZ", ""));
    wait_for("the third refused reload", Duration::from_secs(5), || {
        server.metric("cfsign_reload_failures_total") == 3
    });
    assert_eq!(server.metric("cfsign_reloads_total"), 0);
    assert_eq!(server.signing_key(), KEY_A);
    replace(&config_toml(KEY_B, ""));
    wait_for("the switch to key B", Duration::from_secs(5), || {
        server.signing_key() == KEY_B
    });
    assert_eq!(server.metric("cfsign_reloads_total"), 1);
    assert_eq!(server.metric("cfsign_reload_failures_total"), 3);
}

#[test]
fn far_future_rfc3339_times_name_cloudfronts_limit_not_milliseconds() {
    let server = Server::start(&config_toml(KEY_A, ""));
    for body in [
        r#"{"url":"https://d1.example.net/media/a.jpg","starts_at":"5138-11-16T09:46:40Z"}"#,
        r#"{"url":"https://d1.example.net/media/a.jpg","expires":"9999-12-31T23:59:59Z"}"#,
        r#"{"url":"https://d1.example.net/media/a.jpg","expires":"2040-01-01"}"#,
    ] {
        let (status, text) = server.post_sign(body);
        assert_eq!(status, 400, "{body}: {text}");
        assert!(
            text.contains("after 2038-01-19T03:14:07Z, the latest time CloudFront accepts"),
            "{body}: {text}"
        );
        assert!(!text.contains("milliseconds"), "{body}: {text}");
    }
    // A bare number that large is still most likely milliseconds.
    let (status, text) =
        server.post_sign(r#"{"url":"https://d1.example.net/media/a.jpg","expires":1795824000000}"#);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("did you mean 1795824000"), "{text}");
}
