//! Fuzzes the manifest rewriter (HLS and DASH): never a panic; a rewrite only inserts the signing
//! parameters, and lists the same URIs as the input.
#![no_main]

use std::sync::OnceLock;

use cfsign::stream::{Options, SignedParams, manifest_uris, sign_manifest, sign_manifest_with};
use cfsign::{CustomPolicy, HashAlgorithm, KeyPairId, Resource, UnixTime};
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://d1.example.net/videos/123/index.m3u8";

fn params() -> &'static SignedParams {
    static PARAMS: OnceLock<SignedParams> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let policy = CustomPolicy::new(
            Resource::new("https://d1.example.net/videos/123/*").expect("a valid pattern"),
            UnixTime::from_secs(1_900_000_000).expect("a valid time"),
        );
        let id = KeyPairId::new("K2JCJMDEHXQW5F").expect("a valid ID");
        SignedParams::from_signature(&policy, b"signature", &id, HashAlgorithm::Sha1)
            .expect("the policy has a resource")
    })
}

fuzz_target!(|data: &[u8]| {
    let params = params();
    let Ok(out) = sign_manifest(data, URL, params) else {
        return;
    };
    let before = manifest_uris(data, URL).expect("the input was read once already");
    // Removing every inserted parameter string gives back the input's length minus separators.
    let marker_plain = params.query();
    let marker_xml = marker_plain.replace('&', "&amp;");
    let inserted = out.as_str().matches(marker_plain).count() + out.as_str().matches(marker_xml.as_str()).count();
    assert!(inserted >= out.signed(), "{} signed, {inserted} found", out.signed());
    assert_eq!(before.len(), out.signed() + out.skipped().len());
    let after = manifest_uris(out.as_str().as_bytes(), URL).expect("a rewrite stays readable");
    assert_eq!(before.len(), after.len());
    // Absolute URIs: as many sites, still readable from another URL.
    let absolute = sign_manifest_with(data, URL, params, &Options::new().with_absolute_uris())
        .expect("the input was read once already");
    assert_eq!(before.len(), absolute.signed() + absolute.skipped().len());
    let moved = manifest_uris(absolute.as_str().as_bytes(), "https://app.example.com/w/1")
        .expect("an absolute rewrite stays readable");
    assert_eq!(before.len(), moved.len());
});
