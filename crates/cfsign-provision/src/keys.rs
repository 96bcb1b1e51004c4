//! Key material: reading a public key file, reusing or generating the key pair of `setup` and
//! `rotate`, writing a private key (mode 0600), and the plan step that uploads a public key.

use std::path::Path;

use cfsign::{KeyPairId, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::Error;
use crate::api::KeyInfo;
use crate::options::{KeySource, private_key_file};
use crate::plan::{Change, Plan};
use crate::refs::KeyRef;

/// Reads and validates a public key file for upload.
pub fn read_public_key(path: &Path) -> Result<PublicKey, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "cannot read public key file",
        path: path.to_owned(),
        source,
    })?;
    let context = format!("public key file {}", path.display());
    let key = PublicKey::from_pem(&text).map_err(|e| Error::key(&context, e))?;
    key.check_accepted_by_key_groups()
        .map_err(|e| Error::key(&context, e))?;
    Ok(key)
}

/// A public key ID as given on the command line, checked.
pub(crate) fn valid_key_id(id: &str) -> Result<String, Error> {
    KeyPairId::new(id)
        .map(|k| k.as_str().to_owned())
        .map_err(|e| Error::key("public key ID", e))
}

/// Whether an uploaded key (PEM) holds this key material (DER).
fn same_key(encoded: &str, der: &[u8]) -> bool {
    PublicKey::from_pem(encoded)
        .map(|k| k.to_der() == der)
        .unwrap_or(false)
}

/// Plans the key pair of `setup` and `rotate` and returns its public key: the given public key
/// file; the private key already in the output file (in place); or a new key, with a step that
/// writes it there.
pub(crate) fn plan_key_pair(
    plan: &mut Plan,
    keys: &[KeyInfo],
    key_name: &str,
    source: &KeySource,
) -> Result<PublicKey, Error> {
    const ACTION: &str = "write private key";
    let (kind, out) = match source {
        KeySource::PublicKeyFile(path) => return read_public_key(path),
        KeySource::Kms {
            arn, public_key, ..
        } => {
            plan.report.kms_key_arn = Some(arn.clone());
            return Ok(public_key.clone());
        }
        KeySource::Secret {
            name,
            kind,
            existing,
        } => return plan_secret(plan, keys, key_name, name, *kind, existing.as_ref()),
        KeySource::Generate {
            kind,
            private_key_out,
        } => (
            *kind,
            private_key_file(private_key_out.as_deref(), key_name),
        ),
    };
    plan.report.private_key_path = Some(out.clone());
    if out.exists() {
        let text = Zeroizing::new(std::fs::read_to_string(&out).map_err(|source| Error::Io {
            what: "cannot read existing private key file",
            path: out.clone(),
            source,
        })?);
        let key = PrivateKey::from_pem(&text).map_err(|e| {
            Error::key(
                format!(
                    "{} already exists but is not a usable private key (move it away or pass another --private-key-out)",
                    out.display()
                ),
                e,
            )
        })?;
        let public = key.public_key();
        public
            .check_accepted_by_key_groups()
            .map_err(|e| Error::key(format!("private key {}", out.display()), e))?;
        plan.in_place(
            ACTION,
            format!("reusing the private key in {}", out.display()),
        );
        return Ok(public);
    }
    // A key of this name without its private key file: refuse rather than make a second one.
    if let Some(existing) = keys.iter().find(|k| k.name == key_name) {
        return Err(Error::PrivateKeyMissing {
            name: key_name.to_owned(),
            id: existing.id.clone(),
            path: out,
        });
    }
    let key = PrivateKey::generate(kind, &mut rand::rng())
        .map_err(|e| Error::key("generating a key", e))?;
    let public = key.public_key();
    plan.change(ACTION, Change::WritePrivateKey { path: out, key });
    Ok(public)
}

/// Plans the key pair kept in Secrets Manager secret `secret`: the key already there (in
/// place), or a new key stored by a step of the plan.
fn plan_secret(
    plan: &mut Plan,
    keys: &[KeyInfo],
    key_name: &str,
    secret: &str,
    kind: cfsign::KeyKind,
    existing: Option<&PublicKey>,
) -> Result<PublicKey, Error> {
    const ACTION: &str = "store private key";
    plan.report.private_key_secret = Some(secret.to_owned());
    if let Some(public) = existing {
        public
            .check_accepted_by_key_groups()
            .map_err(|e| Error::key(format!("the private key in secret `{secret}`"), e))?;
        plan.in_place(
            ACTION,
            format!("reusing the private key in Secrets Manager secret `{secret}`"),
        );
        return Ok(public.clone());
    }
    // A key of this name whose private key is not in the secret: refuse rather than make a second.
    if let Some(existing) = keys.iter().find(|k| k.name == key_name) {
        return Err(Error::Usage(format!(
            "public key `{key_name}` ({}) exists in CloudFront, but secret `{secret}` does not: its private key \
             is elsewhere. Pass another --key-name, or the secret that holds it",
            existing.id
        )));
    }
    let key = PrivateKey::generate(kind, &mut rand::rng())
        .map_err(|e| Error::key("generating a key", e))?;
    let public = key.public_key();
    plan.change(
        ACTION,
        Change::StoreSecret {
            name: secret.to_owned(),
            key,
        },
    );
    Ok(public)
}

/// Plans the upload of `key` as `name`: in place when a key of that name holds the same key
/// material, an error when it holds other material, else a new key. Notes other names the same
/// material is uploaded under.
pub(crate) fn plan_public_key(
    plan: &mut Plan,
    keys: &[KeyInfo],
    name: &str,
    key: &PublicKey,
) -> Result<KeyRef, Error> {
    const ACTION: &str = "upload public key";
    let der = key.to_der();
    if let Some(existing) = keys.iter().find(|k| k.name == name) {
        if !same_key(&existing.encoded_key, &der) {
            return Err(Error::KeyNameConflict {
                name: name.to_owned(),
                id: existing.id.clone(),
            });
        }
        plan.in_place(
            ACTION,
            format!(
                "public key `{name}` ({}) already holds this key",
                existing.id
            ),
        );
        return Ok(KeyRef::Existing(existing.id.clone()));
    }
    for other in keys.iter().filter(|k| same_key(&k.encoded_key, &der)) {
        plan.report.notes.push(format!(
            "the same key material is also uploaded as `{}` ({})",
            other.name, other.id
        ));
    }
    plan.change(
        ACTION,
        Change::CreatePublicKey {
            name: name.to_owned(),
            key: key.clone(),
        },
    );
    Ok(KeyRef::New(name.to_owned()))
}

/// Writes a private key to a new file, readable only by its owner.
pub(crate) fn write_private_key(path: &Path, pem: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let io = |source| Error::Io {
        what: "cannot write the private key to",
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}
