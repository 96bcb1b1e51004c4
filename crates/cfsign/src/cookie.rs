//! Signed cookies: the `CloudFront-*` name/value pairs and ready `Set-Cookie` header values.

use crate::url::check_signable;
use crate::{CannedPolicy, CustomPolicy, Error, HashAlgorithm, KeyPairId, UnixTime, encoding};

/// Attributes for the `Set-Cookie` headers: `Domain`, `Path`, `Secure`, `HttpOnly`.
///
/// Defaults: no `Domain` (the cookie goes back to the host that set it), `Path=/`, `Secure` and
/// `HttpOnly` on. No `Expires`/`Max-Age`: AWS recommends session cookies; the policy carries the expiry.
///
/// ```
/// use cfsign::CookieAttributes;
/// let attrs = CookieAttributes::new().with_domain("media.example.com")?.with_path("/private/")?;
/// // The distribution's own name is allowed; the shared parent `cloudfront.net` is not.
/// assert!(CookieAttributes::new().with_domain("d111111abcdef8.cloudfront.net").is_ok());
/// assert!(CookieAttributes::new().with_domain("cloudfront.net").is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttributes {
    domain: Option<String>,
    path: String,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

/// The `SameSite` cookie attribute: when browsers send the cookie on requests that a page of
/// another site starts.
///
/// A player page on `www.example.com` fetching segments from `media.example.com` is *same-site*
/// (one registrable domain), so `Lax` and `Strict` cookies are sent with its requests; a page on
/// another site needs `None` (and `Secure`), which browsers that block third-party cookies
/// (Safari, Firefox) ignore anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent only when the request comes from the same site.
    Strict,
    /// Also sent on top-level navigations from other sites (browsers' default).
    Lax,
    /// Sent on every request, cross-site too; needs `Secure`.
    None,
}

impl SameSite {
    /// `Strict`, `Lax` or `None`, as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl Default for CookieAttributes {
    fn default() -> Self {
        CookieAttributes {
            domain: None,
            path: "/".to_owned(),
            secure: true,
            http_only: true,
            same_site: None,
        }
    }
}

impl CookieAttributes {
    /// The defaults: `Path=/; Secure; HttpOnly`.
    pub fn new() -> CookieAttributes {
        CookieAttributes::default()
    }

    /// Sets `Domain`: your alternate domain name (`media.example.com`, so a site under
    /// `example.com` can set the cookies), or the distribution's own name
    /// (`d111111abcdef8.cloudfront.net`, as in the developer guide's examples). The wildcard forms
    /// `*.cloudfront.net` and `cloudfront.net` are refused: the guide forbids them, and browsers
    /// refuse cookies for a public suffix anyway.
    pub fn with_domain(mut self, domain: &str) -> Result<CookieAttributes, Error> {
        let d = domain.trim().trim_start_matches('.').to_ascii_lowercase();
        let invalid = |reason: &str| Error::InvalidCookieAttribute {
            reason: format!("Domain `{domain}`: {reason}"),
        };
        if d == "cloudfront.net" || (d.starts_with("*.") && d.ends_with(".cloudfront.net")) {
            return Err(invalid(
                "cookies cannot be set for all of cloudfront.net; use the distribution's own name \
                 (e.g. d111111abcdef8.cloudfront.net) or, better, an alternate domain name under your site's \
                 domain (e.g. media.example.com)",
            ));
        }
        if d.is_empty()
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "use a host name such as media.example.com (letters, digits, `-` and `.` only)",
            ));
        }
        self.domain = Some(d);
        Ok(self)
    }

    /// Sets `Path` (must start with `/`, ASCII: percent-encode other characters as the URL does).
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
        if !path.is_ascii() {
            // Browsers compare `Path` byte for byte with the request's path, which is
            // percent-encoded: a raw non-ASCII `Path` never matches.
            let encoded: String = path
                .bytes()
                .map(|b| {
                    if b.is_ascii() {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            return Err(Error::InvalidCookieAttribute {
                reason: format!(
                    "Path `{path}` is not ASCII; browsers compare it with the percent-encoded request path, \
                     so write it as the URL does: `{encoded}`"
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

    /// Sets `SameSite` (not written by default: browsers then apply `Lax`). `SameSite=None`
    /// needs `Secure`, or browsers drop the cookie.
    ///
    /// ```
    /// use cfsign::{CookieAttributes, SameSite};
    /// let attrs = CookieAttributes::new().with_same_site(SameSite::Strict);
    /// assert_eq!(attrs.same_site(), Some(SameSite::Strict));
    /// ```
    pub fn with_same_site(mut self, same_site: SameSite) -> CookieAttributes {
        self.same_site = Some(same_site);
        self
    }

    /// The `SameSite` attribute, if set.
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
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
                if let Some(same_site) = attrs.same_site {
                    header.push_str("; SameSite=");
                    header.push_str(same_site.as_str());
                }
                header
            })
            .collect()
    }
}

/// Cookies with their policy, before the signature exists: the cookie counterpart of
/// [`UnsignedUrl`](crate::UnsignedUrl), for callers that cache signatures by policy bytes.
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, Signer, UnixTime, UnsignedCookies};
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng())?);
/// let unsigned = UnsignedCookies::canned("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// let signature = signer.sign_bytes(unsigned.policy_bytes())?;
/// let cookies = unsigned.finish(&signature, signer.key_pair_id(), signer.hash_algorithm());
/// assert_eq!(cookies.get("CloudFront-Expires"), Some("1767225600"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnsignedCookies {
    policy_json: String,
    /// `CloudFront-Expires` for a canned policy; `None` for a custom one.
    canned_expires: Option<UnixTime>,
}

impl UnsignedCookies {
    /// Cookies for exactly `resource` (a URL) under a canned policy expiring at `expires`.
    pub fn canned(resource: &str, expires: UnixTime) -> Result<UnsignedCookies, Error> {
        check_signable(resource)?;
        Ok(UnsignedCookies {
            policy_json: CannedPolicy::new(resource, expires).to_json(),
            canned_expires: Some(expires),
        })
    }

    /// Cookies under a custom policy (wildcards allowed).
    pub fn custom(policy: &CustomPolicy) -> UnsignedCookies {
        UnsignedCookies {
            policy_json: policy.to_json(),
            canned_expires: None,
        }
    }

    /// Cookies under a policy document the caller wrote, signed byte for byte as given (as
    /// botocore, the JS and Go signers allow). The document must parse as a CloudFront policy
    /// ([`CustomPolicy::parse`]).
    ///
    /// ```
    /// use cfsign::UnsignedCookies;
    /// let doc = r#"{ "Statement": [ { "Resource": "https://d1.example.net/hls/*",
    ///     "Condition": { "DateLessThan": { "AWS:EpochTime": 1767225600 } } } ] }"#;
    /// let unsigned = UnsignedCookies::with_policy(doc)?;
    /// assert_eq!(unsigned.policy_bytes(), doc.as_bytes());
    /// assert!(UnsignedCookies::with_policy("{}").is_err());
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn with_policy(document: &str) -> Result<UnsignedCookies, Error> {
        CustomPolicy::parse_document(document)?;
        Ok(UnsignedCookies {
            policy_json: document.to_owned(),
            canned_expires: None,
        })
    }

    /// The exact bytes to sign.
    pub fn policy_bytes(&self) -> &[u8] {
        self.policy_json.as_bytes()
    }

    /// The cookies carrying `signature`.
    pub fn finish(
        &self,
        signature: &[u8],
        key_pair_id: &KeyPairId,
        hash: HashAlgorithm,
    ) -> SignedCookies {
        let first = match self.canned_expires {
            Some(expires) => ("CloudFront-Expires", expires.as_secs().to_string()),
            None => ("CloudFront-Policy", encoding::encode(self.policy_bytes())),
        };
        SignedCookies::new(
            first,
            encoding::encode(signature),
            key_pair_id.clone(),
            hash,
        )
    }
}
