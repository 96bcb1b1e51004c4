//! Issuing signatures for planned requests: the signature cache, the signers (`pool.rs`, one
//! signature at a time between the executor's other tasks), the audit line and the count. URLs and cookies are finished by the core
//! (`UnsignedUrl::finish`, `UnsignedCookies::finish`).

use std::sync::Arc;

use cfsign::{HashAlgorithm, SignedCookies, UnixTime};

use crate::client::Client;
use crate::error::ApiError;
use crate::plan::{PlannedCookies, PlannedUrl};
use crate::pool::{Job, PoolError};
use crate::signing_key::SigningKey;
use crate::state::AppState;
use crate::wire::SignedUrl;

/// Signs planned URLs with `key`, in order; all or nothing.
pub(crate) async fn sign_urls(
    state: &AppState,
    key: &SigningKey,
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
    key: &SigningKey,
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
    key: &SigningKey,
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
/// rest computed by the signers (a local key) between the executor's other tasks, or
/// by `kms:Sign` calls awaited concurrently (a KMS key), which occupy no thread. A request with
/// nothing to compute never meets the signing queue's limit; one that must compute while the
/// queue is full is refused with 503 `overloaded` and `Retry-After` (see `pool.rs`).
async fn signatures(
    state: &AppState,
    key: &SigningKey,
    policies: Vec<(HashAlgorithm, Vec<u8>)>,
) -> Result<Vec<Arc<[u8]>>, ApiError> {
    let cache = &state.shared.cache;
    let key_id = key.key_pair_id();
    let mut found: Vec<Option<Arc<[u8]>>> = Vec::with_capacity(policies.len());
    let mut todo: Vec<(usize, HashAlgorithm, Vec<u8>)> = Vec::new();
    for (index, (hash, policy)) in policies.into_iter().enumerate() {
        let cached = cache.get(key_id, hash, &policy);
        if cached.is_none() {
            todo.push((index, hash, policy));
        }
        found.push(cached);
    }
    let hits = (found.len() - todo.len()) as u64;
    state.shared.metrics.cache(hits, todo.len() as u64);
    if !todo.is_empty() {
        let (indexes, todo): (Vec<usize>, Vec<(HashAlgorithm, Vec<u8>)>) = todo
            .into_iter()
            .map(|(index, hash, policy)| (index, (hash, policy)))
            .unzip();
        let signed = match key {
            SigningKey::Local(signer) => local_signatures(state, signer, todo).await?,
            #[cfg(feature = "aws")]
            SigningKey::Kms(signer) => kms_signatures(state, signer, todo).await?,
        };
        for (index, (hash, policy, signature)) in indexes.into_iter().zip(signed) {
            let signature: Arc<[u8]> = Arc::from(signature);
            cache.put(key_id, hash, &policy, Arc::clone(&signature));
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

/// A signature with the hash and policy bytes it signs.
type Signed = (HashAlgorithm, Vec<u8>, Vec<u8>);

/// Signatures of `todo` (hash, policy bytes) by the signers, in order.
async fn local_signatures(
    state: &AppState,
    signer: &Arc<cfsign::Signer>,
    todo: Vec<(HashAlgorithm, Vec<u8>)>,
) -> Result<Vec<Signed>, ApiError> {
    let jobs = todo
        .into_iter()
        .map(|(hash, policy)| Job {
            signer: Arc::clone(signer),
            hash,
            policy,
        })
        .collect();
    let signed = state.shared.signing.sign(jobs).await.map_err(|e| match e {
        PoolError::Signing(e) => ApiError::internal(format!("signing failed: {e}")),
        PoolError::Unavailable => ApiError::internal("the signers are unavailable"),
        PoolError::Full { queued } => ApiError::overloaded(format!(
            "the server is signing at capacity ({queued} signatures wait; \
             server.max_queue); retry after a second"
        )),
    })?;
    Ok(signed
        .into_iter()
        .map(|(job, signature)| (job.hash, job.policy, signature))
        .collect())
}

/// Signatures of `todo` by `kms:Sign`, in order: the calls run concurrently on the async
/// executor (each with the SDK's timeouts and retries), so no signer waits on the
/// network, and a policy another request is already signing waits for that call
/// (`inflight.rs`). Each call is counted in `/metrics`.
#[cfg(feature = "aws")]
async fn kms_signatures(
    state: &AppState,
    signer: &Arc<cfsign_aws::KmsSigner>,
    todo: Vec<(HashAlgorithm, Vec<u8>)>,
) -> Result<Vec<Signed>, ApiError> {
    let count = todo.len();
    let mut calls = tokio::task::JoinSet::new();
    for (position, (hash, policy)) in todo.into_iter().enumerate() {
        let signer = Arc::clone(signer);
        let state = state.clone();
        calls.spawn(async move {
            let key = (signer.key_pair_id().to_string(), hash, policy.clone());
            let message = policy.clone();
            let (outcome, ran) = state
                .shared
                .kms_in_flight
                .run(
                    key,
                    || async move { signer.key().sign(hash, &message).await },
                )
                .await;
            if ran {
                state.shared.remote.kms_call(outcome.is_ok());
            }
            (position, hash, policy, outcome)
        });
    }
    let mut signed: Vec<Option<Signed>> = vec![None; count];
    let mut failure = None;
    while let Some(joined) = calls.join_next().await {
        let (position, hash, policy, result) =
            joined.map_err(|e| ApiError::internal(format!("a KMS signing task failed: {e}")))?;
        match result {
            Ok(signature) => {
                if let Some(slot) = signed.get_mut(position) {
                    *slot = Some((hash, policy, signature));
                }
            }
            Err(err) => failure = Some(err),
        }
    }
    if let Some(err) = failure {
        return Err(kms_error(&err));
    }
    signed
        .into_iter()
        .map(|s| s.ok_or_else(|| ApiError::internal("a KMS signature went missing")))
        .collect()
}

/// The API error for a failed `kms:Sign`: throttling is 503 `overloaded` with `Retry-After`;
/// an unreachable or failing KMS 503 `key_unavailable`; the details go to the log.
#[cfg(feature = "aws")]
fn kms_error(err: &cfsign_aws::Error) -> ApiError {
    use axum::http::StatusCode;
    tracing::warn!(error = %err, "kms:Sign failed");
    match err {
        cfsign_aws::Error::Throttled { .. } => ApiError::overloaded(
            "AWS KMS is throttling this server's signatures (its request quota is exhausted); retry after a second",
        ),
        cfsign_aws::Error::Sha1WithKms { .. } => {
            ApiError::bad_request("sha1_unavailable", err.to_string())
        }
        _ => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "key_unavailable",
            "the signing key is held in AWS KMS, and KMS could not sign just now; retry later",
        )
        .with_retry_after(1),
    }
}
