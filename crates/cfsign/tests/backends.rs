//! The two signing backends agree: OpenSSL (feature `native`) and RustCrypto produce
//! byte-identical RSA PKCS#1 v1.5 signatures for SHA-1 and SHA-256. Runs with
//! `cargo test -p cfsign --features native` (and in `cargo test --workspace`, where the CLI and
//! server enable `native`).

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

/// Features never choose the backend: `Signer::new`, `PublicKey::verify` and `TrustedKeys` use
/// RustCrypto with or without `native`; only an explicit `Backend::fastest()` asks for OpenSSL.
#[test]
fn features_do_not_change_defaults() {
    use cfsign::{Backend, HashAlgorithm, Signer, TrustedKeys};
    let signer = Signer::new(
        "K1".parse().unwrap(),
        common::private_key("rsa2048-pkcs1.pem"),
    );
    assert_eq!(signer.backend(), Backend::RustCrypto);
    assert_eq!(TrustedKeys::new().backend(), Backend::RustCrypto);
    // Either hash from one signer, one parsed key.
    for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
        let signature = signer.sign_bytes_with(hash, b"policy").unwrap();
        assert!(signer.public_key().verify(hash, b"policy", &signature));
    }
    #[cfg(feature = "native")]
    assert_eq!(Backend::fastest(), Backend::OpenSsl);
    #[cfg(not(feature = "native"))]
    assert_eq!(Backend::fastest(), Backend::RustCrypto);
}

#[cfg(feature = "native")]
mod native {
    use super::common;

    use std::sync::OnceLock;

    use cfsign::{Backend, HashAlgorithm, KeyKind, PrivateKey, Signer, UnixTime};
    use proptest::prelude::*;

    const HASHES: [HashAlgorithm; 2] = [HashAlgorithm::Sha1, HashAlgorithm::Sha256];

    /// (RustCrypto signer, OpenSSL signer) pairs over the same key, per key and hash.
    fn pairs() -> &'static Vec<(Signer, Signer)> {
        static PAIRS: OnceLock<Vec<(Signer, Signer)>> = OnceLock::new();
        PAIRS.get_or_init(|| {
            // Fixtures from OpenSSL, a 1024-bit legacy key, and a key generated here.
            let generated = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng()).unwrap();
            let generated_pem = generated.to_pkcs8_pem();
            let loaders: Vec<Box<dyn Fn() -> PrivateKey>> = vec![
                Box::new(|| common::private_key("rsa2048-pkcs1.pem")),
                Box::new(|| common::private_key("rsa2048-pkcs8.pem")),
                Box::new(|| common::private_key("rsa1024.pem")),
                Box::new(move || PrivateKey::from_pem(&generated_pem).unwrap()),
            ];
            let mut pairs = Vec::new();
            for load in &loaders {
                for hash in HASHES {
                    let id = "K2JCJMDEHXQW5F".parse().unwrap();
                    let rust = Signer::with_backend(Clone::clone(&id), load(), Backend::RustCrypto)
                        .with_hash_algorithm(hash);
                    let native = Signer::with_backend(id, load(), Backend::OpenSsl)
                        .with_hash_algorithm(hash);
                    pairs.push((rust, native));
                }
            }
            pairs
        })
    }

    #[test]
    fn openssl_is_an_explicit_choice() {
        let signer = Signer::with_backend(
            "K1".parse().unwrap(),
            common::private_key("rsa2048-pkcs1.pem"),
            Backend::fastest(),
        );
        assert_eq!(signer.backend(), Backend::OpenSsl);
        // Verification with either backend gives the same answer.
        let signature = signer.sign_bytes(b"policy").unwrap();
        let public = signer.public_key();
        for backend in [Backend::RustCrypto, Backend::OpenSsl] {
            assert!(public.verify_with(backend, HashAlgorithm::Sha1, b"policy", &signature));
            assert!(!public.verify_with(backend, HashAlgorithm::Sha1, b"policx", &signature));
        }
    }

    #[test]
    fn rsa_signatures_are_byte_identical() {
        let messages: [&[u8]; 4] = [b"", b"a", &[0u8; 1000], "ünïcödé \"\\".as_bytes()];
        for (i, (rust, native)) in pairs().iter().enumerate() {
            for message in messages {
                let a = rust.sign_bytes(message).unwrap();
                let b = native.sign_bytes(message).unwrap();
                assert_eq!(
                    a,
                    b,
                    "pair #{i} ({:?}, {}) message {message:?}",
                    rust.public_key().algorithm(),
                    rust.hash_algorithm()
                );
                assert!(rust.public_key().verify(rust.hash_algorithm(), message, &b));
            }
            let expires = UnixTime::from_secs(1_767_225_600).unwrap();
            let url = "https://d1.example.net/a.jpg?v=1";
            assert_eq!(
                rust.sign_canned_url(url, expires).unwrap(),
                native.sign_canned_url(url, expires).unwrap(),
                "pair #{i}"
            );
        }
    }

    #[test]
    fn ecdsa_signatures_verify_across_backends() {
        for hash in HASHES {
            let signer = Signer::with_backend(
                "K1".parse().unwrap(),
                common::private_key("p256-sec1.pem"),
                Backend::OpenSsl,
            )
            .with_hash_algorithm(hash);
            let signature = signer.sign_bytes(b"policy").unwrap();
            assert!(signer.public_key().verify(hash, b"policy", &signature));
            let rust = Signer::with_backend(
                "K1".parse().unwrap(),
                common::private_key("p256-sec1.pem"),
                Backend::RustCrypto,
            )
            .with_hash_algorithm(hash);
            assert!(signer.public_key().verify(
                hash,
                b"policy",
                &rust.sign_bytes(b"policy").unwrap()
            ));
            assert!(!signer.public_key().verify(hash, b"policy!", &signature));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn backends_agree_on_any_message(message in any::<Vec<u8>>(), index in any::<prop::sample::Index>()) {
            let (rust, native) = index.get(pairs());
            prop_assert_eq!(rust.sign_bytes(&message).unwrap(), native.sign_bytes(&message).unwrap());
        }
    }
}
