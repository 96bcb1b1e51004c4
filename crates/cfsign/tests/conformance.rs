//! The conformance corpus through the core's `verify`, and cfsign's policies next to the SDKs'.
//!
//! The corpus (`tests/data/conformance/`, see its README) holds signed URLs and cookies made by
//! botocore and the AWS JS v3 signer, the developer guide's matching examples and every
//! undocumented form, each request with CloudFront's decision and the source that says so. The
//! mock's edge and the server's `/v1/verify` run the same checks in their own tests.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;
#[path = "conformance/corpus.rs"]
mod corpus;

use std::net::IpAddr;
use std::process::Command;

use cfsign::{
    CannedPolicy, CustomPolicy, Decision, PrivateKey, Request, Resource, Signer, TrustedKeys,
    UnixTime, verify,
};
use corpus::{Check, KEY_PAIR_ID, OracleCase, OracleFile};

fn trusted(key_file: &str) -> TrustedKeys {
    let key = PrivateKey::from_pem(&corpus::key_pem(key_file)).unwrap();
    [(KEY_PAIR_ID.parse().unwrap(), key.public_key())]
        .into_iter()
        .collect()
}

/// The core's decision for a check: `granted` or the 403 code, and the undocumented kinds.
fn decide(check: &Check, strict: bool) -> (String, Vec<String>) {
    let now = UnixTime::from_secs(check.at).unwrap();
    let mut request = Request::new(&check.url, now);
    if let Some(cookie) = &check.cookie {
        request = request.with_cookie_header(cookie);
    }
    if let Some(ip) = &check.client_ip {
        request = request.with_client_ip(ip.parse::<IpAddr>().unwrap());
    }
    let mut decision = verify(&request, &trusted(&check.key));
    let undocumented = decision
        .undocumented()
        .iter()
        .map(|u| u.kind().to_owned())
        .collect();
    if strict {
        decision = decision.strict();
    }
    let got = match &decision {
        Decision::Granted(_) => "granted".to_owned(),
        Decision::Denied(d) => d.code().as_str().to_owned(),
    };
    (got, undocumented)
}

#[test]
fn corpus_decisions_match_cloudfront() {
    corpus::run(&corpus::all_checks(), decide);
}

/// The expiry in a canned policy's JSON.
fn canned_expires(policy: &str) -> u64 {
    let tail = policy.split("\"AWS:EpochTime\":").nth(1).unwrap();
    tail.trim_end_matches("}}}]}").parse().unwrap()
}

fn signer_for(case: &OracleCase) -> Signer {
    let key = PrivateKey::from_pem(&corpus::key_pem(&case.key)).unwrap();
    Signer::new(KEY_PAIR_ID.parse().unwrap(), key)
        .with_hash_algorithm(cfsign::HashAlgorithm::parse(&case.hash).unwrap())
}

/// cfsign builds the same policy as the SDK for the same request: byte for byte for botocore
/// (same condition order), equal as a policy for JS (which orders conditions differently). For
/// RSA (deterministic), botocore's signed URLs are byte-identical to cfsign's, and JS's
/// signatures are too.
fn same_as_sdk(file: &str, case: &OracleCase) -> Result<(), String> {
    let botocore = file == "botocore.json";
    let rsa = case.key.starts_with("rsa");
    let signer = signer_for(case);
    match (case.kind.as_str(), case.policy_kind.as_str()) {
        ("url", "canned") => {
            let signed = case.signed_url.as_deref().unwrap();
            let expires = UnixTime::from_secs(canned_expires(&case.policy)).unwrap();
            let inspected = cfsign::inspect_url(signed);
            let url = inspected.resource_url().unwrap();
            let ours = CannedPolicy::new(url, expires).to_json();
            if ours != case.policy {
                return Err(format!(
                    "canned policy differs:\n  ours {ours}\n  sdk  {}",
                    case.policy
                ));
            }
            let our_url = signer
                .sign_canned_url(url, expires)
                .map_err(|e| e.to_string())?;
            if rsa && botocore && our_url != signed {
                return Err(format!(
                    "signed URL differs:\n  ours {our_url}\n  sdk  {signed}"
                ));
            }
            if rsa && cfsign::inspect_url(&our_url).signature() != inspected.signature() {
                return Err("signature differs".to_owned());
            }
        }
        (_, "custom") => {
            let sdk = CustomPolicy::parse(case.policy.as_bytes()).map_err(|e| e.to_string())?;
            let mut ours = match sdk.resource() {
                Some(r) => CustomPolicy::new(
                    Resource::new(r.as_str()).map_err(|e| e.to_string())?,
                    sdk.date_less_than(),
                ),
                None => CustomPolicy::for_any_resource(sdk.date_less_than()),
            };
            if let Some(ip) = sdk.source_ip() {
                ours = ours.with_source_ip(ip);
            }
            if let Some(start) = sdk.date_greater_than() {
                ours = ours.with_starts_at(start).map_err(|e| e.to_string())?;
            }
            if ours != sdk {
                return Err(format!("policy differs: ours {ours:?}, sdk {sdk:?}"));
            }
            if botocore && ours.to_json() != case.policy {
                return Err(format!(
                    "policy bytes differ:\n  ours {}\n  sdk  {}",
                    ours.to_json(),
                    case.policy
                ));
            }
            if rsa && botocore {
                let signed = case.signed_url.as_deref().unwrap();
                let url = cfsign::inspect_url(signed)
                    .resource_url()
                    .unwrap()
                    .to_owned();
                let our_url = signer
                    .sign_custom_url(&url, &ours)
                    .map_err(|e| e.to_string())?;
                if our_url != signed {
                    return Err(format!(
                        "signed URL differs:\n  ours {our_url}\n  sdk  {signed}"
                    ));
                }
            }
        }
        ("cookies", "canned") => {
            let expires = UnixTime::from_secs(canned_expires(&case.policy)).unwrap();
            let ours = signer.canned_cookies(&case.url, expires);
            let sdk_signature = case.cookies.as_ref().unwrap()["CloudFront-Signature"]
                .as_str()
                .unwrap()
                .to_owned();
            match ours {
                Ok(cookies)
                    if rsa
                        && cookies.get("CloudFront-Signature") != Some(sdk_signature.as_str()) =>
                {
                    return Err("cookie signature differs".to_owned());
                }
                Ok(_) => {}
                // cfsign refuses a canned cookie for a pattern (the JS "wildcard trap"): it can
                // never open an object. The corpus shows CloudFront denies such cookies too.
                Err(e) if case.url.contains('*') => {
                    assert!(e.to_string().contains('*'), "{e}");
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        (kind, policy) => return Err(format!("unknown case kind {kind}/{policy}")),
    }
    Ok(())
}

fn check_same_as_sdks(file: &str, oracle: &OracleFile) {
    let failures: Vec<String> = oracle
        .cases
        .iter()
        .filter_map(|case| {
            same_as_sdk(file, case)
                .err()
                .map(|e| format!("{file}/{}: {e}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn cfsign_builds_the_sdks_policies() {
    for file in ["botocore.json", "aws-sdk-js.json"] {
        check_same_as_sdks(file, &corpus::oracle(file));
    }
}

/// Runs a generator; `None` (after a loud note) when its tools are missing outside CI.
fn generate(test: &str, program: &str, script: &str, needs: &std::path::Path) -> Option<String> {
    if !common::tool_available(program, &["--version"], test) {
        return None;
    }
    if !needs.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: {} is missing and CI=true forbids skipping (run `npm ci --prefix crates/cfsign/tests/js`)",
            needs.display()
        );
        eprintln!("\n*** SKIPPED {test}: {} is missing ***\n", needs.display());
        return None;
    }
    let output = Command::new(program).arg(script).output().unwrap();
    assert!(
        output.status.success(),
        "{test}: {program} {script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

/// The committed files are what the generators produce today: RSA output byte for byte (P-256
/// signatures are random), and every fresh case decides as the corpus says.
fn live(test: &str, file: &str, program: &str, script: &std::path::Path, needs: &std::path::Path) {
    let Some(text) = generate(test, program, script.to_str().unwrap(), needs) else {
        return;
    };
    let fresh = corpus::parse_oracle(file, &text);
    let committed = corpus::oracle(file);
    assert_eq!(
        fresh.cases.len(),
        committed.cases.len(),
        "{file}: regenerate it (see the corpus README)"
    );
    for (new, old) in fresh.cases.iter().zip(&committed.cases) {
        assert_eq!(new.name, old.name);
        assert_eq!(new.policy, old.policy, "{file}/{}", new.name);
        if new.key.starts_with("rsa") {
            assert_eq!(new.signed_url, old.signed_url, "{file}/{}", new.name);
            assert_eq!(new.cookies, old.cookies, "{file}/{}", new.name);
        }
    }
    corpus::run_unchecked(&corpus::oracle_checks(file, &fresh), decide);
    check_same_as_sdks(file, &fresh);
}

#[test]
fn botocore_live() {
    let dir = corpus::data_dir().join("conformance");
    live(
        "botocore_live",
        "botocore.json",
        "python3",
        &dir.join("gen_botocore.py"),
        &dir,
    );
}

#[test]
fn aws_sdk_js_live() {
    let js = corpus::data_dir().join("../js");
    live(
        "aws_sdk_js_live",
        "aws-sdk-js.json",
        "node",
        &js.join("gen_js.mjs"),
        &js.join("node_modules/@aws-sdk/cloudfront-signer"),
    );
}
