//! Output byte-identical to botocore's `CloudFrontSigner` and to `aws cloudfront sign`.

use std::process::Command;

use crate::util::{Dir, KEY_ID, RSA_KEY, have_tool, now};

const BOTOCORE_SCRIPT: &str = r#"
import datetime, json, sys
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

key_path, key_id, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
signer = CloudFrontSigner(key_id, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
utc = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
for case in cases:
    if case.get("custom"):
        starts = utc(case["starts"]) if case.get("starts") else None
        policy = signer.build_policy(case.get("resource") or case["url"], utc(case["expires"]),
                                     date_greater_than=starts, ip_address=case.get("ip"))
        print(signer.generate_presigned_url(case["url"], policy=policy))
    else:
        print(signer.generate_presigned_url(case["url"], date_less_than=utc(case["expires"])))
"#;

struct Case {
    url: &'static str,
    flags: Vec<String>,
    json: serde_json::Value,
}

fn cases() -> Vec<Case> {
    let exp = now() + 7200;
    let starts = now() - 60;
    let canned = |url: &'static str| Case {
        url,
        flags: vec!["--expires-at".into(), exp.to_string()],
        json: serde_json::json!({"url": url, "expires": exp}),
    };
    let mut cases = vec![
        canned("https://d111111abcdef8.cloudfront.net/private/a.jpg"),
        canned("https://d111111abcdef8.cloudfront.net/a%20b/%E2%82%AC.mp4?v=2&w=x%2By"),
        canned("http://media.example.com:8080/path/to/file.m3u8?token=abc"),
        canned("https://d111111abcdef8.cloudfront.net/"),
    ];
    let custom = |url: &'static str, ip: Option<&str>, with_start: bool, resource: Option<&str>| {
        let mut flags = vec!["--expires-at".to_owned(), exp.to_string()];
        let mut json = serde_json::json!({"url": url, "expires": exp, "custom": true});
        if let Some(ip) = ip {
            flags.extend(["--ip".to_owned(), ip.to_owned()]);
            json["ip"] = ip.into();
        }
        if with_start {
            flags.extend(["--starts-at".to_owned(), starts.to_string()]);
            json["starts"] = starts.into();
        }
        if let Some(resource) = resource {
            flags.extend(["--resource".to_owned(), resource.to_owned()]);
            json["resource"] = resource.into();
        }
        Case { url, flags, json }
    };
    cases.extend([
        custom(
            "https://d111111abcdef8.cloudfront.net/a.jpg",
            Some("192.0.2.7"),
            false,
            None,
        ),
        custom(
            "https://d111111abcdef8.cloudfront.net/a.jpg?x=1",
            Some("10.0.0.0/8"),
            true,
            None,
        ),
        custom(
            "https://d111111abcdef8.cloudfront.net/hls/i.m3u8",
            None,
            true,
            None,
        ),
        custom(
            "https://d111111abcdef8.cloudfront.net/hls/i.m3u8",
            Some("203.0.113.0/24"),
            true,
            Some("https://d111111abcdef8.cloudfront.net/hls/*"),
        ),
        custom(
            "https://d111111abcdef8.cloudfront.net/v/1.ts",
            None,
            false,
            Some("http*://d111111abcdef8.cloudfront.net/v/*"),
        ),
    ]);
    cases
}

#[test]
fn canned_and_custom_match_botocore() {
    if !have_tool("python3", &["-c", "import botocore.signers, cryptography"]) {
        return;
    }
    let dir = Dir::new();
    let cases = cases();
    let input: Vec<_> = cases.iter().map(|c| c.json.clone()).collect();
    let out = Command::new("python3")
        .args(["-c", BOTOCORE_SCRIPT])
        .arg(dir.path(RSA_KEY))
        .arg(KEY_ID)
        .arg(serde_json::Value::from(input).to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = String::from_utf8(out.stdout).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), cases.len());
    for (index, (case, want)) in cases.iter().zip(expected).enumerate() {
        let flags: Vec<&str> = case.flags.iter().map(String::as_str).collect();
        let got = dir.sign(case.url, &flags);
        assert_eq!(got, want, "case {index}: {} {:?}", case.url, case.flags);
    }
}

#[test]
fn bulk_matches_botocore() {
    if !have_tool("python3", &["-c", "import botocore.signers, cryptography"]) {
        return;
    }
    let dir = Dir::new();
    let cases = cases();
    let input: Vec<_> = cases.iter().map(|c| c.json.clone()).collect();
    let out = Command::new("python3")
        .args(["-c", BOTOCORE_SCRIPT])
        .arg(dir.path(RSA_KEY))
        .arg(KEY_ID)
        .arg(serde_json::Value::from(input).to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same cases as JSON lines.
    let lines: String = cases
        .iter()
        .map(|c| {
            let mut line = serde_json::json!({"url": c.url, "expires_at": c.json["expires"]});
            for (field, key) in [
                ("ip", "ip"),
                ("starts_at", "starts"),
                ("resource", "resource"),
            ] {
                if let Some(v) = c.json.get(key) {
                    line[field] = v.clone();
                }
            }
            format!("{line}\n")
        })
        .collect();
    let got = dir.run_stdin(
        &[
            "sign",
            "-",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--threads",
            "2",
        ],
        &lines,
    );
    assert_eq!(got.ok(), String::from_utf8(out.stdout).unwrap());
}

#[test]
fn aws_cloudfront_sign_drop_in_is_byte_identical() {
    if !have_tool("aws", &["--version"]) {
        return;
    }
    let dir = Dir::new();
    let url = "https://d111111abcdef8.cloudfront.net/a%20b.jpg?x=1&y=2";
    let key = format!("file://{}", dir.path(RSA_KEY).display());
    let in_a_year = now() + 365 * 86_400;
    let cases: Vec<Vec<String>> = vec![
        vec!["--date-less-than".into(), "2037-01-01".into()],
        vec!["--date-less-than".into(), in_a_year.to_string()],
        vec!["--date-less-than".into(), format!("{in_a_year}.75")],
        vec!["--date-less-than".into(), "2037-06-30T12:34:56".into()],
        vec!["--date-less-than".into(), "2037-06-30 12:34:56.9".into()],
        vec![
            "--date-less-than".into(),
            "2037-06-30T12:34:56+02:00".into(),
            "--date-greater-than".into(),
            "2026-01-01T00:00:00Z".into(),
        ],
        vec![
            "--date-less-than".into(),
            "2037-01-01".into(),
            "--ip-address".into(),
            "192.0.2.7".into(),
        ],
        vec![
            "--date-less-than".into(),
            "2037-01-01".into(),
            "--ip-address".into(),
            "10.1.0.0/16".into(),
            "--date-greater-than".into(),
            "1767225600".into(),
        ],
        vec![
            "--date-less-than".into(),
            "2037-01-01".into(),
            "--ip-address".into(),
            String::new(),
        ],
    ];
    for (index, extra) in cases.iter().enumerate() {
        let mut args: Vec<&str> =
            vec!["--url", url, "--key-pair-id", KEY_ID, "--private-key", &key];
        args.extend(extra.iter().map(String::as_str));
        let aws = Command::new("aws")
            .args(["cloudfront", "sign"])
            .args(&args)
            .current_dir(dir.path(""))
            .output()
            .unwrap();
        assert!(
            aws.status.success(),
            "aws failed on case {index}: {}",
            String::from_utf8_lossy(&aws.stderr)
        );
        let mut ours = vec!["sign"];
        ours.extend(&args);
        let got = dir.run(&ours);
        assert_eq!(got.code, 0, "case {index}: {got:#?}");
        assert_eq!(
            got.stdout.as_bytes(),
            &aws.stdout[..],
            "case {index}: {extra:?}"
        );
    }
    // The PEM text itself also works, as in the AWS CLI.
    let pem = dir.read(RSA_KEY);
    let got = dir.run(&[
        "sign",
        "--url",
        url,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        &pem,
        "--date-less-than",
        "2037-01-01",
    ]);
    let by_file = dir.run(&[
        "sign",
        "--url",
        url,
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        &key,
        "--date-less-than",
        "2037-01-01",
    ]);
    assert_eq!(got.ok(), by_file.ok());
}
