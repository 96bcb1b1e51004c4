//! `cfsign-server`: an HTTP service that signs Amazon CloudFront URLs and cookies for
//! authenticated clients, each within its own scope, so apps in any language can use signed URLs
//! while the private key stays in one place.
//!
//! The binary (`cfsign-server --config server.toml`) is a thin wrapper around [`run`]. Tests and
//! embedders build the router with [`app`] and drive it without a socket:
//!
//! ```
//! use cfsign_server::{AppState, Config, app};
//! # fn config() -> Config {
//! #     let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/x.toml");
//! #     let text = r#"
//! #         [[keys]]
//! #         id = "K2JCJMDEHXQW5F"
//! #         file = "test-key-a.pem"
//! #         [[clients]]
//! #         name = "web"
//! #         token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! #         allow = ["https://d111111abcdef8.cloudfront.net/media/"]
//! #         max_ttl = "1h"
//! #     "#;
//! #     Config::from_toml(text, &dir).unwrap()
//! # }
//! let state = AppState::from_config(&config(), &|_| None)?;
//! let router: axum::Router = app(state);
//! // `router.oneshot(request)` in tests; to listen, `cfsign_server::serve(listener, state,
//! // shutdown)`, which adds the connection cap, the request-head timeout and the drain that a
//! // bare `axum::serve(listener, router)` lacks.
//! # Ok::<(), cfsign_server::ConfigError>(())
//! ```
//!
//! See the crate README for the configuration file and the API.

mod app;
#[cfg(feature = "aws")]
mod aws_keys;
mod cache;
mod client;
mod config;
mod error;
mod extract;
mod handlers;
#[cfg(feature = "aws")]
mod inflight;
mod issue;
mod keys;
#[cfg(feature = "lambda")]
mod lambda;
mod limits;
pub mod loadgen;
mod metrics;
mod plan;
mod pool;
mod remote;
mod routes;
mod run;
mod scope;
mod signing_key;
mod state;
mod wire;

pub use crate::app::app;
pub use crate::config::{
    AwsSection, CacheConfig, ClientConfig, Config, ConfigError, Duration as ConfigDuration,
    EnvLookup, KeyConfig, LogFormat, QueueFull, ServerConfig, process_env,
};
pub use crate::error::{ApiError, ErrorBody};
#[cfg(feature = "lambda")]
pub use crate::lambda::run_lambda;
pub use crate::routes::openapi;
pub use crate::run::{init_tracing, reload_from_file, run, serve, shutdown_signal, spawn_reloader};
pub use crate::state::{AppState, Clock};
pub use crate::wire::{
    CookieFields, CookiePair, CookiesRequest, HashName, KeySourceStatus, PolicyKind, PolicyTerms,
    SameSiteName, SignBatch, SignBody, SignRequest, SignResponse, SignedBatch, SignedCookiesBody,
    SignedManifestBody, SignedUrl, SkippedUri, Status, StreamCookiesBody, StreamCookiesRequest,
    StreamManifestRequest, Time, Ttl, UndocumentedNote, VerifyRequest, VerifyResponse,
};
