//! The conformance corpus, loaded and expanded into requests with the decision CloudFront makes.
//!
//! Three files under `crates/cfsign/tests/data/conformance/`: `botocore.json` and
//! `aws-sdk-js.json` (signed URLs and cookies made by the AWS SDKs, with requests and expected
//! decisions), and `developer-guide.json` (the guide's matching examples and the undocumented
//! forms, signed here with cfsign). This module is shared: the core's, the mock's and the server's
//! conformance tests include it with `#[path]`, so all three run exactly the same checks.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // Test code, used by several test crates.

use std::path::PathBuf;

use serde::Deserialize;

/// The key pair ID every corpus file signs with.
pub const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";
/// When the developer-guide cases' policies expire.
const GUIDE_EXPIRES: u64 = 1_767_225_600;
/// When the developer-guide matching requests arrive.
const GUIDE_AT: u64 = 1_767_225_000;

/// One request and what CloudFront decides for it.
#[derive(Debug, Clone)]
pub struct Check {
    /// `<file>/<case>/#<index>`.
    pub name: String,
    /// The private key file (under `tests/data/keys`) whose public key the behaviour trusts
    /// under [`KEY_PAIR_ID`].
    pub key: String,
    /// The request URL, exactly as the client sends it.
    pub url: String,
    /// The `Cookie` header, for signed cookies.
    pub cookie: Option<String>,
    /// When the request arrives.
    pub at: u64,
    /// The viewer's address.
    pub client_ip: Option<String>,
    /// `granted`, or the 403 code.
    pub expect: String,
    /// The same under strict mode (only what the documentation promises).
    pub strict_expect: String,
    /// The undocumented behaviour the decision relies on (its `kind()`), if any.
    pub undocumented: Option<String>,
    /// The source that says so.
    pub why: String,
}

impl Check {
    /// The same request with the key pair ID replaced (for services that name keys themselves).
    /// Key-Pair-Id is not signed, so signatures stay valid.
    pub fn with_key_pair_id(&self, id: &str) -> Check {
        let swap = |s: &str| {
            s.replace(
                &format!("Key-Pair-Id={KEY_PAIR_ID}"),
                &format!("Key-Pair-Id={id}"),
            )
        };
        Check {
            url: swap(&self.url),
            cookie: self.cookie.as_deref().map(swap),
            ..self.clone()
        }
    }

    /// A one-line description for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "{} (key {}, at {}, client {:?}): expected {} (strict {}), because: {}\n    url: {}\n    cookie: {:?}",
            self.name,
            self.key,
            self.at,
            self.client_ip,
            self.expect,
            self.strict_expect,
            self.why,
            self.url,
            self.cookie
        )
    }
}

/// `crates/cfsign/tests/data`, found from whichever crate includes this module.
pub fn data_dir() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("crates/cfsign/tests/data");
        if candidate.is_dir() {
            return candidate;
        }
        let here = dir.join("tests/data/conformance");
        if here.is_dir() {
            return dir.join("tests/data");
        }
        assert!(
            dir.pop(),
            "cannot find crates/cfsign/tests/data above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
}

/// The PEM text of a key file under `tests/data/keys`.
pub fn key_pem(name: &str) -> String {
    let path = data_dir().join("keys").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An oracle file: what an SDK produced.
#[derive(Debug, Deserialize)]
pub struct OracleFile {
    pub source: String,
    pub key_pair_id: String,
    pub cases: Vec<OracleCase>,
}

/// One signed URL or cookie set from an SDK.
#[derive(Debug, Clone, Deserialize)]
pub struct OracleCase {
    pub name: String,
    pub signer: String,
    pub kind: String,
    pub policy_kind: String,
    pub key: String,
    pub hash: String,
    pub url: String,
    pub policy: String,
    pub signed_url: Option<String>,
    pub cookies: Option<serde_json::Map<String, serde_json::Value>>,
    pub requests: Vec<OracleRequest>,
}

/// A request against an oracle case.
#[derive(Debug, Clone, Deserialize)]
pub struct OracleRequest {
    pub url: String,
    pub at: u64,
    pub client_ip: Option<String>,
    pub expect: String,
    pub why: String,
}

impl OracleCase {
    /// The `Cookie` header for a cookie case.
    pub fn cookie_header(&self) -> Option<String> {
        self.cookies.as_ref().map(|pairs| {
            pairs
                .iter()
                .map(|(name, value)| match value {
                    serde_json::Value::String(s) => format!("{name}={s}"),
                    other => format!("{name}={other}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// Reads an oracle file (`botocore.json` or `aws-sdk-js.json`) from text.
pub fn parse_oracle(name: &str, text: &str) -> OracleFile {
    let file: OracleFile = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(file.key_pair_id, KEY_PAIR_ID, "{name}");
    assert!(!file.cases.is_empty(), "{name} has no cases");
    file
}

/// Reads a committed oracle file.
pub fn oracle(name: &str) -> OracleFile {
    let path = data_dir().join("conformance").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_oracle(name, &text)
}

/// The checks of an oracle file.
pub fn oracle_checks(file_name: &str, file: &OracleFile) -> Vec<Check> {
    let mut checks = Vec::new();
    for case in &file.cases {
        let cookie = case.cookie_header();
        for (i, r) in case.requests.iter().enumerate() {
            checks.push(Check {
                name: format!("{file_name}/{}/#{i}", case.name),
                key: case.key.clone(),
                url: r.url.clone(),
                cookie: cookie.clone(),
                at: r.at,
                client_ip: r.client_ip.clone(),
                expect: r.expect.clone(),
                strict_expect: r.expect.clone(),
                undocumented: None,
                why: r.why.clone(),
            });
        }
    }
    checks
}

#[derive(Debug, Deserialize)]
struct GuideFile {
    source: String,
    matching: Vec<GuideMatch>,
    requests: Vec<GuideRequest>,
}

#[derive(Debug, Deserialize)]
struct GuideMatch {
    resource: String,
    url: String,
    #[serde(rename = "match")]
    matches: bool,
    why: String,
}

#[derive(Debug, Deserialize)]
struct GuideRequest {
    name: String,
    policy: Option<String>,
    url: String,
    hash: String,
    edits: Vec<Edit>,
    at: u64,
    client_ip: Option<String>,
    expect: String,
    strict_expect: String,
    undocumented: Option<String>,
    why: String,
}

/// A change made to a signed URL after signing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Edit {
    /// Replace text.
    Replace((String, String)),
    /// Write a parameter's value in standard base64 (`+`, `/`, `=`).
    StandardBase64(String),
    /// Percent-encode `-`, `_` and `~` in a parameter's value.
    PercentEncode(String),
    /// Drop every signing parameter.
    Unsigned(bool),
}

fn edit_param(url: &str, name: &str, change: impl Fn(&str) -> String) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) if n == name => format!("{n}={}", change(v)),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

fn apply(url: &str, edit: &Edit) -> String {
    match edit {
        Edit::Replace((from, to)) => {
            assert!(
                url.contains(from.as_str()),
                "edit {from:?} does not apply to {url}"
            );
            url.replace(from.as_str(), to)
        }
        Edit::StandardBase64(name) => edit_param(url, name, |v| {
            v.chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '=',
                    '~' => '/',
                    c => c,
                })
                .collect()
        }),
        Edit::PercentEncode(name) => edit_param(url, name, |v| {
            v.chars()
                .map(|c| match c {
                    '-' => "%2D".to_owned(),
                    '_' => "%5F".to_owned(),
                    '~' => "%7E".to_owned(),
                    c => c.to_string(),
                })
                .collect()
        }),
        Edit::Unsigned(_) => url.split_once('?').map_or(url, |(base, _)| base).to_owned(),
    }
}

/// The developer-guide checks, signed now with cfsign (RSA, `rsa2048-pkcs1.pem`).
pub fn guide_checks() -> Vec<Check> {
    use cfsign::{HashAlgorithm, PrivateKey, Signer, UnixTime};
    let path = data_dir().join("conformance/developer-guide.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: GuideFile =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("developer-guide.json: {e}"));
    assert!(!file.source.is_empty());
    let key_name = "rsa2048-pkcs1.pem";
    let pem = key_pem(key_name);
    let signer = |hash: &str| {
        let key = PrivateKey::from_pem(&pem).unwrap();
        Signer::with_backend(
            KEY_PAIR_ID.parse().unwrap(),
            key,
            cfsign::Backend::RustCrypto,
        )
        .with_hash_algorithm(HashAlgorithm::parse(hash).unwrap())
    };
    let mut checks = Vec::new();
    for (i, m) in file.matching.iter().enumerate() {
        // Cookies carry any policy, even one that cannot match the URL.
        let document = serde_json::json!({
            "Statement": [{"Resource": m.resource, "Condition": {"DateLessThan": {"AWS:EpochTime": GUIDE_EXPIRES}}}]
        })
        .to_string();
        let cookies = signer("SHA1").cookies_with_policy(&document).unwrap();
        let expect = if m.matches { "granted" } else { "AccessDenied" };
        checks.push(Check {
            name: format!(
                "developer-guide.json/matching/#{i} cookies: {} vs {}",
                m.resource, m.url
            ),
            key: key_name.to_owned(),
            url: m.url.clone(),
            cookie: Some(cookies.cookie_header()),
            at: GUIDE_AT,
            client_ip: None,
            expect: expect.to_owned(),
            strict_expect: expect.to_owned(),
            undocumented: None,
            why: m.why.clone(),
        });
        if m.matches {
            let signed = signer("SHA1")
                .sign_url_with_policy(&m.url, &document)
                .unwrap();
            checks.push(Check {
                name: format!(
                    "developer-guide.json/matching/#{i} url: {} vs {}",
                    m.resource, m.url
                ),
                url: signed,
                cookie: None,
                ..checks.last().unwrap().clone()
            });
        }
    }
    for r in &file.requests {
        let signer = signer(&r.hash);
        let signed = match &r.policy {
            Some(document) => signer.sign_url_with_policy(&r.url, document).unwrap(),
            None => signer
                .sign_canned_url(&r.url, UnixTime::from_secs(GUIDE_EXPIRES).unwrap())
                .unwrap(),
        };
        let url = r.edits.iter().fold(signed, |url, edit| apply(&url, edit));
        checks.push(Check {
            name: format!("developer-guide.json/requests/{}", r.name),
            key: key_name.to_owned(),
            url,
            cookie: None,
            at: r.at,
            client_ip: r.client_ip.clone(),
            expect: r.expect.clone(),
            strict_expect: r.strict_expect.clone(),
            undocumented: r.undocumented.clone(),
            why: r.why.clone(),
        });
    }
    checks
}

/// Every check of the committed corpus.
pub fn all_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    for name in ["botocore.json", "aws-sdk-js.json"] {
        checks.extend(oracle_checks(name, &oracle(name)));
    }
    checks.extend(guide_checks());
    checks
}

/// Compares a decision (as `granted` or a 403 code, and the undocumented kinds it reported)
/// with a check's expectation; `Err` explains the difference.
pub fn compare(
    check: &Check,
    strict: bool,
    got: &str,
    undocumented: &[String],
) -> Result<(), String> {
    let want = if strict {
        &check.strict_expect
    } else {
        &check.expect
    };
    if got != want {
        return Err(format!(
            "got {got}{}",
            if strict { " (strict)" } else { "" }
        ));
    }
    // A non-strict grant must name exactly the undocumented behaviour it relied on.
    if !strict && got == "granted" {
        match &check.undocumented {
            Some(kind) if !undocumented.iter().any(|k| k == kind) => {
                return Err(format!(
                    "granted, but without the undocumented note `{kind}` (notes: {undocumented:?})"
                ));
            }
            None if !undocumented.is_empty() => {
                return Err(format!(
                    "granted with undocumented notes {undocumented:?}, expected none"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs `decide(check, strict)` over every check of the whole corpus in both modes and fails
/// listing each difference.
pub fn run(checks: &[Check], decide: impl FnMut(&Check, bool) -> (String, Vec<String>)) {
    assert!(
        checks.len() > 600,
        "the corpus shrank to {} checks",
        checks.len()
    );
    run_unchecked(checks, decide);
}

/// Like [`run`], for a part of the corpus.
pub fn run_unchecked(
    checks: &[Check],
    mut decide: impl FnMut(&Check, bool) -> (String, Vec<String>),
) {
    assert!(!checks.is_empty());
    let mut failures = Vec::new();
    for check in checks {
        for strict in [false, true] {
            let (got, undocumented) = decide(check, strict);
            if let Err(e) = compare(check, strict, &got, &undocumented) {
                failures.push(format!("{e}: {}", check.describe()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus checks failed:\n{}",
        failures.len(),
        checks.len() * 2,
        failures.join("\n")
    );
}
