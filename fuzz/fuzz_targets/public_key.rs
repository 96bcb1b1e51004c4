//! Fuzzes public key loading (SPKI/PKCS#1 PEM and SPKI DER).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cfsign::PublicKey::from_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = cfsign::PublicKey::from_pem(text) {
            let _ = key.check_accepted_by_key_groups();
            let _ = key.verify(cfsign::HashAlgorithm::Sha1, data, data);
        }
    }
});
