//! A local, faithful Amazon CloudFront for tests and laptops: the control plane for public keys,
//! key groups, origin access controls, response headers policies and distributions (REST-XML
//! under `/2020-05-31/`, as aws-sdk-cloudfront and boto3 speak it) plus an edge that enforces
//! trusted key groups with [`cfsign::verify`] and applies response headers policies (CORS).
//!
//! # Starting it in-process
//!
//! ```
//! use cfsign_mock::{MockConfig, start};
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
//! # rt.block_on(async {
//! let mock = start(MockConfig::default().with_demo(true)).await?;
//! // Point aws-sdk-cloudfront / boto3 at this endpoint URL (any credentials are accepted).
//! assert!(mock.endpoint().starts_with("http://127.0.0.1:"));
//! let demo = mock.demo().expect("asked for the demo");
//! // `curl {edge}/public/hello.txt` is served; `/private/*` needs a signature by the demo key.
//! let edge = mock.edge_base(demo.domain_name());
//! assert!(edge.ends_with(&format!(".cloudfront.net.localhost:{}", mock.port())));
//! mock.shutdown().await;
//! # Ok::<(), cfsign_mock::Error>(()) }).map_err(|e| e.to_string())?;
//! # Ok::<(), String>(())
//! ```
//!
//! # Reaching a distribution
//!
//! A distribution with domain name `d1234abcd.cloudfront.net` is served for the `Host` header
//! `d1234abcd.cloudfront.net.localhost:PORT` (or `d1234abcd.cloudfront.net`, or any of its
//! aliases), so `curl http://d1234abcd.cloudfront.net.localhost:PORT/a.jpg` works without DNS
//! set-up. Without a special host name, use the path prefix
//! `http://127.0.0.1:PORT/_edge/d1234abcd.cloudfront.net/a.jpg` or start with
//! [`MockConfig::with_default_distribution`]. The resource a signature covers is always the URL
//! exactly as the client sent it.
//!
//! # Origins
//!
//! The edge serves each origin from a directory ([`MockConfig::with_origin`],
//! [`MockConfig::with_origin_for`]), from an S3 bucket in an S3-compatible server when the origin's
//! `DomainName` is a bucket endpoint ([`MockConfig::with_s3_endpoint`]; requests signed with SigV4
//! for origin access control, with [`MockConfig::with_s3_credentials`]), or from an HTTP app server
//! for an `http-only` custom origin. Signatures are checked before any origin is asked.
//!
//! # Authentication
//!
//! The mock accepts any SigV4 `Authorization` header (or none) and checks no signature.

mod api;
mod api_error;
mod clock;
mod config;
mod console;
mod demo;
mod edge;
mod error;
mod ids;
mod model;
mod ops;
mod origin;
mod origin_domain;
mod persist;
mod requests;
mod shared;
mod sigv4;
mod upstream;
mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::api::MAX_BODY_BYTES;
pub use crate::clock::Clock;
pub use crate::config::{DEFAULT_PORT, MockConfig};
pub use crate::demo::Demo;
pub use crate::error::Error;
pub use crate::requests::DEFAULT_REQUEST_LOG_ENTRIES;
use crate::shared::Shared;
pub use crate::sigv4::Credentials;

/// A running mock. Dropping it stops the server; [`RunningMock::shutdown`] also waits for it.
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    demo: Option<Demo>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningMock {
    /// The control-plane endpoint URL for SDKs (`endpoint_url`), like `http://127.0.0.1:4580`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the mock listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The socket address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The edge URL base for a distribution domain name, like
    /// `http://d1234abcd.cloudfront.net.localhost:4580`.
    pub fn edge_base(&self, distribution_domain: &str) -> String {
        format!(
            "http://{}.localhost:{}",
            distribution_domain,
            self.addr.port()
        )
    }

    /// What `--demo` created, if it was asked for.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (it stops only on shutdown or drop of another handle; the
    /// binary uses this together with a signal handler).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The whole service, control plane and edge, as an axum `Router` without a socket: for
/// in-process tests with `tower::ServiceExt::oneshot` (loads the state file and seeds the demo
/// like [`start`]). The viewer's address is read from the request's
/// `axum::extract::ConnectInfo<SocketAddr>` extension, loopback when absent.
pub fn router(config: &MockConfig) -> Result<axum::Router, Error> {
    let shared = Arc::new(Shared::open(config)?);
    if config.demo {
        demo::seed(&shared, config)?;
    }
    Ok(api::router(shared))
}

/// Starts the mock: loads the state file, seeds the demo if asked, binds the socket and serves in
/// a background task of the current tokio runtime.
pub async fn start(config: MockConfig) -> Result<RunningMock, Error> {
    let shared = Arc::new(Shared::open(&config)?);
    let demo = if config.demo {
        Some(demo::seed(&shared, &config)?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .map_err(|source| Error::Bind {
            addr: SocketAddr::new(config.host, config.port),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: SocketAddr::new(config.host, config.port),
        source,
    })?;
    let app = api::router(shared);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("cfsign-mock server stopped: {e}");
        }
    });
    Ok(RunningMock {
        addr,
        demo,
        stop: Some(stop_tx),
        task: Some(task),
    })
}
