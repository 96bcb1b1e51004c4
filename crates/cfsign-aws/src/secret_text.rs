//! Reading a private key out of a secret's value as people store it: the whole `SecretString`
//! (PEM, with lost newlines or literal `\n`, which the core's PEM reader tolerates), one field of
//! a JSON secret, or `SecretBinary` (DER or PEM). Pure; every copy of key text is zeroized.

use std::collections::BTreeMap;

use cfsign::PrivateKey;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::Error;

/// The private key in a secret string: the whole text, or its JSON field `json_field`.
/// `source_name` names the secret in errors.
pub(crate) fn key_from_string(
    text: &str,
    json_field: Option<&str>,
    source_name: &str,
) -> Result<PrivateKey, Error> {
    let Some(field) = json_field else {
        if text.trim_start().starts_with('{') {
            let fields = field_names(text)
                .map(|names| format!(" (its fields: {})", names.join(", ")))
                .unwrap_or_default();
            return Err(secret(
                source_name,
                format!(
                    "the secret is a JSON object{fields}, not PEM text; name the field that holds the PEM \
                     key (`json_field`)"
                ),
            ));
        }
        return parse_pem(text, source_name);
    };
    let source_name = format!("{source_name} (JSON field `{field}`)");
    // Borrowed: only the chosen field is copied, into zeroizing memory.
    let object: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(|e| {
        secret(
            &source_name,
            format!(
                "the secret is not a JSON object ({}), so it has no field `{field}`; drop `json_field` if the \
                 secret holds the PEM text itself",
                // Never `e` itself: serde's message may quote the value.
                match e.classify() {
                    serde_json::error::Category::Data => "it is JSON of another type",
                    _ => "it does not parse as JSON",
                }
            ),
        )
    })?;
    let Some(raw) = object.get(field) else {
        let names: Vec<String> = object.keys().map(|k| format!("`{k}`")).collect();
        return Err(secret(
            &source_name,
            format!(
                "the JSON secret has no field `{field}`; its fields are: {} (names are case-sensitive)",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    };
    let value: Zeroizing<String> =
        Zeroizing::new(serde_json::from_str(raw.get()).map_err(|_| {
            secret(
                &source_name,
                "the field is not a JSON string; store the PEM text as a string".to_owned(),
            )
        })?);
    parse_pem(&value, &source_name)
}

/// The private key in a secret's binary value: DER (PKCS#8, PKCS#1, SEC1) or PEM bytes.
pub(crate) fn key_from_binary(bytes: &[u8], source_name: &str) -> Result<PrivateKey, Error> {
    if bytes.is_empty() {
        return Err(secret(source_name, "the binary secret is empty".to_owned()));
    }
    PrivateKey::parse(bytes).map_err(|error| Error::Key {
        source_name: source_name.to_owned(),
        error,
    })
}

fn parse_pem(text: &str, source_name: &str) -> Result<PrivateKey, Error> {
    if text.trim().is_empty() {
        return Err(secret(source_name, "the value is empty".to_owned()));
    }
    PrivateKey::from_pem(text).map_err(|error| Error::Key {
        source_name: source_name.to_owned(),
        error,
    })
}

/// The top-level field names of a JSON object (names only: values may be secret).
fn field_names(text: &str) -> Option<Vec<String>> {
    let object: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
    Some(object.into_keys().map(|k| format!("`{k}`")).collect())
}

fn secret(source_name: &str, reason: String) -> Error {
    Error::Secret {
        source_name: source_name.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use cfsign::{KeyKind, PrivateKey};

    use super::*;

    /// Checks that `text` (with `field`) loads `key`, or fails with an error containing `needles`.
    fn check(text: &str, field: Option<&str>, expected: Result<&PrivateKey, &[&str]>) {
        let got = key_from_string(text, field, "secret `s`");
        match (got, expected) {
            (Ok(got), Ok(key)) => assert_eq!(got.public_key(), key.public_key()),
            (Err(err), Err(needles)) => {
                let message = err.to_string();
                for needle in needles {
                    assert!(
                        message.contains(needle),
                        "{field:?}: no `{needle}` in {message}"
                    );
                }
                assert!(
                    !message.contains("PRIVATE KEY-----\n"),
                    "key text leaked: {message}"
                );
            }
            (got, _) => panic!("{text:.40} / {field:?}: got {:?}", got.map(|_| "a key")),
        }
    }

    #[test]
    fn secret_strings() {
        let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
        let pem = key.to_pkcs8_pem();
        let escaped = pem.replace('\n', "\\n");
        let flat = pem.replace('\n', " ");
        let json = serde_json::json!({"private_key": pem.as_str(), "user": "x"}).to_string();
        // JSON whose value holds literal backslash-n (double-escaped by a shell script).
        let double = serde_json::json!({"pem": escaped}).to_string();
        let public = key.public_key().to_pem();
        let ok = Ok(&key);
        check(&pem, None, ok);
        check(&escaped, None, ok);
        check(&flat, None, ok);
        check(&format!("\"{escaped}\""), None, ok);
        check(&json, Some("private_key"), ok);
        check(&double, Some("pem"), ok);
        check(
            &json,
            None,
            Err(&["JSON object", "`private_key`, `user`", "json_field"]),
        );
        check(
            &json,
            Some("key"),
            Err(&[
                "no field `key`",
                "`private_key`, `user`",
                "JSON field `key`",
            ]),
        );
        check(&json, Some("user"), Err(&["JSON field `user`"]));
        check(
            &pem,
            Some("private_key"),
            Err(&["not a JSON object", "drop `json_field`"]),
        );
        check(
            r#"{"private_key": 42}"#,
            Some("private_key"),
            Err(&["not a JSON string"]),
        );
        check(&public, None, Err(&["public key", "secret `s`"]));
        check("hunter2", None, Err(&["secret `s`"]));
        check("  ", None, Err(&["empty"]));
    }

    #[test]
    fn secret_binary() {
        let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
        for bytes in [
            key.to_pkcs8_der().to_vec(),
            key.to_pkcs8_pem().as_bytes().to_vec(),
        ] {
            let got = key_from_binary(&bytes, "secret `s`").unwrap();
            assert_eq!(got.public_key(), key.public_key());
        }
        let err = key_from_binary(&key.public_key().to_der(), "secret `s`")
            .unwrap_err()
            .to_string();
        assert!(err.contains("public key"), "{err}");
        let err = key_from_binary(b"", "secret `s`").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = key_from_binary(&[0x30, 0x03, 1, 2, 3], "secret `s`")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("secret `s`: "), "{err}");
    }
}
