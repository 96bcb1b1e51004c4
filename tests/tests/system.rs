//! Black-box tests across the binaries: provisioning a mock distribution, signing with the CLI and
//! the server, fetching through the mock edge, and `cfsign verify` agreeing with the edge.

use std::process::Command;

use cfsign_tests::{Provisioned, Service, command, error_code, free_port, get, request, run_ok};

const HELLO: &[u8] = b"hello from the private path\n";

fn files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("private/hello.txt", HELLO),
        ("public/index.html", b"<p>public</p>\n"),
    ]
}

fn cli_sign(p: &Provisioned, url: &str, extra: &[&str]) -> String {
    let out = run_ok(
        command("cfsign")
            .args(["sign", url, "--key-pair-id", &p.setup_field("key_pair_id")])
            .args(["--private-key", &p.setup_field("private_key_path")])
            .args(["--expires-in", "10m"])
            .args(extra),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn every_binary_is_newer_than_the_sources_it_was_built_from() {
    for name in cfsign_tests::BINARIES {
        let stale = cfsign_tests::stale_sources(name);
        assert!(
            stale.is_empty(),
            "`{name}` at {} is older than {stale:?}: the tests would run old code",
            cfsign_tests::bin(name).display()
        );
    }
}

#[test]
fn provisioned_private_path_needs_a_signature_and_the_public_path_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let p = Provisioned::start(dir.path(), &files());

    let public = get(&p.edge("/public/index.html"), None);
    assert_eq!(public.status, 200, "{}", public.text());

    let unsigned = get(&p.edge("/private/hello.txt"), None);
    assert_eq!(unsigned.status, 403, "{}", unsigned.text());
    assert_eq!(error_code(&unsigned).as_deref(), Some("MissingKey"));
    assert!(
        unsigned
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/xml")
    );
}

#[test]
fn cli_signed_urls_are_served_and_changed_ones_refused_as_verify_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let p = Provisioned::start(dir.path(), &files());
    let hello = p.edge("/private/hello.txt");

    for extra in [&[][..], &["--hash", "sha256"][..]] {
        let signed = cli_sign(&p, &hello, extra);
        let resp = get(&signed, None);
        assert_eq!(resp.status, 200, "{signed}: {}", resp.text());
        assert_eq!(resp.body, HELLO);
    }

    let pattern = p.edge("/private/*");
    let signed = cli_sign(&p, &hello, &["--resource", &pattern]);
    assert_eq!(get(&signed, None).status, 200, "custom policy {signed}");

    // A parameter added after signing: the edge and `cfsign verify` both say AccessDenied.
    let signed = cli_sign(&p, &hello, &[]);
    let tampered = signed.replacen('?', "?extra=1&", 1);
    let resp = get(&tampered, None);
    assert_eq!(resp.status, 403);
    assert_eq!(error_code(&resp).as_deref(), Some("AccessDenied"));

    let public_key = dir.path().join("public.pem");
    run_ok(
        command("cfsign")
            .args([
                "pubkey",
                "--private-key",
                &p.setup_field("private_key_path"),
            ])
            .stdout(std::fs::File::create(&public_key).unwrap()),
    );
    let trusted = format!("{}={}", p.setup_field("key_pair_id"), public_key.display());
    let verify = |url: &str| {
        Command::new(cfsign_tests::bin("cfsign"))
            .args(["verify", url, "--trusted-key", &trusted])
            .output()
            .unwrap()
    };
    let ok = verify(&signed);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let denied = verify(&tampered);
    assert_eq!(denied.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&denied.stdout),
        String::from_utf8_lossy(&denied.stderr)
    );
    assert!(text.contains("AccessDenied"), "{text}");
}

#[test]
fn server_signed_urls_are_served_by_the_edge() {
    let dir = tempfile::tempdir().unwrap();
    let p = Provisioned::start(dir.path(), &files());
    let token = "cfsign-tests-token-0123456789abcdef";
    let token_hash = {
        let out = run_ok(
            Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s '{token}' | openssl dgst -sha256 -r")),
        );
        String::from_utf8(out.stdout).unwrap()[..64].to_owned()
    };
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[[keys]]\nid = \"{}\"\nfile = \"{}\"\n\n[[clients]]\nname = \"tests\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{}\"]\nmax_ttl = \"1h\"\n",
            p.setup_field("key_pair_id"),
            p.setup_field("private_key_path"),
            p.edge("/private/")
        ),
    )
    .unwrap();
    let mut cmd = command("cfsign-server");
    cmd.arg("--config")
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())]);
    let server = Service::start(cmd, &dir.path().join("server.log"));

    let hello = p.edge("/private/hello.txt");
    let body = serde_json::json!({ "url": hello, "ttl": "5m" }).to_string();
    let resp = request(
        "POST",
        &format!("{}/v1/sign", server.url()),
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {token}")),
        ],
        body.as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log());
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    let signed = find_url(&json).unwrap_or_else(|| panic!("no signed URL in {json}"));
    let fetched = get(&signed, None);
    assert_eq!(fetched.status, 200, "{signed}: {}", fetched.text());
    assert_eq!(fetched.body, HELLO);

    // Outside the client's scope: refused, and no signature in the answer.
    let body = serde_json::json!({ "url": p.edge("/public/index.html") }).to_string();
    let resp = request(
        "POST",
        &format!("{}/v1/sign", server.url()),
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {token}")),
        ],
        body.as_bytes(),
    );
    assert_eq!(resp.status, 403, "{}", resp.text());
    assert!(!resp.text().contains("Signature="));
}

fn find_url(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if s.contains("Signature=") => Some(s.clone()),
        serde_json::Value::Array(a) => a.iter().find_map(find_url),
        serde_json::Value::Object(m) => m.values().find_map(find_url),
        _ => None,
    }
}
