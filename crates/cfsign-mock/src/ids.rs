//! New IDs, ETags and domain names in CloudFront's formats.

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())]))
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A new ETag, like `E2QWRUHAPOMQZL`.
pub(crate) fn new_etag() -> String {
    format!("E{}", random_chars(13, UPPER))
}

/// A new public key ID, like `K2JCJMDEHXQW5F`.
pub(crate) fn new_public_key_id() -> String {
    format!("K{}", random_chars(13, UPPER))
}

/// A new distribution ID, like `E1U5RQF7T870K0`.
pub(crate) fn new_distribution_id() -> String {
    format!("E{}", random_chars(13, UPPER))
}

/// A new origin access control ID, like `E1F83G8C2ARO7P`.
pub(crate) fn new_origin_access_control_id() -> String {
    format!("E{}", random_chars(13, UPPER))
}

/// A new key group ID: a version-4 UUID in lower case.
pub(crate) fn new_key_group_id() -> String {
    new_uuid()
}

/// A new response headers policy ID: a version-4 UUID in lower case.
pub(crate) fn new_response_headers_policy_id() -> String {
    new_uuid()
}

fn new_uuid() -> String {
    let hex = random_chars(32, b"0123456789abcdef");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// A new distribution domain name, like `d111111abcdef8.cloudfront.net`.
pub(crate) fn new_domain() -> String {
    format!("d{}.cloudfront.net", random_chars(13, LOWER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_cloudfront() {
        let k = new_public_key_id();
        assert_eq!(k.len(), 14);
        assert!(k.parse::<cfsign::KeyPairId>().is_ok());
        assert_eq!(new_key_group_id().len(), 36);
        assert!(new_domain().ends_with(".cloudfront.net"));
    }
}
