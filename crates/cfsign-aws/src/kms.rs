//! Signing with a key held in AWS KMS: [`KmsKey`] checks the key once (`kms:DescribeKey`,
//! `kms:GetPublicKey`), then signs policy bytes with `kms:Sign` and verifies every signature with
//! the public key before returning it; [`KmsSigner`] finishes URLs and cookies with the core's
//! two-step API, byte for byte as a local [`cfsign::Signer`] does.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use cfsign::{HashAlgorithm, KeyPairId, PublicKey, SignedCookies, UnsignedCookies, UnsignedUrl};
use sha2::Digest as _;

use crate::kms_spec::{self, KeyFacts, KmsKeySpec};
use crate::sdk_error::Call;
use crate::{Aws, Error};

/// The largest message `kms:Sign` takes as `RAW`; longer policies are sent as their SHA-256
/// digest (`MessageType=DIGEST`), which gives the same signature.
const MAX_RAW_MESSAGE: usize = 4096;

/// A KMS key checked to sign for CloudFront: enabled, `SIGN_VERIFY`, `RSA_2048` or
/// `ECC_NIST_P256`, with its public key. The private key never leaves KMS.
///
/// Cheap to clone (the SDK client is shared).
#[derive(Debug, Clone)]
pub struct KmsKey {
    client: aws_sdk_kms::Client,
    attempts: u32,
    key_id: String,
    arn: String,
    spec: KmsKeySpec,
    public_key: PublicKey,
}

impl KmsKey {
    /// Looks `key_id` up (a key ID, key ARN, alias name or alias ARN) and checks that it can sign
    /// for CloudFront, with a clear [`Error::UnsuitableKmsKey`] if not.
    pub async fn connect(aws: &Aws, key_id: &str) -> Result<KmsKey, Error> {
        let key_id = key_id.trim();
        if key_id.is_empty() {
            return Err(Error::InvalidReference(
                "the KMS key ID is empty; give a key ID, key ARN or alias (alias/…)".to_owned(),
            ));
        }
        let describe = Call {
            service: "KMS",
            operation: "kms:DescribeKey",
            resource: key_id,
            attempts: aws.attempts,
        };
        let described = aws
            .kms
            .describe_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| describe.error(e))?;
        let metadata = described
            .key_metadata()
            .ok_or_else(|| describe.malformed("KeyMetadata"))?;
        let spec = kms_spec::check(KeyFacts {
            spec: metadata.key_spec().map(|s| s.as_str()),
            usage: metadata.key_usage().map(|u| u.as_str()),
            state: metadata.key_state().map(|s| s.as_str()),
        })
        .map_err(|reason| unsuitable(key_id, reason))?;
        let arn = metadata.arn().unwrap_or(metadata.key_id()).to_owned();

        let get = Call {
            operation: "kms:GetPublicKey",
            ..describe
        };
        let answer = aws
            .kms
            .get_public_key()
            .key_id(&arn)
            .send()
            .await
            .map_err(|e| get.error(e))?;
        let der = answer
            .public_key()
            .ok_or_else(|| get.malformed("PublicKey"))?;
        let public_key = PublicKey::from_der(der.as_ref()).map_err(|error| Error::Key {
            source_name: format!("the public key of KMS key `{key_id}`"),
            error,
        })?;
        kms_spec::check_public_key(spec, &public_key)
            .map_err(|reason| unsuitable(key_id, reason))?;
        Ok(KmsKey {
            client: aws.kms.clone(),
            attempts: aws.attempts,
            key_id: key_id.to_owned(),
            arn,
            spec,
            public_key,
        })
    }

    /// The key ID, ARN or alias as given.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key's ARN (as `DescribeKey` reported it).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The key spec.
    pub fn spec(&self) -> KmsKeySpec {
        self.spec
    }

    /// The public key, to upload to CloudFront and to verify with.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Signs `policy` (the bytes of an [`UnsignedUrl`] or [`UnsignedCookies`]) with `kms:Sign` and
    /// returns the raw signature (PKCS#1 v1.5, or DER ECDSA), after checking it with the public
    /// key. Only [`HashAlgorithm::Sha256`]: SHA-1 is [`Error::Sha1WithKms`].
    pub async fn sign(&self, hash: HashAlgorithm, policy: &[u8]) -> Result<Vec<u8>, Error> {
        if hash != HashAlgorithm::Sha256 {
            return Err(Error::Sha1WithKms {
                key_id: self.key_id.clone(),
            });
        }
        let (message, message_type) = if policy.len() <= MAX_RAW_MESSAGE {
            (policy.to_vec(), MessageType::Raw)
        } else {
            (sha2::Sha256::digest(policy).to_vec(), MessageType::Digest)
        };
        let call = Call {
            service: "KMS",
            operation: "kms:Sign",
            resource: &self.key_id,
            attempts: self.attempts,
        };
        let answer = self
            .client
            .sign()
            .key_id(&self.arn)
            .message(Blob::new(message))
            .message_type(message_type)
            .signing_algorithm(SigningAlgorithmSpec::from(self.spec.signing_algorithm()))
            .send()
            .await
            .map_err(|e| call.error(e))?;
        let signature = answer
            .signature
            .ok_or_else(|| call.malformed("Signature"))?
            .into_inner();
        if !self
            .public_key
            .verify(HashAlgorithm::Sha256, policy, &signature)
        {
            return Err(Error::SignatureMismatch {
                key_id: self.key_id.clone(),
            });
        }
        Ok(signature)
    }
}

/// Signs URLs and cookies with a [`KmsKey`] for one CloudFront key pair ID (the ID of the public
/// key uploaded to CloudFront), always with SHA-256. The output is byte-identical to what a local
/// [`cfsign::Signer`] with the same key and SHA-256 writes.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use cfsign::{UnixTime, UnsignedUrl};
/// use cfsign_aws::{Aws, KmsKey, KmsSigner, Settings};
/// let aws = Aws::from_env(&Settings::default()).await;
/// let key = KmsKey::connect(&aws, "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab").await?;
/// let signer = KmsSigner::new("K2JCJMDEHXQW5F".parse()?, key);
/// let unsigned = UnsignedUrl::canned("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// let url = signer.sign_url(&unsigned).await?;
/// assert!(url.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KmsSigner {
    key_pair_id: KeyPairId,
    key: KmsKey,
}

impl KmsSigner {
    /// A signer writing `key_pair_id` into URLs and cookies.
    pub fn new(key_pair_id: KeyPairId, key: KmsKey) -> KmsSigner {
        KmsSigner { key_pair_id, key }
    }

    /// The key pair ID written into URLs and cookies.
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// The KMS key.
    pub fn key(&self) -> &KmsKey {
        &self.key
    }

    /// Signs a prepared URL (SHA-256).
    pub async fn sign_url(&self, unsigned: &UnsignedUrl) -> Result<String, Error> {
        let signature = self
            .key
            .sign(HashAlgorithm::Sha256, unsigned.policy_bytes())
            .await?;
        unsigned
            .finish(&signature, &self.key_pair_id, HashAlgorithm::Sha256)
            .map_err(Error::Finish)
    }

    /// Signs prepared cookies (SHA-256).
    pub async fn sign_cookies(&self, unsigned: &UnsignedCookies) -> Result<SignedCookies, Error> {
        let signature = self
            .key
            .sign(HashAlgorithm::Sha256, unsigned.policy_bytes())
            .await?;
        Ok(unsigned.finish(&signature, &self.key_pair_id, HashAlgorithm::Sha256))
    }
}

fn unsuitable(key_id: &str, reason: String) -> Error {
    Error::UnsuitableKmsKey {
        key_id: key_id.to_owned(),
        reason,
    }
}
