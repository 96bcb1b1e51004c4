//! cargo-lambda's local runtime emulator with a Lambda function binary polling it: `cargo
//! lambda watch --only-lambda-apis` on a free loopback port (it builds nothing), the binary
//! started with the variables Lambda sets, requests sent to its function-URL endpoint or as
//! events through `cargo lambda invoke`. Both processes stop on drop. A test that needs it fails
//! under `CI=true` when cargo-lambda is missing, and skips with a loud message otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::proc::{Launch, Service, capture, free_port};
use crate::{Error, Result};

/// The function name the emulator serves a function it did not start under.
pub const FUNCTION: &str = "_";

/// Whether `cargo-lambda` is installed; when not, [`crate::require::skip_or_fail`] (a failure
/// under `CI=true`).
pub fn available() -> bool {
    let found = Command::new("cargo-lambda")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        crate::require::skip_or_fail("cargo-lambda is not installed (pip install cargo-lambda)");
    }
    found
}

/// The emulator and the function polling it (both stopped on drop).
pub struct Emulator {
    port: u16,
    dir: PathBuf,
    function: Service,
    _watch: Service,
}

impl Emulator {
    /// Starts the emulator, then `binary` as the function with `env` (besides the variables
    /// Lambda sets: runtime API, name, version, 1024 MB memory) and logs in `dir`
    /// (`watch.log`, `stdout.log`, `stderr.log`). The function's environment is otherwise
    /// empty but for `PATH`, as on Lambda.
    pub fn start(binary: &Path, env: &[(&str, &str)], dir: &Path) -> Result<Emulator> {
        let port = free_port()?;
        let mut watch = Command::new("cargo-lambda");
        watch
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
            .arg("127.0.0.1")
            .arg("--invoke-port")
            .arg(port.to_string())
            // It reads a package's metadata, though it builds nothing.
            .current_dir(crate::workspace_root());
        let watch = Launch::new("cargo lambda watch", watch)
            .log(&dir.join("watch.log"))
            .ready_when_accepting(port)
            .timeout(Duration::from_secs(60))
            .start()?;
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024");
        for (name, value) in env {
            cmd.env(name, value);
        }
        // The function has no port of its own: it is up when it can reach the emulator, which
        // holds the first request until the function asks for it.
        let function = Launch::new("lambda function", cmd)
            .log(&dir.join("stdout.log"))
            .stderr_log(&dir.join("stderr.log"))
            .ready_when_accepting(port)
            .start()?;
        Ok(Emulator {
            port,
            dir: dir.to_owned(),
            function,
            _watch: watch,
        })
    }

    /// The function URL's base (`http://127.0.0.1:PORT/lambda-url/_`): append the path.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{FUNCTION}", self.port)
    }

    /// What the function wrote on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default()
    }

    /// What the function wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.function.stderr()
    }

    /// The function's process ID.
    pub fn pid(&self) -> Option<u32> {
        self.function.pid()
    }

    /// `cargo lambda invoke` with `event` (JSON); the function's answer.
    pub fn invoke(&self, event: &serde_json::Value) -> Result<serde_json::Value> {
        let path = self.dir.join("event.json");
        std::fs::write(&path, event.to_string())
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let mut cmd = Command::new("cargo-lambda");
        cmd.args([
            "lambda",
            "invoke",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(self.port.to_string())
        .arg("--data-file")
        .arg(&path)
        .args(["--output-format", "json", FUNCTION])
        .current_dir(crate::workspace_root());
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(Error::new(format!(
                "cargo lambda invoke: {}",
                out.summary()
            )));
        }
        serde_json::from_str(&out.stdout).map_err(|e| {
            Error::new(format!(
                "cargo lambda invoke printed no JSON ({e}): {}",
                out.summary()
            ))
        })
    }
}
