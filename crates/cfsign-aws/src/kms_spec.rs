//! Which KMS keys can sign for CloudFront: the key spec, usage and state KMS reports, checked
//! before the first signature (pure, so every refusal is unit-tested).

use cfsign::{KeyAlgorithm, PublicKey};

/// A KMS key spec CloudFront accepts, with the one signing algorithm cfsign uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsKeySpec {
    /// `RSA_2048`, signing with `RSASSA_PKCS1_V1_5_SHA_256`.
    Rsa2048,
    /// `ECC_NIST_P256`, signing with `ECDSA_SHA_256` (DER signatures, as CloudFront takes them).
    EccNistP256,
}

impl KmsKeySpec {
    /// KMS's name of the key spec.
    pub fn as_str(self) -> &'static str {
        match self {
            KmsKeySpec::Rsa2048 => "RSA_2048",
            KmsKeySpec::EccNistP256 => "ECC_NIST_P256",
        }
    }

    /// KMS's name of the signing algorithm cfsign uses with it.
    pub fn signing_algorithm(self) -> &'static str {
        match self {
            KmsKeySpec::Rsa2048 => "RSASSA_PKCS1_V1_5_SHA_256",
            KmsKeySpec::EccNistP256 => "ECDSA_SHA_256",
        }
    }

    fn algorithm(self) -> KeyAlgorithm {
        match self {
            KmsKeySpec::Rsa2048 => KeyAlgorithm::Rsa { bits: 2048 },
            KmsKeySpec::EccNistP256 => KeyAlgorithm::EcdsaP256,
        }
    }
}

/// How to create a key CloudFront takes.
const CREATE: &str = "create one with `aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY` \
                      (or --key-spec RSA_2048)";

/// What KMS says about a key (`DescribeKey`; a missing value is `None`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFacts<'a> {
    /// `KeySpec` (or the older `CustomerMasterKeySpec`).
    pub(crate) spec: Option<&'a str>,
    /// `KeyUsage`.
    pub(crate) usage: Option<&'a str>,
    /// `KeyState`.
    pub(crate) state: Option<&'a str>,
}

/// The key spec if KMS's facts describe a key that can sign for CloudFront, or what is wrong.
pub(crate) fn check(facts: KeyFacts<'_>) -> Result<KmsKeySpec, String> {
    let spec = match facts.spec {
        Some("RSA_2048") => KmsKeySpec::Rsa2048,
        Some("ECC_NIST_P256") => KmsKeySpec::EccNistP256,
        Some(other @ ("RSA_3072" | "RSA_4096")) => {
            return Err(format!(
                "its key spec is {other}, and CloudFront key groups take only 2048-bit RSA or P-256 public keys; {CREATE}"
            ));
        }
        Some(other) => {
            return Err(format!(
                "its key spec is {other}; CloudFront signs with RSA_2048 or ECC_NIST_P256 keys only; {CREATE}"
            ));
        }
        None => return Err(format!("KMS did not say its key spec; {CREATE}")),
    };
    match facts.usage {
        Some("SIGN_VERIFY") => {}
        Some(other) => {
            return Err(format!(
                "its key usage is {other}, not SIGN_VERIFY (a key's usage cannot be changed); {CREATE}"
            ));
        }
        None => return Err(format!("KMS did not say its key usage; {CREATE}")),
    }
    match facts.state {
        Some("Enabled") | None => Ok(spec),
        Some("Disabled") => Err(
            "the key is disabled; enable it with `aws kms enable-key --key-id …` (or use another key)".to_owned(),
        ),
        Some("PendingDeletion") => Err(
            "the key is pending deletion; cancel that with `aws kms cancel-key-deletion --key-id …` and enable it"
                .to_owned(),
        ),
        Some(other) => Err(format!(
            "the key's state is {other}, not Enabled; only an enabled key signs"
        )),
    }
}

/// Checks that the public key `kms:GetPublicKey` returned is of the key spec KMS reported and one
/// CloudFront key groups accept.
pub(crate) fn check_public_key(spec: KmsKeySpec, public_key: &PublicKey) -> Result<(), String> {
    if public_key.algorithm() != spec.algorithm() {
        return Err(format!(
            "KMS reports key spec {} but its public key is {}",
            spec.as_str(),
            public_key.algorithm()
        ));
    }
    public_key
        .check_accepted_by_key_groups()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_facts(
        spec: Option<&str>,
        usage: Option<&str>,
        state: Option<&str>,
        expected: Result<KmsKeySpec, &[&str]>,
    ) {
        let got = check(KeyFacts { spec, usage, state });
        match (&got, expected) {
            (Ok(got), Ok(expected)) => assert_eq!(*got, expected),
            (Err(reason), Err(needles)) => {
                for needle in needles {
                    assert!(
                        reason.contains(needle),
                        "{spec:?}/{usage:?}/{state:?}: no `{needle}` in {reason}"
                    );
                }
            }
            _ => panic!("{spec:?}/{usage:?}/{state:?}: got {got:?}"),
        }
    }

    #[test]
    fn key_facts() {
        let sign = Some("SIGN_VERIFY");
        let enabled = Some("Enabled");
        check_facts(Some("RSA_2048"), sign, enabled, Ok(KmsKeySpec::Rsa2048));
        check_facts(
            Some("ECC_NIST_P256"),
            sign,
            enabled,
            Ok(KmsKeySpec::EccNistP256),
        );
        check_facts(
            Some("ECC_NIST_P256"),
            sign,
            None,
            Ok(KmsKeySpec::EccNistP256),
        );
        check_facts(
            Some("RSA_4096"),
            sign,
            enabled,
            Err(&["RSA_4096", "2048-bit RSA or P-256", "create-key"]),
        );
        check_facts(
            Some("ECC_NIST_P384"),
            sign,
            enabled,
            Err(&["ECC_NIST_P384", "RSA_2048 or ECC_NIST_P256"]),
        );
        check_facts(
            Some("SYMMETRIC_DEFAULT"),
            Some("ENCRYPT_DECRYPT"),
            enabled,
            Err(&["SYMMETRIC_DEFAULT"]),
        );
        check_facts(
            Some("ECC_SECG_P256K1"),
            sign,
            enabled,
            Err(&["ECC_SECG_P256K1"]),
        );
        check_facts(
            Some("RSA_2048"),
            Some("ENCRYPT_DECRYPT"),
            enabled,
            Err(&["ENCRYPT_DECRYPT, not SIGN_VERIFY"]),
        );
        check_facts(
            Some("RSA_2048"),
            sign,
            Some("Disabled"),
            Err(&["disabled", "enable-key"]),
        );
        check_facts(
            Some("RSA_2048"),
            sign,
            Some("PendingDeletion"),
            Err(&["cancel-key-deletion"]),
        );
        check_facts(
            Some("RSA_2048"),
            sign,
            Some("PendingImport"),
            Err(&["PendingImport, not Enabled"]),
        );
        check_facts(None, sign, enabled, Err(&["key spec"]));
        check_facts(Some("RSA_2048"), None, enabled, Err(&["key usage"]));
    }

    #[test]
    fn public_key_must_match_the_spec() {
        let p256 = cfsign::PrivateKey::generate(cfsign::KeyKind::P256, &mut rand::rng())
            .unwrap()
            .public_key();
        assert!(check_public_key(KmsKeySpec::EccNistP256, &p256).is_ok());
        let err = check_public_key(KmsKeySpec::Rsa2048, &p256).unwrap_err();
        assert!(err.contains("RSA_2048 but its public key is"), "{err}");
    }
}
