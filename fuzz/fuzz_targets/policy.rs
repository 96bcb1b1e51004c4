//! Fuzzes policy parsing; a parsed policy must serialize to JSON that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = cfsign::CustomPolicy::parse(data) {
        let json = policy.to_json();
        let again = cfsign::CustomPolicy::parse(json.as_bytes());
        assert_eq!(again.as_ref(), Ok(&policy), "{json}");
    }
});
