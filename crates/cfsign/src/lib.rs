//! Sign and verify Amazon CloudFront signed URLs and signed cookies, and explain why CloudFront
//! would answer 403.
//!
//! This crate is pure computation: no I/O, no clock reads, no async. Callers pass the time in
//! ([`UnixTime`]) and, for key generation, a random number generator.
//!
//! # Signing
//!
//! ```
//! use cfsign::{KeyKind, PrivateKey, Signer, UnixTime};
//! // Usually: PrivateKey::from_pem(&std::env::var("AWS_CLOUDFRONT_KEY")?)
//! let key = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng())?;
//! let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
//! let url = signer.sign_canned_url("https://d111111abcdef8.cloudfront.net/private/a.jpg", UnixTime::from_secs(1767225600)?)?;
//! assert!(url.contains("?Expires=1767225600&Signature="));
//! # Ok::<(), cfsign::Error>(())
//! ```
//!
//! # Verifying
//!
//! [`verify`] decides a request as CloudFront's edge does and explains a denial; [`inspect_url`]
//! and [`inspect_cookies`] decode without verifying. Custom policies' resources match by the rule
//! documented on [`Resource`] (the developer guide's sections and exceptions, and the unescaped `?`
//! every AWS SDK writes).
//!
//! Where CloudFront's behaviour is not documented (standard base64 in a signature, `sha256` in
//! lower case, the `DateGreaterThan` second, …) the [`Decision`] carries an [`Undocumented`] note
//! saying what was decided and why; [`Decision::strict`] keeps only what the documentation promises.
//!
//! # Streaming
//!
//! [`stream::sign_manifest`] makes every URI of an HLS playlist or DASH MPD carry the parameters
//! of one custom policy for the stream's prefix ([`stream::SignedParams`]), so one signature
//! covers a whole stream; the same signature also works as cookies.
//!
//! # Backends
//!
//! RSA signatures come from RustCrypto's `rsa` by default; the `native` feature switches to
//! OpenSSL ([`Backend`]), with byte-identical output.

mod backend;
mod cookie;
mod decision;
mod deny_code;
pub mod encoding;
mod error;
mod hash;
mod inspect;
mod key;
#[cfg(feature = "native")]
mod native;
mod params;
mod pem;
mod policy;
mod resource;
mod sign;
pub mod stream;
mod time;
mod undocumented;
mod url;
mod verify;

pub use crate::backend::Backend;
pub use crate::cookie::{CookieAttributes, SameSite, SignedCookies, UnsignedCookies};
pub use crate::decision::{Decision, Denial, DenyReason, Grant};
pub use crate::deny_code::DenyCode;
pub use crate::error::Error;
pub use crate::hash::HashAlgorithm;
pub use crate::inspect::{Inspection, inspect_cookies, inspect_url};
pub use crate::key::{KeyAlgorithm, KeyKind, KeyPairId, PrivateKey, PublicKey};
pub use crate::params::SignatureSource;
pub use crate::policy::{CannedPolicy, CustomPolicy, SourceIp};
pub use crate::resource::Resource;
pub use crate::sign::{Signer, UnsignedUrl};
pub use crate::time::{UnixTime, format_duration, parse_duration};
pub use crate::undocumented::Undocumented;
pub use crate::url::{MAX_URL_BYTES, SIGNING_PARAMS};
pub use crate::verify::{Request, TrustedKeys, verify};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The `rand_core` version whose `CryptoRng` [`PrivateKey::generate`] takes.
pub use rand_core;
