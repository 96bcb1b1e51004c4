//! Running the service as a process: accepting connections (a connection cap, a request-head
//! timeout, a bounded read buffer), reloading the configuration on SIGHUP and file change,
//! draining and stopping within a deadline on SIGTERM, and logging.
//!
//! The accept loop is ours rather than `axum::serve`'s because axum's gives no request-head
//! timeout, no connection cap and no shutdown deadline: a client that sent `POST /v1/si` and
//! stopped held its connection (and its memory) forever and kept graceful shutdown waiting. Each
//! connection is served by hyper-util's `auto::Builder`, HTTP/1.1 only: hyper's `auto` protocol
//! detection has no timeout of its own, so a connection that sent nothing would be held forever
//! again, and nothing in front of this service needs h2c (TLS and HTTP/2 end at the proxy).

use std::future::Future;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::app::app;
use crate::config::{Config, LogFormat, process_env};
use crate::error::ErrorBody;
use crate::metrics::Metrics;
use crate::state::{AppState, Fixed};

/// Serves `state` on `listener` until `shutdown` completes, then stops in three steps: `/readyz`
/// answers 503 at once while everything else is still served for `[server] drain_secs`; then
/// the listener closes and requests in flight get `shutdown_grace_secs` to finish; then the
/// connections still open are dropped.
///
/// Connections are HTTP/1.1 (keep-alive, pipelining). One that does not deliver a complete
/// request head within `header_read_timeout_secs` (counted from the moment the server waits for
/// it, so also between keep-alive requests) is closed; at most `max_connections` are open at
/// once, and one beyond that is answered 503 `overloaded` with `Retry-After: 1` and closed at
/// once, before anything of it is read; each buffers at most `max_header_bytes`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_until(listener, state, shutdown, std::future::pending()).await;
    Ok(())
}

/// [`serve`], where `hurry` completing (a second SIGTERM) cuts the drain and the grace short.
async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
    hurry: impl Future<Output = ()>,
) {
    let fixed = state.shared.fixed;
    let mut connections = Connections::new(&state);
    tokio::pin!(hurry);
    let mut hurried = false;
    {
        let stop_accepting = async {
            shutdown.await;
            state.set_ready(false);
            if !fixed.drain.is_zero() {
                tracing::info!(
                    drain_secs = fixed.drain.as_secs(),
                    "shutting down: /readyz answers 503; serving on until the drain ends"
                );
                tokio::select! {
                    () = tokio::time::sleep(fixed.drain) => {}
                    () = &mut hurry => {
                        hurried = true;
                        tracing::info!("second signal: ending the drain now");
                    }
                }
            }
        };
        tokio::pin!(stop_accepting);
        loop {
            tokio::select! {
                () = &mut stop_accepting => break,
                Some(joined) = connections.tasks.join_next(), if !connections.tasks.is_empty() => {
                    if let Err(err) = joined
                        && err.is_panic()
                    {
                        tracing::error!(error = %err, "a connection task panicked");
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => connections.admit(stream),
                    Err(err) if is_connection_error(&err) => {}
                    Err(err) => {
                        // Most likely out of file descriptors: wait for some to be closed.
                        tracing::error!(error = %err, "cannot accept connections; retrying in 1 s");
                        tokio::select! {
                            () = &mut stop_accepting => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                },
            }
        }
    }
    drop(listener);
    let open = connections.tasks.len();
    tracing::info!(
        connections = open,
        grace_secs = fixed.shutdown_grace.as_secs(),
        "listener closed; finishing the requests in flight"
    );
    connections.close_when_idle();
    let finished = !hurried
        && tokio::select! {
            () = connections.all_closed() => true,
            () = tokio::time::sleep(fixed.shutdown_grace) => false,
            () = &mut hurry => false,
        };
    if !finished {
        let dropped = connections.tasks.len();
        connections.tasks.abort_all();
        while connections.tasks.join_next().await.is_some() {}
        if dropped > 0 {
            tracing::warn!(
                dropped,
                grace_secs = fixed.shutdown_grace.as_secs(),
                "shutdown deadline: dropped the connections still open"
            );
        }
    }
}

/// The open connections: a task each, a permit each from the `max_connections` semaphore, and
/// the signal that asks them to close once idle.
struct Connections {
    tasks: JoinSet<()>,
    permits: Arc<Semaphore>,
    http: Arc<auto::Builder<TokioExecutor>>,
    router: axum::Router,
    metrics: Arc<Metrics>,
    max_connections: usize,
    stop: watch::Sender<bool>,
    /// Whether the last connection was refused, so that reaching the cap is logged once.
    at_capacity: bool,
}

impl Connections {
    fn new(state: &AppState) -> Connections {
        let fixed = state.shared.fixed;
        Connections {
            tasks: JoinSet::new(),
            permits: Arc::new(Semaphore::new(fixed.max_connections)),
            http: Arc::new(http_builder(&fixed)),
            router: app(state.clone()),
            metrics: Arc::clone(&state.shared.metrics),
            max_connections: fixed.max_connections,
            stop: watch::channel(false).0,
            at_capacity: false,
        }
    }

    /// Serves `stream` on a task of its own, or refuses it when `max_connections` are open.
    fn admit(&mut self, stream: TcpStream) {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            self.metrics.connection_refused();
            if !self.at_capacity {
                self.at_capacity = true;
                tracing::warn!(
                    max_connections = self.max_connections,
                    "connection limit reached: refusing new connections with 503 until some close"
                );
            }
            refuse(stream);
            return;
        };
        self.at_capacity = false;
        // Responses are written whole; waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        let open = OpenConnection::new(Arc::clone(&self.metrics), permit);
        // The router takes hyper's request body as it is.
        let service = TowerToHyperService::new(self.router.clone());
        let http = Arc::clone(&self.http);
        let mut stop = self.stop.subscribe();
        self.tasks.spawn(async move {
            // Moved whole into the task (not just the field set below), so that the permit and
            // the gauge live exactly as long as the connection.
            let mut open = open;
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut closing = false;
            let result = loop {
                tokio::select! {
                    result = conn.as_mut() => break result,
                    _ = stop.wait_for(|stop| *stop), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            };
            if let Err(err) = result {
                open.timed_out = is_header_timeout(&*err);
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }

    /// Asks every connection to close once its request in flight is answered (idle ones close
    /// at once).
    fn close_when_idle(&self) {
        self.stop.send_replace(true);
    }

    /// Completes when every connection task has ended.
    async fn all_closed(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// One open connection: holds its `max_connections` permit and keeps the open-connections gauge
/// right however the connection ends (also when its task is dropped at the shutdown deadline).
struct OpenConnection {
    metrics: Arc<Metrics>,
    timed_out: bool,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl OpenConnection {
    fn new(metrics: Arc<Metrics>, permit: tokio::sync::OwnedSemaphorePermit) -> OpenConnection {
        metrics.connection_opened();
        OpenConnection {
            metrics,
            timed_out: false,
            _permit: permit,
        }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.metrics.connection_closed(self.timed_out);
    }
}

/// HTTP/1.1 with keep-alive, the request-head timeout (hyper's timer starts whenever it waits
/// for a head: on a new connection and after each response) and a bounded read buffer (which is
/// also the largest head: a longer one is answered 431).
fn http_builder(fixed: &Fixed) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(fixed.header_read_timeout)
        .max_buf_size(fixed.max_header_bytes)
        .keep_alive(true);
    builder
}

/// Whether a connection ended because its request head did not arrive in time. hyper reports
/// that as a `hyper::Error` whose text is fixed; the workspace does not depend on hyper directly
/// to downcast it (a test checks the count, so a changed text would be noticed).
fn is_header_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if err.to_string().contains("read header from client timeout") {
            return true;
        }
        next = err.source();
    }
    false
}

/// The answer to a connection over `max_connections`: the API's JSON error, sent whole in one
/// write, before anything is read.
static REFUSAL: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = serde_json::to_string(&ErrorBody {
        error: "overloaded".to_owned(),
        message: "the server has as many connections open as it allows (server.max_connections); \
                  retry after a second"
            .to_owned(),
    })
    .unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Refuses a connection over the cap at once, without a task or a buffer of its own: reads what
/// already arrived (so that closing sends a FIN, not a reset that could discard the answer),
/// writes the 503 and closes. All of it is non-blocking and best effort: a client whose request
/// arrives only after this may see the connection reset instead of the 503.
fn refuse(stream: TcpStream) {
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let mut scratch = [0u8; 2048];
    let _ = (&stream).read(&mut scratch);
    let _ = (&stream).write(&REFUSAL);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// Errors of one connection that `accept` reports; the listener itself is fine.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Reloads the configuration from `path` (and the process environment) into `state`, logging the
/// outcome; an invalid configuration (also one that cannot be read or parsed, which is counted
/// in `cfsign_reload_failures_total` like any other) leaves the current one in place.
pub fn reload_from_file(state: &AppState, path: &Path) -> bool {
    let result = Config::load(path, &process_env)
        .inspect_err(|_| state.reload_refused())
        .and_then(|c| state.reload(&c, &process_env));
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

/// Reads the keys held in AWS again (feature `aws`) for the configuration at `path`, so a reload
/// picks up a rotated secret or KMS key; returns whether any changed. The AWS clients are made
/// from the environment the first time a configuration names such a key (also one added by a
/// reload). A failed read keeps the last good key (and shows in `/readyz` and `/metrics`).
#[cfg(feature = "aws")]
async fn refresh_aws_keys(state: &AppState, path: &Path) -> bool {
    let Ok(config) = Config::load(path, &process_env) else {
        return false;
    };
    if !config.keys.iter().any(crate::config::KeyConfig::in_aws) {
        return false;
    }
    let aws = match state.shared.aws.get() {
        Some(aws) => aws.clone(),
        None => {
            let aws = cfsign_aws::Aws::from_env(&crate::aws_keys::settings(&config.aws)).await;
            let _ = state.shared.aws.set(aws.clone());
            aws
        }
    };
    crate::aws_keys::refresh(&state.shared.remote, &aws, &config, state.now()).await
}

/// Reloads `path` after reading the keys held in AWS again.
async fn reload_with_aws_keys(state: &AppState, path: &Path) {
    #[cfg(feature = "aws")]
    refresh_aws_keys(state, path).await;
    reload_from_file(state, path);
}

/// Seconds between reads of the keys held in AWS (`[aws] refresh_secs`), when the config at
/// `path` holds any and the state can read them.
fn aws_refresh_period(state: &AppState, path: &Path) -> Option<Duration> {
    #[cfg(feature = "aws")]
    if state.shared.aws.get().is_some()
        && let Ok(config) = Config::load(path, &process_env)
        && config.aws.refresh_secs > 0
        && config.keys.iter().any(crate::config::KeyConfig::in_aws)
    {
        return Some(Duration::from_secs(config.aws.refresh_secs));
    }
    let _ = (state, path);
    None
}

/// Reloads on SIGHUP and whenever the config file or a key file changes (polled every second),
/// reading keys held in AWS again each time and every `[aws] refresh_secs` (read at start).
/// The SIGHUP handler is installed before this returns, so a SIGHUP sent from then on reloads
/// (and never takes the default action, which would end the process).
pub fn spawn_reloader(state: AppState, path: PathBuf) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for SIGHUP; reload on file change only");
            None
        }
    };
    tokio::spawn(async move {
        let mut seen = fingerprint(&path);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let period = aws_refresh_period(&state, &path);
        let mut refresh = tokio::time::interval(period.unwrap_or(Duration::from_secs(3600)));
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is now: the keys were just read.
        refresh.tick().await;
        loop {
            let refresh_due = async {
                match period {
                    Some(_) => refresh.tick().await,
                    None => std::future::pending().await,
                }
            };
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
                    reload_with_aws_keys(&state, &path).await;
                    seen = fingerprint(&path);
                }
                _ = tick.tick() => {
                    let now = fingerprint(&path);
                    if now != seen {
                        tracing::info!("configuration or key file changed: reloading");
                        reload_with_aws_keys(&state, &path).await;
                        seen = now;
                    }
                }
                _ = refresh_due => {
                    #[cfg(feature = "aws")]
                    if refresh_aws_keys(&state, &path).await {
                        tracing::info!("a key held in AWS changed: reloading");
                        reload_from_file(&state, &path);
                    }
                }
            }
        }
    })
}

/// Counts SIGTERM and Ctrl-C signals from now on (on a task of its own): the first starts the
/// shutdown, a second cuts the drain and the grace period short. On Unix the handlers are
/// installed before this returns, so a signal sent from then on is counted (and never takes the
/// default action, which would end the process without a drain).
fn stop_signals() -> watch::Receiver<u32> {
    let (count, signals) = watch::channel(0u32);
    #[cfg(unix)]
    let [mut term, mut interrupt] = [
        ("SIGTERM", tokio::signal::unix::SignalKind::terminate()),
        ("SIGINT", tokio::signal::unix::SignalKind::interrupt()),
    ]
    .map(|(name, kind)| match tokio::signal::unix::signal(kind) {
        Ok(signal) => Some(signal),
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for {name}");
            None
        }
    });
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            let name = {
                async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
                    let received = match signal.as_mut() {
                        Some(signal) => signal.recv().await.is_some(),
                        None => false,
                    };
                    if !received {
                        std::future::pending::<()>().await;
                    }
                }
                tokio::select! {
                    () = next(&mut term) => "SIGTERM",
                    () = next(&mut interrupt) => "Ctrl-C",
                }
            };
            #[cfg(not(unix))]
            let name = {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
                "Ctrl-C"
            };
            let mut n = 0;
            count.send_modify(|count| {
                *count += 1;
                n = *count;
            });
            if n == 1 {
                tracing::info!(signal = name, "shutting down: /readyz answers 503");
            } else {
                tracing::info!(signal = name, "signalled again: stopping now");
            }
        }
    });
    signals
}

/// Completes once `signals` has counted `n` signals (never, if the counting task has gone).
async fn signalled(mut signals: watch::Receiver<u32>, n: u32) {
    if signals.wait_for(|count| *count >= n).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Completes on SIGTERM or Ctrl-C, after marking the server not ready.
pub async fn shutdown_signal(state: AppState) {
    signalled(stop_signals(), 1).await;
    state.set_ready(false);
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

/// Connections the kernel completes and queues for `accept` (capped by the kernel's
/// `net.core.somaxconn`). The default `TcpListener::bind` asks for 128, and 128 connections
/// arrive within milliseconds under a burst; the kernel then drops further handshakes and the
/// clients retry only after a second.
const LISTEN_BACKLOG: u32 = 1024;

/// Listens on `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR` on Unix, as
/// `TcpListener::bind` sets it, so a restart does not wait for old connections' `TIME_WAIT`).
fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The state for `config`: with the `aws` feature and keys held in AWS, the AWS clients come
/// from the environment (credentials chain, `AWS_REGION`, `AWS_ENDPOINT_URL`) and read them first.
async fn state_for(config: &Config) -> Result<AppState, crate::config::ConfigError> {
    #[cfg(feature = "aws")]
    if config.keys.iter().any(crate::config::KeyConfig::in_aws) {
        let aws = cfsign_aws::Aws::from_env(&crate::aws_keys::settings(&config.aws)).await;
        return AppState::from_config_with_aws(config, &process_env, aws).await;
    }
    AppState::from_config(config, &process_env)
}

/// Runs the server: loads `config_path`, listens on `listen` (or the config's address), prints
/// `cfsign-server listening on http://ADDR`, reloads on SIGHUP and file change, and on SIGTERM or
/// Ctrl-C drains and stops as [`serve`] describes; a second signal stops at once.
pub async fn run(config_path: &Path, listen: Option<&str>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut config = Config::load(config_path, &process_env)?;
    if let Some(listen) = listen {
        config.server.listen = listen.to_owned();
    }
    init_tracing(config.server.log_format);
    let addr = config.listen_addr()?;
    let state = state_for(&config).await?;
    let listener = bind(addr)
        .with_context(|| format!("cannot listen on {addr}; is another process using it?"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        address = %local,
        active_key = %state.active_key_id(),
        "cfsign-server started"
    );
    // Signal handlers first: whoever reads the line below may signal at once.
    let reloader = spawn_reloader(state.clone(), config_path.to_owned());
    let signals = stop_signals();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "cfsign-server listening on http://{local}")?;
        stdout.flush()?;
    }
    serve_until(
        listener,
        state,
        signalled(signals.clone(), 1),
        signalled(signals, 2),
    )
    .await;
    reloader.abort();
    tracing::info!("cfsign-server stopped");
    Ok(())
}
