//! Fuzzes the small text parsers: base64 variant, times, durations, IDs, IP ranges, patterns.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(bytes) = cfsign::encoding::decode(text) {
        assert_eq!(cfsign::encoding::decode(&cfsign::encoding::encode(&bytes)), Some(bytes));
    }
    let _ = cfsign::UnixTime::parse(text);
    let _ = cfsign::parse_duration(text);
    let _ = text.parse::<cfsign::KeyPairId>();
    let _ = text.parse::<cfsign::SourceIp>();
    if let Ok(resource) = cfsign::Resource::new(text) {
        let _ = resource.matches(text);
    }
});
