//! `cfsign keygen` and `cfsign pubkey`.

use crate::util::{Dir, KEY_ID, RSA_KEY, RSA_PUB, have_tool};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_0600_refuses_to_overwrite_and_prints_the_public_key() {
    let dir = Dir::new();
    let out = dir.run(&["keygen", "--out", "k.pem", "--public-out", "k.pub.pem"]);
    let printed = out.ok().to_owned();
    assert!(
        printed.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{out:#?}"
    );
    assert!(!printed.contains("PRIVATE"));
    assert_eq!(dir.read("k.pub.pem"), printed);
    assert!(
        dir.read("k.pem")
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    #[cfg(unix)]
    assert_eq!(mode(&dir.path("k.pem")), 0o600);
    // pubkey derives the same public key.
    assert_eq!(dir.run(&["pubkey", "--private-key", "k.pem"]).ok(), printed);

    // No overwrite without --force; the key is unchanged.
    let before = dir.read("k.pem");
    dir.run(&["keygen", "--out", "k.pem"])
        .fails(2, &["already exists", "--force"]);
    assert_eq!(dir.read("k.pem"), before);
    dir.run(&["keygen", "--out", "new.pem", "--public-out", "k.pub.pem"])
        .fails(2, &["k.pub.pem", "--force"]);
    assert!(!dir.path("new.pem").exists());

    // --force replaces it, still 0600, even over a world-readable file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path("k.pem"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    let again = dir.run(&["keygen", "--out", "k.pem", "--force"]);
    assert_ne!(again.ok(), printed);
    assert_ne!(dir.read("k.pem"), before);
    #[cfg(unix)]
    assert_eq!(mode(&dir.path("k.pem")), 0o600);
}

#[test]
fn generated_keys_sign_urls_that_verify() {
    let dir = Dir::new();
    for algorithm in ["rsa2048", "p256"] {
        let public = dir.run(&[
            "keygen",
            "--algorithm",
            algorithm,
            "--out",
            "g.pem",
            "--public-out",
            "g.pub",
            "--force",
        ]);
        public.ok();
        let signed = dir.run(&[
            "sign",
            "https://d1.example.net/a.jpg",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            "g.pem",
            "--expires-in",
            "1h",
        ]);
        let trusted = format!("{KEY_ID}=g.pub");
        dir.run(&["verify", signed.ok().trim_end(), "--trusted-key", &trusted])
            .ok();
    }
}

#[test]
fn openssl_reads_generated_keys() {
    if !have_tool("openssl", &["version"]) {
        return;
    }
    let dir = Dir::new();
    let printed = dir.run(&["keygen", "--out", "k.pem"]).ok().to_owned();
    let out = std::process::Command::new("openssl")
        .args(["pkey", "-in", "k.pem", "-pubout"])
        .current_dir(dir.path(""))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), printed);
}

#[test]
fn pubkey_from_the_environment_and_bad_keys() {
    let dir = Dir::new();
    let pem = dir.read(RSA_KEY);
    let from_env = dir.run_env(&["pubkey"], &[("AWS_CLOUDFRONT_KEY", &pem)]);
    let from_file = dir.run(&["pubkey", "--private-key", RSA_KEY]);
    assert_eq!(from_env.ok(), from_file.ok());
    // The file may also be named without the flag (as `openssl rsa -in FILE -pubout` users try),
    // but not both ways at once.
    assert_eq!(dir.run(&["pubkey", RSA_KEY]).ok(), from_file.ok());
    dir.run(&["pubkey", RSA_KEY, "--private-key", RSA_KEY])
        .fails(2, &["cannot be used with"]);
    // The public key file from openssl is the same key.
    assert_eq!(from_file.stdout, dir.read(RSA_PUB));
    dir.run(&["pubkey", "--private-key", RSA_PUB])
        .fails(2, &["public key"]);
    dir.run(&["pubkey"])
        .fails(2, &["--private-key", "AWS_CLOUDFRONT_KEY"]);
}
