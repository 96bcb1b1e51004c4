//! The provisioned stack, brought up the same way for the cross-crate tests and for xtask's e2e
//! and demo: `cfsign-mock` on 127.0.0.1:0 serving an origin directory, one distribution created
//! through the control plane as the SDKs would (the default behaviour public, [`PRIVATE_PATTERN`]
//! a behaviour of its own), restricted by `cfsign-provision setup`; `cfsign-server` when asked.
//!
//! Every interface used here (flags, JSON fields, the control-plane XML) is the contract between
//! the crates; a mismatch is an error naming the command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::build::Binaries;
use crate::http;
use crate::proc::{Launch, Service, capture, describe, truncate};
use crate::{Error, Result};

/// The path pattern of the behaviour that `setup` restricts to signed requests.
pub const PRIVATE_PATTERN: &str = "/private/*";

/// How to bring up a [`Stack`]: `Stack::builder(bins, dir)…start()`.
#[derive(Debug)]
pub struct StackBuilder {
    bins: Binaries,
    dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
    setup_args: Vec<String>,
    grace: Option<Duration>,
}

impl StackBuilder {
    /// Origin files: (path under the origin, contents).
    pub fn files<P, B>(mut self, files: impl IntoIterator<Item = (P, B)>) -> StackBuilder
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        self.files.extend(
            files
                .into_iter()
                .map(|(p, b)| (p.as_ref().to_owned(), b.as_ref().to_vec())),
        );
        self
    }

    /// The names `setup` gives the key group and the public key (default: its own).
    pub fn key_names(mut self, key_group: &str, key: &str) -> StackBuilder {
        self.setup_args.extend([
            "--key-group-name".to_owned(),
            key_group.to_owned(),
            "--key-name".to_owned(),
            key.to_owned(),
        ]);
        self
    }

    /// Stops the services with SIGTERM and SIGKILL only after `grace` (default: SIGKILL).
    pub fn graceful_stop(mut self, grace: Duration) -> StackBuilder {
        self.grace = Some(grace);
        self
    }

    /// Creates the directory, writes the origin (`dir/origin`), starts the mock (state in
    /// `dir/mock-state.json`, log `dir/mock.log`), creates the distribution and runs
    /// `cfsign-provision setup` on it (private key `dir/keys/cloudfront-private.pem`).
    pub fn start(self) -> Result<Stack> {
        let StackBuilder {
            bins,
            dir,
            files,
            setup_args,
            grace,
        } = self;
        let origin = dir.join("origin");
        for (path, bytes) in &files {
            let path = origin.join(path);
            if let Some(parent) = path.parent() {
                create_dir(parent)?;
            }
            std::fs::write(&path, bytes)
                .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        }
        create_dir(&origin)?;
        create_dir(&dir.join("keys"))?;

        let mut cmd = bins.command("cfsign-mock")?;
        cmd.args(["--host", "127.0.0.1", "--port", "0", "--origin"])
            .arg(&origin)
            .arg("--state-file")
            .arg(dir.join("mock-state.json"));
        let mut launch = Launch::new("cfsign-mock", cmd).log(&dir.join("mock.log"));
        if let Some(grace) = grace {
            launch = launch.graceful_stop(grace);
        }
        let mock = launch.start()?;
        let endpoint = mock.url().to_owned();

        let (distribution_id, domain) = create_distribution(&endpoint)?;
        println!("  distribution {distribution_id} ({domain})");

        let mut cmd = provision_command(&bins, &endpoint)?;
        cmd.args(["--json", "setup", "--distribution-id", &distribution_id])
            .args(["--path-pattern", PRIVATE_PATTERN])
            .args(&setup_args)
            .arg("--private-key-out")
            .arg(dir.join("keys").join("cloudfront-private.pem"));
        println!("  $ {}", describe(&cmd));
        let setup = run_json(&mut cmd)?;
        let stack = Stack {
            bins,
            dir,
            grace,
            server: None,
            mock,
            endpoint,
            distribution_id,
            domain,
            setup,
        };
        for name in ["key_pair_id", "key_group_id", "private_key_path"] {
            stack.setup_field(name)?;
        }
        Ok(stack)
    }
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// The mock with a provisioned distribution and, once started, the server; stopped on drop.
#[derive(Debug)]
pub struct Stack {
    bins: Binaries,
    dir: PathBuf,
    grace: Option<Duration>,
    // Fields drop in declaration order: the server stops before the mock.
    server: Option<Service>,
    mock: Service,
    endpoint: String,
    distribution_id: String,
    domain: String,
    setup: Value,
}

impl Stack {
    /// A stack of `bins` in directory `dir`.
    pub fn builder(bins: Binaries, dir: &Path) -> StackBuilder {
        StackBuilder {
            bins,
            dir: dir.to_owned(),
            files: Vec::new(),
            setup_args: Vec::new(),
            grace: None,
        }
    }

    /// The binaries it runs.
    pub fn bins(&self) -> &Binaries {
        &self.bins
    }

    /// Its directory (origin, keys, logs, state).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mock.
    pub fn mock(&self) -> &Service {
        &self.mock
    }

    /// The mock, to signal or stop it.
    pub fn mock_mut(&mut self) -> &mut Service {
        &mut self.mock
    }

    /// The mock's control-plane endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The distribution's ID.
    pub fn distribution_id(&self) -> &str {
        &self.distribution_id
    }

    /// The distribution's domain name (`dXXXX.cloudfront.net`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// What `cfsign-provision setup --json` printed.
    pub fn setup(&self) -> &Value {
        &self.setup
    }

    /// A string field of the setup output (`key_pair_id`, `key_group_id`, `private_key_path`).
    pub fn setup_field(&self, name: &str) -> Result<&str> {
        field(&self.setup, name, "cfsign-provision setup --json")
    }

    /// `http://<domain>.localhost:<port><path>`: the edge, reached through [`http`].
    pub fn edge_url(&self, path: &str) -> String {
        format!(
            "http://{}.localhost:{}{path}",
            self.domain,
            self.mock.port()
        )
    }

    /// A `cfsign-provision` command against the mock.
    pub fn provision(&self) -> Result<Command> {
        provision_command(&self.bins, &self.endpoint)
    }

    /// Starts `cfsign-server --config config` on 127.0.0.1:0 (log `dir/server.log`).
    pub fn start_server(&mut self, config: &Path) -> Result<&Service> {
        let mut launch = server_launch(&self.bins, config)?.log(&self.dir.join("server.log"));
        if let Some(grace) = self.grace {
            launch = launch.graceful_stop(grace);
        }
        Ok(self.server.insert(launch.start()?))
    }

    /// The server, once started.
    pub fn server(&self) -> Option<&Service> {
        self.server.as_ref()
    }

    /// The server, to signal or stop it.
    pub fn server_mut(&mut self) -> Option<&mut Service> {
        self.server.as_mut()
    }

    /// The server's URL.
    pub fn server_url(&self) -> Result<&str> {
        self.server
            .as_ref()
            .map(Service::url)
            .ok_or_else(|| Error::new("cfsign-server is not running"))
    }
}

/// A launch of `cfsign-server --config config --listen 127.0.0.1:0`.
pub fn server_launch(bins: &Binaries, config: &Path) -> Result<Launch> {
    let mut cmd = bins.command("cfsign-server")?;
    cmd.arg("--config")
        .arg(config)
        .args(["--listen", "127.0.0.1:0"]);
    Ok(Launch::new("cfsign-server", cmd))
}

/// A `cfsign-provision` command for `endpoint` with test credentials and no AWS profile.
pub fn provision_command(bins: &Binaries, endpoint: &str) -> Result<Command> {
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
pub fn run_json(cmd: &mut Command) -> Result<Value> {
    let out = capture(cmd, None)?;
    if !out.ok() {
        return Err(Error::new(format!(
            "`{}` failed: {}",
            describe(cmd),
            out.summary()
        )));
    }
    serde_json::from_str(out.stdout.trim()).map_err(|e| {
        Error::new(format!(
            "`{}` did not print JSON ({e}): {}",
            describe(cmd),
            truncate(out.stdout.trim(), 300)
        ))
    })
}

/// A string field of a JSON object, or an error naming it and `what` printed it.
pub fn field<'a>(v: &'a Value, name: &str, what: &str) -> Result<&'a str> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| {
        Error::new(format!(
            "{what} output has no string field `{name}`: {}",
            truncate(&v.to_string(), 300)
        ))
    })
}

/// The `DistributionConfig` the stack creates: origin `origin.local`, the default behaviour and
/// [`PRIVATE_PATTERN`]'s, neither trusting a key group yet.
pub fn distribution_config(caller_reference: &str) -> String {
    let behavior = |path_pattern: &str| {
        format!(
            "{path_pattern}<TargetOriginId>local</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>\
             <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>\
             <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <DistributionConfig xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
         <CallerReference>{caller_reference}</CallerReference><Comment>cfsign stack</Comment><Enabled>true</Enabled>\
         <Origins><Quantity>1</Quantity><Items><Origin><Id>local</Id><DomainName>origin.local</DomainName>\
         <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
         <DefaultCacheBehavior>{}</DefaultCacheBehavior>\
         <CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior>{}</CacheBehavior></Items></CacheBehaviors>\
         </DistributionConfig>",
        behavior(""),
        behavior(&format!("<PathPattern>{PRIVATE_PATTERN}</PathPattern>"))
    )
}

/// Creates a distribution ([`distribution_config`]) through the control-plane API at
/// `endpoint`, as the SDKs would; returns its ID and domain name.
pub fn create_distribution(endpoint: &str) -> Result<(String, String)> {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    let reference = format!(
        "cfsign-stack-{}-{}",
        std::process::id(),
        CREATED.fetch_add(1, Ordering::Relaxed)
    );
    let resp = http::Request::new("POST", &format!("{endpoint}/2020-05-31/distribution"))
        .header("content-type", "application/xml")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(distribution_config(&reference))
        .send()?;
    if resp.status != 201 {
        return Err(Error::new(format!(
            "CreateDistribution on the mock answered {}: {}",
            resp.status,
            truncate(&resp.text(), 400)
        )));
    }
    let id = resp
        .xml("Id")
        .ok_or_else(|| Error::new("CreateDistribution answer has no <Id>"))?;
    let domain = resp
        .xml("DomainName")
        .ok_or_else(|| Error::new("CreateDistribution answer has no <DomainName>"))?;
    Ok((id, domain))
}
