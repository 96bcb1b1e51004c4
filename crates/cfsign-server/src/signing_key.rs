//! The key that signs: a local [`Signer`] (file, variable, or a PEM read from AWS) or, with the
//! `aws` feature, a key held in AWS KMS, which signs SHA-256 only.

use std::sync::Arc;

use cfsign::{KeyPairId, PublicKey, Signer};

/// One configured signing key; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) enum SigningKey {
    /// The private key is in this process.
    Local(Arc<Signer>),
    /// The private key stays in AWS KMS; every signature is a `kms:Sign` call.
    #[cfg(feature = "aws")]
    Kms(Arc<cfsign_aws::KmsSigner>),
}

impl SigningKey {
    /// The key pair ID written into URLs and cookies.
    pub(crate) fn key_pair_id(&self) -> &KeyPairId {
        match self {
            SigningKey::Local(signer) => signer.key_pair_id(),
            #[cfg(feature = "aws")]
            SigningKey::Kms(signer) => signer.key_pair_id(),
        }
    }

    /// The public key, for `/v1/verify`.
    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::Local(signer) => signer.public_key(),
            #[cfg(feature = "aws")]
            SigningKey::Kms(signer) => signer.key().public_key().clone(),
        }
    }

    /// Whether the key signs SHA-256 only (a KMS key: KMS has no SHA-1 signing algorithm).
    pub(crate) fn sha256_only(&self) -> bool {
        match self {
            SigningKey::Local(_) => false,
            #[cfg(feature = "aws")]
            SigningKey::Kms(_) => true,
        }
    }
}
