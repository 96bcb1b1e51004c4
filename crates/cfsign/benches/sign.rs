//! Criterion benchmarks: signing (canned/custom URL, SHA-1/SHA-256, RSA-2048/P-256, each backend)
//! and verifying, reported as signatures per second (`thrpt`, elements/s).
//!
//! `cargo bench -p cfsign --features native` (add `-- --warm-up-time 1 --measurement-time 3`
//! for a quick run). Compare with `openssl speed -elapsed -seconds 3 rsa2048 ecdsap256` in the
//! same session (`-elapsed`: wall-clock time, as criterion measures; without it `openssl speed`
//! divides by CPU time, which flatters it on a busy machine); see `docs/benchmarks.md`.
//! With the `native` feature verification always uses OpenSSL; build without it to measure
//! RustCrypto's verification.

use std::hint::black_box;
use std::path::Path;

use cfsign::{
    Backend, CustomPolicy, HashAlgorithm, KeyPairId, PrivateKey, Request, Resource, Signer,
    TrustedKeys, UnixTime, verify,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const URL: &str = "https://d111111abcdef8.cloudfront.net/videos/2026/launch/master.m3u8?quality=hd";

fn key(name: &str) -> PrivateKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keys")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    PrivateKey::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn backends() -> Vec<(Backend, &'static str)> {
    #[cfg(feature = "native")]
    return vec![
        (Backend::RustCrypto, "rustcrypto"),
        (Backend::OpenSsl, "openssl"),
    ];
    #[cfg(not(feature = "native"))]
    return vec![(Backend::RustCrypto, "rustcrypto")];
}

const KEYS: [(&str, &str); 2] = [("rsa2048", "rsa2048-pkcs1.pem"), ("p256", "p256-sec1.pem")];
const HASHES: [(HashAlgorithm, &str); 2] = [
    (HashAlgorithm::Sha1, "sha1"),
    (HashAlgorithm::Sha256, "sha256"),
];

fn id() -> KeyPairId {
    "K2JCJMDEHXQW5F".parse().unwrap_or_else(|e| panic!("{e}"))
}

fn expires() -> UnixTime {
    UnixTime::from_secs(1_767_225_600).unwrap_or_else(|e| panic!("{e}"))
}

fn policy() -> CustomPolicy {
    let resource = Resource::new("https://d111111abcdef8.cloudfront.net/videos/2026/launch/*")
        .unwrap_or_else(|e| panic!("{e}"));
    CustomPolicy::new(resource, expires())
        .with_source_ip("192.0.2.0/24".parse().unwrap_or_else(|e| panic!("{e}")))
}

fn sign(c: &mut Criterion) {
    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    let policy = policy();
    for (key_label, key_file) in KEYS {
        for (backend, backend_label) in backends() {
            for (hash, hash_label) in HASHES {
                let signer =
                    Signer::with_backend(id(), key(key_file), backend).with_hash_algorithm(hash);
                group.bench_function(
                    format!("{key_label}/{backend_label}/{hash_label}/canned_url"),
                    |b| b.iter(|| signer.sign_canned_url(black_box(URL), expires())),
                );
                group.bench_function(
                    format!("{key_label}/{backend_label}/{hash_label}/custom_url"),
                    |b| b.iter(|| signer.sign_custom_url(black_box(URL), &policy)),
                );
                if hash == HashAlgorithm::Sha1 {
                    group.bench_function(
                        format!("{key_label}/{backend_label}/{hash_label}/custom_cookies"),
                        |b| b.iter(|| signer.custom_cookies(black_box(&policy))),
                    );
                    // The bare signature over a short message, closest to `openssl speed`.
                    group.bench_function(
                        format!("{key_label}/{backend_label}/{hash_label}/sign_bytes_36"),
                        |b| b.iter(|| signer.sign_bytes(black_box(&[0x5a; 36]))),
                    );
                }
            }
        }
    }
    group.finish();
}

fn verifying(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    let now = UnixTime::from_secs(1_767_225_000).unwrap_or_else(|e| panic!("{e}"));
    let client: std::net::IpAddr = "192.0.2.10".parse().unwrap_or_else(|e| panic!("{e}"));
    for (key_label, key_file) in KEYS {
        let private = key(key_file);
        let public = private.public_key();
        // Verification as the binaries do it: the fastest backend, chosen explicitly.
        let trusted: TrustedKeys = [(id(), public.clone())]
            .into_iter()
            .collect::<TrustedKeys>()
            .with_backend(Backend::fastest());
        let signer = Signer::with_backend(id(), private, Backend::RustCrypto);
        let canned = signer
            .sign_canned_url(URL, expires())
            .unwrap_or_else(|e| panic!("{e}"));
        let custom = signer
            .sign_custom_url(URL, &policy())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(verify(&Request::new(&canned, now), &trusted).is_granted());
        assert!(verify(&Request::new(&custom, now).with_client_ip(client), &trusted).is_granted());
        group.bench_function(format!("{key_label}/sha1/canned_url"), |b| {
            b.iter(|| verify(&Request::new(black_box(&canned), now), &trusted))
        });
        group.bench_function(format!("{key_label}/sha1/custom_url"), |b| {
            b.iter(|| {
                verify(
                    &Request::new(black_box(&custom), now).with_client_ip(client),
                    &trusted,
                )
            })
        });
        let message = [0x5a; 36];
        let signature = signer
            .sign_bytes(&message)
            .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("{key_label}/sha1/verify_bytes_36"), |b| {
            b.iter(|| {
                public.verify_with(
                    Backend::fastest(),
                    HashAlgorithm::Sha1,
                    black_box(&message),
                    &signature,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sign, verifying);
criterion_main!(benches);
