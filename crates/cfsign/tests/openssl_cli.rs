//! Live cross-checks with the OpenSSL CLI: `openssl dgst -verify` accepts our signatures
//! (RSA and ECDSA P-256, SHA-1 and SHA-256), and we verify signatures it makes now.
//! Skips (loudly) without `openssl`, unless `CI=true`.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::path::Path;
use std::process::Command;

use cfsign::{HashAlgorithm, Signer};

const MESSAGES: [&[u8]; 3] = [
    b"",
    br#"{"Statement":[{"Resource":"https://d1.example.net/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#,
    "ünïcödé 漢字 😀 \"quotes\" \\ back".as_bytes(),
];

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl").args(args).output().unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openssl_verifies_ours_and_we_verify_openssls() {
    if !common::tool_available(
        "openssl",
        &["version"],
        "openssl_verifies_ours_and_we_verify_openssls",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = common::data_dir().join("keys");
    let mut checked = 0;
    for key_name in [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.pem",
        "p256-sec1.pem",
        "p256-pkcs8.pem",
    ] {
        let key_path = keys.join(key_name);
        let pub_path = dir.path().join("pub.pem");
        let public = common::private_key(key_name).public_key();
        std::fs::write(&pub_path, public.to_pem()).unwrap();
        for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
            let flag = format!("-{}", hash.as_str().to_ascii_lowercase());
            for (i, message) in MESSAGES.iter().enumerate() {
                let msg_path = dir.path().join("msg");
                let sig_path = dir.path().join("sig");
                std::fs::write(&msg_path, message).unwrap();
                for backend in common::backends() {
                    let signer = Signer::with_backend(
                        "K1".parse().unwrap(),
                        common::private_key(key_name),
                        backend,
                    )
                    .with_hash_algorithm(hash);
                    std::fs::write(&sig_path, signer.sign_bytes(message).unwrap()).unwrap();
                    let out = openssl(&[
                        "dgst",
                        &flag,
                        "-verify",
                        path_str(&pub_path),
                        "-signature",
                        path_str(&sig_path),
                        path_str(&msg_path),
                    ]);
                    assert!(
                        out.status.success(),
                        "{key_name} {hash} {backend:?} message #{i}: openssl rejects our signature: {}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let out = openssl(&[
                    "dgst",
                    &flag,
                    "-sign",
                    path_str(&key_path),
                    path_str(&msg_path),
                ]);
                assert!(
                    out.status.success(),
                    "openssl dgst -sign failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    public.verify(hash, message, &out.stdout),
                    "{key_name} {hash} message #{i}: we reject OpenSSL's signature"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 2 * MESSAGES.len());
}

#[test]
fn openssl_reads_our_exported_keys() {
    if !common::tool_available("openssl", &["version"], "openssl_reads_our_exported_keys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in ["rsa2048-pkcs1.pem", "p256-sec1.pem"] {
        let key = common::private_key(name);
        let priv_path = dir.path().join("key.pem");
        std::fs::write(&priv_path, key.to_pkcs8_pem().as_bytes()).unwrap();
        // OpenSSL derives the same SPKI public key from our PKCS#8 export.
        let out = openssl(&["pkey", "-in", path_str(&priv_path), "-pubout"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            key.public_key().to_pem(),
            "{name}"
        );
    }
}
