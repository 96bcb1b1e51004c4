//! Table test of `verify`: one row per `DenyReason` (and the grants), checking the 403 code, the
//! reason's kind and its explanation, plus the cookie precedence note.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use cfsign::{
    CustomPolicy, Decision, DenyCode, HashAlgorithm, KeyPairId, Request, Resource, SignatureSource,
    Signer, SourceIp, TrustedKeys, UnixTime, encoding, verify,
};

const URL: &str = "https://d1.example.net/a/b.jpg?v=1";
const EXPIRES: u64 = 1_767_225_600;

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

struct Fixture {
    trusted: TrustedKeys,
    signer: Signer,
    /// Same Key-Pair-Id, different key.
    impostor: Signer,
}

fn fixture() -> Fixture {
    let id: KeyPairId = "K2JCJMDEHXQW5F".parse().unwrap();
    let key = common::private_key("p256-sec1.pem");
    let trusted = [(id.clone(), key.public_key())].into_iter().collect();
    Fixture {
        trusted,
        signer: Signer::new(id.clone(), key),
        impostor: Signer::new(id, common::private_key("rsa2048-pkcs1.pem")),
    }
}

struct Row {
    name: &'static str,
    url: String,
    cookies: Option<String>,
    now: u64,
    ip: Option<&'static str>,
    /// `None` for a grant, else (code, kind, text the explanation contains).
    expected: Option<(DenyCode, &'static str, &'static str)>,
    note: Option<&'static str>,
}

fn row(
    name: &'static str,
    url: String,
    expected: Option<(DenyCode, &'static str, &'static str)>,
) -> Row {
    Row {
        name,
        url,
        cookies: None,
        now: EXPIRES - 1,
        ip: None,
        expected,
        note: None,
    }
}

#[test]
fn every_deny_reason() {
    let f = fixture();
    let canned = f.signer.sign_canned_url(URL, t(EXPIRES)).unwrap();
    let sig_of = |url: &str| {
        url.split("&Signature=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned()
    };
    let sig = sig_of(&canned);
    let policy = |p: CustomPolicy| f.signer.sign_custom_url(URL, &p).unwrap();
    let folder = Resource::new("https://d1.example.net/a/*").unwrap();
    let windowed = policy(
        CustomPolicy::new(folder.clone(), t(EXPIRES))
            .with_starts_at(t(EXPIRES - 100))
            .unwrap(),
    );
    let ip_bound = policy(
        CustomPolicy::new(folder.clone(), t(EXPIRES))
            .with_source_ip("10.0.0.0/8".parse::<SourceIp>().unwrap()),
    );
    let other_folder = policy(CustomPolicy::new(
        Resource::new("https://d1.example.net/b/*").unwrap(),
        t(EXPIRES),
    ));
    let sha256 = Signer::new(
        f.signer.key_pair_id().clone(),
        common::private_key("p256-sec1.pem"),
    )
    .with_hash_algorithm(HashAlgorithm::Sha256)
    .sign_canned_url(URL, t(EXPIRES))
    .unwrap();
    let cookies = f
        .signer
        .canned_cookies(URL, t(EXPIRES))
        .unwrap()
        .cookie_header();
    let folder_cookies = f
        .signer
        .custom_cookies(&CustomPolicy::new(folder, t(EXPIRES)))
        .unwrap()
        .cookie_header();
    let enc = |s: &str| encoding::encode(s.as_bytes());

    let mut rows = vec![
        row("canned grant", canned.clone(), None),
        row("sha256 grant", sha256.clone(), None),
        row("custom grant in window", windowed.clone(), None),
        Row {
            ip: Some("10.1.2.3"),
            ..row("ip grant", ip_bound.clone(), None)
        },
        Row {
            ip: Some("::ffff:10.1.2.3"),
            ..row("ip grant, IPv4-mapped IPv6", ip_bound.clone(), None)
        },
        Row {
            cookies: Some(cookies.clone()),
            ..row("cookie grant", URL.to_owned(), None)
        },
        Row {
            cookies: Some(folder_cookies.clone()),
            ..row(
                "folder cookies grant",
                "https://d1.example.net/a/c.m3u8".to_owned(),
                None,
            )
        },
        row(
            "no signature",
            URL.to_owned(),
            Some((DenyCode::MissingKey, "no_signature", "no signature")),
        ),
        Row {
            cookies: Some("session=1; theme=dark".to_owned()),
            ..row(
                "unrelated cookies",
                URL.to_owned(),
                Some((
                    DenyCode::MissingKey,
                    "no_signature",
                    "no CloudFront-* cookies",
                )),
            )
        },
        row(
            "no key pair id",
            canned.replace("&Key-Pair-Id=K2JCJMDEHXQW5F", ""),
            Some((
                DenyCode::MissingKey,
                "missing_key_pair_id",
                "Key-Pair-Id is missing",
            )),
        ),
        row(
            "unknown key",
            canned.replace("K2JCJMDEHXQW5F", "KUNKNOWN"),
            Some((
                DenyCode::InvalidKey,
                "unknown_key",
                "`KUNKNOWN` is not in the cache behaviour's trusted key groups (trusted: K2JCJMDEHXQW5F)",
            )),
        ),
        row(
            "key id in lower case",
            canned.replace("K2JCJMDEHXQW5F", "k2jcjmdehxqw5f"),
            Some((
                DenyCode::InvalidKey,
                "unknown_key",
                "(trusted: K2JCJMDEHXQW5F); `K2JCJMDEHXQW5F` differs only in case",
            )),
        ),
        row(
            "no signature param",
            canned.replace(&format!("&Signature={sig}"), ""),
            Some((
                DenyCode::MalformedSignature,
                "missing_signature",
                "Signature parameter is missing",
            )),
        ),
        row(
            "signature not base64",
            canned.replace(&sig, "not*base64"),
            Some((
                DenyCode::MalformedSignature,
                "signature_not_base64",
                "not CloudFront base64",
            )),
        ),
        row(
            "truncated signature",
            canned.replace(&sig, &sig[..sig.len() - 3]),
            Some((
                DenyCode::MalformedSignature,
                "signature_not_base64",
                "truncated",
            )),
        ),
        row(
            "no policy",
            canned.replace(&format!("Expires={EXPIRES}&"), ""),
            Some((
                DenyCode::MalformedPolicy,
                "missing_policy",
                "neither Expires",
            )),
        ),
        row(
            "expires not a number",
            canned.replace(&EXPIRES.to_string(), "tomorrow"),
            Some((
                DenyCode::MalformedPolicy,
                "malformed_expires",
                "`tomorrow` is not a Unix time",
            )),
        ),
        row(
            "expires in milliseconds",
            canned.replace(&EXPIRES.to_string(), "1767225600000"),
            Some((
                DenyCode::MalformedPolicy,
                "malformed_expires",
                "at most 2147483647",
            )),
        ),
        row(
            "policy not base64",
            format!("{URL}&Policy=%%%&Signature={sig}&Key-Pair-Id=K2JCJMDEHXQW5F"),
            Some((
                DenyCode::MalformedPolicy,
                "policy_not_base64",
                "Policy is not CloudFront base64",
            )),
        ),
        row(
            "policy not json",
            format!(
                "{URL}&Policy={}&Signature={sig}&Key-Pair-Id=K2JCJMDEHXQW5F",
                enc("nope")
            ),
            Some((
                DenyCode::MalformedPolicy,
                "policy_unparsable",
                "not valid JSON",
            )),
        ),
        row(
            "policy without expiry",
            format!(
                "{URL}&Policy={}&Signature={sig}&Key-Pair-Id=K2JCJMDEHXQW5F",
                enc(r#"{"Statement":[{"Condition":{}}]}"#)
            ),
            Some((
                DenyCode::MalformedPolicy,
                "policy_unparsable",
                "no `DateLessThan`",
            )),
        ),
        row(
            "unknown hash",
            format!("{canned}&Hash-Algorithm=MD5"),
            Some((
                DenyCode::AccessDenied,
                "unknown_hash_algorithm",
                "`MD5` is not SHA1 or SHA256",
            )),
        ),
        row(
            "unknown hash",
            sha256.replace("SHA256", "SHA512"),
            Some((DenyCode::AccessDenied, "unknown_hash_algorithm", "`SHA512`")),
        ),
        row(
            "hash param removed",
            sha256.replace("&Hash-Algorithm=SHA256", ""),
            Some((
                DenyCode::AccessDenied,
                "bad_signature",
                "signature does not match",
            )),
        ),
        row(
            "url changed",
            canned.replace("b.jpg", "c.jpg"),
            Some((
                DenyCode::AccessDenied,
                "bad_signature",
                "the canned policy rebuilt from the request covers `https://d1.example.net/a/c.jpg?v=1`",
            )),
        ),
        row(
            "other key",
            f.impostor.sign_canned_url(URL, t(EXPIRES)).unwrap(),
            Some((
                DenyCode::AccessDenied,
                "bad_signature",
                "signed with a different key",
            )),
        ),
        Row {
            cookies: Some(cookies.clone()),
            ..row(
                "canned cookies elsewhere",
                "https://d1.example.net/a/other.jpg".to_owned(),
                Some((
                    DenyCode::AccessDenied,
                    "bad_signature",
                    "canned-policy cookies only work for that exact URL",
                )),
            )
        },
        Row {
            now: EXPIRES + 192,
            ..row(
                "expired",
                canned.clone(),
                Some((
                    DenyCode::AccessDenied,
                    "expired",
                    "expired 3m12s before the request (Expires 2026-01-01T00:00:00Z",
                )),
            )
        },
        Row {
            now: EXPIRES,
            ..row(
                "expired at the second",
                windowed.clone(),
                Some((DenyCode::AccessDenied, "expired", "expired 0s before")),
            )
        },
        Row {
            now: EXPIRES - 160,
            ..row(
                "not yet valid",
                windowed.clone(),
                Some((
                    DenyCode::AccessDenied,
                    "not_yet_valid",
                    "access starts 1m after the request",
                )),
            )
        },
        Row {
            // The start second itself is undocumented (granted with a note: see conformance.rs).
            now: EXPIRES - 101,
            ..row(
                "before the start",
                windowed.clone(),
                Some((DenyCode::AccessDenied, "not_yet_valid", "DateGreaterThan")),
            )
        },
        row(
            "resource mismatch",
            other_folder,
            Some((
                DenyCode::AccessDenied,
                "resource_mismatch",
                "policy resource `https://d1.example.net/b/*` does not match `https://d1.example.net/a/b.jpg?v=1`",
            )),
        ),
        Row {
            cookies: Some(folder_cookies),
            ..row(
                "folder cookies elsewhere",
                "https://d1.example.net/z/c.m3u8".to_owned(),
                Some((
                    DenyCode::AccessDenied,
                    "resource_mismatch",
                    "does not match",
                )),
            )
        },
        Row {
            ip: Some("198.51.100.7"),
            ..row(
                "wrong ip",
                ip_bound.clone(),
                Some((
                    DenyCode::AccessDenied,
                    "wrong_client_ip",
                    "client IP 198.51.100.7 is not in 10.0.0.0/8",
                )),
            )
        },
        Row {
            ip: Some("2001:db8::1"),
            ..row(
                "ipv6 client",
                ip_bound.clone(),
                Some((
                    DenyCode::AccessDenied,
                    "wrong_client_ip",
                    "2001:db8::1 is not in 10.0.0.0/8",
                )),
            )
        },
        row(
            "ip unknown",
            ip_bound,
            Some((
                DenyCode::AccessDenied,
                "client_ip_unknown",
                "no client IP was given",
            )),
        ),
        // Precedence: URL parameters win over cookies, even when the cookies alone would grant.
        Row {
            cookies: Some(cookies.clone()),
            note: Some("URL signing parameters present, so cookies are ignored"),
            ..row(
                "url wins over cookies",
                canned.replace("b.jpg", "c.jpg"),
                Some((
                    DenyCode::AccessDenied,
                    "bad_signature",
                    "signature does not match",
                )),
            )
        },
        Row {
            cookies: Some(
                f.signer
                    .canned_cookies("https://d1.example.net/x", t(EXPIRES))
                    .unwrap()
                    .cookie_header(),
            ),
            note: Some("URL signing parameters present, so cookies are ignored"),
            ..row("url wins, granted", canned.clone(), None)
        },
        Row {
            cookies: Some(cookies.clone()),
            note: Some("URL signing parameters present, so cookies are ignored"),
            ..row(
                "a lone Key-Pair-Id parameter wins",
                format!("{URL}&Key-Pair-Id=K2JCJMDEHXQW5F"),
                Some((
                    DenyCode::MalformedSignature,
                    "missing_signature",
                    "Signature parameter is missing",
                )),
            )
        },
    ];
    // A lone Hash-Algorithm parameter does not make CloudFront use the URL: the cookies decide.
    rows.push(Row {
        cookies: Some(cookies),
        ..row(
            "hash param alone keeps cookies",
            format!("{URL}&Hash-Algorithm=SHA1"),
            None,
        )
    });

    let mut kinds = BTreeSet::new();
    let mut failures = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut request = Request::new(&r.url, t(r.now));
        if let Some(c) = &r.cookies {
            request = request.with_cookie_header(c);
        }
        if let Some(ip) = r.ip {
            request = request.with_client_ip(ip.parse::<IpAddr>().unwrap());
        }
        let decision = verify(&request, &f.trusted);
        let notes = match &decision {
            Decision::Granted(g) => g.notes().to_vec(),
            Decision::Denied(d) => d.notes().to_vec(),
        };
        let ok = match (&decision, r.expected) {
            (Decision::Granted(g), None) => {
                g.source()
                    == if r.cookies.is_some() && r.note.is_none() {
                        SignatureSource::Cookies
                    } else {
                        SignatureSource::Url
                    }
            }
            (Decision::Denied(d), Some((code, kind, text))) => {
                kinds.insert(d.reason().kind());
                let shown = d.to_string();
                d.code() == code
                    && d.reason().code() == code
                    && d.reason().kind() == kind
                    && shown.contains(text)
                    && shown.starts_with(code.as_str())
                    && code.xml_body().contains(&format!(
                        "<Code>{}</Code><Message>{}</Message>",
                        code.as_str(),
                        code.message()
                    ))
            }
            _ => false,
        };
        let note_ok = match r.note {
            Some(note) => notes.iter().any(|n| n == note),
            None => notes.is_empty(),
        };
        if !ok || !note_ok {
            failures.push(format!(
                "row #{i} `{}`: got {decision:?}\n    (decision shown: {})",
                r.name,
                match &decision {
                    Decision::Denied(d) => d.to_string(),
                    Decision::Granted(_) => "granted".to_owned(),
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        kinds.len(),
        16,
        "every DenyReason variant is exercised: {kinds:?}"
    );
}
