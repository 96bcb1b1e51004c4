//! Reading PEM as people paste it: a tolerant clean-up (lost newlines, literal `\n`, CRLF,
//! quotes, indentation) into canonical RFC 7468 text, then strict decoding by `pem-rfc7468`.
//!
//! Every buffer that can hold private key material here — the cleaned text, the base64 body,
//! the decoded DER — lives in `Zeroizing` memory, so it is wiped when dropped, on error paths too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::Error;

/// One PEM block: its label and decoded body.
pub(crate) struct PemBlock {
    /// The label between `-----BEGIN ` and `-----`.
    pub(crate) label: String,
    /// The decoded body (empty for a legacy encrypted block, which only OpenSSL decodes).
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// Whether RFC 1421 headers mark a legacy encrypted key (`Proc-Type: 4,ENCRYPTED`).
    pub(crate) encrypted_headers: bool,
    /// The `Proc-Type` and `DEK-Info` headers of a legacy encrypted key, as `Name: value`.
    #[cfg_attr(not(feature = "native"), allow(dead_code))] // Only OpenSSL decrypts legacy PEM.
    headers: Vec<String>,
    /// The base64 body, kept for OpenSSL when the block is a legacy encrypted key.
    #[cfg_attr(not(feature = "native"), allow(dead_code))] // Only OpenSSL decrypts legacy PEM.
    base64: Zeroizing<String>,
}

impl PemBlock {
    /// The block as well-formed PEM (headers, blank line, 64-column body), as OpenSSL reads it.
    #[cfg(feature = "native")]
    pub(crate) fn canonical_pem(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(self.base64.len() + 256));
        out.push_str("-----BEGIN ");
        out.push_str(&self.label);
        out.push_str("-----\n");
        for header in &self.headers {
            out.push_str(header);
            out.push('\n');
        }
        out.push('\n');
        push_body(&mut out, &self.base64);
        out.push_str("-----END ");
        out.push_str(&self.label);
        out.push_str("-----\n");
        out
    }
}

/// Appends `base64` in 64-column lines.
fn push_body(out: &mut String, base64: &str) {
    let mut column = 0;
    for c in base64.chars() {
        out.push(c);
        column += 1;
        if column == 64 {
            out.push('\n');
            column = 0;
        }
    }
    if column > 0 {
        out.push('\n');
    }
}

/// Reads RFC 1421 headers from a line holding a `:`. `Proc-Type` and `DEK-Info` (which mark legacy
/// encrypted keys) are kept in `headers`; when newlines were turned into spaces the body follows
/// `DEK-Info`'s value on the same line, and goes to `base64`. Other headers are skipped.
fn read_header_line(line: &str, headers: &mut Vec<String>, base64: &mut String) {
    let mut tokens = line.split_whitespace();
    while let Some(token) = tokens.next() {
        let Some((name, value)) = token.split_once(':') else {
            return;
        };
        let value = if value.is_empty() {
            tokens.next().unwrap_or_default()
        } else {
            value
        };
        match name {
            "Proc-Type" => headers.push(format!("Proc-Type: {value}")),
            "DEK-Info" => {
                headers.push(format!("DEK-Info: {value}"));
                base64.extend(tokens.flat_map(str::chars));
                return;
            }
            _ => return,
        }
    }
}

/// Why text without a `-----BEGIN` line is not a key, with a hint when it looks like bare base64.
fn no_pem_error(text: &str) -> Error {
    // The text may be a bare base64 key: the joined text and its decoding are key material.
    let joined = Zeroizing::new(text.split_whitespace().collect::<String>());
    let mut decoded = Zeroizing::new(Vec::new());
    let is_base64 =
        !joined.is_empty() && STANDARD.decode_vec(joined.as_bytes(), &mut decoded).is_ok();
    let hint = if is_base64 {
        " It looks like bare base64: add the -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- lines, or pass the DER file."
    } else if text.starts_with("file://") {
        " Pass the file's contents, or a path without file://."
    } else {
        ""
    };
    Error::invalid_key(format!(
        "no PEM key found: expected text starting with -----BEGIN …-----.{hint}"
    ))
}

/// Finds every `-----BEGIN X-----` … `-----END X-----` block, tolerating lost newlines, literal
/// `\n`/`\r\n` escapes, CRLF, surrounding quotes and indentation, and decodes each strictly
/// (RFC 7468, by `pem-rfc7468`) after rebuilding it in canonical form.
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, Error> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    if !text.contains("-----BEGIN ") {
        return Err(no_pem_error(text));
    }
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err(Error::invalid_key(
                "a -----BEGIN line is not closed by -----",
            ));
        };
        let label = after[..label_end].trim().to_owned();
        let body_and_rest = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_and_rest.find(&end_marker) else {
            return Err(Error::invalid_key(format!(
                "the PEM block `{label}` has no matching `{end_marker}` line; the key was cut off when copied"
            )));
        };
        let body = Zeroizing::new(
            body_and_rest[..end]
                .replace("\\r", "\n")
                .replace("\\n", "\n"),
        );
        let mut encrypted_headers = false;
        let mut headers = Vec::new();
        let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
        for line in body.split(['\n', '\r']) {
            let line = line.trim();
            if line.contains(':') {
                // RFC 1421 headers: Proc-Type / DEK-Info mark legacy encrypted keys.
                encrypted_headers |= line.contains("ENCRYPTED") || line.contains("DEK-Info");
                read_header_line(line, &mut headers, &mut base64);
                continue;
            }
            base64.extend(line.chars().filter(|c| !c.is_whitespace()));
        }
        if encrypted_headers && label.contains("PRIVATE KEY") {
            // RFC 7468 has no headers: the caller hands the block to OpenSSL, which knows them.
            blocks.push(PemBlock {
                label,
                der: Zeroizing::new(Vec::new()),
                encrypted_headers,
                headers,
                base64,
            });
        } else {
            let der = decode_strict(&label, &base64)?;
            blocks.push(PemBlock {
                label,
                der,
                encrypted_headers,
                headers: Vec::new(),
                base64: Zeroizing::new(String::new()),
            });
        }
        rest = &body_and_rest[end + end_marker.len()..];
    }
    Ok(blocks)
}

/// Rebuilds a block in canonical RFC 7468 form and decodes it with `pem-rfc7468`.
fn decode_strict(label: &str, base64: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let damaged = || {
        Error::invalid_key(format!(
            "the body of the PEM block `{label}` is not valid base64; the key was damaged when copied"
        ))
    };
    let mut canonical = Zeroizing::new(String::with_capacity(base64.len() + 2 * label.len() + 64));
    canonical.push_str("-----BEGIN ");
    canonical.push_str(label);
    canonical.push_str("-----\n");
    push_body(&mut canonical, base64);
    canonical.push_str("-----END ");
    canonical.push_str(label);
    canonical.push_str("-----\n");
    let mut der = Zeroizing::new(vec![0u8; base64.len() / 4 * 3 + 3]);
    let (_, decoded) =
        pem_rfc7468::decode(canonical.as_bytes(), &mut der).map_err(|_| damaged())?;
    let len = decoded.len();
    der.truncate(len);
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PKCS#8-shaped body (not a key; PEM does not care).
    const BODY: &str = "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAq7BFUpkGp3+LQmlQ";

    fn pem(body: &str) -> String {
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    }

    /// `check(input, expected label or error fragment)`.
    fn check(input: &str, expected: Result<&str, &str>) {
        match (pem_blocks(input), expected) {
            (Ok(blocks), Ok(label)) => {
                assert_eq!(blocks[0].label, label, "{input:?}");
                assert_eq!(*blocks[0].der, STANDARD.decode(BODY).unwrap(), "{input:?}");
            }
            (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{input:?}: {e}"),
            (got, want) => panic!("{input:?}: got {:?}, want {want:?}", got.map(|b| b.len())),
        }
    }

    #[test]
    fn tolerant_clean_up_then_strict_decoding() {
        let ok = Ok("PRIVATE KEY");
        check(&pem(BODY), ok);
        // Newlines lost (an environment variable), literal `\n`, CRLF, quotes, indentation.
        check(&pem(BODY).replace('\n', " "), ok);
        check(&pem(BODY).replace('\n', "\\n"), ok);
        check(&pem(BODY).replace('\n', "\r\n"), ok);
        check(&format!("\"{}\"", pem(BODY)), ok);
        check(&pem(&BODY.replace('A', "A\n    ")), ok);
        // Damaged bodies: the strict decoder refuses them.
        check(&pem(&BODY[1..]), Err("not valid base64"));
        check(&pem(&format!("{BODY}!")), Err("not valid base64"));
        check(
            &pem(BODY).replace("-----END PRIVATE KEY-----", ""),
            Err("cut off"),
        );
        check(BODY, Err("bare base64"));
        check("file:///tmp/key.pem", Err("without file://"));
        check("hello", Err("no PEM key found"));
    }

    /// Accepts only wiping memory: a buffer that compiles here is zeroized on drop.
    fn wiped<T: zeroize::Zeroize>(_: &Zeroizing<T>) {}

    #[test]
    fn key_material_is_held_in_zeroizing_memory() {
        let blocks = pem_blocks(&pem(BODY)).unwrap();
        wiped(&blocks[0].der);
        wiped(&blocks[0].base64);
        let der = decode_strict("PRIVATE KEY", BODY).unwrap();
        wiped(&der);
        // The decoded buffer is exactly the body, with no spare capacity beyond the estimate.
        assert_eq!(*der, STANDARD.decode(BODY).unwrap());
    }
}
