//! Fuzzes private key loading (PEM text or DER bytes, detected automatically).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cfsign::PrivateKey::parse(data);
    let _ = cfsign::PrivateKey::from_der(data);
    let _ = cfsign::PrivateKey::parse_with_passphrase(data, b"test-passphrase");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cfsign::PrivateKey::from_pem(text);
        let _ = cfsign::PrivateKey::from_pem_with_passphrase(text, b"test-passphrase");
    }
});
