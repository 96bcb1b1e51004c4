//! Child processes: cargo invocations, one-shot commands and long-running services that are
//! killed when their guard drops (also while unwinding from a panic).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::{Result, signals};

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    cfsign_tests::workspace_root()
}

/// `cargo` as the one that runs us, in the workspace root, without the variables `cargo run` set
/// for xtask itself (the cross-crate tests' helper, shared so both build alike).
pub(crate) fn cargo() -> Command {
    cfsign_tests::cargo()
}

/// Runs `cmd` with inherited stdio, printing it first; fails unless it exits 0.
pub(crate) fn run_inherit(cmd: &mut Command) -> Result<()> {
    println!("$ {}", describe(cmd));
    let status = signals::spawn(cmd)
        .and_then(|mut child| signals::wait(&mut child))
        .map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", describe(cmd)))
    }
}

/// The result of a captured command.
#[derive(Debug)]
pub(crate) struct Captured {
    /// The exit code (`None` when killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output, lossily decoded.
    pub(crate) stdout: String,
    /// Standard error, lossily decoded.
    pub(crate) stderr: String,
}

impl Captured {
    /// Whether the command exited 0.
    pub(crate) fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A one-line summary for failure reports.
    pub(crate) fn summary(&self) -> String {
        let err = self.stderr.trim();
        let out = self.stdout.trim();
        let text = if err.is_empty() { out } else { err };
        let text: String = text.lines().take(6).collect::<Vec<_>>().join(" | ");
        format!("exit {:?}: {}", self.code, truncate(&text, 600))
    }
}

/// Runs `cmd` to completion (stdin from `input`, or empty) and captures its output.
pub(crate) fn capture(cmd: &mut Command, input: Option<&[u8]>) -> Result<Captured> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child =
        signals::spawn(cmd).map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    let mut stdin = child.stdin.take();
    let input = input.map(<[u8]>::to_vec);
    let writer = thread::spawn(move || {
        if let (Some(stdin), Some(input)) = (stdin.as_mut(), input) {
            // A child that does not read its input is not our error.
            let _ = stdin.write_all(&input);
        }
        drop(stdin);
    });
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let status =
        signals::wait(&mut child).map_err(|e| format!("waiting for `{}`: {e}", describe(cmd)))?;
    let _ = writer.join();
    Ok(Captured {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
    })
}

/// Reads `pipe` to its end on a thread (so a child filling one pipe never blocks on the other).
fn read_all(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error ends the output; the exit status tells what happened.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A shell-like rendering of a command, for logs.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

fn quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Shortens `s` to at most `max` bytes (on a char boundary) with an ellipsis.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A free TCP port on 127.0.0.1 (bound, read, released; a race with another process is possible
/// but unlikely, and shows up as a clear "address in use" failure).
pub(crate) fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot read local address: {e}"))?
        .port();
    Ok(port)
}

/// Built binaries by name (`cfsign`, `cfsign-mock`, …).
#[derive(Debug, Default)]
pub(crate) struct Binaries {
    paths: BTreeMap<String, PathBuf>,
}

impl Binaries {
    /// The path of binary `name`, or an error naming the package that should provide it.
    pub(crate) fn get(&self, name: &str) -> Result<&Path> {
        self.paths.get(name).map(PathBuf::as_path).ok_or_else(|| {
            format!(
                "binary `{name}` was not built: does its crate define `[[bin]] name = \"{name}\"` yet? (built: {})",
                self.paths.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// A command for binary `name`.
    pub(crate) fn command(&self, name: &str) -> Result<Command> {
        Ok(Command::new(self.get(name)?))
    }
}

/// Builds the binaries `names` (debug, or release) and returns every executable cargo reports.
///
/// The package selection (`--workspace`) and feature resolution (dev-dependencies on, which
/// `--examples` needs) are those of `cargo test --workspace`, which builds these binaries for the
/// crates' integration tests: after it this build is a no-op instead of rebuilding some 40 crates
/// with other features (serde without `alloc`, for one). `tests/src/lib.rs` builds the same way.
pub(crate) fn build_binaries(names: &[&str], release: bool) -> Result<Binaries> {
    let mut cmd = cargo();
    cmd.args(cfsign_tests::workspace_build_args(names));
    if release {
        cmd.arg("--release");
    }
    println!("$ {}", describe(&cmd));
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = signals::spawn(&mut cmd).map_err(|e| format!("cannot run cargo build: {e}"))?;
    let stdout = read_all(child.stdout.take());
    let status = signals::wait(&mut child).map_err(|e| format!("waiting for cargo build: {e}"))?;
    let stdout = stdout.join().unwrap_or_default();
    let bins = Binaries {
        paths: cfsign_tests::built_binaries(&String::from_utf8_lossy(&stdout)),
    };
    if !status.success() {
        return Err(format!(
            "`{}` failed with {status} (compiler errors above)",
            describe(&cmd),
        ));
    }
    Ok(bins)
}

/// A long-running child process, killed (and reaped) on drop.
#[derive(Debug)]
pub(crate) struct Service {
    name: String,
    child: Option<Child>,
    log: PathBuf,
    /// The URL from its `… listening on URL` line.
    url: String,
}

impl Service {
    /// Spawns `cmd`, logs its stdout and stderr to `log`, and waits until stdout has a line
    /// containing `listening on `; returns an error with the log tail if it exits or takes longer
    /// than `timeout`.
    pub(crate) fn start(
        name: &str,
        mut cmd: Command,
        log: &Path,
        timeout: Duration,
    ) -> Result<Service> {
        println!("  starting {name}: {}", describe(&cmd));
        let log_file =
            File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err_file = log_file
            .try_clone()
            .map_err(|e| format!("cannot reopen {}: {e}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err_file));
        let mut child = signals::spawn(&mut cmd)
            .map_err(|e| format!("cannot start {name} (`{}`): {e}", describe(&cmd)))?;
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel::<String>();
        thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut log_file = log_file;
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log_file, "{line}");
                if !sent && let Some(pos) = line.find("listening on ") {
                    let url = line[pos + "listening on ".len()..].trim().to_owned();
                    let _ = tx.send(url);
                    sent = true;
                }
            }
        });
        let mut service = Service {
            name: name.to_owned(),
            child: Some(child),
            log: log.to_owned(),
            url: String::new(),
        };
        let deadline = Instant::now() + timeout;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => {
                    service.url = url;
                    println!("  {name} is listening on {}", service.url);
                    return Ok(service);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed without the line: wait briefly for the exit status.
                    thread::sleep(Duration::from_millis(200));
                }
            }
            if let Some(child) = service.child.as_mut()
                && let Ok(Some(status)) = signals::try_reap(child)
            {
                return Err(format!(
                    "{name} exited with {status} before printing `listening on`; its log ({}):\n{}",
                    service.log.display(),
                    service.log_tail(30)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{name} did not print `listening on` within {timeout:?}; its log ({}):\n{}",
                    service.log.display(),
                    service.log_tail(30)
                ));
            }
        }
    }

    /// The URL it printed.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The process ID.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal by name (`HUP`, `TERM`) with the `kill` utility.
    pub(crate) fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.pid().ok_or("the process is gone")?;
        let out = capture(
            Command::new("kill").args([format!("-{signal}"), pid.to_string()].iter()),
            None,
        )?;
        if out.ok() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {pid} failed: {}", out.summary()))
        }
    }

    /// Whether it is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(signals::try_reap), Some(Ok(None)))
    }

    /// The last `n` lines of its log.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Stops it now: SIGTERM, a short grace period, then SIGKILL.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(signals::try_reap(&mut child), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if matches!(signals::try_reap(&mut child), Ok(Some(_))) {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
        }
        let _ = signals::wait(&mut child);
        let _ = &self.name;
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}
