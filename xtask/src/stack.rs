//! The whole system on loopback: cfsign-mock with an origin of test files and a distribution,
//! provisioned by cfsign-provision, and cfsign-server holding the generated key. Shared by
//! `e2e` and `demo`.
//!
//! Every external interface used here (flags, JSON fields, the server's config file) is the
//! contract between the crates; a mismatch is reported as a failure naming the command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::Result;
use crate::http;
use crate::proc::{Binaries, Captured, Service, build_binaries, capture, describe, free_port};

/// The binaries the stack runs.
pub(crate) const BINARIES: [&str; 4] =
    ["cfsign", "cfsign-mock", "cfsign-provision", "cfsign-server"];

/// The private path pattern (signed access) and a public one.
pub(crate) const PRIVATE_PATTERN: &str = "/private/*";

/// The key group `setup` creates (and `rotate` works on).
pub(crate) const KEY_GROUP: &str = "cfsign-xtask";

/// The bearer token the e2e/demo client uses with cfsign-server (a throwaway for loopback).
pub(crate) const CLIENT_TOKEN: &str = "xtask-e2e-token-0123456789abcdef";

/// A small picture for the demo's private path (viewable in a browser).
const DEMO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="360" height="120" viewBox="0 0 360 120">
<rect width="360" height="120" rx="12" fill="#232f3e"/>
<text x="180" y="55" font-family="sans-serif" font-size="22" fill="#ff9900" text-anchor="middle">private media</text>
<text x="180" y="88" font-family="sans-serif" font-size="15" fill="#ffffff" text-anchor="middle">served because the URL is signed</text>
</svg>
"##;

/// Test files: path under the origin → contents.
pub(crate) fn origin_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut binary: Vec<u8> = (0..=255u8).collect();
    binary.extend_from_slice(b"\r\n\0end");
    vec![
        (
            "private/hello.txt",
            b"hello from the private path\n".to_vec(),
        ),
        ("private/data.bin", binary),
        ("private/video/seg-0001.ts", b"segment one\n".to_vec()),
        ("private/video/seg-0002.ts", b"segment two\n".to_vec()),
        (
            "private/video/index.m3u8",
            b"#EXTM3U\n#EXTINF:4,\nseg-0001.ts\n#EXTINF:4,\nseg-0002.ts\n".to_vec(),
        ),
        ("private/other.txt", b"another private file\n".to_vec()),
        (
            "public/index.html",
            b"<!doctype html><p>public page</p>\n".to_vec(),
        ),
        ("private/image.svg", DEMO_SVG.as_bytes().to_vec()),
    ]
}

/// A running mock with a provisioned distribution and, optionally, the server.
#[derive(Debug)]
pub(crate) struct Stack {
    /// The binaries.
    pub(crate) bins: Binaries,
    /// The work directory.
    pub(crate) work: PathBuf,
    /// The mock (dropped last: fields drop in declaration order, so the server goes first).
    pub(crate) server: Option<Service>,
    /// The mock.
    pub(crate) mock: Service,
    /// The mock's control-plane endpoint.
    pub(crate) endpoint: String,
    /// The mock's port.
    pub(crate) mock_port: u16,
    /// The distribution ID.
    pub(crate) distribution_id: String,
    /// The distribution's domain name (`dXXXX.cloudfront.net`).
    pub(crate) domain: String,
    /// The result of `cfsign-provision setup --json`.
    pub(crate) setup: Value,
}

impl Stack {
    /// `http://<domain>.localhost:<port><path>`.
    pub(crate) fn edge_url(&self, path: &str) -> String {
        format!("http://{}.localhost:{}{path}", self.domain, self.mock_port)
    }

    /// A `cfsign-provision` command against the mock (`--endpoint-url`, test credentials).
    pub(crate) fn provision(&self) -> Result<Command> {
        provision_command(&self.bins, &self.endpoint)
    }

    /// The server's URL.
    pub(crate) fn server_url(&self) -> Result<&str> {
        self.server
            .as_ref()
            .map(Service::url)
            .ok_or_else(|| "cfsign-server is not running".to_owned())
    }
}

/// A `cfsign-provision` command for `endpoint`.
pub(crate) fn provision_command(bins: &Binaries, endpoint: &str) -> Result<Command> {
    let mut cmd = bins.command("cfsign-provision")?;
    cmd.args(["--endpoint-url", endpoint])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    Ok(cmd)
}

/// Runs `cmd` expecting exit 0 and JSON on stdout.
pub(crate) fn run_json(cmd: &mut Command) -> Result<Value> {
    let out = capture(cmd, None)?;
    json_of(cmd, &out)
}

fn json_of(cmd: &Command, out: &Captured) -> Result<Value> {
    if !out.ok() {
        return Err(format!("`{}` failed: {}", describe(cmd), out.summary()));
    }
    serde_json::from_str(out.stdout.trim()).map_err(|e| {
        format!(
            "`{}` did not print JSON ({e}): {}",
            describe(cmd),
            crate::proc::truncate(out.stdout.trim(), 300)
        )
    })
}

/// A string field of a JSON object, or an error naming it and the command.
pub(crate) fn field<'a>(v: &'a Value, name: &str, what: &str) -> Result<&'a str> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| {
        format!(
            "{what} output has no string field `{name}`: {}",
            crate::proc::truncate(&v.to_string(), 300)
        )
    })
}

/// Creates the work directory, writes the origin, builds and starts the mock, creates a
/// distribution with a private behaviour, and runs `cfsign-provision setup` on it.
pub(crate) fn start(work: &Path, release: bool) -> Result<Stack> {
    let bins = build_binaries(&BINARIES, release)?;
    std::fs::create_dir_all(work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let origin = work.join("origin");
    for (path, bytes) in origin_files() {
        let path = origin.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }

    let mock_port = free_port()?;
    let mut cmd = bins.command("cfsign-mock")?;
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &mock_port.to_string(),
        "--origin",
    ])
    .arg(&origin)
    .arg("--state-file")
    .arg(work.join("mock-state.json"));
    let mock = Service::start(
        "cfsign-mock",
        cmd,
        &work.join("mock.log"),
        Duration::from_secs(30),
    )?;
    let endpoint = mock.url().trim_end_matches('/').to_owned();

    let (distribution_id, domain) = create_distribution(&endpoint)?;
    println!("  distribution {distribution_id} ({domain})");

    let mut cmd = provision_command(&bins, &endpoint)?;
    cmd.args([
        "--json",
        "setup",
        "--distribution-id",
        &distribution_id,
        "--path-pattern",
        PRIVATE_PATTERN,
    ])
    .args([
        "--key-group-name",
        KEY_GROUP,
        "--key-name",
        "cfsign-xtask-rsa",
    ])
    .arg("--private-key-out")
    .arg(work.join("keys").join("cloudfront-private.pem"));
    std::fs::create_dir_all(work.join("keys")).map_err(|e| e.to_string())?;
    println!("  $ {}", describe(&cmd));
    let setup = run_json(&mut cmd)?;
    for f in ["key_pair_id", "key_group_id", "private_key_path"] {
        field(&setup, f, "cfsign-provision setup --json")?;
    }
    Ok(Stack {
        bins,
        work: work.to_owned(),
        server: None,
        mock,
        endpoint,
        mock_port,
        distribution_id,
        domain,
        setup,
    })
}

/// Creates a distribution on the mock through the control-plane API (as the SDKs would): the
/// default behaviour public, `/private/*` a separate behaviour (restricted later by provision).
fn create_distribution(endpoint: &str) -> Result<(String, String)> {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>xtask-{}</CallerReference>
  <Comment>cfsign xtask</Comment>
  <Enabled>true</Enabled>
  <Origins><Quantity>1</Quantity><Items><Origin>
    <Id>local</Id><DomainName>origin.local</DomainName>
    <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>
  </Origin></Items></Origins>
  <DefaultCacheBehavior>
    <TargetOriginId>local</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>
    <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>
  </DefaultCacheBehavior>
  <CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior>
    <PathPattern>{PRIVATE_PATTERN}</PathPattern>
    <TargetOriginId>local</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>
    <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>
  </CacheBehavior></Items></CacheBehaviors>
</DistributionConfig>"#,
        std::process::id()
    );
    let url = format!("{endpoint}/2020-05-31/distribution");
    let resp = http::Request::raw("POST", &url, body.into_bytes())
        .header("content-type", "application/xml")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=0")
        .send()?;
    if resp.status != 201 {
        return Err(format!(
            "CreateDistribution on the mock answered {}: {}",
            resp.status,
            crate::proc::truncate(&resp.text(), 400)
        ));
    }
    let text = resp.text();
    let id = xml_value(&text, "Id").ok_or("CreateDistribution answer has no <Id>")?;
    let domain =
        xml_value(&text, "DomainName").ok_or("CreateDistribution answer has no <DomainName>")?;
    Ok((id, domain))
}

/// The text of the first `<tag>…</tag>`.
pub(crate) fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// A key the server holds.
#[derive(Debug, Clone)]
pub(crate) struct ServerKey {
    /// Key-Pair-Id.
    pub(crate) id: String,
    /// Private key PEM path.
    pub(crate) path: PathBuf,
}

/// Writes the server's TOML config: `keys` (the last one active), one client allowed to sign
/// anything under the distribution's edge URL, with cookies and custom policies.
pub(crate) fn write_server_config(stack: &Stack, keys: &[ServerKey], path: &Path) -> Result<()> {
    let active = keys.last().ok_or("the server needs at least one key")?;
    let token_hash = sha256_hex(CLIENT_TOKEN)?;
    let mut toml = String::new();
    toml.push_str(&format!("active_key = \"{}\"\n\n", active.id));
    for k in keys {
        toml.push_str(&format!(
            "[[keys]]\nid = \"{}\"\nfile = {}\n\n",
            k.id,
            serde_json::Value::String(k.path.display().to_string())
        ));
    }
    toml.push_str(&format!(
        "[[clients]]\nname = \"xtask\"\ntoken_sha256 = \"{token_hash}\"\nallow = [\"{}\"]\nmax_ttl = \"1d\"\ncookies = true\ncustom_policy = true\n",
        stack.edge_url("/")
    ));
    // Write then rename, so a server watching the file never reads half of it.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, toml).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Starts the server with `config`.
pub(crate) fn start_server(stack: &mut Stack, config: &Path) -> Result<()> {
    let port = free_port()?;
    let mut cmd = stack.bins.command("cfsign-server")?;
    cmd.arg("--config")
        .arg(config)
        .args(["--listen", &format!("127.0.0.1:{port}")]);
    let server = Service::start(
        "cfsign-server",
        cmd,
        &stack.work.join("server.log"),
        Duration::from_secs(30),
    )?;
    stack.server = Some(server);
    Ok(())
}

/// SHA-256 of `text` in hex, computed by `openssl` (xtask carries no hash crate).
pub(crate) fn sha256_hex(text: &str) -> Result<String> {
    let out = capture(
        Command::new("openssl").args(["dgst", "-sha256", "-r"]),
        Some(text.as_bytes()),
    )?;
    if !out.ok() {
        return Err(format!("openssl dgst -sha256 failed: {}", out.summary()));
    }
    out.stdout
        .split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "openssl dgst printed nothing".to_owned())
}

/// Cookie header built from `Set-Cookie` lines (or `name=value` pairs) found in `text`.
pub(crate) fn cookie_header_from(text: &str) -> Option<String> {
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line
            .strip_prefix("Set-Cookie:")
            .or_else(|| line.strip_prefix("set-cookie:"))
            .or_else(|| line.strip_prefix("Cookie:"))
            .unwrap_or(line)
            .trim();
        for part in line.split(';') {
            if let Some((k, v)) = part.trim().split_once('=')
                && k.starts_with("CloudFront-")
            {
                pairs.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    if pairs.is_empty() {
        None
    } else {
        Some(
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}
