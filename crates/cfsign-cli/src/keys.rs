//! Keys: where the signing key, its passphrase and the key pair ID come from, `keygen` and `pubkey`.
//!
//! Key material and passphrases are never printed: errors name the flag or variable and the path,
//! never the content.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use cfsign::{Backend, HashAlgorithm, KeyKind, KeyPairId, PrivateKey, PublicKey, Signer};
use zeroize::Zeroizing;

use crate::cli::{Algorithm, Hash, KeyArgs, KeygenArgs, PubkeyArgs};
use crate::output::Out;

/// The environment variable holding the private key PEM (as django-storages users have it).
pub(crate) const KEY_ENV: &str = "AWS_CLOUDFRONT_KEY";
/// The environment variable holding the key pair ID.
pub(crate) const KEY_ID_ENV: &str = "AWS_CLOUDFRONT_KEY_ID";
/// The environment variable holding the passphrase of an encrypted private key.
pub(crate) const PASSPHRASE_ENV: &str = "AWS_CLOUDFRONT_KEY_PASSPHRASE";

/// Builds the signer from `--key-pair-id`/`--private-key`/`--passphrase-file` or the environment.
pub(crate) fn signer(args: &KeyArgs, backend: Backend) -> Result<Signer> {
    let id = key_pair_id(args.key_pair_id.as_deref())?;
    let key =
        private_key_with_passphrase(args.private_key.as_deref(), args.passphrase_file.as_deref())?;
    let hash = match args.hash {
        Hash::Sha1 => HashAlgorithm::Sha1,
        Hash::Sha256 => HashAlgorithm::Sha256,
    };
    Ok(Signer::with_backend(id, key, backend).with_hash_algorithm(hash))
}

/// The key pair ID from the flag, else the environment.
pub(crate) fn key_pair_id(flag: Option<&str>) -> Result<KeyPairId> {
    let (value, source) = match flag {
        Some(v) => (v.to_owned(), "--key-pair-id"),
        None => match std::env::var(KEY_ID_ENV) {
            Ok(v) if !v.trim().is_empty() => (v, KEY_ID_ENV),
            _ => bail!(
                "missing key pair ID: pass --key-pair-id (or set {KEY_ID_ENV}) to the ID CloudFront shows \
                 for the public key, like K2JCJMDEHXQW5F"
            ),
        },
    };
    let id = KeyPairId::new(&value).context(source)?;
    if let Some(doubt) = id.doubt() {
        // Signed anyway: the ID is only copied into the URL.
        eprintln!("warning: {source}: {doubt}");
    }
    Ok(id)
}

/// The passphrase of an encrypted private key, and where it came from (for errors; never the value).
pub(crate) struct Passphrase {
    bytes: Zeroizing<Vec<u8>>,
    source: String,
    /// How the value was read, for the wrong-passphrase error.
    how: &'static str,
}

/// The passphrase from `--passphrase-file` (one trailing newline removed), else from
/// `AWS_CLOUDFRONT_KEY_PASSPHRASE` (used as it is), else none.
pub(crate) fn passphrase(file: Option<&Path>) -> Result<Option<Passphrase>> {
    if let Some(path) = file {
        let shown = path.display();
        let path = path
            .to_str()
            .map_or_else(|| path.to_path_buf(), expand_home);
        let mut bytes = Zeroizing::new(
            fs::read(&path).with_context(|| format!("--passphrase-file: cannot read `{shown}`"))?,
        );
        // As `echo pass > file` writes it; only one newline, so a passphrase may end in spaces.
        if bytes.ends_with(b"\n") {
            bytes.pop();
            if bytes.ends_with(b"\r") {
                bytes.pop();
            }
        }
        if bytes.is_empty() {
            bail!(
                "--passphrase-file: `{shown}` is empty; it must hold the passphrase of the private key"
            );
        }
        return Ok(Some(Passphrase {
            bytes,
            source: format!("the passphrase from --passphrase-file `{shown}`"),
            how: "one trailing newline of the file is removed, nothing else",
        }));
    }
    match std::env::var_os(PASSPHRASE_ENV) {
        Some(value) if !value.is_empty() => Ok(Some(Passphrase {
            bytes: Zeroizing::new(value.into_encoded_bytes()),
            source: format!("the passphrase from {PASSPHRASE_ENV}"),
            how: "the variable is used as it is, spaces and newlines included",
        })),
        _ => Ok(None),
    }
}

/// The private key from the flag, else the environment; an encrypted key is decrypted with
/// `AWS_CLOUDFRONT_KEY_PASSPHRASE` (the commands without `--passphrase-file`, such as `verify`).
pub(crate) fn private_key(flag: Option<&str>) -> Result<PrivateKey> {
    private_key_from(flag, None, false)
}

/// The private key from the flag, else the environment; an encrypted key is decrypted with the
/// passphrase from `passphrase_file`, else from `AWS_CLOUDFRONT_KEY_PASSPHRASE`.
pub(crate) fn private_key_with_passphrase(
    flag: Option<&str>,
    passphrase_file: Option<&Path>,
) -> Result<PrivateKey> {
    private_key_from(flag, passphrase_file, true)
}

fn private_key_from(
    flag: Option<&str>,
    passphrase_file: Option<&Path>,
    has_passphrase_flag: bool,
) -> Result<PrivateKey> {
    let (value, source) = match flag {
        Some(v) => (Zeroizing::new(v.to_owned()), "--private-key"),
        None => match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => (Zeroizing::new(v), KEY_ENV),
            _ => bail!(
                "missing private key: pass --private-key PATH (or file://PATH, as for `aws cloudfront sign`), \
                 or set {KEY_ENV} to the PEM text"
            ),
        },
    };
    let passphrase = passphrase(passphrase_file)?;
    let hint = if has_passphrase_flag {
        "give its passphrase with --passphrase-file PATH (a file holding it) or in AWS_CLOUDFRONT_KEY_PASSPHRASE"
    } else {
        "give its passphrase in AWS_CLOUDFRONT_KEY_PASSPHRASE"
    };
    load_private_key(&value, source, passphrase.as_ref(), hint)
}

/// Loads a private key from a path, `file://PATH`, `fileb://PATH`, or PEM text, decrypting it with
/// `passphrase` if it is encrypted. `source` names the flag or variable in errors; `hint` says how
/// to give a passphrase.
pub(crate) fn load_private_key(
    value: &str,
    source: &str,
    passphrase: Option<&Passphrase>,
    hint: &str,
) -> Result<PrivateKey> {
    let trimmed = value.trim();
    if trimmed.contains("-----BEGIN") || trimmed.contains("PRIVATE KEY") {
        let loaded = match passphrase {
            Some(p) => PrivateKey::from_pem_with_passphrase(trimmed, &p.bytes),
            None => PrivateKey::from_pem(trimmed),
        };
        return loaded.map_err(|e| {
            key_error(e, "the PEM text", passphrase, hint).context(source.to_owned())
        });
    }
    let path = trimmed
        .strip_prefix("file://")
        .or_else(|| trimmed.strip_prefix("fileb://"))
        .unwrap_or(trimmed);
    if path.is_empty() {
        bail!("{source} is empty: give the path of the private key file");
    }
    // A long value without a newline-free path shape may be key material: never echo it.
    let shown = if path.len() > 512 || path.contains('\n') {
        "(value not shown)".to_owned()
    } else {
        format!("`{path}`")
    };
    let path = expand_home(path);
    let bytes = Zeroizing::new(fs::read(&path).with_context(|| {
        format!(
            "{source}: cannot read the private key file {shown}; give a file path, file://PATH, or the PEM text itself"
        )
    })?);
    let loaded = match passphrase {
        Some(p) => PrivateKey::parse_with_passphrase(&bytes, &p.bytes),
        None => PrivateKey::parse(&bytes),
    };
    loaded.map_err(|e| key_error(e, &shown, passphrase, hint).context(source.to_owned()))
}

/// The error for a key that did not load; `what` is the file (or "the PEM text").
fn key_error(
    err: cfsign::Error,
    what: &str,
    passphrase: Option<&Passphrase>,
    hint: &str,
) -> anyhow::Error {
    match (&err, passphrase) {
        (cfsign::Error::EncryptedKey { found }, _) => anyhow::anyhow!(
            "{what} is an encrypted private key ({found}); {hint} (never on the command line), \
             or decrypt it once with `openssl pkey -in key.pem -out key-plain.pem`"
        ),
        (cfsign::Error::WrongPassphrase { .. }, Some(passphrase)) => anyhow::anyhow!(
            "wrong passphrase: {} does not decrypt {what}. Give the passphrase the key was \
             encrypted with ({}), and check the key is whole",
            passphrase.source,
            passphrase.how
        ),
        _ => anyhow::Error::new(err).context(format!("{what} is not a usable private key")),
    }
}

/// Loads a public key (or derives it from a private key) from a file.
pub(crate) fn load_public_key(path: &str) -> Result<PublicKey> {
    let path = expand_home(path.strip_prefix("file://").unwrap_or(path));
    let bytes = Zeroizing::new(
        fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .ok()
        .filter(|t| t.contains("-----BEGIN"));
    let parsed = match text {
        Some(text) => PublicKey::from_pem(text),
        None => PublicKey::from_der(&bytes),
    };
    match parsed {
        Ok(key) => Ok(key),
        // A private key also tells us its public key; accept it rather than make people derive it
        // (decrypting it with AWS_CLOUDFRONT_KEY_PASSPHRASE if it is encrypted).
        Err(cfsign::Error::PrivateKeyGiven { .. }) => {
            let shown = format!("`{}`", path.display());
            let passphrase = passphrase(None)?;
            let loaded = match &passphrase {
                Some(p) => PrivateKey::parse_with_passphrase(&bytes, &p.bytes),
                None => PrivateKey::parse(&bytes),
            };
            let hint =
                "give its passphrase in AWS_CLOUDFRONT_KEY_PASSPHRASE, or give the public key";
            Ok(loaded
                .map_err(|e| key_error(e, &shown, passphrase.as_ref(), hint))?
                .public_key())
        }
        Err(e) => {
            Err(e).with_context(|| format!("`{}` is not a usable public key", path.display()))
        }
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `cfsign keygen`.
pub(crate) fn keygen(args: &KeygenArgs, out: &mut Out) -> Result<()> {
    let kind = match args.algorithm {
        Algorithm::Rsa2048 => KeyKind::Rsa2048,
        Algorithm::P256 => KeyKind::P256,
    };
    for path in std::iter::once(&args.out).chain(&args.public_out) {
        if !args.force && path.exists() {
            bail!(
                "`{}` already exists; pass --force to overwrite it (the old key stops working for new URLs)",
                path.display()
            );
        }
    }
    if args.public_out.as_ref() == Some(&args.out) {
        bail!("--out and --public-out are the same file; give the public key its own file");
    }
    let key = PrivateKey::generate(kind, &mut rand::rng())?;
    let pem = key.to_pkcs8_pem();
    write_file(&args.out, pem.as_bytes(), 0o600, args.force)
        .with_context(|| format!("cannot write the private key to `{}`", args.out.display()))?;
    let public = key.public_key().to_pem();
    if let Some(path) = &args.public_out {
        write_file(path, public.as_bytes(), 0o644, args.force)
            .with_context(|| format!("cannot write the public key to `{}`", path.display()))?;
    }
    out.write_str(&public)?;
    out.flush()?;
    eprintln!(
        "wrote the {} private key to {} (mode 0600; keep it secret). Upload the public key above to CloudFront \
         (Public keys > Create public key), add it to a key group, and sign with the ID CloudFront gives it.",
        key.algorithm(),
        args.out.display()
    );
    Ok(())
}

/// Writes `data` to `path` with `mode`, atomically: a temporary file in the same directory is
/// created with the final permissions and renamed over `path`.
fn write_file(path: &Path, data: &[u8], mode: u32, force: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .context("the path has no file name")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| -> Result<()> {
        let mut file = options.open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        if !force && path.exists() {
            bail!("it appeared while the key was generated; pass --force to overwrite it");
        }
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `cfsign pubkey`.
pub(crate) fn pubkey(args: &PubkeyArgs, out: &mut Out) -> Result<()> {
    let flag = args.private_key.as_deref().or(args.file.as_deref());
    let key = private_key_with_passphrase(flag, args.passphrase_file.as_deref())?;
    let public = key.public_key();
    if let Err(e) = public.check_accepted_by_key_groups() {
        eprintln!("warning: {e}");
    }
    out.write_str(&public.to_pem())?;
    Ok(())
}
