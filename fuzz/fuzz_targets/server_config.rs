//! Fuzzes cfsign-server's TOML configuration reader: any text gives a config or a clear error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(config) = cfsign_server::Config::from_toml(text, std::path::Path::new("/nonexistent/fuzz.toml")) {
        let _ = cfsign_server::AppState::from_config(&config, &|_| None);
    }
});
