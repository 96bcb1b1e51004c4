//! Key loading from fixtures made by the OpenSSL CLI (`tests/data/keys`, see gen_vectors.py):
//! every accepted form, every refused form with its message, and no key material in any error.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign::{Error, KeyAlgorithm, PrivateKey, PublicKey, Signer, UnixTime};

/// Fails if `message` contains any 16-character run of the key's base64 body or of its hex.
fn assert_no_key_material(message: &str, input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
        .collect::<Vec<_>>()
        .concat()
        .replace("\\n", "");
    let body: Vec<char> = body.chars().filter(|c| !c.is_whitespace()).collect();
    for window in body.windows(16) {
        let needle: String = window.iter().collect();
        assert!(
            !message.contains(&needle),
            "error leaks key material `{needle}`: {message}"
        );
    }
    let hex = hex::encode(input);
    for start in (0..hex.len().saturating_sub(16)).step_by(2) {
        assert!(
            !message.contains(&hex[start..start + 16]),
            "error leaks key bytes: {message}"
        );
    }
}

/// Loads `input` as a private key, expecting an error whose message contains `needle`.
fn check_refused(name: &str, input: &[u8], needle: &str) -> Error {
    let err = match PrivateKey::parse(input) {
        Ok(key) => panic!("{name}: loaded as {key:?}, expected an error containing `{needle}`"),
        Err(err) => err,
    };
    let message = err.to_string();
    assert!(
        message.contains(needle),
        "{name}: `{message}` does not contain `{needle}`"
    );
    assert_no_key_material(&message, input);
    assert_no_key_material(&format!("{err:?}"), input);
    err
}

#[test]
fn every_accepted_form_loads_the_same_key() {
    let cases = [
        (
            vec![
                "rsa2048-pkcs1.pem",
                "rsa2048-pkcs1.der",
                "rsa2048-pkcs8.der",
            ],
            "rsa2048-pkcs1.pub.pem",
            KeyAlgorithm::Rsa { bits: 2048 },
        ),
        (
            vec!["rsa2048-pkcs8.pem"],
            "rsa2048-pkcs8.pub.pem",
            KeyAlgorithm::Rsa { bits: 2048 },
        ),
        (
            vec!["p256-sec1.pem", "p256-pkcs8.pem", "p256-sec1.der"],
            "p256.pub.pem",
            KeyAlgorithm::EcdsaP256,
        ),
    ];
    for (files, public_file, algorithm) in cases {
        let expected_pem = common::key_text(public_file);
        let expected = PublicKey::from_pem(&expected_pem).unwrap();
        expected.check_accepted_by_key_groups().unwrap();
        for file in files {
            let key = common::private_key(file);
            assert_eq!(key.algorithm(), algorithm, "{file}");
            assert_eq!(key.public_key(), expected, "{file}");
            // Our SPKI PEM is byte-identical to `openssl pkey -pubout`.
            assert_eq!(key.public_key().to_pem(), expected_pem, "{file}");
            assert_eq!(format!("{key:?}"), format!("PrivateKey({algorithm})"));
            // And our PKCS#8 export loads back to the same key.
            let again = PrivateKey::from_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(again.public_key(), expected, "{file} round trip");
        }
    }
    // PKCS#1 public keys (`BEGIN RSA PUBLIC KEY`) load too.
    let pkcs1_public = PublicKey::from_pem(&common::key_text("rsa2048-pkcs1.rsapub.pem")).unwrap();
    assert_eq!(
        pkcs1_public,
        common::private_key("rsa2048-pkcs1.pem").public_key()
    );
}

#[test]
fn mangled_pem_is_tolerated() {
    for file in [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.pem",
        "p256-sec1.pem",
        "p256-pkcs8.pem",
    ] {
        let pem = common::key_text(file);
        let expected = common::private_key(file).public_key();
        let variants = [
            ("newlines lost", pem.replace('\n', "")),
            ("newlines as spaces", pem.replace('\n', " ")),
            ("literal \\n", pem.replace('\n', "\\n")),
            ("literal \\r\\n", pem.replace('\n', "\\r\\n")),
            ("CRLF", pem.replace('\n', "\r\n")),
            ("double-quoted", format!("\"{}\"", pem.replace('\n', "\\n"))),
            ("single-quoted, indented", format!("'  {pem}  '")),
            ("no final newline", pem.trim_end().to_owned()),
        ];
        for (what, text) in variants {
            let key =
                PrivateKey::from_pem(&text).unwrap_or_else(|e| panic!("{file} with {what}: {e}"));
            assert_eq!(key.public_key(), expected, "{file} with {what}");
        }
    }
    let public = common::key_text("p256.pub.pem");
    assert_eq!(
        PublicKey::from_pem(&public.replace('\n', "\\n")).unwrap(),
        PublicKey::from_pem(&public).unwrap()
    );
}

#[test]
fn refused_keys_say_why() {
    for public in [
        "rsa2048-pkcs1.pub.pem",
        "rsa2048-pkcs1.rsapub.pem",
        "p256.pub.pem",
    ] {
        let err = check_refused(public, &common::key_bytes(public), "this is a public key");
        assert!(
            matches!(err, Error::PublicKeyGiven { .. }),
            "{public}: {err:?}"
        );
    }
    // Without a passphrase, encrypted keys are refused with a message that says how to give one.
    let mut needs_passphrase = vec!["rsa2048-encrypted.pem", "p256-encrypted-scrypt.pem"];
    if cfg!(feature = "native") {
        needs_passphrase.extend(["rsa2048-legacy-encrypted.pem", "p256-legacy-encrypted.pem"]);
    }
    for encrypted in needs_passphrase {
        let err = check_refused(
            encrypted,
            &common::key_bytes(encrypted),
            "encrypted private key",
        );
        assert!(
            matches!(err, Error::EncryptedKey { .. }),
            "{encrypted}: {err:?}"
        );
        let message = err.to_string();
        for hint in [
            "--passphrase-file",
            "AWS_CLOUDFRONT_KEY_PASSPHRASE",
            "passphrase_file",
        ] {
            assert!(
                message.contains(hint),
                "{encrypted}: no `{hint}` in {message}"
            );
        }
    }
    // Without OpenSSL a passphrase would not help with legacy PEM: the error says how to convert.
    #[cfg(not(feature = "native"))]
    for legacy in ["rsa2048-legacy-encrypted.pem", "p256-legacy-encrypted.pem"] {
        let err = check_refused(
            legacy,
            &common::key_bytes(legacy),
            "openssl pkcs8 -topk8 -in old.pem -out new.pem",
        );
        assert!(
            matches!(err, Error::LegacyEncryptedKey { .. }),
            "{legacy}: {err:?}"
        );
        assert!(err.to_string().contains("`native` feature"), "{err}");
    }
    for p384 in ["p384.pem", "p384-sec1.pem"] {
        let err = check_refused(p384, &common::key_bytes(p384), "P-384");
        assert!(
            matches!(err, Error::UnsupportedKey { .. }),
            "{p384}: {err:?}"
        );
        assert!(err.to_string().contains("P-256"), "{err}");
    }
    let err = check_refused("ed25519.pem", &common::key_bytes("ed25519.pem"), "Ed25519");
    assert!(matches!(err, Error::UnsupportedKey { .. }), "{err:?}");
    // Private keys where a public key belongs.
    for private in ["rsa2048-pkcs1.pem", "rsa2048-pkcs8.pem", "p256-sec1.pem"] {
        let text = common::key_text(private);
        let err = PublicKey::from_pem(&text).unwrap_err();
        assert!(
            err.to_string().contains("this is a private key"),
            "{private}: {err}"
        );
        assert_no_key_material(&err.to_string(), text.as_bytes());
    }
    let err = PublicKey::from_der(&common::key_bytes("rsa2048-pkcs8.der")).unwrap_err();
    assert!(matches!(err, Error::PrivateKeyGiven { .. }), "{err:?}");
    let err = PublicKey::from_pem(&common::key_text("p384.pub.pem")).unwrap_err();
    assert!(err.to_string().contains("P-384"), "{err}");
}

const PASSPHRASE: &[u8] = b"test-passphrase";

/// Encrypted fixtures, the plain key each holds, and whether this build decrypts it.
const ENCRYPTED: [(&str, &str, bool); 6] = [
    ("rsa2048-encrypted.pem", "rsa2048-encrypted.plain.pem", true),
    ("rsa2048-encrypted-sha1prf.pem", "rsa2048-pkcs8.pem", true),
    ("p256-encrypted-scrypt.pem", "p256-pkcs8.pem", true),
    (
        "rsa2048-legacy-encrypted.pem",
        "rsa2048-pkcs1.pem",
        cfg!(feature = "native"),
    ),
    (
        "p256-legacy-encrypted.pem",
        "p256-sec1.pem",
        cfg!(feature = "native"),
    ),
    (
        "p256-encrypted-des3.pem",
        "p256-pkcs8.pem",
        cfg!(feature = "native"),
    ),
];

/// Checks that `key` is the key in the fixture `plain_file`: same PKCS#8 encoding, and the same
/// signature (RSA PKCS#1 v1.5 is deterministic; ECDSA is randomised, so it must verify instead).
fn check_same_key(what: &str, key: PrivateKey, plain_file: &str) {
    let plain = common::private_key(plain_file);
    assert_eq!(key.public_key(), plain.public_key(), "{what}");
    assert_eq!(*key.to_pkcs8_der(), *plain.to_pkcs8_der(), "{what}");
    let public = plain.public_key();
    let id: cfsign::KeyPairId = "K2JCJMDEHXQW5F".parse().unwrap();
    let policy = br#"{"Statement":[{"Resource":"https://d1.example.net/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#;
    let decrypted = Signer::new(id.clone(), key).sign_bytes(policy).unwrap();
    let expected = Signer::new(id, plain).sign_bytes(policy).unwrap();
    assert!(
        public.verify(cfsign::HashAlgorithm::Sha1, policy, &decrypted),
        "{what}: the decrypted key's signature does not verify"
    );
    if matches!(public.algorithm(), KeyAlgorithm::Rsa { .. }) {
        assert_eq!(decrypted, expected, "{what}: signatures differ");
    }
}

#[test]
fn encrypted_keys_load_with_the_passphrase() {
    for (file, plain_file, supported) in ENCRYPTED {
        if !supported {
            continue;
        }
        let bytes = common::key_bytes(file);
        let text = common::key_text(file);
        let key = PrivateKey::from_pem_with_passphrase(&text, PASSPHRASE)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        check_same_key(&format!("{file} from_pem_with_passphrase"), key, plain_file);
        let key = PrivateKey::parse_with_passphrase(&bytes, PASSPHRASE)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        check_same_key(&format!("{file} parse_with_passphrase"), key, plain_file);
        // Mangled as in environment variables and secret stores.
        for (what, mangled) in [
            ("literal \\n", text.replace('\n', "\\n")),
            ("CRLF", text.replace('\n', "\r\n")),
            ("newlines as spaces", text.replace('\n', " ")),
            (
                "double-quoted",
                format!("\"{}\"", text.replace('\n', "\\n")),
            ),
        ] {
            let key = PrivateKey::from_pem_with_passphrase(&mangled, PASSPHRASE)
                .unwrap_or_else(|e| panic!("{file} with {what}: {e}"));
            check_same_key(&format!("{file} with {what}"), key, plain_file);
        }
    }
}

#[test]
fn encrypted_der_loads_with_the_passphrase() {
    use base64::Engine as _;
    let text = common::key_text("rsa2048-encrypted.pem");
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let key = PrivateKey::parse_with_passphrase(&der, PASSPHRASE).unwrap();
    check_same_key(
        "DER EncryptedPrivateKeyInfo",
        key,
        "rsa2048-encrypted.plain.pem",
    );
    for err in [
        PrivateKey::parse(&der).unwrap_err(),
        PrivateKey::from_der(&der).unwrap_err(),
    ] {
        assert!(matches!(err, Error::EncryptedKey { .. }), "{err:?}");
        assert!(err.to_string().contains("DER encrypted PKCS#8"), "{err}");
    }
    let err = PrivateKey::parse_with_passphrase(&der, b"wrong-passphrase").unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase { .. }), "{err:?}");
}

#[test]
fn wrong_passphrase_is_a_clear_error() {
    for (file, _, supported) in ENCRYPTED {
        if !supported {
            continue;
        }
        let bytes = common::key_bytes(file);
        for wrong in [
            &b"wrong-passphrase"[..],
            b"",
            b"test-passphrase\n",
            b"Test-passphrase",
        ] {
            let err = PrivateKey::parse_with_passphrase(&bytes, wrong).unwrap_err();
            assert!(
                matches!(err, Error::WrongPassphrase { .. }),
                "{file} with {:?}: {err:?}",
                String::from_utf8_lossy(wrong)
            );
            let message = err.to_string();
            assert!(message.starts_with("wrong passphrase"), "{file}: {message}");
            for shown in [message.clone(), format!("{err:?}")] {
                assert_no_key_material(&shown, &bytes);
                assert!(
                    !shown.contains("passphrase\n") && !shown.contains("-passphrase"),
                    "{shown}"
                );
            }
        }
    }
}

#[test]
fn a_passphrase_for_an_unencrypted_key_is_ignored() {
    for file in [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.der",
        "p256-sec1.pem",
        "p256-sec1.der",
    ] {
        let key = PrivateKey::parse_with_passphrase(&common::key_bytes(file), PASSPHRASE)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        check_same_key(file, key, file);
    }
}

#[test]
fn unsupported_encryption_says_what_to_do() {
    // DES-EDE3-CBC: only OpenSSL decrypts it.
    let des3 = common::key_bytes("p256-encrypted-des3.pem");
    if !cfg!(feature = "native") {
        let err = PrivateKey::parse_with_passphrase(&des3, PASSPHRASE).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedEncryption { .. }),
            "{err:?}"
        );
        let message = err.to_string();
        for needle in [
            "PBES2 (PBKDF2, DES-EDE3-CBC)",
            "openssl pkcs8 -topk8",
            "`native` feature",
        ] {
            assert!(message.contains(needle), "no `{needle}` in {message}");
        }
        for legacy in ["rsa2048-legacy-encrypted.pem", "p256-legacy-encrypted.pem"] {
            let err = PrivateKey::parse_with_passphrase(&common::key_bytes(legacy), PASSPHRASE)
                .unwrap_err();
            assert!(
                matches!(err, Error::LegacyEncryptedKey { .. }),
                "{legacy}: {err:?}"
            );
        }
    }
    // scrypt asking for 2 GiB (p raised from 1 to 127) is refused before any work is done.
    use base64::Engine as _;
    let text = common::key_text("p256-encrypted-scrypt.pem");
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    // N = 16384, r = 8, p = 1 as DER INTEGERs.
    let params = [0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x08, 0x02, 0x01, 0x01];
    let at = der
        .windows(params.len())
        .position(|w| w == params)
        .expect("the fixture's scrypt parameters");
    der[at + params.len() - 1] = 0x7f;
    let err = PrivateKey::parse_with_passphrase(&der, PASSPHRASE).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedEncryption { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("scrypt with N=16384, r=8, p=127"),
        "{message}"
    );
    assert!(message.contains("at most 256 MiB"), "{message}");
}

#[test]
fn rsa_1024_signs_but_key_groups_refuse_it() {
    let key = common::private_key("rsa1024.pem");
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa { bits: 1024 });
    let public = key.public_key();
    assert_eq!(
        public,
        PublicKey::from_pem(&common::key_text("rsa1024.pub.pem")).unwrap()
    );
    let signer = Signer::new("APKAEXAMPLE".parse().unwrap(), key);
    let url = signer
        .sign_canned_url(
            "https://d1.example.net/a.jpg",
            UnixTime::from_secs(1_767_225_600).unwrap(),
        )
        .unwrap();
    assert!(url.contains("&Key-Pair-Id=APKAEXAMPLE"));
    let err = public
        .check_accepted_by_key_groups()
        .unwrap_err()
        .to_string();
    assert!(err.contains("RSA key of 1024 bits"), "{err}");
    assert!(err.contains("2048-bit RSA or P-256"), "{err}");
}

#[test]
fn garbage_is_refused_without_echo() {
    let pem = common::key_text("rsa2048-pkcs1.pem");
    let der = common::key_bytes("rsa2048-pkcs8.der");
    let mut damaged_body = pem.clone().into_bytes();
    damaged_body[100] = b'!';
    let truncated_pem = format!("{}\n-----END RSA PRIVATE KEY-----\n", &pem[..pem.len() / 2]);
    let no_end = pem[..pem.len() - 35].to_owned();
    let bare_base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "no PEM key found"),
        ("text", b"hello world".to_vec(), "no PEM key found"),
        ("bare base64", bare_base64.into_bytes(), "bare base64"),
        ("damaged base64", damaged_body, "not valid base64"),
        ("truncated PEM", truncated_pem.into_bytes(), "damaged"),
        ("no END line", no_end.into_bytes(), "cut off"),
        ("truncated DER", der[..der.len() / 2].to_vec(), "not a PKCS#8, PKCS#1 or SEC1"),
        ("binary", vec![0x30, 0x82, 0xff, 0x00, 0x01], "not a PKCS#8, PKCS#1 or SEC1"),
        ("invalid UTF-8", vec![0xff, 0xfe, 0x41], "not valid UTF-8"),
        ("certificate", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(), "certificate"),
        ("openssh", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n".to_vec(), "ssh-keygen"),
    ];
    for (name, input, needle) in cases {
        check_refused(name, &input, needle);
    }
}

#[test]
fn key_material_given_as_key_pair_id_is_not_echoed() {
    let pem = common::key_text("rsa2048-pkcs1.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for input in [pem.as_str(), body.as_str(), &body[..64]] {
        let err = input.parse::<cfsign::KeyPairId>().unwrap_err();
        assert_no_key_material(&err.to_string(), pem.as_bytes());
        assert_no_key_material(&format!("{err:?}"), pem.as_bytes());
    }
    let err = "K2JC JMDE"
        .parse::<cfsign::KeyPairId>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`K2JC JMDE`"), "{err}");
}
