//! Errors that stop the mock from starting.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the mock could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error(
        "cannot listen on {addr}: {source} (is another cfsign-mock running? pick another --port)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The state file exists but does not hold saved mock state.
    #[error("the state file `{}` is not valid cfsign-mock state ({detail}); move it away or pass another --state-file", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The `--config` file is not valid.
    #[error("the config file `{}` is not valid: {detail}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The S3 endpoint URL is not one the mock can use.
    #[error("the S3 endpoint `{url}` cannot be used: {detail}")]
    S3Endpoint {
        /// The URL given.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The demo could not be seeded.
    #[error("cannot seed the demo: {0}")]
    Demo(String),
}
