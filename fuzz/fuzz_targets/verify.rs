//! Fuzzes `verify`, `inspect_url` and `inspect_cookies` with an arbitrary URL and Cookie header.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn trusted() -> &'static cfsign::TrustedKeys {
    static TRUSTED: OnceLock<cfsign::TrustedKeys> = OnceLock::new();
    TRUSTED.get_or_init(|| {
        let pem = include_str!("../../crates/cfsign/tests/data/keys/p256.pub.pem");
        let mut keys = cfsign::TrustedKeys::new();
        if let (Ok(id), Ok(key)) = ("K2JCJMDEHXQW5F".parse(), cfsign::PublicKey::from_pem(pem)) {
            keys.insert(id, key);
        }
        keys
    })
}

fuzz_target!(|input: (&str, &str, u32)| {
    let (url, cookies, now) = input;
    let now = cfsign::UnixTime::from_secs(u64::from(now) & 0x7fff_ffff).unwrap_or(cfsign::UnixTime::EPOCH);
    let _ = cfsign::verify(&cfsign::Request::new(url, now).with_cookie_header(cookies), trusted());
    let _ = cfsign::inspect_url(url);
    let _ = cfsign::inspect_cookies(cookies);
});
