//! Stopping xtask's child processes when xtask itself is told to stop: SIGTERM, SIGINT or SIGHUP
//! sent to xtask alone (not to its process group, as Ctrl-C is) would otherwise leave the
//! services it started running with nobody to stop them.
//!
//! Every child is spawned through [`spawn`], which records its PID, and reaped through
//! [`try_reap`] or [`wait`], which forget it in the same step under the same lock. A recorded PID
//! therefore belongs to an unreaped child of ours and cannot have been reused by another process,
//! and the signal thread, holding that lock until xtask exits, signals only our own children.

use std::collections::BTreeSet;
use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The PIDs of the children spawned and not yet reaped.
static CHILDREN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// How long children get to stop after SIGTERM before they are killed.
const GRACE: Duration = Duration::from_secs(3);

fn children() -> MutexGuard<'static, BTreeSet<u32>> {
    // The set stays consistent whatever panicked while holding the lock: one insert or remove.
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts a thread that, on SIGTERM, SIGINT or SIGHUP, sends SIGTERM to every child, kills those
/// still running after a grace period, and exits with 128 + the signal number.
#[cfg(unix)]
pub(crate) fn install() -> crate::Result<()> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("cannot install the SIGTERM/SIGINT/SIGHUP handler: {e}"))?;
    thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = match signal {
                    SIGTERM => "SIGTERM",
                    SIGINT => "SIGINT",
                    _ => "SIGHUP",
                };
                stop_children_and_exit(name, 128 + signal);
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

/// Signals are not handled on this platform; Ctrl-C still reaches the whole console group.
#[cfg(not(unix))]
pub(crate) fn install() -> crate::Result<()> {
    Ok(())
}

/// Stops every recorded child (SIGTERM, then SIGKILL after [`GRACE`]) and exits with `code`.
fn stop_children_and_exit(signal: &str, code: i32) -> ! {
    // Held until exit: nothing is reaped meanwhile, so every PID stays ours.
    let pids = children();
    eprintln!(
        "\nxtask: {signal}: stopping {} child process(es)",
        pids.len()
    );
    send("TERM", pids.iter());
    let deadline = Instant::now() + GRACE;
    let mut running: Vec<u32> = pids.iter().copied().filter(|&p| is_running(p)).collect();
    while !running.is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
        running.retain(|&p| is_running(p));
    }
    send("KILL", &running);
    std::process::exit(code)
}

/// Sends `signal` to `pids` with the `kill` utility (xtask forbids `unsafe`, so no libc call).
fn send<'a>(signal: &str, pids: impl IntoIterator<Item = &'a u32>) {
    let pids: Vec<String> = pids.into_iter().map(u32::to_string).collect();
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .args(&pids)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
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

/// Spawns `cmd` and records the child, so a signal to xtask stops it.
pub(crate) fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut pids = children();
    let child = cmd.spawn()?;
    pids.insert(child.id());
    Ok(child)
}

/// [`Child::try_wait`] that forgets the child once it is reaped.
pub(crate) fn try_reap(child: &mut Child) -> io::Result<Option<ExitStatus>> {
    let mut pids = children();
    let status = child.try_wait();
    if !matches!(status, Ok(None)) {
        pids.remove(&child.id());
    }
    status
}

/// [`Child::wait`] that forgets the child once it is reaped. It polls (from 1 ms up to 20 ms)
/// instead of blocking in `wait`, which would reap the child outside the lock.
pub(crate) fn wait(child: &mut Child) -> io::Result<ExitStatus> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = try_reap(child)? {
            return Ok(status);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
