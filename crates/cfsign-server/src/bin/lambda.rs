//! The `cfsign-server-lambda` binary (feature `lambda`): the `bootstrap` of an AWS Lambda
//! function on `provided.al2023` (see the library's `run_lambda`).

use std::process::ExitCode;

/// Exit code 1 when the function cannot start (its configuration or keys); Lambda logs the
/// message and reports an init error.
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cfsign-server-lambda: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cfsign_server::run_lambda()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cfsign-server-lambda: {err:#}");
            ExitCode::FAILURE
        }
    }
}
