//! The `cfsign-provision` binary; the logic lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    cfsign_provision::cli::main()
}
