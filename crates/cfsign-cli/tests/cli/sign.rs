//! `cfsign sign`: options, key sources, and every bad-input case.

use crate::util::{Dir, EC_KEY, EC_PUB, KEY_ID, RSA_KEY, RSA_PUB, now};

const URL: &str = "https://d111111abcdef8.cloudfront.net/private/a.jpg";

#[test]
fn positional_form_ends_with_newline_and_aws_form_does_not() {
    let dir = Dir::new();
    let exp = (now() + 600).to_string();
    let base = [
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-at",
        &exp,
    ];
    let mut args = vec!["sign", URL];
    args.extend(base);
    let positional = dir.run(&args);
    assert!(positional.ok().ends_with('\n'));
    let mut args = vec!["sign", "--url", URL];
    args.extend(base);
    let aws = dir.run(&args);
    assert_eq!(format!("{}\n", aws.ok()), positional.stdout);
    assert!(
        positional
            .stdout
            .starts_with(&format!("{URL}?Expires={exp}&Signature="))
    );
    assert!(
        positional
            .stdout
            .ends_with(&format!("&Key-Pair-Id={KEY_ID}\n"))
    );
}

#[test]
fn key_and_id_from_environment() {
    let dir = Dir::new();
    let pem = dir.read(RSA_KEY);
    let expected = dir.sign(URL, &["--expires-at", "2037-01-01"]);
    let env = [
        ("AWS_CLOUDFRONT_KEY", pem.as_str()),
        ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
    ];
    let got = dir.run_env(&["sign", URL, "--expires-at", "2037-01-01"], &env);
    assert_eq!(got.ok().trim_end(), expected);
    // Newlines flattened to literal `\n`, as in many secret stores.
    let flat = pem.trim_end().replace('\n', "\\n");
    let env = [
        ("AWS_CLOUDFRONT_KEY", flat.as_str()),
        ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
    ];
    let got = dir.run_env(&["sign", URL, "--expires-at", "2037-01-01"], &env);
    assert_eq!(got.ok().trim_end(), expected);
}

#[test]
fn json_format_describes_the_url() {
    let dir = Dir::new();
    let out = dir.run(&[
        "sign",
        URL,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-at",
        "2037-01-01T00:00:00Z",
        "--format",
        "json",
        "--ip",
        "192.0.2.0/24",
    ]);
    let json: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(json["expires"], 2_114_380_800u64);
    assert_eq!(json["expires_at"], "2037-01-01T00:00:00Z");
    assert_eq!(json["policy"], "custom");
    assert_eq!(json["key_pair_id"], KEY_ID);
    assert!(
        json["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{URL}?Policy="))
    );
}

#[test]
fn p256_and_sha256_verify() {
    let dir = Dir::new();
    let signed = dir.run(&[
        "sign",
        URL,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        EC_KEY,
        "--expires-in",
        "10m",
        "--hash",
        "sha256",
    ]);
    let signed = signed.ok().trim_end();
    assert!(signed.ends_with("&Hash-Algorithm=SHA256"), "{signed}");
    let trusted = format!("{KEY_ID}={EC_PUB}");
    dir.run(&["verify", signed, "--trusted-key", &trusted]).ok();
    let wrong = format!("{KEY_ID}={RSA_PUB}");
    dir.run(&["verify", signed, "--trusted-key", &wrong])
        .fails(1, &[]);
}

#[test]
fn a_lower_case_key_pair_id_signs_with_a_warning() {
    let dir = Dir::new();
    let lower = KEY_ID.to_ascii_lowercase();
    let run = |id: &str| {
        let key = ["--private-key", RSA_KEY, "--expires-at", "2037-01-01"];
        dir.run(&[&["sign", URL, "--key-pair-id", id][..], &key[..]].concat())
    };
    let out = run(&lower);
    assert!(
        out.ok().contains(&format!("Key-Pair-Id={lower}")),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains("lower-case letters") && out.stderr.contains(&lower),
        "{out:#?}"
    );
    // The upper-case ID: no warning.
    let out = run(KEY_ID);
    out.ok();
    assert!(out.stderr.is_empty(), "{out:#?}");
}

#[test]
fn bad_inputs_name_the_problem_and_the_fix() {
    let dir = Dir::new();
    let exp = "2037-01-01";
    let check = |args: &[&str], needles: &[&str]| {
        let out = dir.run(args);
        out.fails(2, needles);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.starts_with("error: "), "{out:#?}");
    };
    // Missing key pair ID: says which flag and which variable.
    check(
        &["sign", URL, "--private-key", RSA_KEY, "--expires-at", exp],
        &["--key-pair-id", "AWS_CLOUDFRONT_KEY_ID"],
    );
    // Missing key.
    check(
        &["sign", URL, "--key-pair-id", KEY_ID, "--expires-at", exp],
        &["--private-key", "AWS_CLOUDFRONT_KEY"],
    );
    // Missing expiry.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
        ],
        &["--expires-in", "--expires-at"],
    );
    // The public key given as the private key.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_PUB,
            "--expires-at",
            exp,
        ],
        &["public key", "private key"],
    );
    // Not a key at all.
    std::fs::write(dir.path("junk.pem"), "hello\n").unwrap();
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            "junk.pem",
            "--expires-at",
            exp,
        ],
        &["junk.pem"],
    );
    // A missing file.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            "file://nope.pem",
            "--expires-at",
            exp,
        ],
        &["cannot read", "nope.pem"],
    );
    // Bad key pair ID.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            "K2 JC",
            "--private-key",
            RSA_KEY,
            "--expires-at",
            exp,
        ],
        &["--key-pair-id"],
    );
    // Expiry in the past.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            "2020-01-01",
        ],
        &["in the past", "--allow-expired"],
    );
    // Milliseconds instead of seconds.
    let ms = format!("{}", (now() + 600) * 1000);
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            &ms,
        ],
        &["milliseconds", "--expires-at"],
    );
    // Not a time; not a duration.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            "tomorrow",
        ],
        &["tomorrow"],
    );
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "soon",
        ],
        &["soon"],
    );
    // A URL that is already signed.
    let signed = dir.sign(URL, &["--expires-in", "1h"]);
    check(
        &[
            "sign",
            &signed,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "1h",
        ],
        &["signed already"],
    );
    // Not a URL; a space in the URL.
    check(
        &[
            "sign",
            "/a.jpg",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "1h",
        ],
        &["https://"],
    );
    check(
        &[
            "sign",
            "https://d1.example.net/a b.jpg",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "1h",
        ],
        &["%20"],
    );
    // Start after expiry; bad IP; resource that does not cover the URL.
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            exp,
            "--starts-at",
            "2037-02-01",
        ],
        &["start"],
    );
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            exp,
            "--ip",
            "2001:db8::1",
        ],
        &["IPv4"],
    );
    check(
        &[
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            exp,
            "--resource",
            "https://d111111abcdef8.cloudfront.net/public/*",
        ],
        &["does not cover"],
    );
    // Usage errors from the parser also exit 2.
    dir.run(&["sign", URL, "--no-such-flag"])
        .fails(2, &["--no-such-flag"]);
}

#[test]
fn key_material_is_never_printed() {
    let dir = Dir::new();
    let pem = dir.read(RSA_KEY);
    let secret_line = pem.lines().nth(3).unwrap();
    // The key pasted where the ID belongs, and a key missing its END line.
    let truncated: String = pem.lines().take(10).collect::<Vec<_>>().join("\n");
    for args in [
        vec![
            "sign",
            URL,
            "--key-pair-id",
            pem.as_str(),
            "--private-key",
            RSA_KEY,
            "--expires-in",
            "1h",
        ],
        vec![
            "sign",
            URL,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            truncated.as_str(),
            "--expires-in",
            "1h",
        ],
    ] {
        let out = dir.run(&args);
        out.fails(2, &[]);
        assert!(!out.stderr.contains(secret_line), "{out:#?}");
    }
    let env = [
        ("AWS_CLOUDFRONT_KEY", truncated.as_str()),
        ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
    ];
    let out = dir.run_env(&["sign", URL, "--expires-in", "1h"], &env);
    out.fails(2, &["AWS_CLOUDFRONT_KEY"]);
    assert!(!out.stderr.contains(secret_line), "{out:#?}");
}

#[test]
fn allow_expired_signs_a_url_that_verify_calls_expired() {
    let dir = Dir::new();
    let signed = dir.sign(URL, &["--expires-at", "2020-01-01", "--allow-expired"]);
    let trusted = format!("{KEY_ID}={RSA_PUB}");
    let out = dir.run(&["verify", &signed, "--trusted-key", &trusted]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout.contains("AccessDenied") && out.stdout.contains("expired"),
        "{out:#?}"
    );
}

#[test]
fn help_has_examples_for_every_command() {
    let dir = Dir::new();
    let top = dir.run(&["--help"]);
    assert!(top.ok().contains("Exit codes"), "{top:#?}");
    for command in [
        "keygen",
        "pubkey",
        "sign",
        "cookies",
        "verify",
        "inspect",
        "completions",
    ] {
        let out = dir.run(&[command, "--help"]);
        assert!(out.ok().contains("Examples:"), "{command}: {out:#?}");
    }
    let bash = dir.run(&["completions", "bash"]);
    assert!(bash.ok().contains("cfsign"));
}
