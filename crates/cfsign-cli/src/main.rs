//! The `cfsign` binary; everything is in the library (`cfsign_cli::main`).

fn main() -> std::process::ExitCode {
    cfsign_cli::main()
}
