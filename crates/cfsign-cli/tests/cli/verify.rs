//! `cfsign verify`, `cfsign inspect` and `cfsign cookies`.

use crate::util::{Dir, EC_PUB, KEY_ID, RSA_KEY, RSA_PUB, now};

const URL: &str = "https://d111111abcdef8.cloudfront.net/videos/a.mp4";

fn trusted() -> String {
    format!("{KEY_ID}={RSA_PUB}")
}

#[test]
fn verify_exit_codes_and_explanations() {
    let dir = Dir::new();
    let exp = now() + 3600;
    let signed = dir.sign(URL, &["--expires-at", &exp.to_string()]);
    let t = trusted();

    let served = dir.run(&["verify", &signed, "--trusted-key", &t]);
    assert!(
        served
            .ok()
            .starts_with("served: signed URL signed with key K2JCJMDEHXQW5F, canned policy"),
        "{served:#?}"
    );

    // After the expiry: 403 AccessDenied, exit 1, with how long ago.
    let later = (exp + 192).to_string();
    let expired = dir.run(&["verify", &signed, "--trusted-key", &t, "--at", &later]);
    assert_eq!(expired.code, 1);
    assert!(
        expired.stdout.contains("denied: 403 AccessDenied"),
        "{expired:#?}"
    );
    assert!(
        expired.stdout.contains("expired 3m12s before the request"),
        "{expired:#?}"
    );

    // An untrusted key ID: InvalidKey.
    let other = format!("KOTHERKEY1234={RSA_PUB}");
    let unknown = dir.run(&["verify", &signed, "--trusted-key", &other]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stdout.contains("InvalidKey"), "{unknown:#?}");

    // A changed URL: bad signature.
    let tampered = signed.replace("/a.mp4", "/b.mp4");
    let bad = dir.run(&["verify", &tampered, "--trusted-key", &t, "--json"]);
    assert_eq!(bad.code, 1);
    let json: serde_json::Value = serde_json::from_str(&bad.stdout).unwrap();
    assert_eq!(json["served"], false);
    assert_eq!(json["code"], "AccessDenied");
    assert_eq!(json["reason"], "bad_signature");
    assert!(
        json["body"]
            .as_str()
            .unwrap()
            .contains("<Code>AccessDenied</Code>")
    );

    // The wrong public key for the ID: bad signature too.
    let wrong = format!("{KEY_ID}={EC_PUB}");
    assert_eq!(
        dir.run(&["verify", &signed, "--trusted-key", &wrong]).code,
        1
    );

    // No signature at all: MissingKey.
    let missing = dir.run(&["verify", URL, "--trusted-key", &t]);
    assert_eq!(missing.code, 1);
    assert!(missing.stdout.contains("MissingKey"), "{missing:#?}");

    // Usage and input errors: exit 2.
    dir.run(&["verify", &signed, "--trusted-key", "K2JCJMDEHXQW5F"])
        .fails(2, &["KEY_PAIR_ID=PUBLIC_KEY_PEM_PATH"]);
    dir.run(&[
        "verify",
        &signed,
        "--trusted-key",
        "K2JCJMDEHXQW5F=nope.pem",
    ])
    .fails(2, &["nope.pem"]);
    dir.run(&["verify", &signed]).fails(2, &["--trusted-key"]);
    dir.run(&["verify", &signed, "--trusted-key", &t, "--at", "later"])
        .fails(2, &["--at"]);
    dir.run(&["verify", &signed, "--trusted-key", &t, "--client-ip", "x"])
        .fails(2, &["--client-ip"]);

    // The signing key from the environment is trusted when no --trusted-key is given.
    let pem = dir.read(RSA_KEY);
    let env = [
        ("AWS_CLOUDFRONT_KEY", pem.as_str()),
        ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
    ];
    dir.run_env(&["verify", &signed], &env).ok();
}

#[test]
fn verify_source_ip_and_start_time() {
    let dir = Dir::new();
    let start = now() + 600;
    let signed = dir.sign(
        URL,
        &[
            "--expires-in",
            "2h",
            "--starts-at",
            &start.to_string(),
            "--ip",
            "203.0.113.0/24",
        ],
    );
    let t = trusted();
    let at = (start + 60).to_string();
    dir.run(&[
        "verify",
        &signed,
        "--trusted-key",
        &t,
        "--client-ip",
        "203.0.113.9",
        "--at",
        &at,
    ])
    .ok();
    let out = dir.run(&[
        "verify",
        &signed,
        "--trusted-key",
        &t,
        "--client-ip",
        "198.51.100.1",
        "--at",
        &at,
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("198.51.100.1 is not in 203.0.113.0/24"),
        "{out:#?}"
    );
    let early = dir.run(&[
        "verify",
        &signed,
        "--trusted-key",
        &t,
        "--client-ip",
        "203.0.113.9",
    ]);
    assert_eq!(early.code, 1);
    assert!(early.stdout.contains("not valid yet"), "{early:#?}");
}

#[test]
fn inspect_shows_parts_times_and_policy() {
    let dir = Dir::new();
    let signed = dir.sign(
        URL,
        &[
            "--expires-in",
            "2h",
            "--ip",
            "192.0.2.0/24",
            "--hash",
            "sha256",
        ],
    );
    let out = dir.run(&["inspect", &signed]);
    let text = out.ok();
    for needle in [
        "source:        signed URL",
        &format!("url:           {URL}"),
        "key pair id:   K2JCJMDEHXQW5F",
        "hash:          SHA256",
        "policy:        custom",
        "source ip:     192.0.2.0/24",
        "signature:     256 bytes",
        "policy json:\n{\n  \"Statement\": [\n",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
    assert!(
        text.contains("(expires in 1h59m)") || text.contains("(expires in 2h)"),
        "{text}"
    );

    let json = dir.run(&["inspect", &signed, "--json"]);
    let json: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(json["key_pair_id"], KEY_ID);
    assert_eq!(json["source_ip"], "192.0.2.0/24");
    assert_eq!(json["problems"], serde_json::json!([]));

    let expired = dir.sign(URL, &["--expires-at", "2020-01-01", "--allow-expired"]);
    let out = dir.run(&["inspect", &expired]);
    assert!(
        out.ok().contains("2020-01-01T00:00:00Z (expired "),
        "{out:#?}"
    );
    assert!(out.stdout.contains(" ago)"));

    // Not signed at all: exit 1 with the problems listed.
    let out = dir.run(&["inspect", URL]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("problems:"), "{out:#?}");
}

#[test]
fn cookies_formats_attributes_and_round_trip() {
    let dir = Dir::new();
    let resource = "https://media.example.com/videos/*";
    let base = [
        "cookies",
        resource,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-in",
        "1h",
    ];
    let set = dir.run(&base);
    let lines: Vec<&str> = set.ok().lines().collect();
    assert_eq!(lines.len(), 3, "{set:#?}");
    assert!(lines[0].starts_with("Set-Cookie: CloudFront-Policy="));
    assert!(lines[1].starts_with("Set-Cookie: CloudFront-Signature="));
    assert!(lines[2].starts_with(
        "Set-Cookie: CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; Path=/; Secure; HttpOnly"
    ));

    let mut args = base.to_vec();
    args.extend([
        "--domain",
        "media.example.com",
        "--path",
        "/videos/",
        "--insecure-no-secure",
        "--no-http-only",
    ]);
    let custom = dir.run(&args);
    assert!(
        custom
            .ok()
            .lines()
            .all(|l| l.ends_with("; Domain=media.example.com; Path=/videos/")),
        "{custom:#?}"
    );

    let mut args = base.to_vec();
    args.extend(["--format", "header"]);
    let header = dir.run(&args);
    let header = header.ok().trim_end();
    assert!(header.starts_with("Cookie: CloudFront-Policy="), "{header}");
    let t = trusted();
    dir.run(&[
        "verify",
        "https://media.example.com/videos/a.mp4",
        "--cookie",
        header,
        "--trusted-key",
        &t,
    ])
    .ok();
    let out = dir.run(&[
        "verify",
        "https://media.example.com/audio/a.mp3",
        "--cookie",
        header,
        "--trusted-key",
        &t,
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("does not match"), "{out:#?}");
    let inspected = dir.run(&["inspect", header]);
    assert!(
        inspected.ok().contains("source:        signed cookies"),
        "{inspected:#?}"
    );

    // An exact URL gets a canned policy.
    let json = dir.run(&[
        "cookies",
        URL,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-in",
        "1h",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(json["policy"], "canned");
    assert!(json["cookies"]["CloudFront-Expires"].is_string());

    // All of cloudfront.net cannot take cookies (the distribution's own name can: conformance.rs).
    let mut args = base.to_vec();
    args.extend(["--domain", "cloudfront.net"]);
    dir.run(&args).fails(2, &["cloudfront.net"]);
}
