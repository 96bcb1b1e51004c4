//! The signing pipeline: expiry computation, cache lookup and signing off the async executor.
//! URLs and cookies are finished by the core (`UnsignedUrl::finish`, `UnsignedCookies::finish`).

use std::sync::Arc;

use cfsign::{HashAlgorithm, UnixTime};

use crate::error::ApiError;
use crate::pool::{Job, PoolError};
use crate::state::{AppState, Client, KeyEntry, Limits};

/// Computes the expiry from `ttl` or `expires` (or the default TTL), enforcing the client's
/// maximum TTL and rounding TTL-based expiries up to the configured granularity.
pub(crate) fn expiry(
    now: u64,
    ttl: Option<u64>,
    expires: Option<UnixTime>,
    client: &Client,
    limits: &Limits,
) -> Result<UnixTime, ApiError> {
    let too_long = |secs: u64| {
        ApiError::forbidden(
            "ttl_too_long",
            format!(
                "the requested lifetime is {secs} s; client `{}` may ask for at most {} s",
                client.name, client.max_ttl
            ),
        )
    };
    let target = match (ttl, expires) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give `ttl` or `expires`, not both",
            ));
        }
        (None, Some(expires)) => {
            let at = expires.as_secs();
            if at <= now {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    format!("`expires` ({expires}) is not in the future"),
                ));
            }
            if at - now > client.max_ttl {
                return Err(too_long(at - now));
            }
            return Ok(expires);
        }
        (Some(0), None) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`ttl` must be at least 1 second",
            ));
        }
        (Some(ttl), None) => {
            if ttl > client.max_ttl {
                return Err(too_long(ttl));
            }
            now.saturating_add(ttl)
        }
        (None, None) => now.saturating_add(limits.default_ttl.min(client.max_ttl)),
    };
    let g = limits.expiry_granularity;
    let rounded = if g > 1 {
        let up = target.div_ceil(g).saturating_mul(g);
        let down = target / g * g;
        if up - now <= client.max_ttl {
            up
        } else if down > now {
            down
        } else {
            target
        }
    } else {
        target
    };
    UnixTime::from_secs(rounded)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("expiry: {e}")))
}

/// Raw signatures for `policies` (policy bytes), in order: from the cache when possible, the
/// rest computed by the signing threads so the async executor stays responsive.
pub(crate) async fn signatures(
    state: &AppState,
    key: &Arc<KeyEntry>,
    policies: Vec<(HashAlgorithm, Vec<u8>)>,
) -> Result<Vec<Arc<[u8]>>, ApiError> {
    let cache = &state.shared.cache;
    let mut found: Vec<Option<Arc<[u8]>>> = Vec::with_capacity(policies.len());
    let mut todo: Vec<(usize, Job)> = Vec::new();
    for (index, (hash, policy)) in policies.into_iter().enumerate() {
        let cached = cache.get(&key.id, hash, &policy);
        if cached.is_none() {
            let job = Job {
                key: Arc::clone(key),
                hash,
                policy,
            };
            todo.push((index, job));
        }
        found.push(cached);
    }
    let hits = (found.len() - todo.len()) as u64;
    state.shared.metrics.cache(hits, todo.len() as u64);
    if !todo.is_empty() {
        let (indexes, jobs): (Vec<usize>, Vec<Job>) = todo.into_iter().unzip();
        let signed = state.shared.signing.sign(jobs).await.map_err(|e| match e {
            PoolError::Signing(e) => ApiError::internal(format!("signing failed: {e}")),
            PoolError::Unavailable => ApiError::internal("the signing threads are unavailable"),
        })?;
        for (index, (job, signature)) in indexes.into_iter().zip(signed) {
            let signature: Arc<[u8]> = Arc::from(signature);
            cache.put(&job.key.id, job.hash, &job.policy, Arc::clone(&signature));
            if let Some(slot) = found.get_mut(index) {
                *slot = Some(signature);
            }
        }
    }
    found
        .into_iter()
        .map(|s| s.ok_or_else(|| ApiError::internal("a signature went missing")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    fn client(max_ttl: u64) -> Client {
        Client::for_tests("c", Scope::default(), max_ttl)
    }

    fn limits(granularity: u64) -> Limits {
        Limits {
            max_batch: 10,
            max_url_bytes: 100,
            default_ttl: 300,
            expiry_granularity: granularity,
        }
    }

    fn check(ttl: Option<u64>, granularity: u64, max_ttl: u64, expected: Result<u64, &str>) {
        let got = expiry(1000, ttl, None, &client(max_ttl), &limits(granularity))
            .map(UnixTime::as_secs)
            .map_err(|e| e.code());
        assert_eq!(
            got, expected,
            "ttl {ttl:?} granularity {granularity} max {max_ttl}"
        );
    }

    #[test]
    fn expiry_rules() {
        check(Some(60), 0, 3600, Ok(1060));
        check(None, 0, 3600, Ok(1300));
        check(None, 0, 100, Ok(1100));
        check(Some(7200), 0, 3600, Err("ttl_too_long"));
        check(Some(0), 0, 3600, Err("invalid_request"));
        // Rounded up to the next multiple of 600 …
        check(Some(60), 600, 3600, Ok(1200));
        // … unless that exceeds the maximum TTL: then down.
        check(Some(3600), 600, 3600, Ok(4200));
        check(Some(3500), 600, 3500, Ok(4200));
        // Never into the past.
        check(Some(10), 5000, 10, Ok(1010));
        let c = client(3600);
        let at = |s| Some(UnixTime::from_secs(s).unwrap());
        let got = expiry(1000, None, at(2000), &c, &limits(600)).map(UnixTime::as_secs);
        assert_eq!(got.unwrap(), 2000);
        assert_eq!(
            expiry(1000, None, at(900), &c, &limits(0))
                .unwrap_err()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            expiry(1000, None, at(9000), &c, &limits(0))
                .unwrap_err()
                .code(),
            "ttl_too_long"
        );
        assert_eq!(
            expiry(1000, Some(5), at(2000), &c, &limits(0))
                .unwrap_err()
                .code(),
            "invalid_request"
        );
    }
}
