//! `cargo xtask e2e`: the whole system end to end on loopback, with a readable report.
//!
//! Bring-up (mock, distribution, `cfsign-provision setup`, server), then the grant matrix, the
//! P-256 key, the denial matrix with CloudFront's exact 403 codes (each cross-checked with
//! `cfsign verify`), rotation with hot reload under load, keys held in AWS KMS (`kms.rs`), and
//! the independent verify-signature harness over every signature issued.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::edge::expect_served;
use crate::harness::{self, Issued, cf_b64_encode, issued_from_cookies, issued_from_url};
use cfsign_tests::http;
use cfsign_tests::proc::{capture, describe, truncate};
use cfsign_tests::stack::{Stack, run_json};

use crate::report::Report;
use crate::stack::{self, CLIENT_TOKEN, ServerKey};
use crate::{Options, Result};

/// A Key-Pair-Id that no key group contains.
const UNKNOWN_KEY_ID: &str = "KXTASKUNKNOWN1";

/// Runs the e2e suite.
pub(crate) fn run(options: Options) -> Result<()> {
    let work = std::env::temp_dir().join(format!("cfsign-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut report = Report::new("e2e");
    report.section("bring-up");
    let outcome = run_in(&work, options, &mut report);
    if let Err(e) = &outcome {
        report.fail("e2e could not continue", e.clone());
    }
    crate::s3::leg(&work, options, &mut report);
    crate::players::leg(options, &mut report);
    report.print_summary();
    let failed = report.failed();
    if failed == 0 && !options.keep {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!(
            "work directory kept (logs, keys, configs): {}",
            work.display()
        );
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} e2e check(s) failed"))
    }
}

/// What the run has learnt: keys by ID, signatures issued.
struct Ctx {
    stack: Stack,
    /// Key-Pair-Id → SPKI public key PEM path (written by openssl, not by cfsign).
    public_keys: BTreeMap<String, PathBuf>,
    /// Key-Pair-Id → (private key path, is RSA).
    private_keys: BTreeMap<String, (PathBuf, bool)>,
    issued: Vec<Issued>,
    server_config: PathBuf,
    server_keys: Vec<ServerKey>,
}

fn run_in(work: &Path, options: Options, report: &mut Report) -> Result<()> {
    for tool in ["openssl"] {
        if capture(Command::new(tool).arg("version"), None).is_err() {
            return Err(format!("`{tool}` is required (apt-get install {tool})"));
        }
    }
    let stack = stack::start(work, options.release)?;
    report.pass(
        "mock + distribution + cfsign-provision setup",
        format!(
            "{} ({}), key {} in group {}",
            stack.distribution_id(),
            stack.domain(),
            stack.setup_field("key_pair_id")?,
            stack.setup_field("key_group_id")?
        ),
    );
    let rsa_id = stack.setup_field("key_pair_id")?.to_owned();
    let rsa_key = PathBuf::from(stack.setup_field("private_key_path")?);
    let mut ctx = Ctx {
        server_config: work.join("server.toml"),
        server_keys: vec![ServerKey {
            id: rsa_id.clone(),
            path: rsa_key.clone(),
        }],
        stack,
        public_keys: BTreeMap::new(),
        private_keys: BTreeMap::new(),
        issued: Vec::new(),
    };
    ctx.learn_key(&rsa_id, &rsa_key, true)?;
    report.check("private key written 0600", check_mode_0600(&rsa_key));

    stack::write_server_config(&ctx.stack, &ctx.server_keys, &ctx.server_config)?;
    let config = ctx.server_config.clone();
    ctx.stack.start_server(&config)?;
    report.pass(
        "cfsign-server started with the generated key",
        ctx.stack.server_url()?.to_owned(),
    );

    // Each stage reports its own failures and the run goes on, so one missing feature does not
    // hide the state of the others.
    grants(&mut ctx, report, &rsa_id, &rsa_key);
    p256(&mut ctx, report, &rsa_id);
    denials(&mut ctx, report, &rsa_id, &rsa_key);
    rotation(&mut ctx, report, &rsa_id, &rsa_key);
    crate::lambda::leg(
        &ctx.stack,
        &ctx.server_config,
        options.release,
        report,
        &mut ctx.issued,
    );
    crate::kms::leg(&ctx.stack, report, &mut ctx.issued, &mut ctx.public_keys);
    harness::verify_all(
        report,
        &ctx.issued,
        &ctx.public_keys,
        &ctx.private_keys,
        work,
    );

    let server_ran = ctx
        .stack
        .server_mut()
        .map(|svc| (svc.is_running(), svc.log_tail(20)));
    let mock = ctx.stack.mock_mut();
    let mock_ran = Some((mock.is_running(), mock.log_tail(20)));
    for (name, ran) in [("cfsign-server", server_ran), ("cfsign-mock", mock_ran)] {
        if let Some((false, log_tail)) = ran {
            report.fail(&format!("{name} still running at the end"), log_tail);
        }
    }
    Ok(())
}

impl Ctx {
    /// Records a key: its public half is derived with `openssl pkey` (independently of cfsign).
    fn learn_key(&mut self, id: &str, private: &Path, is_rsa: bool) -> Result<()> {
        let public = private.with_extension("openssl-pub.pem");
        let out = capture(
            Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(private)
                .arg("-out")
                .arg(&public),
            None,
        )?;
        if !out.ok() {
            return Err(format!(
                "openssl cannot read the private key {}: {}",
                private.display(),
                out.summary()
            ));
        }
        self.public_keys.insert(id.to_owned(), public);
        self.private_keys
            .insert(id.to_owned(), (private.to_owned(), is_rsa));
        Ok(())
    }

    /// `cfsign sign URL --key-pair-id ID --private-key KEY --expires-in 1h EXTRA…`; records it.
    fn cli_sign(
        &mut self,
        label: &str,
        url: &str,
        id: &str,
        key: &Path,
        extra: &[&str],
    ) -> Result<String> {
        let mut cmd = self.stack.bins().command("cfsign")?;
        cmd.args(["sign", url, "--key-pair-id", id, "--private-key"])
            .arg(key);
        if !extra.iter().any(|a| a.starts_with("--expires")) {
            cmd.args(["--expires-in", "1h"]);
        }
        cmd.args(extra);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        let signed = out
            .stdout
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        self.record_url(label, &signed)?;
        Ok(signed)
    }

    /// `cfsign cookies RESOURCE …`; returns a `Cookie` header; records it.
    fn cli_cookies(
        &mut self,
        label: &str,
        resource: &str,
        requested: &str,
        id: &str,
        key: &Path,
        extra: &[&str],
    ) -> Result<String> {
        let mut cmd = self.stack.bins().command("cfsign")?;
        cmd.args(["cookies", resource, "--key-pair-id", id, "--private-key"])
            .arg(key)
            .args(["--expires-in", "1h"])
            .args(extra);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        let header = stack::cookie_header_from(&out.stdout).ok_or_else(|| {
            format!(
                "`{}` printed no CloudFront-* cookies: {}",
                describe(&cmd),
                truncate(&out.stdout, 300)
            )
        })?;
        let issued = issued_from_cookies(label, &header, requested)?;
        self.issued.push(issued);
        Ok(header)
    }

    fn record_url(&mut self, label: &str, url: &str) -> Result<()> {
        let issued = issued_from_url(label, url)
            .map_err(|e| format!("`{}` is not a signed URL: {e}", truncate(url, 200)))?;
        self.issued.push(issued);
        Ok(())
    }

    /// `POST /v1/sign` with `body`; returns the signed URL; records it.
    fn server_sign(&mut self, label: &str, body: Value) -> Result<String> {
        let url = format!("{}/v1/sign", self.stack.server_url()?);
        let resp = http::post_json(&url, &body).bearer(CLIENT_TOKEN).send()?;
        if resp.status != 200 {
            return Err(format!(
                "POST /v1/sign {body} answered {}: {}",
                resp.status,
                truncate(&resp.text(), 300)
            ));
        }
        let json = resp.json()?;
        let signed = find_signed_url(&json).ok_or_else(|| {
            format!(
                "POST /v1/sign answer has no signed URL: {}",
                truncate(&json.to_string(), 300)
            )
        })?;
        self.record_url(label, &signed)?;
        Ok(signed)
    }

    /// `POST /v1/cookies` with `body`; returns a `Cookie` header; records it.
    fn server_cookies(&mut self, label: &str, body: Value, requested: &str) -> Result<String> {
        let url = format!("{}/v1/cookies", self.stack.server_url()?);
        let resp = http::post_json(&url, &body).bearer(CLIENT_TOKEN).send()?;
        if resp.status != 200 {
            return Err(format!(
                "POST /v1/cookies {body} answered {}: {}",
                resp.status,
                truncate(&resp.text(), 300)
            ));
        }
        let json = resp.json()?;
        let header = cookie_header_from_json(&json).ok_or_else(|| {
            format!(
                "POST /v1/cookies answer has no CloudFront-* cookies: {}",
                truncate(&json.to_string(), 300)
            )
        })?;
        self.issued
            .push(issued_from_cookies(label, &header, requested)?);
        Ok(header)
    }

    /// Checks that `cfsign verify` agrees with the edge (`expected`: `None` = served, else the code).
    fn cli_verify(
        &self,
        url: &str,
        cookie: Option<&str>,
        expected: Option<(&str, &str)>,
    ) -> Result<String> {
        let mut cmd = self.stack.bins().command("cfsign")?;
        cmd.args(["verify", url]);
        for (id, public) in &self.public_keys {
            if id != UNKNOWN_KEY_ID {
                cmd.arg("--trusted-key")
                    .arg(format!("{id}={}", public.display()));
            }
        }
        if let Some(c) = cookie {
            cmd.args(["--cookie", c]);
        }
        cmd.args(["--client-ip", "127.0.0.1"]);
        cmd.arg("--json");
        let out = capture(&mut cmd, None)?;
        let json: Value = serde_json::from_str(out.stdout.trim()).map_err(|e| {
            format!(
                "`{}` printed no JSON ({e}): {}",
                truncate(&describe(&cmd), 200),
                out.summary()
            )
        })?;
        let got_code = json["code"].as_str().unwrap_or_default();
        let got_kind = json["reason"].as_str().unwrap_or_default();
        let explanation = json["explanation"].as_str().unwrap_or_default();
        match (expected, out.code) {
            (None, Some(0)) if json["served"] == true => {
                Ok("cfsign verify: would be served".into())
            }
            (Some((code, kind)), Some(1)) if got_code == code && got_kind == kind => Ok(format!(
                "cfsign verify: {code} ({kind}: {})",
                truncate(explanation, 140)
            )),
            _ => Err(format!(
                "cfsign verify disagrees (expected {}): exit {:?}, {got_code} ({got_kind}: {explanation}) for `{}`",
                expected.map_or("served".to_owned(), |(c, k)| format!("{c} ({k})")),
                out.code,
                truncate(&describe(&cmd), 200)
            )),
        }
    }
}

/// The first string in `v` that looks like a signed URL.
fn find_signed_url(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.starts_with("http") && s.contains("Signature=") => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(find_signed_url),
        Value::Object(map) => {
            // Prefer the conventional field names, then anything.
            for k in ["signed_url", "url"] {
                if let Some(found) = map.get(k).and_then(find_signed_url) {
                    return Some(found);
                }
            }
            map.values().find_map(find_signed_url)
        }
        _ => None,
    }
}

/// A `Cookie` header from a JSON answer holding cookie name/value pairs or `Set-Cookie` strings.
fn cookie_header_from_json(v: &Value) -> Option<String> {
    let mut lines = Vec::new();
    collect_cookie_text(v, None, &mut lines);
    stack::cookie_header_from(&lines.join("\n"))
}

fn collect_cookie_text(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s) => match key {
            Some(k) if k.starts_with("CloudFront-") => out.push(format!("{k}={s}")),
            _ if s.contains("CloudFront-") => out.push(s.clone()),
            _ => {}
        },
        Value::Array(items) => items.iter().for_each(|i| collect_cookie_text(i, None, out)),
        Value::Object(map) => {
            if let (Some(Value::String(n)), Some(Value::String(val))) =
                (map.get("name"), map.get("value"))
                && n.starts_with("CloudFront-")
            {
                out.push(format!("{n}={val}"));
                return;
            }
            map.iter()
                .for_each(|(k, v)| collect_cookie_text(v, Some(k), out));
        }
        _ => {}
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn check_mode_0600(path: &Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode == 0o600 {
        Ok(format!("{} mode 0600", path.display()))
    } else {
        Err(format!(
            "{} has mode {mode:o}, expected 600",
            path.display()
        ))
    }
}

/// The exact 403 body CloudFront sends for `code` (written out here, not taken from cfsign).
fn xml_body(code: &str) -> String {
    let message = match code {
        "MissingKey" => "Missing Key-Pair-Id query parameter or cookie value",
        "InvalidKey" => "Unknown Key",
        "MalformedSignature" => "Could not unencode Signature",
        "MalformedPolicy" => "Malformed Policy",
        _ => "Access denied",
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"#
    )
}

/// GET through the edge, expecting 403 with `code`, `text/xml` and CloudFront's exact body.
fn expect_denied(url: &str, cookie: Option<&str>, code: &str) -> Result<String> {
    let mut req = http::get(url);
    if let Some(c) = cookie {
        req = req.cookie(c);
    }
    let resp = req.send()?;
    let got = resp.error_code().unwrap_or_default();
    if resp.status != 403 || got != code {
        return Err(format!(
            "expected 403 {code}, got {} {} ({})",
            resp.status,
            got,
            truncate(&resp.text(), 200)
        ));
    }
    let ctype = resp.header("content-type").unwrap_or_default();
    if !ctype.starts_with("text/xml") {
        return Err(format!(
            "403 {code} but content-type is `{ctype}`, CloudFront sends text/xml"
        ));
    }
    if resp.text() != xml_body(code) {
        return Err(format!(
            "403 {code} but the body differs from CloudFront's: {}",
            truncate(&resp.text(), 300)
        ));
    }
    Ok(format!("403 {code}"))
}

fn combine(a: Result<String>, b: Result<String>) -> Result<String> {
    Ok(format!("{}; {}", a?, b?))
}

fn grants(ctx: &mut Ctx, report: &mut Report, id: &str, key: &Path) {
    report.section("grants: public path and CLI-signed (RSA key from setup)");
    let hello = ctx.stack.edge_url("/private/hello.txt");
    let public = ctx.stack.edge_url("/public/index.html");
    report.check(
        "public path served without a signature",
        expect_served(&public, None, "public/index.html"),
    );

    let r = ctx.cli_sign("CLI canned SHA-1", &hello, id, key, &[]);
    report.check(
        "CLI canned SHA-1 URL",
        r.and_then(|u| {
            combine(
                expect_served(&u, None, "private/hello.txt"),
                ctx.cli_verify(&u, None, None),
            )
        }),
    );
    let r = ctx.cli_sign("CLI canned SHA-256", &hello, id, key, &["--hash", "sha256"]);
    report.check(
        "CLI canned SHA-256 URL",
        r.and_then(|u| expect_served(&u, None, "private/hello.txt")),
    );
    let data = ctx.stack.edge_url("/private/data.bin?v=1&lang=en");
    let r = ctx.cli_sign(
        "CLI canned, caller query string, binary body",
        &data,
        id,
        key,
        &[],
    );
    report.check(
        "CLI canned URL with its own query string",
        r.and_then(|u| expect_served(&u, None, "private/data.bin")),
    );

    let pattern = ctx.stack.edge_url("/private/video/*");
    for (hash, extra) in [("SHA-1", vec![]), ("SHA-256", vec!["--hash", "sha256"])] {
        let seg = ctx.stack.edge_url("/private/video/seg-0001.ts");
        let mut args = vec!["--resource", pattern.as_str()];
        args.extend(extra.iter().copied());
        let label = format!("CLI custom wildcard {hash}");
        let r = ctx.cli_sign(&label, &seg, id, key, &args);
        report.check(
            &label,
            r.and_then(|u| {
                // The same policy serves every object under the pattern.
                let other = u.replace("seg-0001.ts", "seg-0002.ts");
                combine(
                    expect_served(&u, None, "private/video/seg-0001.ts"),
                    expect_served(&other, None, "private/video/seg-0002.ts"),
                )
            }),
        );
    }
    let r = ctx.cli_cookies(
        "CLI custom cookies /private/video/*",
        &pattern,
        &pattern,
        id,
        key,
        &[],
    );
    report.check(
        "CLI signed cookies (custom wildcard)",
        r.and_then(|c| {
            combine(
                expect_served(
                    &ctx.stack.edge_url("/private/video/index.m3u8"),
                    Some(&c),
                    "private/video/index.m3u8",
                ),
                ctx.cli_verify(
                    &ctx.stack.edge_url("/private/video/index.m3u8"),
                    Some(&c),
                    None,
                ),
            )
        }),
    );
    let r = ctx.cli_cookies(
        "CLI canned cookies SHA-256",
        &hello,
        &hello,
        id,
        key,
        &["--hash", "sha256"],
    );
    report.check(
        "CLI signed cookies (canned, SHA-256)",
        r.and_then(|c| expect_served(&hello, Some(&c), "private/hello.txt")),
    );

    let r = openssl_canned(&hello, now() + 600, id, key);
    report.check(
        "URL signed by openssl (not cfsign) is served by the edge",
        r.and_then(|u| expect_served(&u, None, "private/hello.txt")),
    );

    report.section("grants: cfsign-server");
    let r = ctx.server_sign("server canned SHA-1", json!({ "url": hello, "ttl": "10m" }));
    report.check(
        "server canned SHA-1 URL",
        r.and_then(|u| expect_served(&u, None, "private/hello.txt")),
    );
    let r = ctx.server_sign(
        "server canned SHA-256",
        json!({ "url": hello, "ttl": "10m", "hash_algorithm": "sha256" }),
    );
    report.check(
        "server canned SHA-256 URL",
        r.and_then(|u| {
            if u.contains("Hash-Algorithm=SHA256") {
                expect_served(&u, None, "private/hello.txt")
            } else {
                Err(format!("no Hash-Algorithm=SHA256 in {u}"))
            }
        }),
    );
    let seg = ctx.stack.edge_url("/private/video/seg-0002.ts");
    let r = ctx.server_sign(
        "server custom wildcard SHA-256",
        json!({ "url": seg, "resource": pattern, "ttl": "10m", "hash_algorithm": "sha256" }),
    );
    report.check(
        "server custom wildcard SHA-256 URL",
        r.and_then(|u| expect_served(&u, None, "private/video/seg-0002.ts")),
    );
    let r = ctx.server_cookies(
        "server cookies /private/video/*",
        json!({ "resource": pattern, "ttl": "10m" }),
        &pattern,
    );
    report.check(
        "server signed cookies (custom wildcard)",
        r.and_then(|c| expect_served(&seg, Some(&c), "private/video/seg-0002.ts")),
    );
    let r = (|| -> Result<String> {
        let url = format!(
            "{}/v1/redirect?url={}",
            ctx.stack.server_url()?,
            percent_encode(&hello)
        );
        let resp = http::get(&url).bearer(CLIENT_TOKEN).send()?;
        let location = resp.header("location").unwrap_or_default().to_owned();
        if resp.status != 302 || location.is_empty() {
            return Err(format!("expected 302 with Location, got {}", resp.status));
        }
        ctx.record_url("server /v1/redirect", &location)?;
        expect_served(&location, None, "private/hello.txt")
    })();
    report.check("server /v1/redirect → signed URL served", r);
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A canned URL signed with `openssl dgst -sha1 -sign` (shares no code with cfsign).
fn openssl_canned(url: &str, expires: i64, id: &str, key: &Path) -> Result<String> {
    let policy = harness::canned_policy(url, expires);
    let mut cmd = Command::new("openssl");
    cmd.args(["dgst", "-sha1", "-sign"]).arg(key);
    let signed = capture_bytes(&mut cmd, policy.as_bytes())?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{url}{sep}Expires={expires}&Signature={}&Key-Pair-Id={id}",
        cf_b64_encode(&signed)
    ))
}

fn capture_bytes(cmd: &mut Command, input: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(cmd)))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "`{}` failed: {}",
            describe(cmd),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn p256(ctx: &mut Ctx, report: &mut Report, rsa_id: &str) {
    report.section("grants: P-256 key (cfsign keygen, provision upload-key + key-group ensure)");
    let r = (|| -> Result<(String, PathBuf)> {
        let dir = ctx.stack.dir().join("keys");
        let private = dir.join("p256.pem");
        let public = dir.join("p256.pub.pem");
        let mut cmd = ctx.stack.bins().command("cfsign")?;
        cmd.args(["keygen", "--algorithm", "p256", "--out"])
            .arg(&private)
            .arg("--public-out")
            .arg(&public);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        let mut cmd = ctx.stack.provision()?;
        cmd.args([
            "--json",
            "upload-key",
            "--name",
            "cfsign-xtask-p256",
            "--public-key",
        ])
        .arg(&public);
        let uploaded = run_json(&mut cmd)?;
        let id = uploaded
            .get("key_pair_id")
            .or_else(|| uploaded.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("upload-key --json has no key_pair_id: {uploaded}"))?
            .to_owned();
        let mut cmd = ctx.stack.provision()?;
        cmd.args([
            "--json",
            "key-group",
            "ensure",
            "--name",
            stack::KEY_GROUP,
            "--key-id",
            rsa_id,
            "--key-id",
            &id,
        ]);
        run_json(&mut cmd)?;
        ctx.learn_key(&id, &private, false)?;
        Ok((id, private))
    })();
    let Some((id, key)) = report_ok(report, "P-256 key uploaded and added to the key group", r)
    else {
        return;
    };
    let hello = ctx.stack.edge_url("/private/hello.txt");
    let r = ctx.cli_sign("CLI P-256 canned SHA-1", &hello, &id, &key, &[]);
    report.check(
        "CLI P-256 canned SHA-1 URL",
        r.and_then(|u| {
            combine(
                expect_served(&u, None, "private/hello.txt"),
                ctx.cli_verify(&u, None, None),
            )
        }),
    );
    let pattern = ctx.stack.edge_url("/private/*");
    let r = ctx.cli_sign(
        "CLI P-256 custom wildcard SHA-256",
        &hello,
        &id,
        &key,
        &["--resource", &pattern, "--hash", "sha256"],
    );
    report.check(
        "CLI P-256 custom wildcard SHA-256 URL",
        r.and_then(|u| expect_served(&u, None, "private/hello.txt")),
    );
    let r = ctx.cli_cookies(
        "CLI P-256 custom cookies",
        &pattern,
        &pattern,
        &id,
        &key,
        &["--hash", "sha256"],
    );
    report.check(
        "CLI P-256 signed cookies",
        r.and_then(|c| expect_served(&hello, Some(&c), "private/hello.txt")),
    );
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

/// Replaces the value of query parameter `name`.
fn set_param(url: &str, name: &str, value: &str) -> String {
    let prefix = format!("{name}=");
    let (front, query) = url.split_once('?').unwrap_or((url, ""));
    let query: Vec<String> = query
        .split('&')
        .map(|p| {
            if p.starts_with(&prefix) {
                format!("{prefix}{value}")
            } else {
                p.to_owned()
            }
        })
        .collect();
    format!("{front}?{}", query.join("&"))
}

fn remove_param(url: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    let (front, query) = url.split_once('?').unwrap_or((url, ""));
    let query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with(&prefix))
        .collect();
    format!("{front}?{}", query.join("&"))
}

/// Flips one character of the Signature to another valid CloudFront base64 character.
fn tamper_signature(url: &str) -> String {
    let sig = harness::split_url(url)
        .params
        .get("Signature")
        .cloned()
        .unwrap_or_default();
    let mut chars: Vec<char> = sig.chars().collect();
    if let Some(c) = chars.get_mut(10) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    set_param(url, "Signature", &chars.into_iter().collect::<String>())
}

/// A request to make: URL and optional `Cookie` header.
type Attempt = (String, Option<String>);

fn denials(ctx: &mut Ctx, report: &mut Report, id: &str, key: &Path) {
    report.section("denials: exact 403 codes through the edge, cross-checked with `cfsign verify`");
    let hello = ctx.stack.edge_url("/private/hello.txt");
    let mut cases: Vec<(&str, Result<Attempt>, &str)> = Vec::new();

    cases.push((
        "unsigned",
        Ok((hello.clone(), None)),
        "MissingKey/no_signature",
    ));
    let base = ctx.cli_sign("CLI canned (denial base)", &hello, id, key, &[]);
    if let Ok(u) = &base {
        cases.push((
            "Key-Pair-Id removed",
            Ok((remove_param(u, "Key-Pair-Id"), None)),
            "MissingKey/missing_key_pair_id",
        ));
        cases.push((
            "tampered path",
            Ok((u.replace("/private/hello.txt", "/private/other.txt"), None)),
            "AccessDenied/bad_signature",
        ));
        cases.push((
            "tampered query (parameter added after signing)",
            Ok((u.replacen('?', "?extra=1&", 1), None)),
            "AccessDenied/bad_signature",
        ));
        cases.push((
            "tampered signature (one character)",
            Ok((tamper_signature(u), None)),
            "AccessDenied/bad_signature",
        ));
        cases.push((
            "signature not CloudFront base64",
            Ok((set_param(u, "Signature", "abc!def*"), None)),
            "MalformedSignature/signature_not_base64",
        ));
        cases.push((
            "http vs https (signed for https, requested over http)",
            {
                ctx.cli_sign(
                    "CLI canned https",
                    &hello.replacen("http://", "https://", 1),
                    id,
                    key,
                    &[],
                )
                .map(|s| (s.replacen("https://", "http://", 1), None::<String>))
            },
            "AccessDenied/bad_signature",
        ));
    } else if let Err(e) = &base {
        report.fail("CLI-signed base URL for the tampering cases", e.clone());
    }
    cases.push((
        "expired (signed by openssl, Expires 2 minutes ago)",
        openssl_canned(&hello, now() - 120, id, key).map(|u| (u, None)),
        "AccessDenied/expired",
    ));
    let past = (now() - 120).to_string();
    cases.push((
        "expired (cfsign sign --allow-expired, Expires 2 minutes ago)",
        ctx.cli_sign(
            "CLI canned expired",
            &hello,
            id,
            key,
            &["--expires-at", &past, "--allow-expired"],
        )
        .map(|u| (u, None)),
        "AccessDenied/expired",
    ));
    let soon = now() + 3600;
    cases.push((
        "not yet valid (--starts-at in an hour)",
        ctx.cli_sign(
            "CLI custom not yet valid",
            &hello,
            id,
            key,
            &["--starts-at", &soon.to_string(), "--expires-in", "2h"],
        )
        .map(|u| (u, None)),
        "AccessDenied/not_yet_valid",
    ));
    cases.push((
        "wrong client IP (--ip 203.0.113.0/24)",
        ctx.cli_sign(
            "CLI custom IP-restricted",
            &hello,
            id,
            key,
            &["--ip", "203.0.113.0/24"],
        )
        .map(|u| (u, None)),
        "AccessDenied/wrong_client_ip",
    ));
    let video = ctx.stack.edge_url("/private/video/*");
    cases.push((
        "resource pattern mismatch (/private/video/* used for /private/hello.txt)",
        ctx.cli_sign(
            "CLI custom video pattern",
            &ctx.stack.edge_url("/private/video/seg-0001.ts"),
            id,
            key,
            &["--resource", &video],
        )
        .map(|u| {
            (
                u.replace("/private/video/seg-0001.ts", "/private/hello.txt"),
                None,
            )
        }),
        "AccessDenied/resource_mismatch",
    ));
    cases.push((
        "Policy not a policy",
        Ok((
            format!(
                "{hello}?Policy={}&Signature=AAAA&Key-Pair-Id={id}",
                cf_b64_encode(b"not json")
            ),
            None,
        )),
        "MalformedPolicy/policy_unparsable",
    ));

    // A key that no key group holds.
    let unknown = (|| -> Result<String> {
        let private = ctx.stack.dir().join("keys").join("unknown.pem");
        let mut cmd = ctx.stack.bins().command("cfsign")?;
        cmd.args(["keygen", "--out"]).arg(&private);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        ctx.learn_key(UNKNOWN_KEY_ID, &private, true)?;
        ctx.cli_sign(
            "CLI canned, key not in the group",
            &hello,
            UNKNOWN_KEY_ID,
            &private,
            &[],
        )
    })();
    cases.push((
        "key not in the key group",
        unknown.map(|u| (u, None)),
        "InvalidKey/unknown_key",
    ));

    // Valid cookies, but URL signing parameters present: the URL wins.
    let pattern = ctx.stack.edge_url("/private/*");
    let cookies = ctx.cli_cookies(
        "CLI cookies /private/* (precedence)",
        &pattern,
        &pattern,
        id,
        key,
        &[],
    );
    match &cookies {
        Ok(c) => {
            report.check(
                "valid cookies alone are served",
                expect_served(&hello, Some(c), "private/hello.txt"),
            );
            let r = openssl_canned(&hello, now() - 120, id, key).map(|u| (u, Some(c.clone())));
            cases.push((
                "valid cookies + expired URL parameters (the URL wins)",
                r,
                "AccessDenied/expired",
            ));
        }
        Err(e) => report.fail("cookies for the precedence case", e.clone()),
    }

    for (name, case, expected) in cases {
        // `Code/kind`: CloudFront's 403 code and cfsign's precise reason.
        let (code, kind) = expected.split_once('/').unwrap_or((expected, ""));
        let r = case.and_then(|(url, cookie)| {
            combine(
                expect_denied(&url, cookie.as_deref(), code),
                ctx.cli_verify(&url, cookie.as_deref(), Some((code, kind))),
            )
        });
        report.check(name, r);
    }
}

fn rotation(ctx: &mut Ctx, report: &mut Report, old_id: &str, old_key: &Path) {
    report.section("rotation: rotate, hot reload under load, retire");
    let Ok(server) = ctx.stack.server_url().map(str::to_owned) else {
        report.fail("rotation", "cfsign-server is not running");
        return;
    };
    let hello = ctx.stack.edge_url("/private/hello.txt");
    // The old key's URL, signed before the rotation.
    let old_url = ctx.cli_sign(
        "CLI canned, old key (before rotation)",
        &hello,
        old_id,
        old_key,
        &[],
    );

    // Background load: sign with the server, fetch through the edge.
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Mutex::new(LoadStats::default()));
    let loader = {
        let (stop, stats, server, hello) =
            (stop.clone(), stats.clone(), server.clone(), hello.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let outcome = http::post_json(
                    &format!("{server}/v1/sign"),
                    &json!({ "url": hello, "ttl": "5m" }),
                )
                .bearer(CLIENT_TOKEN)
                .send()
                .map_err(String::from)
                .and_then(|r| {
                    if r.status == 200 {
                        r.json().map_err(String::from)
                    } else {
                        Err(format!(
                            "sign answered {}: {}",
                            r.status,
                            truncate(&r.text(), 200)
                        ))
                    }
                })
                .and_then(|j| find_signed_url(&j).ok_or_else(|| "no signed URL".to_owned()))
                .and_then(|u| {
                    let key = harness::split_url(&u)
                        .params
                        .get("Key-Pair-Id")
                        .cloned()
                        .unwrap_or_default();
                    expect_served(&u, None, "private/hello.txt").map(|_| key)
                });
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                match outcome {
                    Ok(key) => {
                        s.ok += 1;
                        s.last_key = key;
                    }
                    Err(e) => {
                        s.failed += 1;
                        if s.errors.len() < 5 {
                            s.errors.push(e);
                        }
                    }
                }
                drop(s);
                thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let r = (|| -> Result<(String, PathBuf)> {
        let new_key = ctx.stack.dir().join("keys").join("rotated.pem");
        let mut cmd = ctx.stack.provision()?;
        cmd.args([
            "--json",
            "rotate",
            "--key-group",
            stack::KEY_GROUP,
            "--private-key-out",
        ])
        .arg(&new_key);
        let out = run_json(&mut cmd)?;
        let id = out
            .get("key_pair_id")
            .or_else(|| out.get("new_key_pair_id"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("rotate --json has no key_pair_id: {out}"))?
            .to_owned();
        let path = out
            .get("private_key_path")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .unwrap_or(new_key);
        ctx.learn_key(&id, &path, true)?;
        Ok((id, path))
    })();
    let rotated = report_ok(
        report,
        "cfsign-provision rotate adds a new key to the group",
        r,
    );

    if let Some((new_id, new_key)) = &rotated {
        ctx.server_keys.push(ServerKey {
            id: new_id.clone(),
            path: new_key.clone(),
        });
        let r = stack::write_server_config(&ctx.stack, &ctx.server_keys, &ctx.server_config)
            .and_then(|()| {
                let server = ctx.stack.server().ok_or("server gone".to_owned())?;
                Ok(server.signal("HUP")?)
            });
        report.check(
            "server config rewritten with the new key active, SIGHUP sent",
            r.map(|()| String::new()),
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        let switched = loop {
            let s = stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .last_key
                .clone();
            if s == *new_id {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            thread::sleep(Duration::from_millis(100));
        };
        if switched {
            report.pass(
                "server switched to the new key by hot reload",
                new_id.clone(),
            );
        } else {
            report.fail(
                "server switched to the new key by hot reload",
                format!(
                    "still signing with another key 15 s after SIGHUP; server log:\n{}",
                    ctx.stack
                        .server()
                        .map(|s| s.log_tail(15))
                        .unwrap_or_default()
                ),
            );
        }
        if let Ok(u) = &old_url {
            report.check(
                "old-key URL still served while the old key is in the group",
                expect_served(u, None, "private/hello.txt"),
            );
        }
        let mut cmd = match ctx.stack.provision() {
            Ok(c) => c,
            Err(e) => {
                report.fail("rotate --retire", e);
                return;
            }
        };
        cmd.args([
            "--json",
            "rotate",
            "--key-group",
            stack::KEY_GROUP,
            "--retire",
            old_id,
        ]);
        report.check(
            "cfsign-provision rotate --retire removes and deletes the old key",
            run_json(&mut cmd)
                .map(|_| String::new())
                .map_err(String::from),
        );
        thread::sleep(Duration::from_millis(500));
        match &old_url {
            Ok(u) => {
                report.check(
                    "old-key URL after retire",
                    expect_denied(u, None, "InvalidKey"),
                );
            }
            Err(e) => report.fail("old-key URL after retire", e.clone()),
        }
        let r = ctx.server_sign(
            "server canned after rotation",
            json!({ "url": hello, "ttl": "10m" }),
        );
        report.check(
            "server URL after retire is served (new key)",
            r.and_then(|u| {
                if u.contains(&format!("Key-Pair-Id={new_id}")) {
                    expect_served(&u, None, "private/hello.txt")
                } else {
                    Err(format!("signed with another key: {u}"))
                }
            }),
        );
    }
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let _ = loader.join();
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    let detail = format!(
        "{} requests served, {} failed during rotate → reload → retire",
        s.ok, s.failed
    );
    if s.failed == 0 && s.ok > 0 {
        report.pass("zero failed requests under background load", detail);
    } else {
        report.fail(
            "zero failed requests under background load",
            format!("{detail}; first errors: {}", s.errors.join(" | ")),
        );
    }
}

#[derive(Debug, Default)]
struct LoadStats {
    ok: u64,
    failed: u64,
    last_key: String,
    errors: Vec<String>,
}
