//! Test helpers: a mock on 127.0.0.1:0 in its own runtime, requests to it through the shared
//! client (`cfsign_tests::http`: exact `Host` header and request target, no DNS for
//! `*.localhost`) with the control plane's defaults, and control-plane XML.
#![allow(dead_code, unreachable_pub)] // Reason: each test binary uses a different subset.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::ops::Deref;

use cfsign_mock::{MockConfig, RunningMock};
use cfsign_tests::http;
#[allow(unused_imports)] // Reason: as `dead_code` above, some test binaries do not use it.
pub use cfsign_tests::http::xml_value;

pub const NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// A SigV4 `Authorization` header as the SDKs send it (the mock checks no signature).
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=00";

pub struct Mock {
    pub mock: Option<RunningMock>,
    pub rt: tokio::runtime::Runtime,
}

impl Mock {
    pub fn start(config: MockConfig) -> Mock {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mock = rt.block_on(cfsign_mock::start(config)).unwrap();
        Mock {
            mock: Some(mock),
            rt,
        }
    }

    pub fn handle(&self) -> &RunningMock {
        self.mock.as_ref().unwrap()
    }

    /// A fresh P-256 key uploaded as public key `k` and trusted by a new key group `g`: the
    /// signer (the public key's ID is its key pair ID) and the group's ID.
    pub fn trusted_signer(&self) -> (cfsign::Signer, String) {
        let (key, pem) = keypair(cfsign::KeyKind::P256);
        let key_id = self
            .post("/2020-05-31/public-key", &public_key_config("k", "k", &pem))
            .xml("Id")
            .unwrap();
        let group = self
            .post("/2020-05-31/key-group", &key_group_config("g", &[&key_id]))
            .xml("Id")
            .unwrap();
        (cfsign::Signer::new(key_id.parse().unwrap(), key), group)
    }

    pub fn port(&self) -> u16 {
        self.handle().port()
    }

    pub fn endpoint(&self) -> String {
        self.handle().endpoint()
    }

    /// `method path` to the mock, `Host: 127.0.0.1:<port>`, with an SDK's `Authorization`.
    pub fn req(&self, method: &str, path: &str) -> Req {
        let url = format!("http://127.0.0.1:{}{path}", self.port());
        Req(http::Request::new(method, &url).header("Authorization", AUTHORIZATION))
    }

    /// `method path` to the mock as a viewer would send it: no `Authorization`.
    pub fn viewer_req(&self, method: &str, path: &str) -> Req {
        let url = format!("http://127.0.0.1:{}{path}", self.port());
        Req(http::Request::new(method, &url))
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path).send()
    }

    pub fn post(&self, path: &str, body: &str) -> Resp {
        self.req("POST", path).body(body).send()
    }

    pub fn put(&self, path: &str, etag: &str, body: &str) -> Resp {
        self.req("PUT", path)
            .header("If-Match", etag)
            .body(body)
            .send()
    }

    pub fn delete(&self, path: &str, etag: &str) -> Resp {
        self.req("DELETE", path).header("If-Match", etag).send()
    }

    /// Shuts down and waits.
    pub fn stop(mut self) {
        if let Some(m) = self.mock.take() {
            self.rt.block_on(m.shutdown());
        }
    }
}

/// A request to the mock (see [`Mock::req`]); `send` panics on a transport error.
pub struct Req(http::Request);

impl Req {
    pub fn host(self, host: &str) -> Req {
        Req(self.0.host(host))
    }

    pub fn header(self, name: &str, value: &str) -> Req {
        Req(self.0.header(name, value))
    }

    pub fn body(self, body: impl Into<Vec<u8>>) -> Req {
        Req(self.0.body(body))
    }

    pub fn send(self) -> Resp {
        Resp(self.0.send().unwrap())
    }
}

/// A response, with the control plane's checks on top of the shared client's.
#[derive(Debug)]
pub struct Resp(http::Response);

impl Deref for Resp {
    type Target = http::Response;

    fn deref(&self) -> &http::Response {
        &self.0
    }
}

impl Resp {
    pub fn etag(&self) -> String {
        self.header("etag").expect("ETag header").to_owned()
    }

    /// The error code of a control-plane error, checking the wrapped form.
    pub fn error_code(&self) -> String {
        let text = self.text();
        assert!(
            text.contains(&format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>")),
            "not a wrapped ErrorResponse: {text}"
        );
        assert!(text.contains("<RequestId>"), "{text}");
        assert_eq!(self.header("content-type"), Some("text/xml"));
        self.xml("Code").unwrap()
    }

    /// Asserts status and error code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.error_code(), code, "{}", self.text());
    }
}

/// A fresh key's SPKI PEM with its private key.
pub fn keypair(kind: cfsign::KeyKind) -> (cfsign::PrivateKey, String) {
    let key = cfsign::PrivateKey::generate(kind, &mut rand::rng()).unwrap();
    let pem = key.public_key().to_pem();
    (key, pem)
}

pub fn public_key_config(caller_ref: &str, name: &str, pem: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><PublicKeyConfig xmlns=\"{NS}\"><CallerReference>{caller_ref}</CallerReference><Name>{name}</Name><EncodedKey>{pem}</EncodedKey><Comment>test key</Comment></PublicKeyConfig>"
    )
}

pub fn key_group_config(name: &str, keys: &[&str]) -> String {
    let items: String = keys
        .iter()
        .map(|k| format!("<PublicKey>{k}</PublicKey>"))
        .collect();
    format!(
        "<KeyGroupConfig xmlns=\"{NS}\"><Name>{name}</Name><Items>{items}</Items><Comment>group</Comment></KeyGroupConfig>"
    )
}

fn tkg(groups: &[&str]) -> String {
    if groups.is_empty() {
        return "<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>".to_owned();
    }
    let items: String = groups
        .iter()
        .map(|g| format!("<KeyGroup>{g}</KeyGroup>"))
        .collect();
    format!(
        "<TrustedKeyGroups><Enabled>true</Enabled><Quantity>{}</Quantity><Items>{items}</Items></TrustedKeyGroups>",
        groups.len()
    )
}

/// A distribution config with origin `origin_domain`, a default behaviour trusting
/// `default_groups`, and a `/private/*` behaviour trusting `private_groups`.
pub fn distribution_config(
    caller_ref: &str,
    enabled: bool,
    origin_domain: &str,
    default_groups: &[&str],
    private_groups: &[&str],
) -> String {
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>{caller_ref}</CallerReference>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>{origin_domain}</DomainName><OriginPath></OriginPath>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>\
<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></CacheBehavior></Items></CacheBehaviors>\
<Comment>test</Comment><Enabled>{enabled}</Enabled></DistributionConfig>",
        tkg(default_groups),
        tkg(private_groups)
    )
}

/// An `OriginAccessControlConfig` (`behavior`: always, never or no-override; `origin_type`: s3…).
pub fn oac_config(name: &str, behavior: &str, origin_type: &str) -> String {
    format!(
        "<OriginAccessControlConfig xmlns=\"{NS}\"><Name>{name}</Name><Description>for {name}</Description><SigningProtocol>sigv4</SigningProtocol><SigningBehavior>{behavior}</SigningBehavior><OriginAccessControlOriginType>{origin_type}</OriginAccessControlOriginType></OriginAccessControlConfig>"
    )
}

/// One `<Origin>`: an S3 origin (`S3OriginConfig` with an empty OAI) with an optional
/// `OriginAccessControlId`, or, with `custom_port`, a custom origin on that HTTP port.
pub fn origin_xml(
    domain: &str,
    origin_path: &str,
    oac_id: Option<&str>,
    custom_port: Option<u16>,
) -> String {
    let kind = match custom_port {
        Some(port) => format!(
            "<CustomOriginConfig><HTTPPort>{port}</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy><OriginReadTimeout>2</OriginReadTimeout></CustomOriginConfig><ConnectionTimeout>2</ConnectionTimeout>"
        ),
        None => "<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>"
            .to_owned(),
    };
    let oac = oac_id
        .map(|id| format!("<OriginAccessControlId>{id}</OriginAccessControlId>"))
        .unwrap_or_default();
    format!(
        "<Origin><Id>o1</Id><DomainName>{domain}</DomainName><OriginPath>{origin_path}</OriginPath>{kind}{oac}</Origin>"
    )
}

/// A distribution config with one origin (`origin`, from [`origin_xml`]) whose default behaviour
/// is public and whose `/private/*` behaviour trusts `private_groups`.
pub fn distribution_with_origin(caller_ref: &str, origin: &str, private_groups: &[&str]) -> String {
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>{caller_ref}</CallerReference>\
<Origins><Quantity>1</Quantity><Items>{origin}</Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>\
<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></CacheBehavior></Items></CacheBehaviors>\
<Comment>test</Comment><Enabled>true</Enabled></DistributionConfig>",
        tkg(&[]),
        tkg(private_groups)
    )
}

/// Whether a missing tool must fail the test (`CI=true`) or may skip it; `Err` means skip.
pub fn require(what: &str, ready: Result<(), String>) -> Result<(), ()> {
    match ready {
        Ok(()) => Ok(()),
        Err(why) => {
            cfsign_tests::require::skip_or_fail(&format!("{what} cannot run: {why}"));
            Err(())
        }
    }
}

/// Whether `python3` can import `modules` (comma-separated).
pub fn python_has(modules: &str) -> Result<(), String> {
    let out = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 cannot import {modules}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `python3 -m moto.server` on a free loopback port (extra environment in `env`), stopped on drop
/// (the harness's [`cfsign_tests::moto::launch`]; the caller has checked that moto is installed).
pub fn start_moto(env: &[(&str, &str)]) -> cfsign_tests::proc::Service {
    cfsign_tests::moto::launch(env).unwrap().start().unwrap()
}

/// Runs `tests/s3_helper.py` with `args` and `stdin`; panics with its output on failure.
pub fn s3_helper(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3_helper.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "s3_helper.py {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
