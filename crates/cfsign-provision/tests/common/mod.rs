//! Test helpers: a moto server guard, SDK clients for a local endpoint, test distributions, the
//! SDK steps the tests share ([`sdk`]), running the real `cfsign-provision` binary and checking
//! how it exited, and signed requests to the mock's edge (processes and HTTP through the shared
//! harness, `cfsign_tests`).
#![allow(dead_code, unreachable_pub, unused_imports)] // Each test file uses a different subset.
#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudfront::types::{
    CacheBehavior, CacheBehaviors, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    Origin, OriginProtocolPolicy, Origins, ViewerProtocolPolicy,
};
use cfsign_mock::RunningMock;
use cfsign_provision::Provisioner;
use cfsign_tests::http;
use cfsign_tests::proc::Service;

mod sdk;

pub use sdk::*;

/// CloudFront's managed "CachingOptimized" policy.
pub const CACHE_POLICY: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

pub use cfsign_tests::require::skip_or_fail;

/// A moto server on a free loopback port, killed on drop (the harness's
/// [`cfsign_tests::moto::start`]).
pub struct Moto {
    service: Service,
}

impl Moto {
    /// Starts moto's server, or skips (None) when moto is not installed outside CI.
    pub fn start() -> Option<Moto> {
        let service = cfsign_tests::moto::start().unwrap()?;
        Some(Moto { service })
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        self.service.url().to_owned()
    }
}

/// Sends a GET with the distribution's Host header to the mock's edge; returns the status code.
pub async fn edge_get(mock: &RunningMock, url: &str) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let request = http::get(&format!("http://{}{path}", mock.addr())).host(host);
    // The blocking client runs off the runtime that serves the in-process mock.
    tokio::task::spawn_blocking(move || request.send().unwrap().status)
        .await
        .unwrap()
}

/// Ten minutes from now: when a test's signed URLs expire.
pub fn in_ten_minutes() -> cfsign::UnixTime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    cfsign::UnixTime::from_secs(now + 600).unwrap()
}

/// A signer for the private key PEM at `key_path`, uploaded as `key_pair_id`.
pub fn signer(key_path: &Path, key_pair_id: &str) -> cfsign::Signer {
    let key = cfsign::PrivateKey::from_pem(&std::fs::read_to_string(key_path).unwrap()).unwrap();
    cfsign::Signer::new(key_pair_id.parse().unwrap(), key)
}

/// Asserts that the mock's edge refuses `url` unsigned (403) and serves it signed by `signer`
/// (200); returns the signed URL.
pub async fn assert_served_only_signed(
    mock: &RunningMock,
    signer: &cfsign::Signer,
    url: &str,
) -> String {
    assert_eq!(edge_get(mock, url).await, 403, "unsigned is refused");
    let signed = signer.sign_canned_url(url, in_ten_minutes()).unwrap();
    assert_eq!(edge_get(mock, &signed).await, 200, "{signed}");
    signed
}

/// An SDK config for a local endpoint with test credentials (no environment involved).
pub fn sdk_config(endpoint: &str) -> aws_sdk_cloudfront::config::Builder {
    aws_sdk_cloudfront::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(endpoint)
}

/// An SDK client for a local endpoint.
pub fn client(endpoint: &str) -> Client {
    Client::from_conf(sdk_config(endpoint).build())
}

/// A provisioner for a local endpoint.
pub fn provisioner(endpoint: &str) -> Provisioner {
    Provisioner::from_client(client(endpoint), endpoint)
}

/// A distribution config with a default behaviour and one behaviour per path pattern, all to a
/// custom origin at `origin.example.com`.
pub fn distribution_config(reference: &str, patterns: &[&str]) -> DistributionConfig {
    let origin = Origin::builder()
        .id("origin1")
        .domain_name("origin.example.com")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    distribution_config_for(origin, reference, patterns)
}

/// A distribution config with a default behaviour and one behaviour per path pattern, all to
/// `origin`.
pub fn distribution_config_for(
    origin: Origin,
    reference: &str,
    patterns: &[&str],
) -> DistributionConfig {
    let target = origin.id.clone();
    let default = DefaultCacheBehavior::builder()
        .target_origin_id(&target)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .cache_policy_id(CACHE_POLICY)
        .build()
        .unwrap();
    let behaviors: Vec<CacheBehavior> = patterns
        .iter()
        .map(|p| {
            CacheBehavior::builder()
                .path_pattern(*p)
                .target_origin_id(&target)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHE_POLICY)
                .build()
                .unwrap()
        })
        .collect();
    let mut builder = DistributionConfig::builder()
        .caller_reference(reference)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(default)
        .comment("cfsign-provision test")
        .enabled(true);
    if !behaviors.is_empty() {
        builder = builder.cache_behaviors(
            CacheBehaviors::builder()
                .quantity(behaviors.len() as i32)
                .set_items(Some(behaviors))
                .build()
                .unwrap(),
        );
    }
    builder.build().unwrap()
}

/// Creates a distribution; returns its ID.
pub async fn create_distribution(client: &Client, patterns: &[&str]) -> String {
    let reference = format!("test-{}", cfsign_tests::proc::free_port().unwrap());
    let resp = client
        .create_distribution()
        .distribution_config(distribution_config(&reference, patterns))
        .send()
        .await
        .expect("CreateDistribution");
    resp.distribution.expect("distribution in answer").id
}

/// The trusted key group IDs of a behaviour (`None`: default).
pub async fn trusted(client: &Client, distribution_id: &str, pattern: Option<&str>) -> Vec<String> {
    let cfg = client
        .get_distribution_config()
        .id(distribution_id)
        .send()
        .await
        .unwrap()
        .distribution_config
        .unwrap();
    let tkg = match pattern {
        None => cfg.default_cache_behavior.unwrap().trusted_key_groups,
        Some(p) => {
            cfg.cache_behaviors
                .unwrap()
                .items
                .unwrap()
                .into_iter()
                .find(|b| b.path_pattern == p)
                .unwrap()
                .trusted_key_groups
        }
    };
    match tkg {
        Some(t) if t.enabled => t.items.unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The result of running the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts that the run exited with `code` (both streams in the message otherwise).
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that the run exited with `code` and said every one of `needles` on stderr.
    pub fn expect_failure(&self, code: i32, needles: &[&str]) {
        self.expect_code(code);
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "{needle:?} in\n{}",
                self.stderr
            );
        }
    }

    /// Asserts that stdout says every one of `needles`.
    pub fn expect_stdout(&self, needles: &[&str]) -> &Run {
        for needle in needles {
            assert!(
                self.stdout.contains(needle),
                "{needle:?} in\n{}",
                self.stdout
            );
        }
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The string `field` of stdout's JSON.
    pub fn json_str(&self, field: &str) -> String {
        let json = self.json();
        let value = json[field].as_str();
        value
            .unwrap_or_else(|| panic!("no string {field:?} in {json:#}"))
            .to_owned()
    }
}

/// Runs `cfsign-provision` in `dir` against `endpoint` with test credentials and an otherwise
/// clean AWS environment.
pub fn run_bin(dir: &Path, endpoint: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-provision"));
    cmd.current_dir(dir).args(args);
    clean_aws_env(&mut cmd, dir);
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    if let Some(e) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", e);
    }
    let out = cmd.output().expect("run cfsign-provision");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Removes every AWS setting from the environment and points config files into `dir`.
pub fn clean_aws_env(cmd: &mut Command, dir: &Path) {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// Runs the binary off the async runtime (the in-process mock keeps serving meanwhile).
pub async fn run_bin_async(dir: &Path, endpoint: Option<&str>, args: &[&str]) -> Run {
    let dir = dir.to_owned();
    let endpoint = endpoint.map(str::to_owned);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_bin(&dir, endpoint.as_deref(), &args)
    })
    .await
    .unwrap()
}

/// `cfsign-provision` run in one directory against one endpoint, off the async runtime, its
/// arguments written as a command line and split at whitespace (as cargo's own tests do): give
/// paths relative to the directory; an argument holding a space needs [`run_bin_async`].
pub struct Cli {
    dir: PathBuf,
    endpoint: Option<String>,
}

impl Cli {
    /// Runs in `dir` with `AWS_ENDPOINT_URL` set to `endpoint`.
    pub fn new(dir: &Path, endpoint: &str) -> Cli {
        Cli {
            dir: dir.to_owned(),
            endpoint: Some(endpoint.to_owned()),
        }
    }

    /// Runs in `dir` without `AWS_ENDPOINT_URL`.
    pub fn without_endpoint(dir: &Path) -> Cli {
        Cli {
            dir: dir.to_owned(),
            endpoint: None,
        }
    }

    /// Runs `cfsign-provision` with the words of `command_line` as its arguments.
    pub async fn run(&self, command_line: &str) -> Run {
        let args: Vec<&str> = command_line.split_whitespace().collect();
        run_bin_async(&self.dir, self.endpoint.as_deref(), &args).await
    }
}

/// Writes a fresh P-256 public key PEM to `dir/name.pub.pem`; returns (path, DER).
pub fn write_public_key(dir: &Path, name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let key = cfsign::PrivateKey::generate(cfsign::KeyKind::P256, &mut rand::rng()).unwrap();
    let public = key.public_key();
    let path = dir.join(format!("{name}.pub.pem"));
    std::fs::write(&path, public.to_pem()).unwrap();
    (path, public.to_der())
}
