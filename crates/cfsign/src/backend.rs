//! Which implementation computes and checks signatures: RustCrypto or OpenSSL.

/// Which implementation computes signatures. Both produce byte-identical RSA signatures and
/// the same verification answers.
///
/// The choice is always the caller's: features never change it behind a caller's back.
/// [`Signer::new`](crate::Signer::new) and [`PublicKey::verify`](crate::PublicKey::verify) use RustCrypto;
/// [`Backend::fastest`] asks for OpenSSL where the `native` feature compiled it in.
///
/// ```
/// use cfsign::{Backend, KeyKind, PrivateKey, Signer};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let signer = Signer::with_backend("K2JCJMDEHXQW5F".parse()?, key, Backend::fastest());
/// assert_eq!(signer.backend(), Backend::fastest());
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto's `rsa` and `p256`: pure Rust, constant-time, works where SHA-1 is disabled.
    RustCrypto,
    /// OpenSSL through the `openssl` crate (cargo feature `native`): several times faster, for
    /// RSA and ECDSA keys.
    #[cfg(feature = "native")]
    OpenSsl,
}

impl Backend {
    /// The fastest backend compiled in: OpenSSL with the `native` feature, else RustCrypto. The
    /// binaries cfsign ships ask for this explicitly.
    pub const fn fastest() -> Backend {
        #[cfg(feature = "native")]
        return Backend::OpenSsl;
        #[cfg(not(feature = "native"))]
        return Backend::RustCrypto;
    }
}
