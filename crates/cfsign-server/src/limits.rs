//! The request limits of `[server]` and `[cache]` that a reload may change.

use crate::config::{Config, ConfigError};

/// Request limits that may change on reload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Items in one `POST /v1/sign` batch.
    pub(crate) max_batch: usize,
    /// The longest URL or resource pattern a client may send.
    pub(crate) max_url_bytes: usize,
    /// The lifetime when a request gives neither `ttl` nor `expires` (at least 1 s).
    pub(crate) default_ttl: u64,
    /// TTL-based expiries are rounded to a multiple of this (0 or 1: not rounded).
    pub(crate) expiry_granularity: u64,
    /// The active key signs SHA-256 only (a KMS key): SHA-1 requests are refused, and a request
    /// that names no hash gets SHA-256.
    pub(crate) sha256_only: bool,
}

impl Limits {
    /// The limits `config` sets; `max_batch` and `max_url_bytes` must be more than 0.
    pub(crate) fn from_config(config: &Config) -> Result<Limits, ConfigError> {
        let server = &config.server;
        if server.max_batch == 0 || server.max_url_bytes == 0 {
            return Err(ConfigError::invalid(
                "server.max_batch and server.max_url_bytes must be more than 0",
            ));
        }
        Ok(Limits {
            max_batch: server.max_batch,
            max_url_bytes: server.max_url_bytes,
            default_ttl: server.default_ttl.0.max(1),
            expiry_granularity: config.cache.expiry_granularity_secs,
            sha256_only: false,
        })
    }
}
