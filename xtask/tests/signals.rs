//! `xtask demo` stopped by a SIGTERM sent to xtask alone (not to its process group, as Ctrl-C
//! would): the services it started must not outlive it.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Kills xtask and the given children on drop, so a failing test leaves nothing running.
struct Cleanup {
    xtask: Child,
    children: Vec<u32>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for pid in &self.children {
            if is_running(*pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let _ = self.xtask.kill();
        let _ = self.xtask.wait();
        let work = std::env::temp_dir().join(format!("cfsign-demo-{}", self.xtask.id()));
        let _ = std::fs::remove_dir_all(work);
    }
}

/// Whether `pid` runs: it exists and is not a zombie (an orphan may wait a while to be reaped).
fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X')
    })
}

/// The PIDs of `pid`'s children (every process whose parent it is, from `/proc/*/stat`).
fn children_of(pid: u32) -> Vec<u32> {
    let procs = std::fs::read_dir("/proc").unwrap_or_else(|e| panic!("/proc: {e}"));
    procs
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn sigterm_to_xtask_demo_stops_the_services_it_started() {
    let mut xtask = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("demo")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = xtask.stdout.take().unwrap();
    let stderr = xtask.stderr.take().unwrap();
    let mut cleanup = Cleanup {
        xtask,
        children: Vec::new(),
    };
    let pid = cleanup.xtask.id();

    let (tx, rx) = mpsc::channel();
    for pipe in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    // Up to ten minutes: run alone (`cargo test -p xtask`), the demo first builds the binaries;
    // after `cargo test --workspace` that build is a no-op and the demo is up in seconds.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut log = Vec::new();
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| panic!("demo never got ready ({e}); output:\n{}", log.join("\n")));
        let ready = line.contains("cfsign demo is running");
        log.push(line);
        if ready {
            break;
        }
    }

    cleanup.children = children_of(pid);
    let names: Vec<String> = cleanup.children.iter().map(|&p| comm(p)).collect();
    for service in ["cfsign-mock", "cfsign-server"] {
        assert!(
            names.iter().any(|n| n == service),
            "{service} is not among xtask's children {names:?}; output:\n{}",
            log.join("\n")
        );
    }

    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = cleanup.xtask.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "xtask still runs 10 s after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let running: Vec<(u32, String)> = cleanup
        .children
        .iter()
        .filter(|&&p| is_running(p))
        .map(|&p| (p, comm(p)))
        .collect();
    assert!(
        running.is_empty(),
        "still running after xtask exited: {running:?}; output:\n{}",
        log.join("\n")
    );
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "xtask's exit after SIGTERM; output:\n{}",
        log.join("\n")
    );
}
