//! Public keys: CreatePublicKey, GetPublicKey, UpdatePublicKey and DeletePublicKey, with the
//! checks of a `PublicKeyConfig` and its `EncodedKey`.

use crate::api_error::ApiError;
use crate::ids::{new_etag, new_public_key_id};
use crate::model::{PublicKeyRec, Store};
use crate::ops::fields::{check_comment, check_name, expect_root, required_text};
use crate::ops::if_match::check_if_match;
use crate::xml::Element;

/// Public keys per account (CloudFront's default quota).
pub(crate) const MAX_PUBLIC_KEYS: usize = 10;

impl Store {
    /// `CreatePublicKey`: a `PublicKeyConfig` body, created at `now_ms`.
    pub(crate) fn create_public_key(
        &mut self,
        body: &Element,
        now_ms: u64,
    ) -> Result<PublicKeyRec, ApiError> {
        expect_root(body, "PublicKeyConfig")?;
        let caller_reference = required_text(body, "CallerReference")?.to_owned();
        let name = required_text(body, "Name")?.to_owned();
        let encoded_key = required_text(body, "EncodedKey")?.to_owned();
        let comment = body.child_text("Comment").map(str::to_owned);
        check_name("public key", &name)?;
        check_comment(comment.as_deref())?;
        check_encoded_key(&encoded_key)?;
        if let Some(existing) = self
            .public_keys
            .iter()
            .find(|k| k.caller_reference == caller_reference)
        {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!(
                    "The CallerReference `{caller_reference}` was already used for public key {}; use a new CallerReference.",
                    existing.id
                ),
            ));
        }
        if let Some(existing) = self.public_keys.iter().find(|k| k.name == name) {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!(
                    "A public key named `{name}` already exists ({}); choose another name.",
                    existing.id
                ),
            ));
        }
        if self.public_keys.len() >= MAX_PUBLIC_KEYS {
            return Err(ApiError::new(
                400,
                "TooManyPublicKeys",
                format!(
                    "The maximum number of public keys for this account has been reached ({MAX_PUBLIC_KEYS}); delete unused keys."
                ),
            ));
        }
        let rec = PublicKeyRec {
            id: new_public_key_id(),
            etag: new_etag(),
            created_ms: now_ms,
            caller_reference,
            name,
            encoded_key,
            comment,
        };
        self.public_keys.push(rec.clone());
        Ok(rec)
    }

    /// `GetPublicKey` and `GetPublicKeyConfig`.
    pub(crate) fn get_public_key(&self, id: &str) -> Result<PublicKeyRec, ApiError> {
        self.public_key(id).cloned()
    }

    /// `UpdatePublicKey`: only `Name` and `Comment` may change.
    pub(crate) fn update_public_key(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
    ) -> Result<PublicKeyRec, ApiError> {
        let current = self.public_key(id)?;
        check_if_match(if_match, &current.etag)?;
        expect_root(body, "PublicKeyConfig")?;
        let caller_reference = required_text(body, "CallerReference")?;
        let name = required_text(body, "Name")?.to_owned();
        let encoded_key = required_text(body, "EncodedKey")?;
        let comment = body.child_text("Comment").map(str::to_owned);
        if caller_reference != current.caller_reference
            || normalise_pem(encoded_key) != normalise_pem(&current.encoded_key)
        {
            return Err(ApiError::new(
                400,
                "CannotChangeImmutablePublicKeyFields",
                "You can't change the value of a public key's CallerReference or EncodedKey; upload a new public key instead.",
            ));
        }
        check_name("public key", &name)?;
        check_comment(comment.as_deref())?;
        if self
            .public_keys
            .iter()
            .any(|k| k.name == name && k.id != id)
        {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!("A public key named `{name}` already exists; choose another name."),
            ));
        }
        let Some(rec) = self.public_keys.iter_mut().find(|k| k.id == id) else {
            return Err(no_such_public_key(id));
        };
        rec.name = name;
        rec.comment = comment;
        rec.etag = new_etag();
        Ok(rec.clone())
    }

    /// `DeletePublicKey`: refused while a key group lists the key.
    pub(crate) fn delete_public_key(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.public_key(id)?;
        check_if_match(if_match, &current.etag)?;
        if let Some(group) = self
            .key_groups
            .iter()
            .find(|g| g.items.iter().any(|k| k == id))
        {
            return Err(ApiError::new(
                409,
                "PublicKeyInUse",
                format!(
                    "The specified public key is in use by key group {} (`{}`); remove it from the group first.",
                    group.id, group.name
                ),
            ));
        }
        self.public_keys.retain(|k| k.id != id);
        Ok(())
    }

    /// The public key with this ID; an unknown ID is `NoSuchPublicKey`.
    pub(super) fn public_key(&self, id: &str) -> Result<&PublicKeyRec, ApiError> {
        self.public_keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| no_such_public_key(id))
    }
}

fn no_such_public_key(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchPublicKey",
        format!("The specified public key does not exist: {id}"),
    )
}

/// A PEM with whitespace removed, to compare keys regardless of line endings.
fn normalise_pem(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The key must be an SPKI PEM of an RSA-2048 or P-256 key.
fn check_encoded_key(pem: &str) -> Result<(), ApiError> {
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        let hint = if pem.contains("PRIVATE KEY") {
            "this is a private key; upload only the public key (`openssl pkey -pubout`)"
        } else if pem.contains("BEGIN RSA PUBLIC KEY") {
            "this is a PKCS#1 public key; CloudFront needs SPKI (`openssl rsa -RSAPublicKey_in -pubout`)"
        } else {
            "expected a PEM block starting with -----BEGIN PUBLIC KEY-----"
        };
        return Err(ApiError::invalid_argument(format!(
            "The EncodedKey is not a valid public key: {hint}."
        )));
    }
    let key = cfsign::PublicKey::from_pem(pem).map_err(|e| {
        ApiError::invalid_argument(format!("The EncodedKey is not a valid public key: {e}."))
    })?;
    key.check_accepted_by_key_groups().map_err(|e| {
        ApiError::invalid_argument(format!(
            "The EncodedKey is not accepted: {e}. CloudFront accepts RSA-2048 and ECDSA P-256 keys."
        ))
    })
}
