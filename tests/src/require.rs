//! What a test does when a tool it requires (python with moto, ffmpeg, openssl, cargo-lambda,
//! cfn-lint, …) is missing: fail under `CI=true`, where every tool must be there, and otherwise
//! skip with a loud message.

/// Whether a missing tool must fail the test (in CI) or may skip it (locally).
///
/// # Panics
/// Under `CI=true`: a missing tool is a failure there.
pub fn skip_or_fail(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("\n!!!!!!!! SKIPPING: {what} (this would fail with CI=true) !!!!!!!!\n");
}
