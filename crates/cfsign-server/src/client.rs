//! The clients the server signs for, as built from `[[clients]]`: name, token hash, scope and
//! permissions, and finding a client by its bearer token in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{ClientConfig, ConfigError};
use crate::scope::{AllowRule, Scope};

/// A client, as authenticated by its bearer token.
#[derive(Debug)]
pub(crate) struct Client {
    /// The name in logs, audit lines and errors.
    pub(crate) name: String,
    token_hash: [u8; 32],
    /// What it may sign.
    pub(crate) scope: Scope,
    /// The longest lifetime it may ask for, in seconds (more than 0).
    pub(crate) max_ttl: u64,
    /// Whether it may ask for signed cookies.
    pub(crate) cookies: bool,
    /// Whether it may ask for custom policies.
    pub(crate) custom_policy: bool,
}

#[cfg(test)]
impl Client {
    /// A client with any token, signed cookies and custom policies.
    pub(crate) fn for_tests(name: &str, scope: Scope, max_ttl: u64) -> Client {
        Client {
            name: name.to_owned(),
            token_hash: [0; 32],
            scope,
            max_ttl,
            cookies: true,
            custom_policy: true,
        }
    }
}

/// The clients of `[[clients]]`, in order: each with a valid token hash of its own, a maximum
/// TTL and valid allow rules; at least one.
pub(crate) fn load(configs: &[ClientConfig]) -> Result<Vec<Client>, ConfigError> {
    let mut clients: Vec<Client> = Vec::new();
    for client in configs {
        let what = format!("client `{}`", client.name);
        let hash = hex::decode(client.token_sha256.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "{what}: token_sha256 must be 64 hex digits, the SHA-256 of the token (printf %s \"$TOKEN\" | sha256sum)"
                ))
            })?;
        if clients
            .iter()
            .any(|c| bool::from(c.token_hash.ct_eq(&hash)))
        {
            return Err(ConfigError::invalid(format!(
                "{what} has the same token as another client; give each client its own token"
            )));
        }
        if client.max_ttl.0 == 0 {
            return Err(ConfigError::invalid(format!(
                "{what}: max_ttl must be more than 0 seconds"
            )));
        }
        let rules = client
            .allow
            .iter()
            .map(|entry| AllowRule::parse(entry))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::invalid(format!("{what}: {e}")))?;
        clients.push(Client {
            name: client.name.clone(),
            token_hash: hash,
            scope: Scope::new(rules),
            max_ttl: client.max_ttl.0,
            cookies: client.cookies,
            custom_policy: client.custom_policy,
        });
    }
    if clients.is_empty() {
        return Err(ConfigError::invalid(
            "no clients: add a [[clients]] entry with name, token_sha256, allow and max_ttl",
        ));
    }
    Ok(clients)
}

/// The index of the client whose token hash matches `token`'s, comparing every hash in constant
/// time.
pub(crate) fn authenticate(clients: &[Client], token: &str) -> Option<usize> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for (index, client) in clients.iter().enumerate() {
        let equal = bool::from(client.token_hash.ct_eq(&digest));
        if equal && found.is_none() {
            found = Some(index);
        }
    }
    found
}
