//! The real `cfsign-mock` binary: the ready line on stdout, state across restarts, clean
//! shutdown on SIGTERM, and a clear error for bad flags.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running binary, killed on drop.
struct Proc {
    child: Child,
    port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cfsign-mock"))
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("cfsign-mock listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Proc {
        port: url.parse().unwrap(),
        child,
    }
}

fn get(port: u16, path: &str, host: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let host = host.map_or(format!("127.0.0.1:{port}"), str::to_owned);
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    (status, out)
}

#[test]
fn demo_state_survives_restart_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let p = spawn(&["--demo", "--state-file", state_arg]);
    let (status, body) = get(p.port, "/2020-05-31/distribution", None);
    assert_eq!(status, 200);
    let domain = common::xml_value(&body, "DomainName").unwrap();
    assert_eq!(get(p.port, "/public/hello.txt", Some(&domain)).0, 200);
    let (status, body) = get(p.port, "/private/secret.txt", Some(&domain));
    assert_eq!(status, 403);
    assert!(
        body.ends_with(&cfsign::DenyCode::MissingKey.xml_body()),
        "{body}"
    );
    assert!(dir.path().join("state.json.demo-key.pem").exists());
    // SIGTERM: a clean exit with status 0.
    let mut p = p;
    let killed = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status();
    if killed.is_ok_and(|s| s.success()) {
        let status = p.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    drop(p);
    // Restart: the same distribution is served again, not a new one.
    let p = spawn(&["--demo", "--state-file", state_arg]);
    let (_, body) = get(p.port, "/2020-05-31/distribution", None);
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
