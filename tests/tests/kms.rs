//! Keys held in AWS KMS across the binaries: moto as KMS, cfsign-mock as CloudFront.
//! `cfsign-provision setup --kms-key-id` uploads the KMS key's public key and attaches it,
//! `cfsign-server` (with its `aws` feature, on in the workspace test build) signs through KMS,
//! and the mock's edge serves the signed URL and cookies (SHA-256); `rotate --kms-key-id` moves
//! to a P-256 key the same way. A KMS key CloudFront cannot use is refused before CloudFront is
//! touched.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::path::Path;
use std::process::Command;

use cfsign_tests::binaries;
use cfsign_tests::http;
use cfsign_tests::moto;
use cfsign_tests::proc::{Launch, Service, capture};
use cfsign_tests::stack::{
    PRIVATE_PATTERN, create_distribution, field, provision_command, run_json,
};
use serde_json::{Value, json};

const HELLO: &[u8] = b"hello from the private path\n";
const TOKEN: &str = "cfsign-tests-token-0123456789abcdef";

/// Creates a KMS signing key of `spec` in moto; returns its ARN.
fn kms_key(endpoint: &str, spec: &str) -> String {
    moto::boto3(
        endpoint,
        &format!(
            "print(client('kms').create_key(KeySpec='{spec}', KeyUsage='SIGN_VERIFY')['KeyMetadata']['Arn'])"
        ),
    )
    .unwrap()
    .trim()
    .to_owned()
}

/// `cfsign-provision --json …` against the mock, reaching KMS in moto.
fn provision(mock: &str, kms: &str) -> Command {
    let mut cmd = provision_command(binaries(), mock).unwrap();
    cmd.arg("--json")
        .env("AWS_ENDPOINT_URL_KMS", kms)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd
}

fn start_mock(dir: &Path) -> Service {
    let origin = dir.join("origin");
    std::fs::create_dir_all(origin.join("private")).unwrap();
    std::fs::write(origin.join("private/hello.txt"), HELLO).unwrap();
    let mut cmd = binaries().command("cfsign-mock").unwrap();
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--origin"])
        .arg(&origin);
    Launch::new("cfsign-mock", cmd)
        .log(&dir.join("mock.log"))
        .start()
        .unwrap()
}

/// `cfsign-server` signing with KMS key `arn` as `key_id`, allowed to sign under `allow`.
fn start_server(dir: &Path, kms: &str, key_id: &str, arn: &str, allow: &str) -> Service {
    let token_hash = hex_sha256(TOKEN);
    let config = format!(
        "[cache]\nexpiry_granularity_secs = 60\n\n[[keys]]\nid = \"{key_id}\"\nkms_key_id = \"{arn}\"\n\n\
         [[clients]]\nname = \"tests\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{allow}\"]\n\
         max_ttl = \"1h\"\ncookies = true\ncustom_policy = true\n"
    );
    let path = dir.join(format!("server-{key_id}.toml"));
    std::fs::write(&path, config).unwrap();
    let mut cmd = binaries().command("cfsign-server").unwrap();
    cmd.arg("--config")
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .envs(moto::env(kms));
    Launch::new("cfsign-server", cmd)
        .log(&dir.join(format!("server-{key_id}.log")))
        .start()
        .unwrap()
}

fn hex_sha256(text: &str) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("printf %s '{text}' | openssl dgst -sha256 -r"));
    let out = capture(&mut cmd, None).unwrap();
    assert!(out.ok(), "{}", out.summary());
    out.stdout[..64].to_owned()
}

fn post(server: &Service, path: &str, body: &Value) -> Value {
    let resp = http::post_json(&format!("{}{path}", server.url()), body)
        .bearer(TOKEN)
        .send()
        .unwrap();
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log());
    resp.json().unwrap()
}

/// The server signs a URL and cookies through KMS, and the edge serves both; tampering is refused.
fn assert_edge_serves(server: &Service, edge: &str, key_id: &str) {
    let hello = format!("{edge}/private/hello.txt");
    let signed = post(server, "/v1/sign", &json!({"url": hello, "ttl": "5m"}));
    assert_eq!(signed["hash_algorithm"], "sha256", "{signed}");
    assert_eq!(signed["key_pair_id"], key_id);
    let url = signed["signed_url"].as_str().unwrap();
    assert!(url.ends_with("&Hash-Algorithm=SHA256"), "{url}");
    let fetched = http::get(url).send().unwrap();
    assert_eq!(fetched.status, 200, "{url}: {}", fetched.text());
    assert_eq!(fetched.body, HELLO);
    let tampered = url.replacen("Signature=", "Signature=B", 1);
    assert_eq!(http::get(&tampered).send().unwrap().status, 403);

    let cookies = post(
        server,
        "/v1/cookies",
        &json!({"resource": format!("{edge}/private/*"), "ttl": "5m"}),
    );
    let header: Vec<String> = cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                c["name"].as_str().unwrap(),
                c["value"].as_str().unwrap()
            )
        })
        .collect();
    let fetched = http::get(&hello).cookie(&header.join("; ")).send().unwrap();
    assert_eq!(fetched.status, 200, "{cookies}: {}", fetched.text());
    assert_eq!(fetched.body, HELLO);
}

#[test]
fn kms_keys_are_provisioned_and_sign_urls_and_cookies_the_edge_serves() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let kms = moto_server.url();
    let dir = tempfile::tempdir().unwrap();
    let mock = start_mock(dir.path());
    let (distribution_id, domain) = create_distribution(mock.url()).unwrap();
    let edge = format!("http://{domain}.localhost:{}", mock.port());
    let rsa = kms_key(kms, "RSA_2048");

    let setup = run_json(
        provision(mock.url(), kms)
            .args(["setup", "--distribution-id", &distribution_id])
            .args(["--path-pattern", PRIVATE_PATTERN, "--kms-key-id", &rsa]),
    )
    .unwrap();
    let rsa_id = field(&setup, "key_pair_id", "setup").unwrap().to_owned();
    assert_eq!(setup["kms_key_arn"], rsa.as_str(), "{setup}");
    assert!(setup.get("private_key_path").is_none(), "{setup}");
    assert!(setup.to_string().contains("kms_key_id"), "{setup}");
    // Unsigned: refused.
    assert_eq!(
        http::get(&format!("{edge}/private/hello.txt"))
            .send()
            .unwrap()
            .status,
        403
    );
    // doctor with the KMS key: its public key is the trusted one, and a URL signed with kms:Sign
    // is served (the probe runs against the mock's edge).
    let probe = format!("{edge}/private/hello.txt");
    let doctor = run_json(
        provision(mock.url(), kms)
            .args(["doctor", "--distribution-id", &distribution_id])
            .args(["--kms-key-id", &rsa, "--probe", &probe]),
    )
    .unwrap();
    assert_eq!(doctor["health"], "healthy", "{doctor:#}");
    assert_eq!(doctor["key"]["uploaded_as"], json!([rsa_id]), "{doctor:#}");
    assert_eq!(doctor["key"]["algorithm"], "RSA-2048", "{doctor:#}");
    let statuses: Vec<&Value> = doctor["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["status"])
        .collect();
    assert_eq!(statuses, vec![&json!(403), &json!(200)], "{doctor:#}");
    // Setup again changes nothing.
    let again = run_json(
        provision(mock.url(), kms)
            .args(["setup", "--distribution-id", &distribution_id])
            .args(["--path-pattern", PRIVATE_PATTERN, "--kms-key-id", &rsa]),
    )
    .unwrap();
    assert_eq!(again["changed"], false, "{again}");
    {
        let server = start_server(dir.path(), kms, &rsa_id, &rsa, &format!("{edge}/private/"));
        assert_edge_serves(&server, &edge, &rsa_id);
    }

    // Rotate to a P-256 KMS key: added beside the RSA key; the server signs with it.
    let p256 = kms_key(kms, "ECC_NIST_P256");
    let rotated = run_json(provision(mock.url(), kms).args([
        "rotate",
        "--key-group",
        &format!("cfsign-{distribution_id}"),
        "--key-name",
        "p256-key",
        "--kms-key-id",
        &p256,
    ]))
    .unwrap();
    let p256_id = field(&rotated, "key_pair_id", "rotate").unwrap().to_owned();
    assert_ne!(p256_id, rsa_id);
    let server = start_server(
        dir.path(),
        kms,
        &p256_id,
        &p256,
        &format!("{edge}/private/"),
    );
    assert_edge_serves(&server, &edge, &p256_id);

    // upload-key of the same KMS key under its name: reused, nothing changed.
    let upload = run_json(provision(mock.url(), kms).args([
        "upload-key",
        "--name",
        "p256-key",
        "--kms-key-id",
        &p256,
    ]))
    .unwrap();
    assert_eq!(upload["changed"], false, "{upload}");
}

#[test]
fn kms_keys_cloudfront_cannot_use_are_refused_before_cloudfront_is_touched() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let kms = moto_server.url();
    let dir = tempfile::tempdir().unwrap();
    let mock = start_mock(dir.path());
    let (distribution_id, _) = create_distribution(mock.url()).unwrap();
    let encrypt = moto::boto3(
        kms,
        "print(client('kms').create_key(KeySpec='RSA_2048', KeyUsage='ENCRYPT_DECRYPT')['KeyMetadata']['Arn'])",
    )
    .unwrap();
    let cases = [
        (kms_key(kms, "ECC_NIST_P384"), "ECC_NIST_P384"),
        (kms_key(kms, "RSA_4096"), "RSA_4096"),
        (encrypt.trim().to_owned(), "not SIGN_VERIFY"),
        ("alias/missing".to_owned(), "NotFoundException"),
    ];
    for (arn, needle) in cases {
        for args in [
            vec![
                "setup",
                "--distribution-id",
                &distribution_id,
                "--kms-key-id",
                &arn,
            ],
            vec!["upload-key", "--name", "k", "--kms-key-id", &arn],
        ] {
            let mut cmd = provision(mock.url(), kms);
            let out = capture(cmd.args(&args), None).unwrap();
            assert_eq!(out.code, Some(1), "{args:?}: {}", out.summary());
            assert!(out.stdout.contains(needle), "{args:?}: {}", out.summary());
        }
    }
    let keys = http::get(&format!("{}/2020-05-31/public-key", mock.url()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .unwrap();
    assert_eq!(keys.status, 200, "{}", keys.text());
    assert!(
        !keys.text().contains("<PublicKeySummary>"),
        "{}",
        keys.text()
    );
}

#[test]
fn setup_store_secret_keeps_the_private_key_off_disk_and_the_server_signs_with_it() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let aws = moto_server.url();
    let dir = tempfile::tempdir().unwrap();
    let mock = start_mock(dir.path());
    let (distribution_id, domain) = create_distribution(mock.url()).unwrap();
    let edge = format!("http://{domain}.localhost:{}", mock.port());
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let setup = || {
        let mut cmd = provision(mock.url(), aws);
        cmd.current_dir(&work)
            .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws)
            .args(["setup", "--distribution-id", &distribution_id])
            .args(["--path-pattern", PRIVATE_PATTERN])
            .args(["--key-type", "p256", "--store-secret", "cdn/signing-key"]);
        run_json(&mut cmd).unwrap()
    };
    let first = setup();
    let key_id = field(&first, "key_pair_id", "setup").unwrap().to_owned();
    assert_eq!(first["private_key_secret"], "cdn/signing-key", "{first}");
    assert!(first.get("private_key_path").is_none(), "{first}");
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "setup wrote a file"
    );
    // Again: the key in the secret is reused, nothing changes.
    let again = setup();
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["key_pair_id"], key_id.as_str());

    // The server reads the key from the secret and the edge serves what it signs, either hash.
    let token_hash = hex_sha256(TOKEN);
    let config = format!(
        "[[keys]]\nid = \"{key_id}\"\nsecret = \"cdn/signing-key\"\n\n[[clients]]\nname = \"tests\"\n\
         token_sha256 = \"{token_hash}\"\nallow = [\"{edge}/private/\"]\nmax_ttl = \"1h\"\n"
    );
    let path = dir.path().join("server-secret.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = binaries().command("cfsign-server").unwrap();
    cmd.arg("--config")
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .envs(moto::env(aws));
    let server = Launch::new("cfsign-server", cmd)
        .log(&dir.path().join("server-secret.log"))
        .start()
        .unwrap();
    for hash in ["sha1", "sha256"] {
        let hello = format!("{edge}/private/hello.txt");
        let signed = post(
            &server,
            "/v1/sign",
            &json!({"url": hello, "ttl": "5m", "hash_algorithm": hash}),
        );
        let url = signed["signed_url"].as_str().unwrap();
        let fetched = http::get(url).send().unwrap();
        assert_eq!(fetched.status, 200, "{hash}: {url}: {}", fetched.text());
        assert_eq!(fetched.body, HELLO);
    }

    // A secret that holds no private key is refused before CloudFront is touched.
    moto::boto3(
        aws,
        "client('secretsmanager').create_secret(Name='not-a-key', SecretString='hunter2')",
    )
    .unwrap();
    let mut cmd = provision(mock.url(), aws);
    cmd.env("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws).args([
        "rotate",
        "--key-group",
        &format!("cfsign-{distribution_id}"),
        "--store-secret",
        "not-a-key",
    ]);
    let out = capture(&mut cmd, None).unwrap();
    assert_eq!(out.code, Some(1), "{}", out.summary());
    assert!(
        out.stdout.contains("secret `not-a-key`"),
        "{}",
        out.summary()
    );
    assert!(!out.stdout.contains("hunter2"), "{}", out.summary());
}
