//! KMS signing and key loading from Secrets Manager and SSM against a real moto server started by
//! the test: what KMS signs verifies as CloudFront would check it, and every bad key, secret or
//! parameter gets a clear error.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use cfsign::{
    HashAlgorithm, KeyKind, PrivateKey, Request, Signer, TrustedKeys, UnixTime, UnsignedCookies,
    UnsignedUrl, verify,
};
use cfsign_aws::{Error, KeySource, KmsKey, KmsKeySpec, KmsSigner, SecretVersion, Settings};

const EXPIRES: u64 = 1_767_225_600;
const NOW: u64 = EXPIRES - 60;

/// Creates a KMS key in moto; returns its ARN and ID.
async fn create_key_with_id(
    kms: &aws_sdk_kms::Client,
    spec: KeySpec,
    usage: KeyUsageType,
) -> (String, String) {
    let metadata = kms
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    (metadata.arn.unwrap(), metadata.key_id)
}

/// Creates a KMS key in moto; returns its ARN.
async fn create_key(kms: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    create_key_with_id(kms, spec, usage).await.0
}

fn granted(url: &str, cookie_header: Option<&str>, signer: &KmsSigner) -> bool {
    let trusted: TrustedKeys = [(
        signer.key_pair_id().clone(),
        signer.key().public_key().clone(),
    )]
    .into_iter()
    .collect();
    let now = UnixTime::from_secs(NOW).unwrap();
    let request = match cookie_header {
        Some(cookies) => Request::new(url, now).with_cookie_header(cookies),
        None => Request::new(url, now),
    };
    verify(&request, &trusted).is_granted()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_keys_sign_urls_and_cookies_cloudfront_accepts() {
    let Some(moto) = cfsign_tests::moto::start().unwrap() else {
        return;
    };
    let kms = common::kms(moto.url()).await;
    let aws = common::aws(moto.url(), &Settings::default()).await;
    let expires = UnixTime::from_secs(EXPIRES).unwrap();
    for (spec, expected) in [
        (KeySpec::Rsa2048, KmsKeySpec::Rsa2048),
        (KeySpec::EccNistP256, KmsKeySpec::EccNistP256),
    ] {
        let arn = create_key(&kms, spec, KeyUsageType::SignVerify).await;
        let key = KmsKey::connect(&aws, &arn).await.unwrap();
        assert_eq!(key.spec(), expected);
        assert_eq!(key.arn(), arn);
        key.public_key().check_accepted_by_key_groups().unwrap();
        let signer = KmsSigner::new("K2JCJMDEHXQW5F".parse().unwrap(), key.clone());

        let url = "https://d1.example.net/private/a.jpg";
        let unsigned = UnsignedUrl::canned(url, expires).unwrap();
        let signed = signer.sign_url(&unsigned).await.unwrap();
        assert!(
            signed.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256"),
            "{signed}"
        );
        assert!(granted(&signed, None, &signer), "{expected:?}: {signed}");
        // One byte of the signature changed: refused.
        let tampered = signed.replacen("Signature=", "Signature=A", 1);
        assert!(!granted(&tampered, None, &signer));

        // The wire format is the core's: the signature KMS made, finished by `UnsignedUrl::finish`.
        let signature = key
            .sign(HashAlgorithm::Sha256, unsigned.policy_bytes())
            .await
            .unwrap();
        let finished = unsigned
            .finish(&signature, signer.key_pair_id(), HashAlgorithm::Sha256)
            .unwrap();
        assert!(granted(&finished, None, &signer));
        if expected == KmsKeySpec::Rsa2048 {
            assert_eq!(finished, signed, "PKCS#1 v1.5 is deterministic");
        }

        let policy = cfsign::CustomPolicy::new(
            cfsign::Resource::new("https://d1.example.net/private/*").unwrap(),
            expires,
        );
        let cookies = signer
            .sign_cookies(&UnsignedCookies::custom(&policy))
            .await
            .unwrap();
        assert_eq!(cookies.get("CloudFront-Hash-Algorithm"), Some("SHA256"));
        assert!(granted(
            "https://d1.example.net/private/b/c.m3u8",
            Some(&cookies.cookie_header()),
            &signer
        ));

        // A policy over KMS's 4,096-byte RAW limit is sent as its SHA-256 digest
        // (`MessageType=DIGEST`). moto does not implement DIGEST (it signs the digest as a
        // message), so here the local check must catch the wrong signature; real KMS signs it
        // right, and then the URL must be granted. Either way no bad URL leaves the signer.
        let long = format!("https://d1.example.net/private/{}.jpg", "a".repeat(4200));
        match signer
            .sign_url(&UnsignedUrl::canned(&long, expires).unwrap())
            .await
        {
            Ok(signed) => assert!(granted(&signed, None, &signer), "{expected:?} long policy"),
            Err(Error::SignatureMismatch { .. }) => {}
            Err(other) => panic!("{expected:?} long policy: {other}"),
        }

        // SHA-1 is refused with the reason.
        let err = key
            .sign(HashAlgorithm::Sha1, unsigned.policy_bytes())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Sha1WithKms { .. }), "{err}");
        assert!(err.to_string().contains("KMS has no SHA-1"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsuitable_kms_keys_are_refused_before_signing() {
    let Some(moto) = cfsign_tests::moto::start().unwrap() else {
        return;
    };
    let kms = common::kms(moto.url()).await;
    let aws = common::aws(moto.url(), &Settings::default()).await;
    let (disabled, id) =
        create_key_with_id(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    // moto answers 500 to DisableKey by ARN; by ID it works.
    kms.disable_key().key_id(&id).send().await.unwrap();
    let cases = [
        (
            create_key(&kms, KeySpec::Rsa4096, KeyUsageType::SignVerify).await,
            "RSA_4096",
        ),
        (
            create_key(&kms, KeySpec::EccNistP384, KeyUsageType::SignVerify).await,
            "ECC_NIST_P384",
        ),
        (
            create_key(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await,
            "ENCRYPT_DECRYPT, not SIGN_VERIFY",
        ),
        (disabled, "disabled"),
    ];
    for (arn, needle) in cases {
        let err = KmsKey::connect(&aws, &arn).await.unwrap_err();
        assert!(matches!(err, Error::UnsuitableKmsKey { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(needle) && message.contains(&arn),
            "{needle}: {message}"
        );
    }
    let err = KmsKey::connect(&aws, "alias/does-not-exist")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Service { code, .. } if code == "NotFoundException"),
        "{err}"
    );
    assert!(err.to_string().contains("alias/does-not-exist"), "{err}");
    let err = KmsKey::connect(&aws, " ").await.unwrap_err();
    assert!(matches!(err, Error::InvalidReference(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_load_from_secrets_manager_and_ssm() {
    let Some(moto) = cfsign_tests::moto::start().unwrap() else {
        return;
    };
    let aws = common::aws(moto.url(), &Settings::default()).await;
    let config = Settings::default()
        .loader()
        .endpoint_url(moto.url())
        .region(aws_sdk_kms::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);

    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
    let next = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng()).unwrap();
    let pem = key.to_pkcs8_pem();
    let put_string = |name: &'static str, value: String| {
        let secrets = secrets.clone();
        async move {
            secrets
                .create_secret()
                .name(name)
                .secret_string(value)
                .send()
                .await
                .unwrap()
                .arn
                .unwrap()
        }
    };
    let plain = put_string("plain", pem.to_string()).await;
    let escaped = put_string("escaped", pem.replace('\n', "\\n")).await;
    let json = put_string(
        "json",
        serde_json::json!({"private_key": pem.as_str(), "username": "cdn"}).to_string(),
    )
    .await;
    let public = put_string("public", key.public_key().to_pem()).await;
    let garbage = put_string("garbage", "hunter2".to_owned()).await;
    let binary = secrets
        .create_secret()
        .name("binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
            key.to_pkcs8_der().to_vec(),
        ))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    // A rotation in progress: AWSPENDING holds the next key.
    secrets
        .put_secret_value()
        .secret_id(&plain)
        .secret_string(next.to_pkcs8_pem().to_string())
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    for (name, kind, value) in [
        ("/cdn/key", "SecureString", pem.to_string()),
        ("/cdn/plain-text-key", "String", pem.to_string()),
        ("/cdn/garbage", "SecureString", "not a key".to_owned()),
    ] {
        ssm.put_parameter()
            .name(name)
            .r#type(kind.into())
            .value(value)
            .send()
            .await
            .unwrap();
    }

    let ok = [
        (KeySource::secret(&plain).unwrap(), &key),
        (KeySource::secret("plain").unwrap(), &key),
        (KeySource::secret(&escaped).unwrap(), &key),
        (
            KeySource::secret(&json)
                .unwrap()
                .with_json_field("private_key")
                .unwrap(),
            &key,
        ),
        (KeySource::secret(&binary).unwrap(), &key),
        (
            KeySource::secret(&plain)
                .unwrap()
                .with_version(SecretVersion::Stage("AWSPENDING".to_owned()))
                .unwrap(),
            &next,
        ),
        (KeySource::ssm_parameter("/cdn/key").unwrap(), &key),
    ];
    for (source, expected) in ok {
        let loaded = source
            .load(&aws)
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(loaded.public_key(), expected.public_key(), "{source}");
        // It signs as the key itself does.
        let signer = Signer::new("K1".parse().unwrap(), loaded);
        let url = signer
            .sign_canned_url(
                "https://d1.example.net/a",
                UnixTime::from_secs(EXPIRES).unwrap(),
            )
            .unwrap();
        assert!(url.contains("Signature="));
    }

    let bad: [(KeySource, &[&str]); 7] = [
        (
            KeySource::secret(&public).unwrap(),
            &["public key", "secret `"],
        ),
        (KeySource::secret(&garbage).unwrap(), &["secret `"]),
        (
            KeySource::secret(&json).unwrap(),
            &["JSON object", "`private_key`, `username`", "json_field"],
        ),
        (
            KeySource::secret(&json)
                .unwrap()
                .with_json_field("pem")
                .unwrap(),
            &["no field `pem`", "`private_key`, `username`"],
        ),
        (
            KeySource::secret("missing").unwrap(),
            &["ResourceNotFoundException", "missing", "region"],
        ),
        (
            KeySource::ssm_parameter("/cdn/plain-text-key").unwrap(),
            &["not a SecureString", "--type SecureString"],
        ),
        (
            KeySource::ssm_parameter("/cdn/garbage").unwrap(),
            &["SSM parameter `/cdn/garbage`"],
        ),
    ];
    for (source, needles) in bad {
        let err = source.load(&aws).await.unwrap_err().to_string();
        for needle in needles {
            assert!(err.contains(needle), "{source}: no `{needle}` in {err}");
        }
        assert!(
            !err.contains("PRIVATE KEY-----"),
            "{source}: key text in {err}"
        );
    }
    assert!(
        KeySource::ssm_parameter("/cdn/key")
            .unwrap()
            .with_json_field("x")
            .is_err()
    );
}
