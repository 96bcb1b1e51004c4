//! The `cfsign-mock` binary: a local CloudFront control plane and edge.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cfsign::UnixTime;
use cfsign_mock::{Clock, Credentials, DEFAULT_PORT, MockConfig};
use clap::Parser;

/// A local, faithful Amazon CloudFront: public keys, key groups and distributions under
/// /2020-05-31/ (any SigV4 credentials are accepted, signatures are not checked), and an edge
/// that enforces trusted key groups with signed URLs and cookies.
///
/// Reach a distribution at http://<domain>.localhost:PORT/path, or at
/// http://127.0.0.1:PORT/_edge/<distribution id or domain>/path.
///
/// Exit codes: 0 after a clean shutdown (Ctrl-C or SIGTERM), 1 on an error.
#[derive(Debug, Parser)]
#[command(name = "cfsign-mock", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = DEFAULT_PORT, env = "CFSIGN_MOCK_PORT")]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Directory served as the origin of every distribution without one of its own.
    #[arg(long, value_name = "DIR")]
    origin: Option<PathBuf>,
    /// TOML file: `origin = "DIR"`, `default_distribution = "ID"`, `[origins]` origin domain name = "DIR",
    /// `[s3]` endpoint, access_key_id, secret_access_key, session_token.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// S3-compatible endpoint (moto, MinIO, LocalStack) that S3 origins
    /// (`<bucket>.s3.<region>.amazonaws.com`) are read from, path-style, like http://127.0.0.1:9000.
    /// Origin requests for origin access control are signed (SigV4) with AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the config file's [s3] credentials.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint: Option<String>,
    /// Save control-plane state here (atomically) and load it at start.
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// Seed a demo distribution over a built-in sample origin (/private/* needs a signature).
    #[arg(long)]
    demo: bool,
    /// Where --demo keeps its private key [default: <state-file>.demo-key.pem, else cfsign-mock-demo-key.pem in the temp dir].
    #[arg(long, value_name = "PATH", requires = "demo")]
    demo_key_file: Option<PathBuf>,
    /// Serve this distribution (ID or domain name) for requests to any other host name.
    #[arg(long, value_name = "ID_OR_DOMAIN")]
    default_distribution: Option<String>,
    /// Shift the mock's clock (expiry checks and control-plane timestamps) by this many seconds
    /// (e.g. -3600 or 86400).
    #[arg(
        long,
        value_name = "SECS",
        allow_hyphen_values = true,
        conflicts_with = "fixed_time"
    )]
    clock_offset: Option<i64>,
    /// Fix the mock's clock (expiry checks and control-plane timestamps) at this time (Unix
    /// seconds or RFC 3339).
    #[arg(long, value_name = "TIME")]
    fixed_time: Option<String>,
    /// Deny requests that only undocumented CloudFront behaviour would serve (such as
    /// `Hash-Algorithm=sha256` in lower case); without it they are served with a warning in the log.
    #[arg(long)]
    strict: bool,
    /// Add an `x-cfsign-reason` header with the edge's explanation to every edge answer (off by
    /// default, so answers stay byte-identical to CloudFront's; one request can ask for it with
    /// the request header `x-cfsign-explain: 1`).
    #[arg(long)]
    explain: bool,
    /// Log format on stderr: `text` or `json` (one JSON object per line; every edge request is
    /// logged at info level with its decision, so set CFSIGN_MOCK_LOG=info to see them).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// How many edge requests GET /_cfsign/requests and the console keep (0 keeps none).
    #[arg(long, value_name = "N", default_value_t = cfsign_mock::DEFAULT_REQUEST_LOG_ENTRIES)]
    request_log_entries: usize,
    /// Let viewers that are not on loopback read /_cfsign/ (the request log, with every URL, and
    /// the console). Off by default.
    #[arg(long)]
    insecure_remote_console: bool,
    /// Report a distribution as `InProgress` for this many seconds after each change, as
    /// CloudFront does while a change propagates (the edge applies it at once).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    deployment_secs: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CFSIGN_MOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if args.log_format == "json" {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cfsign-mock: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut config = MockConfig::new()
        .with_port(args.port)
        .with_host(args.host)
        .with_strict(args.strict)
        .with_explain(args.explain)
        .with_request_log_entries(args.request_log_entries)
        .with_insecure_remote_console(args.insecure_remote_console)
        .with_deployment_secs(args.deployment_secs);
    if let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY").map(zeroize::Zeroizing::new),
    ) {
        let token = std::env::var("AWS_SESSION_TOKEN").ok();
        config = config.with_s3_credentials(Credentials::new(id, secret.as_str(), token));
    }
    if let Some(path) = &args.config {
        config = config.with_config_file(path)?;
    }
    if let Some(url) = args.s3_endpoint.as_deref().filter(|u| !u.is_empty()) {
        config = config.with_s3_endpoint(url)?;
    }
    if let Some(dir) = args.origin {
        anyhow::ensure!(
            dir.is_dir(),
            "--origin `{}` is not a directory",
            dir.display()
        );
        config = config.with_origin(dir);
    }
    if let Some(path) = &args.state_file {
        config = config.with_state_file(path);
    }
    if args.demo {
        let key_file = args
            .demo_key_file
            .clone()
            .unwrap_or_else(|| match &args.state_file {
                Some(s) => {
                    let mut name = s.as_os_str().to_owned();
                    name.push(".demo-key.pem");
                    PathBuf::from(name)
                }
                None => std::env::temp_dir().join("cfsign-mock-demo-key.pem"),
            });
        config = config.with_demo(true).with_demo_key_file(key_file);
    }
    if let Some(d) = args.default_distribution {
        config = config.with_default_distribution(d);
    }
    if let Some(offset) = args.clock_offset {
        config = config.with_clock(Clock::Offset(offset));
    }
    if let Some(t) = &args.fixed_time {
        let t = UnixTime::parse(t).with_context(|| format!("--fixed-time `{t}`"))?;
        config = config.with_clock(Clock::Fixed(t));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mock = cfsign_mock::start(config).await?;
        if let Some(demo) = mock.demo() {
            let base = mock.edge_base(demo.domain_name());
            eprintln!("demo distribution {} ({})", demo.distribution_id(), demo.domain_name());
            eprintln!("  public:  {base}/public/hello.txt");
            eprintln!("  private: {base}/private/secret.txt (needs a signature)");
            eprintln!("  key pair id: {}  key group: {}", demo.key_pair_id(), demo.key_group_id());
            if let Some(file) = demo.key_file() {
                eprintln!("  private key: {}", file.display());
                eprintln!(
                    "  sign: cfsign sign {base}/private/secret.txt --key-pair-id {} --private-key {} --expires-in 1h",
                    demo.key_pair_id(),
                    file.display()
                );
            }
        }
        // Handlers first, so a SIGTERM right after the ready line is a clean shutdown.
        let stop = shutdown_signal();
        eprintln!(
            "console: {}/_cfsign/ (every edge request with its decision and why; verify a URL)",
            mock.endpoint()
        );
        // The one line on stdout, once ready.
        println!("cfsign-mock listening on {}", mock.endpoint());
        stop.await;
        mock.shutdown().await;
        Ok(())
    })
}

/// Registers Ctrl-C and SIGTERM handlers now and returns a future that completes on either.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {}
                () = wait(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
