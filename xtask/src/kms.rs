//! The e2e leg for keys held in AWS KMS: moto as KMS, a second distribution on the mock,
//! `cfsign-provision setup --kms-key-id` (RSA_2048) and `rotate --kms-key-id` (ECC_NIST_P256),
//! then `cfsign-server` (its `aws` feature, on in the workspace build) signing through KMS: URLs
//! and cookies served by the edge, `kms:Sign` calls counted for a hot resource, and every
//! signature recorded for the independent OpenSSL check with the public key KMS reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use cfsign_tests::proc::{Launch, Service, capture, describe};
use cfsign_tests::stack::{PRIVATE_PATTERN, Stack, create_distribution, run_json};
use cfsign_tests::{http, moto};

use crate::Result;
use crate::edge::expect_served;
use crate::harness::{Issued, issued_from_cookies, issued_from_url};
use crate::report::Report;
use crate::stack::{CLIENT_TOKEN, sha256_hex};

/// Requests for one hot resource, to count `kms:Sign` calls.
const HOT_REQUESTS: u64 = 200;

/// Runs the leg, reporting each check; signatures go to `issued`, the KMS public keys (PEM,
/// converted by OpenSSL) to `public_keys`.
pub(crate) fn leg(
    stack: &Stack,
    report: &mut Report,
    issued: &mut Vec<Issued>,
    public_keys: &mut BTreeMap<String, PathBuf>,
) {
    report.section(
        "keys held in AWS KMS (moto as KMS; provision --kms-key-id; server signs through KMS)",
    );
    let moto = match moto::start() {
        Ok(Some(moto)) => moto,
        Ok(None) => {
            report.fail(
                "moto for KMS",
                "python3 with moto[server] is not installed (pip install 'moto[server]')",
            );
            return;
        }
        Err(e) => {
            report.fail("moto for KMS", e.to_string());
            return;
        }
    };
    let r = provision_kms_keys(stack, moto.url(), public_keys);
    let Some((edge, keys)) = report_ok(
        report,
        "KMS keys provisioned (setup RSA_2048, rotate ECC_NIST_P256)",
        r,
    ) else {
        return;
    };
    for KmsKey { spec, id, arn } in keys {
        let r = start_server(stack, moto.url(), &id, &arn, &edge);
        let Some(server) = report_ok(report, &format!("cfsign-server with KMS key {spec}"), r)
        else {
            continue;
        };
        let hello = format!("{edge}/private/hello.txt");
        let r = sign(&server, "/v1/sign", &json!({"url": hello, "ttl": "5m"})).and_then(|v| {
            let url = v["signed_url"].as_str().ok_or("no signed_url")?.to_owned();
            if !url.ends_with("&Hash-Algorithm=SHA256") {
                return Err(format!("not SHA-256: {url}"));
            }
            issued.push(issued_from_url(&format!("server KMS {spec} URL"), &url)?);
            expect_served(&url, None, "private/hello.txt")
        });
        report.check(&format!("KMS {spec}: signed URL served"), r);
        let pattern = format!("{edge}/private/*");
        let r = sign(
            &server,
            "/v1/cookies",
            &json!({"resource": pattern, "ttl": "5m"}),
        )
        .and_then(|v| {
            let header = cookie_pairs(&v).ok_or("no cookies in the answer")?;
            issued.push(issued_from_cookies(
                &format!("server KMS {spec} cookies"),
                &header,
                &hello,
            )?);
            expect_served(&hello, Some(&header), "private/hello.txt")
        });
        report.check(&format!("KMS {spec}: signed cookies served"), r);
        let r = hot_resource_calls(&server, &edge);
        report.check(&format!("KMS {spec}: kms:Sign calls for a hot resource"), r);
    }
}

/// `name=value; …` from the server's `cookies` array.
fn cookie_pairs(v: &Value) -> Option<String> {
    let pairs: Vec<String> = v["cookies"]
        .as_array()?
        .iter()
        .filter_map(|c| Some(format!("{}={}", c["name"].as_str()?, c["value"].as_str()?)))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// A KMS key provisioned to the second distribution.
struct KmsKey {
    spec: &'static str,
    /// Its Key-Pair-Id in CloudFront.
    id: String,
    arn: String,
}

/// Creates the KMS keys, a second distribution, and provisions them; returns its edge URL and
/// the keys.
fn provision_kms_keys(
    stack: &Stack,
    kms: &str,
    public_keys: &mut BTreeMap<String, PathBuf>,
) -> Result<(String, Vec<KmsKey>)> {
    let (distribution_id, domain) = create_distribution(stack.endpoint())?;
    let edge = format!("http://{domain}.localhost:{}", stack.mock().port());
    let mut keys = Vec::new();
    for spec in ["RSA_2048", "ECC_NIST_P256"] {
        let out = moto::boto3(
            kms,
            &format!(
                "kms = client('kms')\n\
                 arn = kms.create_key(KeySpec='{spec}', KeyUsage='SIGN_VERIFY')['KeyMetadata']['Arn']\n\
                 print(arn, kms.get_public_key(KeyId=arn)['PublicKey'].hex())"
            ),
        )?;
        let (arn, der_hex) = out.trim().split_once(' ').ok_or("boto3 printed no key")?;
        let mut cmd = provision(stack, kms)?;
        if spec == "RSA_2048" {
            cmd.args([
                "setup",
                "--distribution-id",
                &distribution_id,
                "--path-pattern",
                PRIVATE_PATTERN,
            ]);
        } else {
            cmd.args([
                "rotate",
                "--key-group",
                &format!("cfsign-{distribution_id}"),
                "--key-name",
                "cfsign-xtask-kms-p256",
            ]);
        }
        let done = run_json(cmd.args(["--kms-key-id", arn]))?;
        let id = done["key_pair_id"]
            .as_str()
            .ok_or_else(|| format!("no key_pair_id in {done}"))?
            .to_owned();
        public_keys.insert(id.clone(), public_pem(stack.dir(), &id, der_hex)?);
        keys.push(KmsKey {
            spec,
            id,
            arn: arn.to_owned(),
        });
    }
    Ok((edge, keys))
}

/// `cfsign-provision --json` against the mock, reaching KMS in moto.
fn provision(stack: &Stack, kms: &str) -> Result<Command> {
    let mut cmd = stack.provision()?;
    cmd.arg("--json").env("AWS_ENDPOINT_URL_KMS", kms);
    for (name, value) in moto::env(kms) {
        if name != "AWS_ENDPOINT_URL" {
            cmd.env(name, value);
        }
    }
    Ok(cmd)
}

/// The public key KMS reported (hex DER), converted to PEM by OpenSSL (not by cfsign).
fn public_pem(dir: &Path, id: &str, der_hex: &str) -> Result<PathBuf> {
    let der: Vec<u8> = (0..der_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(der_hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("public key hex: {e}"))?;
    let der_path = dir.join(format!("kms-{id}.der"));
    let pem_path = dir.join(format!("kms-{id}.pub.pem"));
    std::fs::write(&der_path, der).map_err(|e| format!("{}: {e}", der_path.display()))?;
    let mut cmd = Command::new("openssl");
    cmd.args(["pkey", "-pubin", "-inform", "DER", "-in"])
        .arg(&der_path)
        .arg("-out")
        .arg(&pem_path);
    let out = capture(&mut cmd, None)?;
    if !out.ok() {
        return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
    }
    Ok(pem_path)
}

/// `cfsign-server` signing with the KMS key, the xtask client allowed under `edge`.
fn start_server(stack: &Stack, kms: &str, id: &str, arn: &str, edge: &str) -> Result<Service> {
    let token_hash = sha256_hex(CLIENT_TOKEN)?;
    let path = stack.dir().join(format!("server-kms-{id}.toml"));
    let config = format!(
        "[cache]\nexpiry_granularity_secs = 60\n\n[[keys]]\nid = \"{id}\"\nkms_key_id = \"{arn}\"\n\n\
         [[clients]]\nname = \"xtask\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{edge}/\"]\n\
         max_ttl = \"1d\"\ncookies = true\ncustom_policy = true\n"
    );
    std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cmd = stack.bins().command("cfsign-server")?;
    cmd.arg("--config")
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .envs(moto::env(kms));
    Ok(Launch::new("cfsign-server (KMS)", cmd)
        .log(&stack.dir().join(format!("server-kms-{id}.log")))
        .start()?)
}

fn sign(server: &Service, path: &str, body: &Value) -> Result<Value> {
    let resp = http::post_json(&format!("{}{path}", server.url()), body)
        .bearer(CLIENT_TOKEN)
        .send()?;
    if resp.status != 200 {
        return Err(format!(
            "POST {path} {body} answered {}: {}",
            resp.status,
            resp.text()
        ));
    }
    Ok(resp.json()?)
}

/// Signs one resource [`HOT_REQUESTS`] times and reports the `kms:Sign` calls it took.
fn hot_resource_calls(server: &Service, edge: &str) -> Result<String> {
    let calls = || -> Result<u64> {
        let text = http::get(&format!("{}/metrics", server.url()))
            .send()?
            .text();
        text.lines()
            .find_map(|l| l.strip_prefix("cfsign_kms_sign_calls_total "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| "no cfsign_kms_sign_calls_total in /metrics".to_owned())
    };
    let before = calls()?;
    let url = format!("{edge}/private/hot.txt");
    for _ in 0..HOT_REQUESTS {
        sign(server, "/v1/sign", &json!({"url": url, "ttl": "5m"}))?;
    }
    let made = calls()? - before;
    if made > 2 {
        return Err(format!(
            "{made} kms:Sign calls for {HOT_REQUESTS} URLs of one resource; the cache should need 1"
        ));
    }
    Ok(format!(
        "{made} kms:Sign call(s) for {HOT_REQUESTS} signed URLs ({:.3} per URL; 60 s expiry granularity)",
        made as f64 / HOT_REQUESTS as f64
    ))
}

fn report_ok<T>(report: &mut Report, name: &str, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => {
            report.pass(name, "");
            Some(v)
        }
        Err(e) => {
            report.fail(name, e);
            None
        }
    }
}
