//! Vectors from independent implementations: botocore's `CloudFrontSigner` (canned and custom
//! policies, signed URLs) and the OpenSSL CLI (raw signatures). See `tests/data/gen_vectors.py`.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::net::IpAddr;

use cfsign::{
    CannedPolicy, CustomPolicy, Decision, DenyReason, Error, HashAlgorithm, KeyAlgorithm,
    KeyPairId, PrivateKey, Request, Resource, Signer, TrustedKeys, UnixTime, encoding, verify,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File<V> {
    source: String,
    key_pair_id: String,
    vectors: Vec<V>,
}

#[derive(Debug, Deserialize)]
struct Canned {
    key: String,
    hash: String,
    url: String,
    url_valid: bool,
    expires: u64,
    policy: String,
    signature: String,
    signed_url: String,
}

#[derive(Debug, Deserialize)]
struct Custom {
    key: String,
    hash: String,
    url: String,
    url_valid: bool,
    resource: String,
    date_less_than: u64,
    date_greater_than: Option<u64>,
    source_ip: Option<String>,
    policy: String,
    signature: String,
    signed_url: String,
}

#[derive(Debug, Deserialize)]
struct OpensslVector {
    key: String,
    hash: String,
    message_hex: String,
    signature_hex: String,
}

fn read<V: for<'de> Deserialize<'de>>(name: &str) -> File<V> {
    let path = common::data_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File<V> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!file.vectors.is_empty(), "{name} has no vectors");
    assert!(!file.source.is_empty());
    file
}

/// Runs `check` on every vector and fails listing each failing index and vector.
fn run_all<V: std::fmt::Debug>(
    name: &str,
    vectors: &[V],
    check: impl Fn(&V) -> Result<(), String>,
) {
    let failures: Vec<String> = vectors
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            check(v)
                .err()
                .map(|e| format!("{name} vector #{i}: {e}\n    {v:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn hash(name: &str) -> HashAlgorithm {
    HashAlgorithm::parse(name).unwrap()
}

fn is_rsa(key: &PrivateKey) -> bool {
    matches!(key.algorithm(), KeyAlgorithm::Rsa { .. })
}

/// Checks a signed URL the other implementation produced against ours: byte for byte for RSA
/// (deterministic); for ECDSA (randomised) everything up to the signature, and both verify.
fn compare_urls(ours: &str, theirs: &str, rsa: bool) -> Result<(), String> {
    if rsa {
        return ensure(ours == theirs, || {
            format!("signed URL differs:\n ours   {ours}\n theirs {theirs}")
        });
    }
    let prefix = |u: &str| u.split("&Signature=").next().unwrap_or_default().to_owned();
    let suffix = |u: &str| {
        u.split("&Key-Pair-Id=")
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };
    ensure(
        prefix(ours) == prefix(theirs) && suffix(ours) == suffix(theirs),
        || {
            format!(
                "signed URL differs outside the ECDSA signature:\n ours   {ours}\n theirs {theirs}"
            )
        },
    )
}

fn trusted(id: &KeyPairId, key: &PrivateKey) -> TrustedKeys {
    [(id.clone(), key.public_key())].into_iter().collect()
}

#[test]
fn botocore_canned() {
    let file: File<Canned> = read("botocore-canned.json");
    let id: KeyPairId = file.key_pair_id.parse().unwrap();
    run_all("botocore-canned.json", &file.vectors, |v| {
        let key = common::private_key(&v.key);
        let rsa = is_rsa(&key);
        let trusted = trusted(&id, &key);
        let expires = UnixTime::from_secs(v.expires).map_err(|e| e.to_string())?;
        let policy = CannedPolicy::new(&v.url, expires);
        ensure(policy.to_json() == v.policy, || {
            format!("policy differs: ours {}", policy.to_json())
        })?;
        let their_sig = encoding::decode(&v.signature).ok_or("their signature does not decode")?;
        ensure(
            key.public_key()
                .verify(hash(&v.hash), v.policy.as_bytes(), &their_sig),
            || "their signature does not verify with our verifier".to_owned(),
        )?;
        // Our verifier grants their URL just before expiry, and denies it at expiry.
        if v.expires > 0 {
            let now = UnixTime::from_secs(v.expires - 1).unwrap();
            let decision = verify(&Request::new(&v.signed_url, now), &trusted);
            ensure(decision.is_granted(), || {
                format!("our verifier denies their URL: {decision:?}")
            })?;
        }
        let decision = verify(&Request::new(&v.signed_url, expires), &trusted);
        ensure(
            matches!(
                decision.denial().map(|d| d.reason()),
                Some(DenyReason::Expired { .. })
            ),
            || format!("their URL is not expired at its expiry: {decision:?}"),
        )?;
        for backend in common::backends() {
            let key = common::private_key(&v.key);
            let signer =
                Signer::with_backend(id.clone(), key, backend).with_hash_algorithm(hash(&v.hash));
            let ours = signer
                .sign_bytes(v.policy.as_bytes())
                .map_err(|e| e.to_string())?;
            if rsa {
                ensure(encoding::encode(&ours) == v.signature, || {
                    format!("{backend:?}: signature differs")
                })?;
            }
            let signed = signer.sign_canned_url(&v.url, expires);
            match (v.url_valid, signed) {
                (true, Ok(url)) => compare_urls(&url, &v.signed_url, rsa)?,
                (false, Err(Error::InvalidUrl { .. })) => {}
                (_, other) => return Err(format!("{backend:?}: sign_canned_url gave {other:?}")),
            }
        }
        Ok(())
    });
}

#[test]
fn botocore_custom() {
    let file: File<Custom> = read("botocore-custom.json");
    let id: KeyPairId = file.key_pair_id.parse().unwrap();
    run_all("botocore-custom.json", &file.vectors, |v| {
        let key = common::private_key(&v.key);
        let rsa = is_rsa(&key);
        let trusted = trusted(&id, &key);
        let resource = Resource::new(&v.resource).map_err(|e| e.to_string())?;
        let mut policy = CustomPolicy::new(
            resource.clone(),
            UnixTime::from_secs(v.date_less_than).unwrap(),
        );
        if let Some(start) = v.date_greater_than {
            policy = policy
                .with_starts_at(UnixTime::from_secs(start).unwrap())
                .map_err(|e| e.to_string())?;
        }
        let mut client_ip: Option<IpAddr> = None;
        if let Some(ip) = &v.source_ip {
            let range: cfsign::SourceIp = ip.parse().map_err(|e: Error| e.to_string())?;
            client_ip = Some(IpAddr::V4(range.addr()));
            policy = policy.with_source_ip(range);
        }
        ensure(policy.to_json() == v.policy, || {
            format!("policy differs: ours {}", policy.to_json())
        })?;
        let parsed = CustomPolicy::parse(v.policy.as_bytes()).map_err(|e| e.to_string())?;
        ensure(parsed == policy, || {
            format!("their policy parses to {parsed:?}")
        })?;
        let their_sig = encoding::decode(&v.signature).ok_or("their signature does not decode")?;
        ensure(
            key.public_key()
                .verify(hash(&v.hash), v.policy.as_bytes(), &their_sig),
            || "their signature does not verify with our verifier".to_owned(),
        )?;
        // Our verifier decides their URL: granted inside the window when the resource matches.
        let now = UnixTime::from_secs(v.date_less_than - 1).unwrap();
        let mut request = Request::new(&v.signed_url, now);
        if let Some(ip) = client_ip {
            request = request.with_client_ip(ip);
        }
        let decision = verify(&request, &trusted);
        let stripped = v
            .signed_url
            .split_once("?Policy=")
            .map_or(v.signed_url.as_str(), |(u, _)| u);
        let stripped = stripped.split_once("&Policy=").map_or(stripped, |(u, _)| u);
        match (&decision, resource.matches(stripped)) {
            (Decision::Granted(_), true) => {}
            (Decision::Denied(d), false)
                if matches!(d.reason(), DenyReason::ResourceMismatch { .. }) => {}
            _ => {
                return Err(format!(
                    "our verifier decided {decision:?} for resource match {}",
                    resource.matches(stripped)
                ));
            }
        }
        for backend in common::backends() {
            let key = common::private_key(&v.key);
            let signer =
                Signer::with_backend(id.clone(), key, backend).with_hash_algorithm(hash(&v.hash));
            let ours = signer
                .sign_bytes(v.policy.as_bytes())
                .map_err(|e| e.to_string())?;
            if rsa {
                ensure(encoding::encode(&ours) == v.signature, || {
                    format!("{backend:?}: signature differs")
                })?;
            }
            match (v.url_valid, signer.sign_custom_url(&v.url, &policy)) {
                (true, Ok(url)) => compare_urls(&url, &v.signed_url, rsa)?,
                (false, Err(Error::InvalidUrl { .. })) => {}
                (_, other) => return Err(format!("{backend:?}: sign_custom_url gave {other:?}")),
            }
        }
        Ok(())
    });
}

#[test]
fn openssl_cli_signatures() {
    let file: File<OpensslVector> = read("openssl-vectors.json");
    run_all("openssl-vectors.json", &file.vectors, |v| {
        let message = hex::decode(&v.message_hex).map_err(|e| e.to_string())?;
        let theirs = hex::decode(&v.signature_hex).map_err(|e| e.to_string())?;
        let key = common::private_key(&v.key);
        let rsa = is_rsa(&key);
        ensure(
            key.public_key().verify(hash(&v.hash), &message, &theirs),
            || "OpenSSL's signature does not verify with our verifier".to_owned(),
        )?;
        for backend in common::backends() {
            let signer =
                Signer::with_backend("K1".parse().unwrap(), common::private_key(&v.key), backend)
                    .with_hash_algorithm(hash(&v.hash));
            let ours = signer.sign_bytes(&message).map_err(|e| e.to_string())?;
            if rsa {
                ensure(ours == theirs, || {
                    format!("{backend:?}: RSA signature differs from OpenSSL's")
                })?;
            } else {
                ensure(
                    key.public_key().verify(hash(&v.hash), &message, &ours),
                    || format!("{backend:?}: our ECDSA signature does not verify"),
                )?;
            }
        }
        Ok(())
    });
}
