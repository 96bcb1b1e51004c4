//! The `cfsign-server` binary as the black-box tests run it: started on a free port with a
//! temporary config (and, optionally, environment), stopped on drop, with helpers for its HTTP
//! API, its metrics, its signals and its memory. Included with `#[path]` by the test files that
//! spawn the binary.

#![allow(dead_code)] // Each test binary uses a different part of this module.
#![allow(clippy::unwrap_used)] // Fixtures panic on broken test data.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use cfsign_tests::http;
use cfsign_tests::proc::{Launch, Service};
use serde_json::Value;

use crate::common::WEB_TOKEN;

/// The running binary (killed on drop) and its directory.
pub(crate) struct Server {
    pub(crate) service: Service,
    pub(crate) dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary with `config` as its config file.
    pub(crate) fn start(config: &str) -> Server {
        Server::start_with_env(config, &[])
    }

    /// Starts the binary with `config` and the environment variables `env`.
    pub(crate) fn start_with_env(config: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("server.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-server"));
        cmd.arg("--config")
            .arg(&config_path)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env_remove("AWS_CLOUDFRONT_KEY")
            .env_remove("AWS_CLOUDFRONT_KEY_ID")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            cmd.env(name, value);
        }
        let service = Launch::new("cfsign-server", cmd)
            .stderr_log(&dir.path().join("stderr.log"))
            .start()
            .unwrap();
        let ready = format!("cfsign-server listening on {}", service.url());
        assert_eq!(service.first_line().map(str::trim), Some(ready.as_str()));
        Server { service, dir }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.service.addr()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.url())
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("server.toml")
    }

    pub(crate) fn stderr(&self) -> String {
        self.service.stderr()
    }

    pub(crate) fn signal(&self, name: &str) {
        self.service.signal(name).unwrap();
    }

    /// `POST /v1/sign` as the `web` client; returns status and body.
    pub(crate) fn post_sign(&self, body: &str) -> (u16, String) {
        let resp = self.post_sign_response(body);
        (resp.status, resp.text())
    }

    /// `POST /v1/sign` as the `web` client; the whole response.
    pub(crate) fn post_sign_response(&self, body: &str) -> http::Response {
        http::Request::new("POST", &self.url("/v1/sign"))
            .bearer(WEB_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap()
    }

    pub(crate) fn sign(&self, url: &str) -> Value {
        let (status, body) = self.post_sign(&format!(r#"{{"url":"{url}"}}"#));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub(crate) fn signing_key(&self) -> String {
        self.sign("https://d1.example.net/media/probe.jpg")["key_pair_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `GET path`: the status.
    pub(crate) fn get_status(&self, path: &str) -> u16 {
        http::get(&self.url(path)).send().unwrap().status
    }

    /// The value of the unlabelled metric `name` in `/metrics`.
    pub(crate) fn metric(&self, name: &str) -> u64 {
        let response = http::get(&self.url("/metrics")).send().unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
        metric_value(&response.text(), name)
    }

    /// The server process's resident memory, in KiB (Linux `/proc`).
    pub(crate) fn rss_kib(&self) -> u64 {
        let pid = self.service.pid().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {status}"))
    }
}

/// The value of the unlabelled metric `name` in a Prometheus text exposition.
pub(crate) fn metric_value(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no `{name}` in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits up to `timeout` for `done`, polling every 50 ms.
#[track_caller]
pub(crate) fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
