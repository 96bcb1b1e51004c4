//! The `cfsign-provision` command line: argument parsing, output, exit codes.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::{
    Behaviors, ConnectOptions, DoctorOptions, DoctorSigner, Error, Health, KeySource, Provisioner,
    RotateOptions, SetupOptions, kms_key_source, read_public_key, secret_key_source,
};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the command failed and changed nothing.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the command line was wrong (clap's code).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a multi-step command stopped part-way; running it again completes it.
pub const EXIT_INCOMPLETE: u8 = 3;
/// Exit code of `doctor`: it found warnings only (works today, but risky).
pub const EXIT_WARNINGS: u8 = 4;
/// Exit code of `doctor`: it found at least one error (something is served that should not be,
/// or not served that should be).
pub const EXIT_BROKEN: u8 = 5;

/// Set up, attach, rotate and inspect CloudFront trusted key groups for signed URLs and cookies.
///
/// Credentials and region come from the AWS default chain (environment, ~/.aws files, SSO,
/// instance roles). Exit codes: 0 success, 1 failed (nothing changed), 2 usage error,
/// 3 stopped part-way (run the same command again to complete it); `doctor`: 0 healthy,
/// 4 warnings only, 5 broken (1 if the distribution could not be read).
#[derive(Debug, Parser)]
#[command(name = "cfsign-provision", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Send API requests here instead of AWS (cfsign-mock: http://127.0.0.1:4580, or moto).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    endpoint_url: Option<String>,
    /// Use this profile of ~/.aws/config and ~/.aws/credentials.
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// Region (CloudFront is global; default from the AWS chain, else us-east-1).
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Print the plan (each behaviour's before/after) without changing anything.
    #[arg(long, global = true)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upload a public key (validated locally first; reused if the same key has this name).
    UploadKey {
        /// The key's name in CloudFront.
        #[arg(long)]
        name: String,
        /// The public key: SPKI PEM, RSA-2048 or P-256.
        #[arg(long, value_name = "FILE", required_unless_present = "kms_key_id")]
        public_key: Option<PathBuf>,
        /// Upload the public key of this AWS KMS key (ID, ARN or alias; RSA_2048 or
        /// ECC_NIST_P256, SIGN_VERIFY), checked before CloudFront is called. KMS is reached
        /// through the AWS chain (AWS_ENDPOINT_URL_KMS overrides --endpoint-url for it).
        #[arg(long, value_name = "KEY_ID", conflicts_with = "public_key")]
        kms_key_id: Option<String>,
    },
    /// Manage key groups.
    KeyGroup {
        #[command(subcommand)]
        command: KeyGroupCommand,
    },
    /// Trust a key group on cache behaviours of a distribution.
    Attach(AttachArgs),
    /// Stop trusting a key group on cache behaviours of a distribution.
    Detach(AttachArgs),
    /// Diagnose a distribution: per cache behaviour in CloudFront's order, what is trusted and
    /// what is wrong; check a signing key; probe URLs. Read-only. Exit codes: 0 healthy,
    /// 4 warnings only, 5 broken.
    Doctor(DoctorArgs),
    /// Show, per cache behaviour, which key groups and key IDs are trusted.
    Status {
        /// The distribution ID.
        #[arg(long)]
        distribution_id: String,
    },
    /// The whole console flow: key pair, upload, key group, attach. Safe to run again.
    Setup {
        /// The distribution ID.
        #[arg(long)]
        distribution_id: String,
        /// Restrict these cache behaviours (default: the default behaviour).
        #[arg(long = "path-pattern", value_name = "PATTERN")]
        path_patterns: Vec<String>,
        /// Key group name [default: cfsign-<distribution id>].
        #[arg(long)]
        key_group_name: Option<String>,
        /// Public key name [default: <key group name>-key].
        #[arg(long)]
        key_name: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Add a new key beside the old one, or with --retire remove and delete an old key.
    Rotate {
        /// The key group (name or ID).
        #[arg(long)]
        key_group: String,
        /// Remove this key ID from the group, then delete it.
        #[arg(long, value_name = "OLD_ID", conflicts_with_all = ["key_name", "public_key", "private_key_out", "key_type", "kms_key_id", "store_secret"])]
        retire: Option<String>,
        /// The new public key's name [default: <key group name>-<unix time>].
        #[arg(long)]
        key_name: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Args)]
struct DoctorArgs {
    /// The distribution ID.
    #[arg(long)]
    distribution_id: String,
    /// Check this private key (PEM or DER file): its public key is compared by fingerprint with
    /// the trusted keys, and it signs the signed probes; it is never sent anywhere.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["private_key_env", "kms_key_id"])]
    private_key: Option<PathBuf>,
    /// Check the private key (PEM) held in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "kms_key_id")]
    private_key_env: Option<String>,
    /// Check this AWS KMS key (ID, ARN or alias): its public key is compared, and signed probes
    /// are signed with kms:Sign (AWS_ENDPOINT_URL_KMS overrides --endpoint-url for KMS).
    #[arg(long, value_name = "KEY_ID")]
    kms_key_id: Option<String>,
    /// The Key-Pair-Id your signer uses: checked against the key, or alone, which behaviours
    /// accept it.
    #[arg(long, value_name = "ID")]
    key_pair_id: Option<String>,
    /// Request this URL unsigned (and, with a key, signed) and explain the answers (repeatable).
    #[arg(long = "probe", value_name = "URL")]
    probes: Vec<String>,
    /// Paths matching this pattern must need a signature, like 'private/*' (repeatable).
    #[arg(long = "expect-private", value_name = "PATTERN")]
    expect_private: Vec<String>,
}

impl DoctorArgs {
    async fn signer(&self) -> Result<Option<DoctorSigner>, Error> {
        if let Some(path) = &self.private_key {
            let bytes =
                zeroize::Zeroizing::new(std::fs::read(path).map_err(|source| Error::Io {
                    what: "cannot read private key file",
                    path: path.clone(),
                    source,
                })?);
            let source = format!("private key file {}", path.display());
            let key = cfsign::PrivateKey::parse(&bytes).map_err(|e| Error::key(&source, e))?;
            return Ok(Some(DoctorSigner::PrivateKey { key, source }));
        }
        if let Some(var) = &self.private_key_env {
            let text = zeroize::Zeroizing::new(std::env::var(var).map_err(|_| {
                Error::Usage(format!(
                    "--private-key-env {var}: the environment variable is not set (or not UTF-8)"
                ))
            })?);
            let source = format!("private key in ${var}");
            let key = cfsign::PrivateKey::from_pem(&text).map_err(|e| Error::key(&source, e))?;
            return Ok(Some(DoctorSigner::PrivateKey { key, source }));
        }
        if let Some(key_id) = &self.kms_key_id {
            let aws = cfsign_aws::Aws::from_env(&cfsign_aws::Settings::default()).await;
            let key = cfsign_aws::KmsKey::connect(&aws, key_id).await?;
            return Ok(Some(DoctorSigner::Kms(key)));
        }
        Ok(None)
    }
}

#[derive(Debug, Subcommand)]
enum KeyGroupCommand {
    /// Create the key group, or update it to hold exactly these keys (at most 5).
    Ensure {
        /// The key group's name.
        #[arg(long)]
        name: String,
        /// Public key IDs.
        #[arg(long = "key-id", value_name = "ID", required = true, num_args = 1..)]
        key_ids: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct AttachArgs {
    /// The distribution ID.
    #[arg(long)]
    distribution_id: String,
    /// The key group (name or ID).
    #[arg(long)]
    key_group: String,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    /// Cache behaviours by path pattern (repeatable).
    #[arg(long = "path-pattern", value_name = "PATTERN", num_args = 1..)]
    path_patterns: Vec<String>,
    /// The default cache behaviour.
    #[arg(long)]
    default_behavior: bool,
}

impl AttachArgs {
    fn behaviors(&self) -> Behaviors {
        if self.target.default_behavior {
            Behaviors::Default
        } else {
            Behaviors::PathPatterns(self.target.path_patterns.clone())
        }
    }
}

#[derive(Debug, Args)]
struct KeyArgs {
    /// Upload this existing public key instead of generating a key pair.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["private_key_out", "key_type"])]
    public_key: Option<PathBuf>,
    /// Use this AWS KMS key (ID, ARN or alias; RSA_2048 or ECC_NIST_P256, SIGN_VERIFY): its
    /// public key is uploaded, the private key never leaves KMS. Checked before CloudFront is
    /// called; KMS is reached through the AWS chain (AWS_ENDPOINT_URL_KMS overrides
    /// --endpoint-url for it).
    #[arg(long, value_name = "KEY_ID", conflicts_with_all = ["public_key", "private_key_out", "key_type"])]
    kms_key_id: Option<String>,
    /// Keep the private key in this AWS Secrets Manager secret (PKCS#8 PEM) instead of a file:
    /// reused if the secret holds one, else generated (--key-type) and stored in a new secret,
    /// never written to disk. Secrets Manager is reached through the AWS chain
    /// (AWS_ENDPOINT_URL_SECRETS_MANAGER overrides --endpoint-url for it).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["public_key", "private_key_out", "kms_key_id"])]
    store_secret: Option<String>,
    /// Where to write the generated private key (mode 0600) [default: <key name>.pem]; an
    /// existing file there is reused.
    #[arg(long, value_name = "PATH")]
    private_key_out: Option<PathBuf>,
    /// Kind of key to generate: rsa2048 or p256.
    #[arg(long, value_name = "KIND", default_value = "rsa2048")]
    key_type: String,
}

impl KeyArgs {
    async fn source(&self) -> Result<KeySource, Error> {
        if let Some(key_id) = &self.kms_key_id {
            return kms_key_source(key_id).await;
        }
        if let Some(name) = &self.store_secret {
            let kind =
                cfsign::KeyKind::parse(&self.key_type).map_err(|e| Error::key("--key-type", e))?;
            return secret_key_source(name, kind).await;
        }
        match &self.public_key {
            Some(path) => Ok(KeySource::PublicKeyFile(path.clone())),
            None => Ok(KeySource::Generate {
                kind: cfsign::KeyKind::parse(&self.key_type)
                    .map_err(|e| Error::key("--key-type", e))?,
                private_key_out: self.private_key_out.clone(),
            }),
        }
    }
}

/// Runs the binary: parses arguments, runs the command, prints, returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let json = cli.global.json;
    match runtime.block_on(run(cli)) {
        Ok((output, code)) => {
            print_out(&output);
            ExitCode::from(code)
        }
        Err(e) => {
            let code = if e.incomplete_report().is_some() {
                EXIT_INCOMPLETE
            } else {
                EXIT_FAILED
            };
            if json {
                let value = serde_json::json!({
                    "error": { "kind": e.kind(), "message": e.to_string() },
                    "report": e.incomplete_report(),
                });
                print_out(&Output::Json(value.to_string()));
            } else {
                if let Some(report) = e.incomplete_report() {
                    eprint!("{report}");
                }
                eprintln!("error: {e}");
            }
            ExitCode::from(code)
        }
    }
}

/// What a command prints on success.
#[derive(Debug)]
enum Output {
    Text(String),
    Json(String),
}

fn render<T: Serialize + std::fmt::Display>(value: &T, json: bool) -> Output {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => Output::Json(s),
            Err(e) => Output::Text(format!("cannot render JSON: {e}\n{value}")),
        }
    } else {
        Output::Text(value.to_string())
    }
}

fn print_out(output: &Output) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error.
    let _ = match output {
        Output::Text(s) => write!(out, "{s}"),
        Output::Json(s) => writeln!(out, "{s}"),
    };
    let _ = out.flush();
}

async fn run(cli: Cli) -> Result<(Output, u8), Error> {
    let g = &cli.global;
    if let Command::Doctor(d) = &cli.command {
        // Read the key first: a wrong key file is a usage problem, found before any request.
        let signer = d.signer().await?;
        let options = ConnectOptions::new()
            .with_endpoint_url(g.endpoint_url.clone())
            .with_profile(g.profile.clone())
            .with_region(g.region.clone());
        let p = Provisioner::connect(&options).await?;
        let mut o = DoctorOptions::new(&d.distribution_id);
        o.signer = signer;
        o.key_pair_id = d.key_pair_id.clone();
        o.probes = d.probes.clone();
        o.expect_private = d.expect_private.clone();
        let report = p.doctor(o).await?;
        let code = match report.health {
            Health::Healthy => EXIT_OK,
            Health::Warnings => EXIT_WARNINGS,
            _ => EXIT_BROKEN,
        };
        return Ok((render(&report, g.json), code));
    }
    run_command(cli).await.map(|o| (o, EXIT_OK))
}

async fn run_command(cli: Cli) -> Result<Output, Error> {
    let g = &cli.global;
    // Validate the key (a local file, or a KMS key's spec and usage) before touching CloudFront.
    let local_key = match &cli.command {
        Command::UploadKey {
            public_key: Some(path),
            ..
        } => Some(read_public_key(path)?),
        Command::UploadKey {
            kms_key_id: Some(key_id),
            ..
        } => match kms_key_source(key_id).await? {
            KeySource::Kms { public_key, .. } => Some(public_key),
            _ => None,
        },
        _ => None,
    };
    let key_source = match &cli.command {
        Command::Setup { key, .. }
        | Command::Rotate {
            key, retire: None, ..
        } => Some(key.source().await?),
        _ => None,
    };
    let options = ConnectOptions::new()
        .with_endpoint_url(g.endpoint_url.clone())
        .with_profile(g.profile.clone())
        .with_region(g.region.clone());
    let p = Provisioner::connect(&options).await?;
    let plan = match cli.command {
        Command::UploadKey { name, .. } => {
            let Some(key) = local_key else {
                return Err(Error::Usage("no public key".to_owned()));
            };
            p.plan_upload_key(&name, &key).await?
        }
        Command::KeyGroup {
            command: KeyGroupCommand::Ensure { name, key_ids },
        } => p.plan_ensure_key_group(&name, &key_ids).await?,
        Command::Attach(a) => {
            p.plan_attach(&a.distribution_id, &a.key_group, &a.behaviors())
                .await?
        }
        Command::Detach(a) => {
            p.plan_detach(&a.distribution_id, &a.key_group, &a.behaviors())
                .await?
        }
        Command::Status { distribution_id } => {
            return Ok(render(&p.status(&distribution_id).await?, g.json));
        }
        Command::Doctor(_) => {
            return Err(Error::Usage("doctor is run by `run`".to_owned()));
        }
        Command::Setup {
            distribution_id,
            path_patterns,
            key_group_name,
            key_name,
            key: _,
        } => {
            let mut o = SetupOptions::new(&distribution_id);
            o.behaviors = Behaviors::from_patterns(path_patterns);
            o.key_group_name = key_group_name;
            o.key_name = key_name;
            if let Some(source) = key_source {
                o.key = source;
            }
            p.plan_setup(&o).await?
        }
        Command::Rotate {
            key_group,
            retire: Some(old),
            ..
        } => p.plan_retire(&key_group, &old).await?,
        Command::Rotate {
            key_group,
            retire: None,
            key_name,
            key: _,
        } => {
            let mut o = RotateOptions::new(&key_group);
            o.key_name = key_name;
            if let Some(source) = key_source {
                o.key = source;
            }
            p.plan_rotate(&o).await?
        }
    };
    // The dry run and the real run report the same plan through the same steps.
    let report = if g.dry_run {
        plan.dry_run()?
    } else {
        p.apply(plan).await?
    };
    Ok(render(&report, g.json))
}
