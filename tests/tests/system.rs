//! Black-box tests across the binaries: provisioning a mock distribution, signing with the CLI and
//! the server, fetching through the mock edge, and `cfsign verify` agreeing with the edge.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::path::Path;
use std::process::Command;

use cfsign_tests::http::{self, Response};
use cfsign_tests::proc::Service;
use cfsign_tests::stack::{Stack, server_launch};
use cfsign_tests::{binaries, command, run_ok};

const HELLO: &[u8] = b"hello from the private path\n";

fn files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("private/hello.txt", HELLO),
        ("public/index.html", b"<p>public</p>\n"),
    ]
}

/// The mock serving [`files`], with `/private/*` restricted by `cfsign-provision setup`.
fn provisioned(dir: &Path) -> Stack {
    Stack::builder(binaries().clone(), dir)
        .files(files())
        .start()
        .unwrap()
}

/// `cfsign-server` with `config` (TOML, written to `dir/server.toml`) on 127.0.0.1:0.
fn start_server(dir: &Path, config: &str) -> Service {
    let path = dir.join("server.toml");
    std::fs::write(&path, config).unwrap();
    server_launch(binaries(), &path)
        .unwrap()
        .log(&dir.join("server.log"))
        .start()
        .unwrap()
}

/// `GET url`.
fn get(url: &str) -> Response {
    http::get(url).send().unwrap()
}

fn cli_sign(p: &Stack, url: &str, extra: &[&str]) -> String {
    let out = run_ok(
        command("cfsign")
            .args(["sign", url, "--key-pair-id"])
            .arg(p.setup_field("key_pair_id").unwrap())
            .arg("--private-key")
            .arg(p.setup_field("private_key_path").unwrap())
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
    let p = provisioned(dir.path());

    let public = get(&p.edge_url("/public/index.html"));
    assert_eq!(public.status, 200, "{}", public.text());

    let unsigned = get(&p.edge_url("/private/hello.txt"));
    assert_eq!(unsigned.status, 403, "{}", unsigned.text());
    assert_eq!(unsigned.error_code().as_deref(), Some("MissingKey"));
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
    let p = provisioned(dir.path());
    let hello = p.edge_url("/private/hello.txt");

    for extra in [&[][..], &["--hash", "sha256"][..]] {
        let signed = cli_sign(&p, &hello, extra);
        let resp = get(&signed);
        assert_eq!(resp.status, 200, "{signed}: {}", resp.text());
        assert_eq!(resp.body, HELLO);
    }

    let pattern = p.edge_url("/private/*");
    let signed = cli_sign(&p, &hello, &["--resource", &pattern]);
    assert_eq!(get(&signed).status, 200, "custom policy {signed}");

    // A parameter added after signing: the edge and `cfsign verify` both say AccessDenied.
    let signed = cli_sign(&p, &hello, &[]);
    let tampered = signed.replacen('?', "?extra=1&", 1);
    let resp = get(&tampered);
    assert_eq!(resp.status, 403);
    assert_eq!(resp.error_code().as_deref(), Some("AccessDenied"));

    let public_key = dir.path().join("public.pem");
    run_ok(
        command("cfsign")
            .args(["pubkey", "--private-key"])
            .arg(p.setup_field("private_key_path").unwrap())
            .stdout(std::fs::File::create(&public_key).unwrap()),
    );
    let trusted = format!(
        "{}={}",
        p.setup_field("key_pair_id").unwrap(),
        public_key.display()
    );
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
    let p = provisioned(dir.path());
    let token = "cfsign-tests-token-0123456789abcdef";
    let token_hash = sha256_hex(token);
    let server = start_server(
        dir.path(),
        &format!(
            "[[keys]]\nid = \"{}\"\nfile = \"{}\"\n\n[[clients]]\nname = \"tests\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{}\"]\nmax_ttl = \"1h\"\n",
            p.setup_field("key_pair_id").unwrap(),
            p.setup_field("private_key_path").unwrap(),
            p.edge_url("/private/")
        ),
    );

    let hello = p.edge_url("/private/hello.txt");
    let sign_url = format!("{}/v1/sign", server.url());
    let resp = http::post_json(&sign_url, &serde_json::json!({ "url": hello, "ttl": "5m" }))
        .bearer(token)
        .send()
        .unwrap();
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log());
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    let signed = find_url(&json).unwrap_or_else(|| panic!("no signed URL in {json}"));
    let fetched = get(&signed);
    assert_eq!(fetched.status, 200, "{signed}: {}", fetched.text());
    assert_eq!(fetched.body, HELLO);

    // Outside the client's scope: refused, and no signature in the answer.
    let body = serde_json::json!({ "url": p.edge_url("/public/index.html") });
    let resp = http::post_json(&sign_url, &body)
        .bearer(token)
        .send()
        .unwrap();
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

/// The `Policy` (or canned `Expires`) a signed URL carries, decoded.
fn policy_of(signed: &str) -> String {
    let parts = cfsign::inspect_url(signed);
    parts
        .policy_json()
        .unwrap_or_else(|| panic!("no policy in {signed}"))
        .to_owned()
}

#[test]
fn cli_server_and_library_sign_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    run_ok(command("cfsign").args(["keygen", "--out"]).arg(&key));
    let id = "K2JCJMDEHXQW5F";
    let url = "https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large&license=yes";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = now + 1800;
    let token = "cfsign-tests-token-policies-0123456789";
    let server = start_server(
        dir.path(),
        &format!(
            "[[keys]]\nid = \"{id}\"\nfile = \"{}\"\n\n[[clients]]\nname = \"tests\"\ntoken_sha256 = \"{}\"\n\
             allow = [\"https://d111111abcdef8.cloudfront.net/private/\"]\nmax_ttl = \"1h\"\ncookies = true\ncustom_policy = true\n",
            key.display(),
            sha256_hex(token),
        ),
    );
    let post = |path: &str, body: serde_json::Value| -> serde_json::Value {
        let resp = http::post_json(&format!("{}{path}", server.url()), &body)
            .bearer(token)
            .send()
            .unwrap();
        assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log());
        serde_json::from_slice(&resp.body).unwrap()
    };
    let cli = |args: &[&str]| -> String {
        let out = run_ok(
            command("cfsign")
                .args(args)
                .args(["--key-pair-id", id, "--private-key"])
                .arg(&key)
                .args(["--expires-at", &expires.to_string()]),
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let library_custom = cfsign::CustomPolicy::new(
        cfsign::Resource::exact(url).unwrap(),
        cfsign::UnixTime::from_secs(expires).unwrap(),
    )
    .with_source_ip("192.0.2.0/24".parse().unwrap())
    .to_json();
    let library_canned =
        cfsign::CannedPolicy::new(url, cfsign::UnixTime::from_secs(expires).unwrap()).to_json();

    // Custom (an IP range) for a URL with a query string: the SDK form, `?` unescaped, everywhere.
    let cli_url = cli(&["sign", url, "--ip", "192.0.2.0/24"]);
    let server_url = find_url(&post(
        "/v1/sign",
        serde_json::json!({"url": url, "expires": expires, "source_ip": "192.0.2.0/24"}),
    ))
    .unwrap();
    assert_eq!(policy_of(&cli_url), library_custom);
    assert_eq!(policy_of(&server_url), library_custom);
    assert!(library_custom.contains(
        r#""Resource":"https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large&license=yes""#
    ));
    // RSA signatures are deterministic: the whole URL is the same.
    assert_eq!(cli_url, server_url);

    // Canned.
    let cli_url = cli(&["sign", url]);
    let server_url = find_url(&post(
        "/v1/sign",
        serde_json::json!({"url": url, "expires": expires}),
    ))
    .unwrap();
    assert_eq!(policy_of(&cli_url), library_canned);
    assert_eq!(cli_url, server_url);

    // Cookies: an exact URL with a query string is canned in both (as with the aws CLI and JS);
    // with an IP range both write the same custom policy.
    for (extra, library, kind) in [
        (&[][..], &library_canned, "canned"),
        (&["--ip", "192.0.2.0/24"][..], &library_custom, "custom"),
    ] {
        let mut args = vec!["cookies", url, "--format", "json"];
        args.extend_from_slice(extra);
        let cli_json: serde_json::Value = serde_json::from_str(&cli(&args)).unwrap();
        let mut body = serde_json::json!({"resource": url, "expires": expires});
        if !extra.is_empty() {
            body["source_ip"] = "192.0.2.0/24".into();
        }
        let server_json = post("/v1/cookies", body);
        assert_eq!(cli_json["policy"], kind, "{cli_json}");
        assert_eq!(server_json["policy"], kind, "{server_json}");
        let cli_header = cli_json["cookie_header"].as_str().unwrap();
        let server_header = server_json["cookie_header"].as_str().unwrap();
        assert_eq!(cli_header, server_header);
        let parts = cfsign::inspect_cookies(cli_header);
        if kind == "custom" {
            assert_eq!(parts.policy_json(), Some(library.as_str()), "{cli_header}");
        } else {
            // Canned cookies carry no resource; CloudFront rebuilds the policy from the URL.
            assert!(
                cli_header.starts_with(&format!("CloudFront-Expires={expires};")),
                "{cli_header}"
            );
            assert!(library.contains(&expires.to_string()));
        }
    }
}

/// A token's SHA-256, as the server config takes it.
fn sha256_hex(token: &str) -> String {
    let out = run_ok(
        Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s '{token}' | openssl dgst -sha256 -r")),
    );
    String::from_utf8_lossy(&out.stdout)[..64].to_owned()
}
