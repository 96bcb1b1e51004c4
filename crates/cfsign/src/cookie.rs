//! Signed cookies: the `CloudFront-*` name/value pairs and ready `Set-Cookie` header values.

use crate::{Error, HashAlgorithm, KeyPairId};

/// Attributes for the `Set-Cookie` headers: `Domain`, `Path`, `Secure`, `HttpOnly`.
///
/// Defaults: no `Domain` (the cookie goes back to the host that set it), `Path=/`, `Secure` and
/// `HttpOnly` on. No `Expires`/`Max-Age`: AWS recommends session cookies; the policy carries the expiry.
///
/// ```
/// use cfsign::CookieAttributes;
/// let attrs = CookieAttributes::new().with_domain("media.example.com")?.with_path("/private/")?;
/// assert!(CookieAttributes::new().with_domain("d111.cloudfront.net").is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttributes {
    domain: Option<String>,
    path: String,
    secure: bool,
    http_only: bool,
}

impl Default for CookieAttributes {
    fn default() -> Self {
        CookieAttributes {
            domain: None,
            path: "/".to_owned(),
            secure: true,
            http_only: true,
        }
    }
}

impl CookieAttributes {
    /// The defaults: `Path=/; Secure; HttpOnly`.
    pub fn new() -> CookieAttributes {
        CookieAttributes::default()
    }

    /// Sets `Domain`. It must be a host name you control (the cookies must reach CloudFront through
    /// your alternate domain name); `cloudfront.net` names are refused because browsers will not
    /// share cookies across them.
    pub fn with_domain(mut self, domain: &str) -> Result<CookieAttributes, Error> {
        let d = domain.trim().trim_start_matches('.').to_ascii_lowercase();
        let invalid = |reason: &str| Error::InvalidCookieAttribute {
            reason: format!("Domain `{domain}`: {reason}"),
        };
        if d.is_empty()
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "use a host name such as media.example.com (letters, digits, `-` and `.` only)",
            ));
        }
        if d == "cloudfront.net" || d.ends_with(".cloudfront.net") {
            return Err(invalid(
                "cookies cannot be set for *.cloudfront.net; give the distribution an alternate domain name \
                 (e.g. media.example.com) under your site's domain and use that",
            ));
        }
        self.domain = Some(d);
        Ok(self)
    }

    /// Sets `Path` (must start with `/`).
    pub fn with_path(mut self, path: &str) -> Result<CookieAttributes, Error> {
        if !path.starts_with('/')
            || path
                .chars()
                .any(|c| c == ';' || c.is_control() || c.is_whitespace())
        {
            return Err(Error::InvalidCookieAttribute {
                reason: format!(
                    "Path `{path}` must start with `/` and contain no `;`, spaces or control characters"
                ),
            });
        }
        self.path = path.to_owned();
        Ok(self)
    }

    /// Turns `Secure` on or off (off only makes sense for plain-http test set-ups).
    pub fn with_secure(mut self, secure: bool) -> CookieAttributes {
        self.secure = secure;
        self
    }

    /// Turns `HttpOnly` on or off.
    pub fn with_http_only(mut self, http_only: bool) -> CookieAttributes {
        self.http_only = http_only;
        self
    }

    /// The `Domain` attribute, if set.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The `Path` attribute.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether `Secure` is set.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether `HttpOnly` is set.
    pub fn http_only(&self) -> bool {
        self.http_only
    }
}

/// The cookies CloudFront reads: `CloudFront-Expires` or `CloudFront-Policy`, then
/// `CloudFront-Signature`, `CloudFront-Key-Pair-Id` and, for SHA-256, `CloudFront-Hash-Algorithm`.
///
/// ```
/// use cfsign::{HashAlgorithm, KeyKind, PrivateKey, Signer, UnixTime};
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?)
///     .with_hash_algorithm(HashAlgorithm::Sha256);
/// let cookies = signer.canned_cookies("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// let names: Vec<&str> = cookies.pairs().iter().map(|(name, _)| *name).collect();
/// assert_eq!(names, ["CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id", "CloudFront-Hash-Algorithm"]);
/// assert_eq!(cookies.get("CloudFront-Expires"), Some("1767225600"));
/// assert!(cookies.cookie_header().starts_with("CloudFront-Expires=1767225600; CloudFront-Signature="));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCookies {
    pairs: Vec<(&'static str, String)>,
}

impl SignedCookies {
    pub(crate) fn new(
        first: (&'static str, String),
        signature: String,
        key_pair_id: KeyPairId,
        hash: HashAlgorithm,
    ) -> Self {
        let mut pairs = vec![
            first,
            ("CloudFront-Signature", signature),
            ("CloudFront-Key-Pair-Id", key_pair_id.to_string()),
        ];
        if hash != HashAlgorithm::Sha1 {
            pairs.push(("CloudFront-Hash-Algorithm", hash.as_str().to_owned()));
        }
        SignedCookies { pairs }
    }

    /// The cookie names and values, in the order above.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }

    /// The value of one cookie, by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A `Cookie` request header value (`CloudFront-Policy=…; CloudFront-Signature=…; …`), for
    /// clients such as curl.
    pub fn cookie_header(&self) -> String {
        self.pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One `Set-Cookie` header value per cookie, with the given attributes.
    pub fn set_cookie_headers(&self, attrs: &CookieAttributes) -> Vec<String> {
        self.pairs
            .iter()
            .map(|(name, value)| {
                let mut header = format!("{name}={value}");
                if let Some(domain) = &attrs.domain {
                    header.push_str("; Domain=");
                    header.push_str(domain);
                }
                header.push_str("; Path=");
                header.push_str(&attrs.path);
                if attrs.secure {
                    header.push_str("; Secure");
                }
                if attrs.http_only {
                    header.push_str("; HttpOnly");
                }
                header
            })
            .collect()
    }
}
