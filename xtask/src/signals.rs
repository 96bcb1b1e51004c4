//! Stopping xtask's child processes when xtask itself is told to stop: SIGTERM, SIGINT or SIGHUP
//! sent to xtask alone (not to its process group, as Ctrl-C is) would otherwise leave the
//! services it started running with nobody to stop them.
//!
//! Every child xtask starts goes through the harness (`cfsign_tests::proc::spawn`), which records
//! it until it is reaped; the signal thread hands the record to
//! `cfsign_tests::proc::stop_all_and_exit`, which signals only those children.

/// Starts a thread that, on SIGTERM, SIGINT or SIGHUP, sends SIGTERM to every child, kills those
/// still running after a grace period, and exits with 128 + the signal number.
#[cfg(unix)]
pub(crate) fn install() -> crate::Result<()> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("cannot install the SIGTERM/SIGINT/SIGHUP handler: {e}"))?;
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = match signal {
                    SIGTERM => "SIGTERM",
                    SIGINT => "SIGINT",
                    _ => "SIGHUP",
                };
                cfsign_tests::proc::stop_all_and_exit(name, 128 + signal);
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
