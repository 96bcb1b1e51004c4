//! cfsign against `openssl speed` on the same machine in the same run, in operations per
//! CPU-second: robust on a busy machine, where wall-clock numbers swing with other load.
//!
//! `cargo bench -p cfsign --features native --bench vs_openssl` (env `ROUNDS`, default 5, and
//! `SECONDS_PER_CASE`, default 1). Each round runs `openssl speed -seconds 1 rsa2048 ecdsap256`
//! and then every case, so each case gets one paired ratio per round; the table shows medians.
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
fn rate(seconds: f64, op: &mut dyn FnMut()) -> f64 {
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
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keys")
        .join(name);
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
        let nums: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        Some((nums[nums.len() - 2], nums[nums.len() - 1]))
    };
    let (rs, rv) = last_two("rsa 2048 bits")?;
    let (es, ev) = last_two("ecdsa (nistp256)")?;
    Some([rs, rv, es, ev])
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

type Case<'a> = (String, usize, Box<dyn FnMut() + 'a>);

fn main() {
    let env = |name: &str, default: f64| -> f64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let rounds = env("ROUNDS", 5.0) as usize;
    let seconds = env("SECONDS_PER_CASE", 1.0);
    let id: cfsign::KeyPairId = "K2JCJMDEHXQW5F".parse().unwrap();
    let url = "https://d111111abcdef8.cloudfront.net/videos/2026/launch/master.m3u8?quality=hd";
    let expires = UnixTime::from_secs(1_767_225_600).unwrap();
    let now = UnixTime::from_secs(1_767_225_000).unwrap();
    let message = [0x5a_u8; 36];
    let backends: Vec<(Backend, &str)> = {
        #[cfg(feature = "native")]
        {
            vec![
                (Backend::OpenSsl, "openssl"),
                (Backend::RustCrypto, "rustcrypto"),
            ]
        }
        #[cfg(not(feature = "native"))]
        {
            vec![(Backend::RustCrypto, "rustcrypto")]
        }
    };
    let verifier = if cfg!(feature = "native") {
        "openssl"
    } else {
        "rustcrypto"
    };

    // Everything the cases borrow, built first.
    struct Fixture {
        label: &'static str,
        sign_col: usize,
        verify_col: usize,
        signers: Vec<(String, Signer)>,
        public: cfsign::PublicKey,
        signature: Vec<u8>,
        trusted: TrustedKeys,
        signed_url: String,
    }
    let mut fixtures = Vec::new();
    for (label, file, sign_col, verify_col) in [
        ("rsa2048", "rsa2048-pkcs1.pem", 0, 1),
        ("p256", "p256-sec1.pem", 2, 3),
    ] {
        let mut signers = Vec::new();
        for (backend, backend_label) in &backends {
            for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                let signer =
                    Signer::with_backend(id.clone(), key(file), *backend).with_hash_algorithm(hash);
                signers.push((format!("{backend_label}, {hash}"), signer));
            }
        }
        let reference = Signer::with_backend(id.clone(), key(file), Backend::RustCrypto);
        let public = reference.public_key();
        fixtures.push(Fixture {
            label,
            sign_col,
            verify_col,
            signers,
            signature: reference.sign_bytes(&message).unwrap(),
            trusted: [(id.clone(), public.clone())]
                .into_iter()
                .collect::<TrustedKeys>()
                .with_backend(Backend::fastest()),
            signed_url: reference.sign_canned_url(url, expires).unwrap(),
            public,
        });
    }
    let mut cases: Vec<Case<'_>> = Vec::new();
    for f in &fixtures {
        for (what, signer) in &f.signers {
            cases.push((
                format!("{} sign, {what}, 36-byte message", f.label),
                f.sign_col,
                Box::new(|| {
                    black_box(signer.sign_bytes(black_box(&message)).unwrap());
                }),
            ));
            if signer.hash_algorithm() == HashAlgorithm::Sha1 {
                cases.push((
                    format!("{} sign_canned_url, {what}", f.label),
                    f.sign_col,
                    Box::new(|| {
                        black_box(signer.sign_canned_url(black_box(url), expires).unwrap());
                    }),
                ));
            }
        }
        cases.push((
            format!(
                "{} PublicKey::verify, {verifier}, SHA1, 36-byte message",
                f.label
            ),
            f.verify_col,
            Box::new(|| {
                assert!(f.public.verify_with(
                    Backend::fastest(),
                    HashAlgorithm::Sha1,
                    black_box(&message),
                    &f.signature
                ))
            }),
        ));
        cases.push((
            format!("{} verify(signed URL), {verifier}, SHA1", f.label),
            f.verify_col,
            Box::new(|| {
                assert!(
                    verify(&Request::new(black_box(&f.signed_url), now), &f.trusted).is_granted()
                )
            }),
        ));
    }

    let mut ours: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut speeds: Vec<[f64; 4]> = Vec::new();
    for round in 0..rounds {
        let speed = openssl_speed(seconds);
        for (i, (_, col, op)) in cases.iter_mut().enumerate() {
            let r = rate(seconds, op);
            ours[i].push(r);
            if let Some(speed) = speed {
                ratios[i].push(r / speed[*col]);
            }
        }
        if let Some(speed) = speed {
            speeds.push(speed);
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let openssl_median =
        |col: usize| median(&mut speeds.iter().map(|s| s[col]).collect::<Vec<_>>());
    println!(
        "| case | cfsign ops/CPU-s | openssl speed ops/CPU-s | ratio (median of {rounds} paired rounds; min-max) |"
    );
    println!("|---|---:|---:|---:|");
    for (i, (case, col, _)) in cases.iter().enumerate() {
        let mine = median(&mut ours[i]);
        if speeds.is_empty() {
            println!("| {case} | {mine:.0} | (openssl not available) | |");
            continue;
        }
        let lo = ratios[i].iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios[i].iter().copied().fold(0.0, f64::max);
        println!(
            "| {case} | {mine:.0} | {:.0} | {:.2}x ({lo:.2}-{hi:.2}) |",
            openssl_median(*col),
            median(&mut ratios[i])
        );
    }
}
