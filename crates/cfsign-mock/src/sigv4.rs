//! AWS Signature Version 4 for the edge's origin requests (service `s3`), written from the
//! SigV4 specification over `hmac`/`sha2`: the mock links no AWS SDK. Tests check it against
//! AWS's published S3 example and, in `tests/s3_origin.rs`, botocore's signer recomputing the
//! signature of a request the edge really sent.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The SHA-256 of an empty payload, the `x-amz-content-sha256` of a GET or HEAD.
pub(crate) const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// AWS credentials for signing origin requests. The secret lives in zeroizing memory and is never
/// printed (`Debug` shows the access key ID only).
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<String>,
}

impl Credentials {
    /// Credentials from an access key ID, a secret access key and an optional session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.filter(|t| !t.is_empty()),
        }
    }

    /// The access key ID.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A request to sign: everything that goes into the canonical request.
pub(crate) struct Unsigned<'a> {
    /// `GET` or `HEAD`.
    pub(crate) method: &'a str,
    /// The `Host` header value (with `:port` when not the scheme's default).
    pub(crate) host: &'a str,
    /// The path, already URI-encoded as it is sent (S3: each segment encoded once).
    pub(crate) path: &'a str,
    /// Other headers to sign, as (name, value); names in any case.
    pub(crate) headers: &'a [(String, String)],
    /// The region, like `eu-west-1`.
    pub(crate) region: &'a str,
    /// The service, `s3`.
    pub(crate) service: &'a str,
    /// The signing time as `YYYYMMDDTHHMMSSZ`.
    pub(crate) amz_date: &'a str,
}

/// Signs `req`: the headers to add, in order: `x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token` (with a session token) and `authorization`.
pub(crate) fn sign(credentials: &Credentials, req: &Unsigned<'_>) -> Vec<(String, String)> {
    let mut added = vec![
        ("x-amz-date".to_owned(), req.amz_date.to_owned()),
        (
            "x-amz-content-sha256".to_owned(),
            EMPTY_PAYLOAD_SHA256.to_owned(),
        ),
    ];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut signed: Vec<(String, String)> = vec![("host".to_owned(), req.host.to_owned())];
    signed.extend(
        req.headers
            .iter()
            .chain(added.iter())
            .map(|(n, v)| (n.to_ascii_lowercase(), canonical_value(v))),
    );
    signed.sort();
    let signed_names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
    let signed_headers = signed_names.join(";");
    let mut canonical = format!("{}\n{}\n\n", req.method, req.path);
    for (n, v) in &signed {
        canonical.push_str(n);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    canonical.push_str(EMPTY_PAYLOAD_SHA256);
    let date = req.amz_date.get(..8).unwrap_or(req.amz_date);
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        req.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &credentials.secret_access_key,
        date,
        req.region,
        req.service,
    );
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()).as_slice());
    added.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

/// The signing key: HMAC chain over date, region, service and `aws4_request`, every step in
/// zeroizing memory.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Zeroizing<Vec<u8>> {
    let seed = Zeroizing::new(format!("AWS4{secret}"));
    let k_date = hmac(seed.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Zeroizing::new(Vec::new()),
    };
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

/// A header value as SigV4 canonicalises it: trimmed, inner runs of spaces made one.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// URI-encodes as SigV4 (and S3) want: unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay, every
/// other byte becomes `%XY` in upper case; `/` stays when `keep_slash`.
pub(crate) fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds.
pub(crate) fn amz_date(unix_seconds: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "19700101T000000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example "GET Object" (Amazon S3 API Reference, "Signature Calculations
    /// for the Authorization Header: Transferring Payload in a Single Chunk").
    #[test]
    fn aws_s3_get_object_example() {
        let credentials = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        );
        let headers = vec![("Range".to_owned(), "bytes=0-9".to_owned())];
        let added = sign(
            &credentials,
            &Unsigned {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                path: "/test.txt",
                headers: &headers,
                region: "us-east-1",
                service: "s3",
                amz_date: "20130524T000000Z",
            },
        );
        let auth = added
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            auth,
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let credentials = Credentials::new("AKID", "hunter2-value", Some("token/+=".to_owned()));
        let added = sign(
            &credentials,
            &Unsigned {
                method: "GET",
                host: "127.0.0.1:9000",
                path: "/b/k",
                headers: &[],
                region: "eu-west-1",
                service: "s3",
                amz_date: "20260101T000000Z",
            },
        );
        assert!(added.contains(&("x-amz-security-token".to_owned(), "token/+=".to_owned())));
        let auth = &added.last().unwrap().1;
        assert!(
            auth.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"
            ),
            "{auth}"
        );
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert!(!format!("{credentials:?}").contains("token/"));
    }

    #[test]
    fn encoding_and_dates() {
        assert_eq!(uri_encode("a b/ü~*", true), "a%20b/%C3%BC~%2A");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(amz_date(1_369_353_600), "20130524T000000Z");
        assert_eq!(canonical_value("  a   b  "), "a b");
    }
}
