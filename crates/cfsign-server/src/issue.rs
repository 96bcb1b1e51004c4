//! Issuing signatures for planned requests: the signature cache, the signing threads (never the
//! async executor), the audit line and the count. URLs and cookies are finished by the core
//! (`UnsignedUrl::finish`, `UnsignedCookies::finish`).

use std::sync::Arc;

use cfsign::{HashAlgorithm, SignedCookies, Signer, UnixTime};

use crate::client::Client;
use crate::error::ApiError;
use crate::plan::{PlannedCookies, PlannedUrl};
use crate::pool::{Job, PoolError};
use crate::state::AppState;
use crate::wire::SignedUrl;

/// Signs planned URLs with `key`, in order; all or nothing.
pub(crate) async fn sign_urls(
    state: &AppState,
    key: &Arc<Signer>,
    client: &Client,
    planned: Vec<PlannedUrl>,
) -> Result<Vec<SignedUrl>, ApiError> {
    let policies = planned
        .iter()
        .map(|p| (p.plan().hash(), p.unsigned().policy_bytes().to_vec()))
        .collect();
    let signatures = signatures(state, key, policies).await?;
    let key_id = key.key_pair_id();
    let mut out = Vec::with_capacity(planned.len());
    for (p, signature) in planned.iter().zip(signatures) {
        let plan = p.plan();
        let signed_url = p
            .unsigned()
            .finish(&signature, key_id, plan.hash())
            .map_err(|e| ApiError::bad_request("signed_url_too_long", e.to_string()))?;
        out.push(SignedUrl {
            signed_url,
            expires: plan.expires().as_secs(),
            expires_at: plan.expires().to_rfc3339(),
            key_pair_id: key_id.to_string(),
            policy: plan.kind(),
            hash_algorithm: plan.hash_name(),
        });
    }
    for p in &planned {
        audit(
            client,
            "url",
            p.resource(),
            p.plan().expires(),
            key_id.as_str(),
        );
    }
    state.shared.metrics.signatures_issued(out.len() as u64);
    Ok(out)
}

/// Signs planned cookies for `resource` with `key`.
pub(crate) async fn sign_cookies(
    state: &AppState,
    key: &Arc<Signer>,
    client: &Client,
    resource: &str,
    planned: &PlannedCookies,
) -> Result<SignedCookies, ApiError> {
    let plan = planned.plan();
    let unsigned = planned.unsigned();
    let hash = plan.hash();
    let signature = signatures(state, key, vec![(hash, unsigned.policy_bytes().to_vec())])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no signature"))?;
    let cookies = unsigned.finish(&signature, key.key_pair_id(), hash);
    audit(
        client,
        "cookies",
        resource,
        plan.expires(),
        key.key_pair_id().as_str(),
    );
    state.shared.metrics.signatures_issued(1);
    Ok(cookies)
}

/// Signs one custom policy for a stream (`what`: `manifest` or `stream_cookies`) with `key`: the
/// signature, from the cache when possible.
pub(crate) async fn sign_policy(
    state: &AppState,
    key: &Arc<Signer>,
    client: &Client,
    what: &str,
    policy: &cfsign::CustomPolicy,
    hash: HashAlgorithm,
) -> Result<Arc<[u8]>, ApiError> {
    let signature = signatures(state, key, vec![(hash, policy.to_json().into_bytes())])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no signature"))?;
    let resource = policy.resource().map_or("*", |r| r.as_str());
    audit(
        client,
        what,
        resource,
        policy.date_less_than(),
        key.key_pair_id().as_str(),
    );
    state.shared.metrics.signatures_issued(1);
    Ok(signature)
}

/// The audit line of an issued signature (target `cfsign_server::audit`).
fn audit(client: &Client, what: &str, resource: &str, expires: UnixTime, key_id: &str) {
    tracing::info!(
        target: "cfsign_server::audit",
        client = %client.name,
        kind = what,
        resource = %resource,
        expires = expires.as_secs(),
        key_pair_id = %key_id,
        "signature issued"
    );
}

/// Raw signatures for `policies` (policy bytes), in order: from the cache when possible, the
/// rest computed by the signing threads so the async executor stays responsive. A request with
/// nothing to compute never meets the signing queue's limit; one that must compute while the
/// queue is full is refused with 503 `overloaded` and `Retry-After` (see `pool.rs`).
async fn signatures(
    state: &AppState,
    key: &Arc<Signer>,
    policies: Vec<(HashAlgorithm, Vec<u8>)>,
) -> Result<Vec<Arc<[u8]>>, ApiError> {
    let cache = &state.shared.cache;
    let key_id = key.key_pair_id();
    let mut found: Vec<Option<Arc<[u8]>>> = Vec::with_capacity(policies.len());
    let mut todo: Vec<(usize, Job)> = Vec::new();
    for (index, (hash, policy)) in policies.into_iter().enumerate() {
        let cached = cache.get(key_id, hash, &policy);
        if cached.is_none() {
            let job = Job {
                signer: Arc::clone(key),
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
            PoolError::Full { queued } => ApiError::overloaded(format!(
                "the server is signing at capacity ({queued} signatures wait; \
                 server.max_queue); retry after a second"
            )),
        })?;
        for (index, (job, signature)) in indexes.into_iter().zip(signed) {
            let signature: Arc<[u8]> = Arc::from(signature);
            cache.put(
                job.signer.key_pair_id(),
                job.hash,
                &job.policy,
                Arc::clone(&signature),
            );
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
