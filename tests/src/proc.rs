//! Child processes: services started on loopback and waited for ([`Launch`] → [`Service`], stopped
//! when the guard drops, also while a failing test unwinds), one-shot commands ([`capture`],
//! [`run_inherit`]), and a record of every child still running.
//!
//! Every child is spawned through [`spawn`], which records its PID, and reaped through
//! [`try_reap`] or [`wait`], which forget it in the same step under the same lock. A recorded PID
//! therefore belongs to an unreaped child of ours and cannot have been reused by another process:
//! [`stop_all_and_exit`] (xtask's SIGTERM/SIGINT/SIGHUP handler) signals only our own children.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The PIDs of the children spawned and not yet reaped.
static CHILDREN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// How long children get to stop after SIGTERM in [`stop_all_and_exit`] before they are killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);

fn children() -> MutexGuard<'static, BTreeSet<u32>> {
    // The set stays consistent whatever panicked while holding the lock: one insert or remove.
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spawns `cmd` and records the child, so that [`stop_all_and_exit`] stops it.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut pids = children();
    let child = cmd.spawn()?;
    pids.insert(child.id());
    Ok(child)
}

/// [`Child::try_wait`] that forgets the child once it is reaped.
pub fn try_reap(child: &mut Child) -> io::Result<Option<ExitStatus>> {
    let mut pids = children();
    let status = child.try_wait();
    if !matches!(status, Ok(None)) {
        pids.remove(&child.id());
    }
    status
}

/// [`Child::wait`] that forgets the child once it is reaped. It polls (from 1 ms up to 20 ms)
/// instead of blocking in `wait`, which would reap the child outside the lock.
pub fn wait(child: &mut Child) -> io::Result<ExitStatus> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = try_reap(child)? {
            return Ok(status);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Stops every recorded child (SIGTERM, then SIGKILL after 3 s) and exits with `code`; `signal`
/// names what we were told, for the message.
pub fn stop_all_and_exit(signal: &str, code: i32) -> ! {
    // Held until exit: nothing is reaped meanwhile, so every PID stays ours.
    let pids = children();
    eprintln!(
        "\nxtask: {signal}: stopping {} child process(es)",
        pids.len()
    );
    send("TERM", pids.iter());
    let deadline = Instant::now() + EXIT_GRACE;
    let mut running: Vec<u32> = pids.iter().copied().filter(|&p| is_running(p)).collect();
    while !running.is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
        running.retain(|&p| is_running(p));
    }
    send("KILL", &running);
    std::process::exit(code)
}

/// Sends `signal` (`TERM`, `HUP`, …) to `pids` with the `kill` utility (the workspace forbids
/// `unsafe`, so no libc call); whether `kill` succeeded.
fn send<'a>(signal: &str, pids: impl IntoIterator<Item = &'a u32>) -> bool {
    let pids: Vec<String> = pids.into_iter().map(u32::to_string).collect();
    if pids.is_empty() {
        return true;
    }
    Command::new("kill")
        .arg(format!("-{signal}"))
        .args(&pids)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether unreaped child `pid` is still running (not a zombie). Without `/proc`, assumes it is
/// until the grace period ends.
fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S …`: the state follows the last `)`, as comm may hold one.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released; a race with another process is possible
/// but unlikely, and shows up as a clear "address in use" failure). For programs that cannot
/// listen on port 0 and say which port they got; ours can (`--port 0`, `--listen 127.0.0.1:0`).
pub fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("cannot bind 127.0.0.1:0: {e}")))
}

/// A shell-like rendering of a command, for logs and messages.
pub fn describe(cmd: &Command) -> String {
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
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Runs `cmd` with inherited stdio, printing it first; fails unless it exits 0.
pub fn run_inherit(cmd: &mut Command) -> Result<()> {
    println!("$ {}", describe(cmd));
    let status = spawn(cmd)
        .and_then(|mut child| wait(&mut child))
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", describe(cmd))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`{}` failed with {status}",
            describe(cmd)
        )))
    }
}

/// The result of a [`capture`]d command.
#[derive(Debug)]
pub struct Captured {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Captured {
    /// Whether the command exited 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A one-line summary for failure reports.
    pub fn summary(&self) -> String {
        let err = self.stderr.trim();
        let out = self.stdout.trim();
        let text = if err.is_empty() { out } else { err };
        let text: String = text.lines().take(6).collect::<Vec<_>>().join(" | ");
        format!("exit {:?}: {}", self.code, truncate(&text, 600))
    }
}

/// Runs `cmd` to completion (stdin from `input`, or empty) and captures its output.
pub fn capture(cmd: &mut Command, input: Option<&[u8]>) -> Result<Captured> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child =
        spawn(cmd).map_err(|e| Error::new(format!("cannot run `{}`: {e}", describe(cmd))))?;
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
    let status = wait(&mut child)
        .map_err(|e| Error::new(format!("waiting for `{}`: {e}", describe(cmd))))?;
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

/// When a started service counts as up.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// It printed a line containing `listening on URL` on stdout (cfsign's binaries do).
    ListeningLine,
    /// `addr` accepts TCP connections (for programs that print no such line).
    Accepting(SocketAddr),
}

/// How to start a [`Service`]: `Launch::new(name, cmd)…start()`.
///
/// By default the service is up once it prints `… listening on http://IP:PORT` on stdout, is
/// given 30 s for that, has its output dropped and is killed (SIGKILL) when its guard drops.
#[derive(Debug)]
pub struct Launch {
    name: String,
    cmd: Command,
    log: Option<PathBuf>,
    stderr_log: Option<PathBuf>,
    ready: Ready,
    timeout: Duration,
    grace: Option<Duration>,
}

impl Launch {
    /// A launch of `cmd`, called `name` in messages.
    pub fn new(name: &str, cmd: Command) -> Launch {
        Launch {
            name: name.to_owned(),
            cmd,
            log: None,
            stderr_log: None,
            ready: Ready::ListeningLine,
            timeout: Duration::from_secs(30),
            grace: None,
        }
    }

    /// Writes stdout and stderr, interleaved, to `path`.
    pub fn log(mut self, path: &Path) -> Launch {
        self.log = Some(path.to_owned());
        self
    }

    /// Writes stderr alone to `path` (stdout then goes to the [`log`](Launch::log) if any).
    pub fn stderr_log(mut self, path: &Path) -> Launch {
        self.stderr_log = Some(path.to_owned());
        self
    }

    /// Up once 127.0.0.1:`port` accepts connections, for programs that print no `listening on`
    /// line; its URL is then `http://127.0.0.1:port`.
    pub fn ready_when_accepting(mut self, port: u16) -> Launch {
        self.ready = Ready::Accepting(SocketAddr::from(([127, 0, 0, 1], port)));
        self
    }

    /// How long it may take to come up (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Launch {
        self.timeout = timeout;
        self
    }

    /// On drop, SIGTERM first and SIGKILL only after `grace` (default: SIGKILL at once).
    pub fn graceful_stop(mut self, grace: Duration) -> Launch {
        self.grace = Some(grace);
        self
    }

    /// Spawns it and waits until it is up; an error, with its log tail, if it exits first or
    /// takes longer than the timeout.
    pub fn start(self) -> Result<Service> {
        let Launch {
            name,
            mut cmd,
            log,
            stderr_log,
            ready,
            timeout,
            grace,
        } = self;
        println!("  starting {name}: {}", describe(&cmd));
        let create = |path: &Path| {
            File::create(path)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))
        };
        let log_file = log.as_deref().map(create).transpose()?;
        let stderr = match (&stderr_log, &log_file) {
            (Some(path), _) => Stdio::from(create(path)?),
            (None, Some(file)) => Stdio::from(file.try_clone().map_err(|e| {
                Error::new(format!("cannot reopen {}: {e}", display(log.as_deref())))
            })?),
            (None, None) => Stdio::null(),
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = spawn(&mut cmd)
            .map_err(|e| Error::new(format!("cannot start {name} (`{}`): {e}", describe(&cmd))))?;
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel::<String>();
        // Reads stdout to its end (a full pipe would block the child), copies it to the log, and
        // sends the first line and then the first `listening on` line.
        thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut log_file = log_file;
            let mut first = true;
            let mut listening = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(file) = log_file.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
                if first {
                    let _ = tx.send(line.clone());
                    first = false;
                }
                if !listening && line.contains("listening on ") {
                    let _ = tx.send(line);
                    listening = true;
                }
            }
        });
        let mut service = Service {
            name,
            child: Some(child),
            log,
            stderr_log,
            grace,
            url: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            first_line: None,
        };
        let deadline = Instant::now() + timeout;
        loop {
            let up = match ready {
                Ready::ListeningLine => service.wait_for_line(&rx)?,
                Ready::Accepting(addr) => {
                    thread::sleep(Duration::from_millis(50));
                    TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                        .is_ok()
                        .then(|| format!("http://{addr}"))
                }
            };
            if let Some(url) = up {
                service.addr = socket_addr(&url).ok_or_else(|| {
                    Error::new(format!(
                        "{} said it listens on `{url}`, not on http://IP:PORT",
                        service.name
                    ))
                })?;
                service.url = url.trim_end_matches('/').to_owned();
                println!("  {} is listening on {}", service.name, service.url);
                return Ok(service);
            }
            if let Some(child) = service.child.as_mut()
                && let Ok(Some(status)) = try_reap(child)
            {
                return Err(service.failed(&format!("exited with {status}")));
            }
            if Instant::now() > deadline {
                return Err(service.failed(&format!("did not come up within {timeout:?}")));
            }
        }
    }
}

fn display(path: Option<&Path>) -> String {
    path.map_or_else(String::new, |p| p.display().to_string())
}

/// The address of `http://IP:PORT[/]`.
fn socket_addr(url: &str) -> Option<SocketAddr> {
    url.strip_prefix("http://")?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// A running child process, stopped on drop (see [`Launch`]).
#[derive(Debug)]
pub struct Service {
    name: String,
    child: Option<Child>,
    log: Option<PathBuf>,
    stderr_log: Option<PathBuf>,
    grace: Option<Duration>,
    url: String,
    addr: SocketAddr,
    first_line: Option<String>,
}

impl Service {
    /// Waits up to 100 ms for stdout's next reported line; the URL once the `listening on` line
    /// has come.
    fn wait_for_line(&mut self, rx: &mpsc::Receiver<String>) -> Result<Option<String>> {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if self.first_line.is_none() => {
                self.first_line = Some(line.clone());
                Ok(listening_url(&line))
            }
            Ok(line) => Ok(listening_url(&line)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed without the line: wait briefly for the exit status.
                thread::sleep(Duration::from_millis(200));
                Ok(None)
            }
        }
    }

    fn failed(&self, what: &str) -> Error {
        Error::new(format!(
            "{} {what} before it was listening; its log ({}):\n{}",
            self.name,
            display(self.log.as_deref().or(self.stderr_log.as_deref())),
            self.log_tail(30)
        ))
    }

    /// Its URL, `http://IP:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The first line it printed on stdout (the `listening on` line for cfsign's binaries).
    pub fn first_line(&self) -> Option<&str> {
        self.first_line.as_deref()
    }

    /// The process ID, while it has not been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal by name (`HUP`, `TERM`) with the `kill` utility.
    pub fn signal(&self, signal: &str) -> Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| Error::new(format!("{} is gone", self.name)))?;
        if send(signal, [&pid]) {
            Ok(())
        } else {
            Err(Error::new(format!(
                "kill -{signal} {pid} ({}) failed",
                self.name
            )))
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(try_reap), Some(Ok(None)))
    }

    /// Waits up to `timeout` for it to exit by itself (after a signal, say) and returns how.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let child = self
            .child
            .as_mut()
            .ok_or_else(|| Error::new(format!("{} was already reaped", self.name)))?;
        let deadline = Instant::now() + timeout;
        loop {
            match try_reap(child) {
                Ok(Some(status)) => {
                    self.child = None;
                    return Ok(status);
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    return Err(Error::new(format!(
                        "{} did not exit within {timeout:?}",
                        self.name
                    )));
                }
                Err(e) => return Err(Error::new(format!("waiting for {}: {e}", self.name))),
            }
        }
    }

    /// Its log so far: stdout and stderr ([`Launch::log`]), or else stderr alone.
    pub fn log(&self) -> String {
        let path = self.log.as_deref().or(self.stderr_log.as_deref());
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// What it wrote on stderr so far ([`Launch::stderr_log`]), or else its whole log.
    pub fn stderr(&self) -> String {
        let path = self.stderr_log.as_deref().or(self.log.as_deref());
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Stops it now (see [`Launch::graceful_stop`]) and reaps it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(grace) = self.grace
            && matches!(try_reap(&mut child), Ok(None))
        {
            send("TERM", [&child.id()]);
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if matches!(try_reap(&mut child), Ok(Some(_))) {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        // An error here means it has exited already.
        let _ = child.kill();
        let _ = wait(&mut child);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The URL after `listening on ` in `line`.
fn listening_url(line: &str) -> Option<String> {
    let (_, url) = line.split_once("listening on ")?;
    Some(url.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        assert_eq!(
            listening_url("cfsign-mock listening on http://127.0.0.1:4580 ").as_deref(),
            Some("http://127.0.0.1:4580")
        );
        assert_eq!(listening_url("starting"), None);
        assert_eq!(
            socket_addr("http://127.0.0.1:4580/"),
            Some(SocketAddr::from(([127, 0, 0, 1], 4580)))
        );
        assert_eq!(socket_addr("http://localhost:4580"), None);
    }

    #[test]
    fn describes_commands_as_a_shell_would_read_them() {
        let mut cmd = Command::new("cfsign");
        cmd.args(["sign", "https://d.example/a b", "it's"]);
        assert_eq!(
            describe(&cmd),
            r"cfsign sign 'https://d.example/a b' 'it'\''s'"
        );
        assert_eq!(truncate("héllo", 2), "h…");
    }

    #[cfg(unix)]
    #[test]
    fn a_service_that_exits_early_fails_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("early.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo starting; echo broken config >&2; exit 3"]);
        let err = Launch::new("early", cmd).log(&log).start().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("early exited with"), "{text}");
        assert!(text.contains("broken config"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn a_service_is_up_on_its_line_and_killed_on_drop() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo 'svc listening on http://127.0.0.1:9/'; exec sleep 30",
        ]);
        let service = Launch::new("svc", cmd).start().unwrap();
        assert_eq!(service.url(), "http://127.0.0.1:9");
        assert_eq!(service.port(), 9);
        assert_eq!(
            service.first_line(),
            Some("svc listening on http://127.0.0.1:9/")
        );
        let pid = service.pid().unwrap();
        assert!(is_running(pid));
        drop(service);
        assert!(!is_running(pid));
        assert!(!children().contains(&pid));
    }
}
