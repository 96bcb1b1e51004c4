//! Running the service as a process: serving on a listener, reloading the configuration on SIGHUP
//! and file change, shutting down gracefully on SIGTERM, and logging.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;

use crate::app::app;
use crate::config::{Config, LogFormat, process_env};
use crate::state::AppState;

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Reloads the configuration from `path` (and the process environment) into `state`, logging the
/// outcome; an invalid configuration leaves the current one in place.
pub fn reload_from_file(state: &AppState, path: &Path) -> bool {
    let result = Config::load(path, &process_env).and_then(|c| state.reload(&c, &process_env));
    match result {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(
                config = %path.display(),
                error = %err,
                "reload rejected; keeping the previous configuration"
            );
            false
        }
    }
}

/// Modification times of the config file and the key files it names, to notice changes.
fn fingerprint(path: &Path) -> Vec<(PathBuf, Option<SystemTime>, Option<u64>)> {
    let mut files = vec![path.to_owned()];
    if let Ok(config) = Config::load(path, &process_env) {
        files.extend(config.watched_files());
    }
    files
        .into_iter()
        .map(|file| {
            let meta = std::fs::metadata(&file).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map(|m| m.len());
            (file, modified, len)
        })
        .collect()
}

/// Reloads on SIGHUP and whenever the config file or a key file changes (polled every second).
pub fn spawn_reloader(state: AppState, path: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => Some(signal),
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGHUP; reload on file change only");
                None
            }
        };
        let mut seen = fingerprint(&path);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let hup = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hup = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = hup => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    reload_from_file(&state, &path);
                    seen = fingerprint(&path);
                }
                _ = tick.tick() => {
                    let now = fingerprint(&path);
                    if now != seen {
                        tracing::info!("configuration or key file changed: reloading");
                        reload_from_file(&state, &path);
                        seen = now;
                    }
                }
            }
        }
    })
}

/// Completes on SIGTERM or Ctrl-C, after marking the server not ready.
pub async fn shutdown_signal(state: AppState) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    state.set_ready(false);
    tracing::info!("shutting down: finishing requests in flight");
}

/// Sets up logging (`RUST_LOG` filters; default `info`) in text or JSON on stderr.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(err) = result {
        eprintln!("cfsign-server: logging already set up: {err}");
    }
}

/// Runs the server: loads `config_path`, listens on `listen` (or the config's address), prints
/// `cfsign-server listening on http://ADDR`, reloads on SIGHUP and file change, and shuts down
/// gracefully on SIGTERM.
pub async fn run(config_path: &Path, listen: Option<&str>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut config = Config::load(config_path, &process_env)?;
    if let Some(listen) = listen {
        config.server.listen = listen.to_owned();
    }
    init_tracing(config.server.log_format);
    let addr = config.listen_addr()?;
    let state = AppState::from_config(&config, &process_env)?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another process using it?"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        address = %local,
        active_key = %state.active_key_id(),
        "cfsign-server started"
    );
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "cfsign-server listening on http://{local}")?;
        stdout.flush()?;
    }
    let reloader = spawn_reloader(state.clone(), config_path.to_owned());
    serve(listener, state.clone(), shutdown_signal(state)).await?;
    reloader.abort();
    tracing::info!("cfsign-server stopped");
    Ok(())
}
