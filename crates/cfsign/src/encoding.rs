//! CloudFront's base64 variant: standard base64 with `+`→`-`, `=`→`_`, `/`→`~`.
//!
//! It is not RFC 4648 base64url. Decoding also accepts the standard alphabet, since a `+`, `/` or
//! `=` that survives in a URL decodes to the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Encodes bytes in CloudFront's base64 variant.
///
/// ```
/// assert_eq!(cfsign::encoding::encode(b"\xfb\xff"), "-~8_");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

/// Decodes CloudFront's base64 variant (the standard alphabet is accepted too).
///
/// Returns `None` when the text is not base64 in either alphabet.
///
/// ```
/// assert_eq!(cfsign::encoding::decode("-~8_").as_deref(), Some(&b"\xfb\xff"[..]));
/// assert_eq!(cfsign::encoding::decode("not base64!"), None);
/// ```
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    STANDARD.decode(standard.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_lengths() {
        for len in 0..64u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(251))
                .collect();
            let text = encode(&bytes);
            assert!(!text.contains(['+', '/', '=']), "{text}");
            assert_eq!(decode(&text), Some(bytes));
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["a", "ab!c", "abc", "====", "a b c d"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
