//! cfsign against `openssl speed` on the same machine in the same run, in operations per
//! CPU-second: robust on a busy machine, where wall-clock numbers swing with other load.
//!
//! `cargo bench -p cfsign --features native --bench vs_openssl` (env `SECONDS_PER_CASE`, default 3).
//! CPU time is the thread's on-CPU time from `/proc/thread-self/schedstat` (Linux); `openssl speed`
//! without `-elapsed` also divides by CPU time. Prints a Markdown table for `docs/benchmarks.md`.

#![allow(clippy::unwrap_used)] // A benchmark: a panic is a failed run.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cfsign::{Backend, HashAlgorithm, PrivateKey, Request, Signer, TrustedKeys, UnixTime, verify};

fn cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Runs `op` for about `seconds` of wall time; returns operations per CPU-second.
fn rate(seconds: f64, mut op: impl FnMut()) -> f64 {
    for _ in 0..3 {
        op();
    }
    let start_cpu = cpu_ns();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        for _ in 0..8 {
            op();
        }
        count += 8;
    }
    count as f64 / ((cpu_ns() - start_cpu) as f64 / 1e9)
}

fn key(name: &str) -> PrivateKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys").join(name);
    PrivateKey::parse(&std::fs::read(path).unwrap()).unwrap()
}

/// (rsa2048 sign/s, rsa2048 verify/s, p256 sign/s, p256 verify/s) from `openssl speed`.
fn openssl_speed(seconds: f64) -> Option<[f64; 4]> {
    let secs = format!("{}", seconds.ceil() as u64);
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &secs, "rsa2048", "ecdsap256"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last_two = |needle: &str| -> Option<(f64, f64)> {
        let line = text.lines().find(|l| l.contains(needle))?;
        let nums: Vec<f64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
        Some((nums[nums.len() - 2], nums[nums.len() - 1]))
    };
    let (rs, rv) = last_two("rsa 2048 bits")?;
    let (es, ev) = last_two("ecdsa (nistp256)")?;
    Some([rs, rv, es, ev])
}

fn main() {
    let seconds: f64 = std::env::var("SECONDS_PER_CASE").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let id: cfsign::KeyPairId = "K2JCJMDEHXQW5F".parse().unwrap();
    let url = "https://d111111abcdef8.cloudfront.net/videos/2026/launch/master.m3u8?quality=hd";
    let expires = UnixTime::from_secs(1_767_225_600).unwrap();
    let now = UnixTime::from_secs(1_767_225_000).unwrap();
    let message = [0x5a_u8; 36];

    let before = openssl_speed(seconds);
    let mut rows: Vec<(String, usize, f64)> = Vec::new(); // (case, openssl column, ops per CPU-second)
    let backends: Vec<(Backend, &str)> = {
        #[cfg(feature = "native")]
        {
            vec![(Backend::OpenSsl, "openssl"), (Backend::RustCrypto, "rustcrypto")]
        }
        #[cfg(not(feature = "native"))]
        {
            vec![(Backend::RustCrypto, "rustcrypto")]
        }
    };
    for (key_label, file, sign_col, verify_col) in [("rsa2048", "rsa2048-pkcs1.pem", 0, 1), ("p256", "p256-sec1.pem", 2, 3)] {
        for (backend, backend_label) in &backends {
            for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                let signer = Signer::with_backend(id.clone(), key(file), *backend).with_hash_algorithm(hash);
                let r = rate(seconds, || {
                    black_box(signer.sign_bytes(black_box(&message)).unwrap());
                });
                rows.push((format!("{key_label} sign, {backend_label}, {hash}, 36-byte message"), sign_col, r));
                if hash == HashAlgorithm::Sha1 {
                    let r = rate(seconds, || {
                        black_box(signer.sign_canned_url(black_box(url), expires).unwrap());
                    });
                    rows.push((format!("{key_label} sign_canned_url, {backend_label}, {hash}"), sign_col, r));
                }
            }
        }
        let signer = Signer::with_backend(id.clone(), key(file), Backend::RustCrypto);
        let public = signer.public_key();
        let signature = signer.sign_bytes(&message).unwrap();
        let verifier = if cfg!(feature = "native") { "openssl" } else { "rustcrypto" };
        let r = rate(seconds, || {
            assert!(public.verify(HashAlgorithm::Sha1, black_box(&message), &signature));
        });
        rows.push((format!("{key_label} PublicKey::verify, {verifier}, SHA1, 36-byte message"), verify_col, r));
        let trusted: TrustedKeys = [(id.clone(), public.clone())].into_iter().collect();
        let signed = signer.sign_canned_url(url, expires).unwrap();
        let r = rate(seconds, || {
            assert!(verify(&Request::new(black_box(&signed), now), &trusted).is_granted());
        });
        rows.push((format!("{key_label} verify(signed URL), {verifier}, SHA1"), verify_col, r));
    }
    let after = openssl_speed(seconds);

    println!("| case | cfsign ops/CPU-s | openssl speed ops/CPU-s | ratio |");
    println!("|---|---:|---:|---:|");
    for (case, col, ours) in &rows {
        match (before, after) {
            (Some(b), Some(a)) => {
                let theirs = (b[*col] + a[*col]) / 2.0;
                println!("| {case} | {ours:.0} | {theirs:.0} | {:.2}x |", ours / theirs);
            }
            _ => println!("| {case} | {ours:.0} | (openssl not available) | |"),
        }
    }
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "\nopenssl speed before/after: rsa2048 sign {:.0}/{:.0}, verify {:.0}/{:.0}; p256 sign {:.0}/{:.0}, verify {:.0}/{:.0}",
            b[0], a[0], b[1], a[1], b[2], a[2], b[3], a[3]
        );
    }
}
