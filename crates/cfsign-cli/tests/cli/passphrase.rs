//! Encrypted private keys: `--passphrase-file` and `AWS_CLOUDFRONT_KEY_PASSPHRASE`.

use std::path::Path;

use crate::util::{Dir, KEY_ID, Output, RSA_KEY, RSA_PUB};

const PASSPHRASE: &str = "cli-test-passphrase";
const WRONG: &str = "not-the-cli-passphrase";
const URL: &str = "https://d111111abcdef8.cloudfront.net/private/a.jpg";
const EXPIRES: &str = "2030-01-01T00:00:00Z";

/// The encrypted copies of the RSA test key this build decrypts (legacy PEM needs OpenSSL).
fn encrypted_keys() -> Vec<&'static str> {
    let mut keys = vec!["encrypted.pem"];
    if cfg!(feature = "native") {
        keys.push("legacy-encrypted.pem");
    }
    keys
}

/// A test directory with the encrypted keys and passphrase files beside the plain keys.
fn dir() -> Dir {
    let dir = Dir::new();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for (from, to) in [
        (
            "openssl-genrsa-traditional-2048.encrypted.pem",
            "encrypted.pem",
        ),
        (
            "openssl-genrsa-traditional-2048.legacy-encrypted.pem",
            "legacy-encrypted.pem",
        ),
    ] {
        std::fs::copy(data.join(from), dir.path(to)).unwrap();
    }
    std::fs::write(dir.path("pass.txt"), format!("{PASSPHRASE}\n")).unwrap();
    std::fs::write(dir.path("pass-crlf.txt"), format!("{PASSPHRASE}\r\n")).unwrap();
    std::fs::write(dir.path("pass-bare.txt"), PASSPHRASE).unwrap();
    std::fs::write(dir.path("wrong.txt"), format!("{WRONG}\n")).unwrap();
    std::fs::write(dir.path("two-newlines.txt"), format!("{PASSPHRASE}\n\n")).unwrap();
    std::fs::write(dir.path("empty.txt"), "\n").unwrap();
    dir
}

fn sign_args<'a>(key: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sign",
        URL,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        key,
        "--expires-at",
        EXPIRES,
    ];
    args.extend_from_slice(extra);
    args
}

/// Fails if either passphrase shows up in the output.
#[track_caller]
fn assert_no_passphrase(out: &Output) {
    for secret in [PASSPHRASE, WRONG] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "the passphrase leaked: {out:#?}"
        );
    }
}

#[test]
fn encrypted_keys_sign_like_the_plain_key() {
    let dir = dir();
    let expected = dir.sign(URL, &["--expires-at", EXPIRES]);
    let encrypted_pem = dir.read("encrypted.pem");
    for key in encrypted_keys() {
        // --passphrase-file, with one trailing newline (LF or CRLF) or none.
        for file in ["pass.txt", "pass-crlf.txt", "pass-bare.txt"] {
            let out = dir.run(&sign_args(key, &["--passphrase-file", file]));
            assert_eq!(out.ok().trim_end(), expected, "{key} with {file}");
            assert_no_passphrase(&out);
        }
        // The environment variable.
        let out = dir.run_env(
            &sign_args(key, &[]),
            &[("AWS_CLOUDFRONT_KEY_PASSPHRASE", PASSPHRASE)],
        );
        assert_eq!(out.ok().trim_end(), expected, "{key} with the variable");
        // The file flag comes before the variable.
        let out = dir.run_env(
            &sign_args(key, &["--passphrase-file", "pass.txt"]),
            &[("AWS_CLOUDFRONT_KEY_PASSPHRASE", WRONG)],
        );
        assert_eq!(out.ok().trim_end(), expected, "{key}: the file wins");
    }
    // Everything from the environment, the key as PEM text.
    let out = dir.run_env(
        &["sign", URL, "--expires-at", EXPIRES],
        &[
            ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
            ("AWS_CLOUDFRONT_KEY", &encrypted_pem.replace('\n', "\\n")),
            ("AWS_CLOUDFRONT_KEY_PASSPHRASE", PASSPHRASE),
        ],
    );
    assert_eq!(out.ok().trim_end(), expected);
    // A passphrase given for an unencrypted key is not needed, and ignored.
    let out = dir.run(&sign_args(RSA_KEY, &["--passphrase-file", "wrong.txt"]));
    assert_eq!(out.ok().trim_end(), expected);
    // cookies and pubkey take the same flag.
    let out = dir.run(&[
        "cookies",
        URL,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        "encrypted.pem",
        "--passphrase-file",
        "pass.txt",
        "--expires-at",
        EXPIRES,
    ]);
    assert!(out.ok().contains("CloudFront-Signature="), "{out:#?}");
    let out = dir.run(&[
        "pubkey",
        "--private-key",
        "encrypted.pem",
        "--passphrase-file",
        "pass.txt",
    ]);
    assert_eq!(out.ok(), dir.read(RSA_PUB));
}

#[test]
fn verify_trusts_an_encrypted_key_from_the_environment() {
    let dir = dir();
    let signed = dir.sign(URL, &["--expires-in", "1h"]);
    let env = [
        ("AWS_CLOUDFRONT_KEY_ID", KEY_ID),
        ("AWS_CLOUDFRONT_KEY", "encrypted.pem"),
    ];
    let out = dir.run_env(
        &["verify", &signed],
        &[
            env[0],
            env[1],
            ("AWS_CLOUDFRONT_KEY_PASSPHRASE", PASSPHRASE),
        ],
    );
    out.ok();
    // Without the passphrase verify has no --passphrase-file: it names the variable only.
    let out = dir.run_env(&["verify", &signed], &env);
    out.fails(
        2,
        &["encrypted private key", "AWS_CLOUDFRONT_KEY_PASSPHRASE"],
    );
    assert!(!out.stderr.contains("--passphrase-file"), "{out:#?}");
}

#[test]
fn wrong_passphrase_exits_2_and_never_prints_it() {
    let dir = dir();
    for key in encrypted_keys() {
        for file in ["wrong.txt", "two-newlines.txt"] {
            let out = dir.run(&sign_args(key, &["--passphrase-file", file]));
            out.fails(
                2,
                &[
                    "--private-key",
                    "wrong passphrase",
                    &format!("--passphrase-file `{file}`"),
                    &format!("`{key}`"),
                ],
            );
            assert!(out.stdout.is_empty(), "{out:#?}");
            assert_no_passphrase(&out);
        }
        let out = dir.run_env(
            &sign_args(key, &[]),
            &[("AWS_CLOUDFRONT_KEY_PASSPHRASE", WRONG)],
        );
        out.fails(2, &["wrong passphrase", "AWS_CLOUDFRONT_KEY_PASSPHRASE"]);
        assert_no_passphrase(&out);
    }
}

#[test]
fn encrypted_key_without_passphrase_says_how_to_give_one() {
    let dir = dir();
    for key in encrypted_keys() {
        let out = dir.run(&sign_args(key, &[]));
        out.fails(
            2,
            &[
                "encrypted private key",
                "--passphrase-file PATH",
                "AWS_CLOUDFRONT_KEY_PASSPHRASE",
            ],
        );
    }
    dir.run(&sign_args(
        "encrypted.pem",
        &["--passphrase-file", "empty.txt"],
    ))
    .fails(2, &["--passphrase-file", "`empty.txt` is empty"]);
    dir.run(&sign_args(
        "encrypted.pem",
        &["--passphrase-file", "missing.txt"],
    ))
    .fails(2, &["--passphrase-file", "cannot read `missing.txt`"]);
}

#[test]
fn no_flag_takes_the_passphrase_itself() {
    let dir = dir();
    for flag in ["--passphrase", "--passin", "--pass"] {
        let out = dir.run(&sign_args("encrypted.pem", &[flag, PASSPHRASE]));
        assert_eq!(out.code, 2, "{flag}: {out:#?}");
        assert!(out.stderr.contains("unexpected argument"), "{out:#?}");
    }
    let help = dir.run(&["sign", "--help"]);
    assert!(help.ok().contains("--passphrase-file <PATH>"), "{help:#?}");
    let help = dir.run(&["--help"]);
    assert!(
        help.ok().contains("AWS_CLOUDFRONT_KEY_PASSPHRASE"),
        "{help:#?}"
    );
}
