//! The `cfsign-server` binary: parses arguments and runs the server (see the library).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Signs Amazon CloudFront URLs and cookies over HTTP for authenticated clients.
#[derive(Debug, Parser)]
#[command(name = "cfsign-server", version, about)]
struct Args {
    /// The TOML configuration file.
    #[arg(long, env = "CFSIGN_SERVER_CONFIG")]
    config: PathBuf,
    /// Address to listen on, overriding the config (e.g. 127.0.0.1:8085; port 0 picks a free one).
    #[arg(long)]
    listen: Option<String>,
}

/// Exit codes: 0 after a clean shutdown, 1 when the server cannot start (bad config, port in use).
fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cfsign-server: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cfsign_server::run(&args.config, args.listen.as_deref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cfsign-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}
