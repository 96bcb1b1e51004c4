//! What the conformance issue asked of the CLI: the SDK form of `Resource` verifies, `cookies`
//! decides canned/custom as the aws CLI and JS do, `--policy` signs a document byte for byte,
//! `verify` notes undocumented behaviour (and `--strict` denies it), and a resource mismatch shows
//! the first differing byte.

use crate::util::{Dir, KEY_ID, RSA_KEY, RSA_PUB, now};

const QUERY_URL: &str =
    "https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large&license=yes";

fn trusted() -> String {
    format!("{KEY_ID}={RSA_PUB}")
}

#[test]
fn sdk_form_of_a_query_url_verifies() {
    let dir = Dir::new();
    let exp = (now() + 3600).to_string();
    for extra in [
        &["--ip", "192.0.2.0/24"][..],
        &["--starts-at", "1700000000"][..],
    ] {
        let mut args = vec!["--expires-at", exp.as_str()];
        args.extend_from_slice(extra);
        let signed = dir.sign(QUERY_URL, &args);
        let json = dir.run(&["inspect", &signed, "--json"]);
        assert!(
            json.ok().contains(r#"\"Resource\":\"https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large&license=yes\""#),
            "the SDK form (unescaped ?) is written: {json:#?}"
        );
        let served = dir.run(&[
            "verify",
            &signed,
            "--trusted-key",
            &trusted(),
            "--client-ip",
            "192.0.2.9",
            "--strict",
        ]);
        assert!(served.ok().starts_with("served:"), "{served:#?}");
        assert!(!served.stdout.contains("undocumented"), "{served:#?}");
    }
    // `--resource` with that form is accepted, not refused as a 403.
    let signed = dir.sign(QUERY_URL, &["--expires-at", &exp, "--resource", QUERY_URL]);
    dir.run(&["verify", &signed, "--trusted-key", &trusted()])
        .ok();
}

#[test]
fn cookies_are_custom_only_for_a_star_a_start_or_an_ip() {
    let dir = Dir::new();
    let cookies = |resource: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "cookies",
            resource,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "1h",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(dir.run(&args).ok()).unwrap()
    };
    assert_eq!(cookies(QUERY_URL, &[])["policy"], "canned");
    assert_eq!(
        cookies(
            "https://d111111abcdef8.cloudfront.net/private/image?.jpg",
            &[]
        )["policy"],
        "canned"
    );
    assert_eq!(
        cookies("https://d111111abcdef8.cloudfront.net/private/*", &[])["policy"],
        "custom"
    );
    assert_eq!(
        cookies(QUERY_URL, &["--ip", "192.0.2.7"])["policy"],
        "custom"
    );
    assert_eq!(
        cookies(QUERY_URL, &["--starts-at", "1700000000"])["policy"],
        "custom"
    );
    // The canned cookies for an exact query URL are served for exactly that URL.
    let header = cookies(QUERY_URL, &[])["cookie_header"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = trusted();
    dir.run(&[
        "verify",
        QUERY_URL,
        "--cookie",
        &header,
        "--trusted-key",
        &t,
    ])
    .ok();
    let other = dir.run(&[
        "verify",
        &QUERY_URL.replace("large", "small"),
        "--cookie",
        &header,
        "--trusted-key",
        &t,
    ]);
    assert_eq!(other.code, 1, "{other:#?}");
}

#[test]
fn cookie_domain_may_be_the_distribution_name() {
    let dir = Dir::new();
    let base = [
        "cookies",
        "https://d111111abcdef8.cloudfront.net/private/*",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-in",
        "1h",
    ];
    let mut args = base.to_vec();
    args.extend(["--domain", "d111111abcdef8.cloudfront.net"]);
    assert!(
        dir.run(&args)
            .ok()
            .contains("; Domain=d111111abcdef8.cloudfront.net; Path=/")
    );
    for bad in ["cloudfront.net", ".cloudfront.net", "*.cloudfront.net"] {
        let mut args = base.to_vec();
        args.extend(["--domain", bad]);
        dir.run(&args)
            .fails(2, &["cloudfront.net", "distribution's own name"]);
    }
}

#[test]
fn policy_documents_are_signed_byte_for_byte() {
    let dir = Dir::new();
    let exp = now() + 3600;
    // Whitespace and a trailing newline, as a hand-written file has them.
    let document = format!(
        "{{ \"Statement\": [ {{ \"Resource\": \"https://d111111abcdef8.cloudfront.net/hls/*\",\n  \"Condition\": {{ \"DateLessThan\": {{ \"AWS:EpochTime\": {exp} }} }} }} ] }}\n"
    );
    std::fs::write(dir.path("policy.json"), &document).unwrap();
    let signed = dir.sign(
        "https://d111111abcdef8.cloudfront.net/hls/a.ts",
        &["--policy", "policy.json"],
    );
    let parts: serde_json::Value =
        serde_json::from_str(dir.run(&["inspect", &signed, "--json"]).ok()).unwrap();
    assert_eq!(parts["policy"].as_str(), Some(document.as_str()), "{parts}");
    dir.run(&["verify", &signed, "--trusted-key", &trusted(), "--strict"])
        .ok();
    // From stdin, for cookies.
    let out = dir.run_stdin(
        &[
            "cookies",
            "--policy",
            "-",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--format",
            "header",
        ],
        &document,
    );
    let header = out.ok().trim().trim_start_matches("Cookie: ").to_owned();
    dir.run(&[
        "verify",
        "https://d111111abcdef8.cloudfront.net/hls/b.ts",
        "--cookie",
        &header,
        "--trusted-key",
        &trusted(),
    ])
    .ok();
    // A URL the policy does not cover, a document that is not a policy, conflicting flags.
    dir.run(&[
        "sign",
        "https://d111111abcdef8.cloudfront.net/other/a.ts",
        "--policy",
        "policy.json",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
    ])
    .fails(2, &["does not cover", "403"]);
    std::fs::write(dir.path("bad.json"), "{\"Statement\":[]}").unwrap();
    dir.run(&[
        "sign",
        "https://d111111abcdef8.cloudfront.net/hls/a.ts",
        "--policy",
        "bad.json",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
    ])
    .fails(2, &["not a CloudFront policy", "exactly one"]);
    dir.run(&[
        "sign",
        "https://d111111abcdef8.cloudfront.net/hls/a.ts",
        "--policy",
        "policy.json",
        "--expires-in",
        "1h",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
    ])
    .fails(2, &["--expires-in"]);
    std::fs::write(
        dir.path("old.json"),
        document.replace(&exp.to_string(), "1700000000"),
    )
    .unwrap();
    dir.run(&[
        "sign",
        "https://d111111abcdef8.cloudfront.net/hls/a.ts",
        "--policy",
        "old.json",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
    ])
    .fails(2, &["in the past"]);
}

#[test]
fn undocumented_behaviour_is_noted_and_strict_denies_it() {
    let dir = Dir::new();
    let exp = (now() + 3600).to_string();
    let signed = dir.sign(
        "https://d111111abcdef8.cloudfront.net/a.jpg",
        &["--expires-at", &exp, "--hash", "sha256"],
    );
    let odd = signed.replace("Hash-Algorithm=SHA256", "Hash-Algorithm=sha256");
    let t = trusted();
    let lenient = dir.run(&["verify", &odd, "--trusted-key", &t]);
    assert!(lenient.ok().starts_with("served:"), "{lenient:#?}");
    assert!(
        lenient
            .stdout
            .contains("note: undocumented: Hash-Algorithm `sha256`"),
        "{lenient:#?}"
    );
    let json: serde_json::Value = serde_json::from_str(
        dir.run(&["verify", &odd, "--trusted-key", &t, "--json"])
            .ok(),
    )
    .unwrap();
    assert_eq!(
        json["undocumented"][0]["kind"], "hash_algorithm_case",
        "{json}"
    );
    let strict = dir.run(&["verify", &odd, "--trusted-key", &t, "--strict"]);
    assert_eq!(strict.code, 1, "{strict:#?}");
    assert!(
        strict.stdout.contains("denied: 403 AccessDenied"),
        "{strict:#?}"
    );
    assert!(strict.stdout.contains("strict mode"), "{strict:#?}");
}

#[test]
fn a_resource_mismatch_shows_the_first_differing_byte() {
    let dir = Dir::new();
    let exp = (now() + 3600).to_string();
    let signed = dir.sign(
        "https://d111111abcdef8.cloudfront.net/my%20file.jpg",
        &["--expires-at", &exp, "--ip", "0.0.0.0/0"],
    );
    let requested = signed.replace("my%20file", "my+file");
    let out = dir.run(&[
        "verify",
        &requested,
        "--trusted-key",
        &trusted(),
        "--client-ip",
        "192.0.2.1",
    ]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout.contains("first difference at byte 40: the resource has `%20file.jpg` where the request has `+file.jpg`"),
        "{out:#?}"
    );
}
