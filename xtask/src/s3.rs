//! The S3 origin: e2e's S3 leg and `cargo xtask demo --s3`. moto's S3 server holds the media
//! (uploaded with boto3, every later request's SigV4 checked by moto), cfsign-mock reads it
//! through an origin access control (`--s3-endpoint`), boto3 creates the origin access control
//! and the distribution on the mock, `cfsign-provision setup` restricts `/private/*`, and the
//! `cfsign` CLI signs URLs and cookies that the edge serves from the bucket.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use cfsign_tests::http;
use cfsign_tests::moto;
use cfsign_tests::proc::{Launch, Service, capture, describe, truncate};
use cfsign_tests::stack::{PRIVATE_PATTERN, field, provision_command, run_json};
use cfsign_tests::{BINARIES, Binaries};

use crate::report::Report;
use crate::stack::origin_files;
use crate::{Options, Result, in_ci};

/// The bucket and its region.
const BUCKET: &str = "cfsign-media";
const REGION: &str = "eu-west-1";

/// boto3's part: `moto ENDPOINT DIR` creates an IAM user (moto's three unauthenticated actions),
/// the bucket, and uploads every file under DIR with that user's key, printing the key;
/// `cloudfront ENDPOINT BUCKET_DOMAIN` creates an origin access control and a distribution on the
/// mock and prints its ID and domain name.
const BOTO3: &str = r#"
import json, os, sys, boto3
mode, endpoint, arg = sys.argv[1], sys.argv[2], sys.argv[3]
bucket, region = "cfsign-media", "eu-west-1"
if mode == "moto":
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.create_user(UserName="cloudfront")
    iam.put_user_policy(UserName="cloudfront", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="cloudfront")["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    n = 0
    for root, _, files in os.walk(arg):
        for name in files:
            path = os.path.join(root, name)
            s3.upload_file(path, bucket, os.path.relpath(path, arg))
            n += 1
    print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"], "uploaded": n}))
else:
    cf = boto3.client("cloudfront", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": "cfsign-media-oac", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    def behaviour(pattern=None):
        b = {"TargetOriginId": "media", "ViewerProtocolPolicy": "allow-all",
             "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
        if pattern:
            b["PathPattern"] = pattern
        return b
    d = cf.create_distribution(DistributionConfig={
        "CallerReference": "cfsign-xtask-s3", "Comment": "S3 behind cfsign-mock", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "media", "DomainName": arg,
            "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac}]},
        "DefaultCacheBehavior": behaviour(),
        "CacheBehaviors": {"Quantity": 1, "Items": [behaviour("/private/*")]},
    })["Distribution"]
    print(json.dumps({"distribution_id": d["Id"], "domain": d["DomainName"], "oac_id": oac}))
"#;

/// moto, the mock reading S3 from it, and the provisioned distribution; stopped on drop.
pub(crate) struct S3Stack {
    bins: Binaries,
    // Fields drop in declaration order: the mock stops before moto.
    mock: Service,
    moto: Option<Service>,
    domain: String,
    distribution_id: String,
    key_pair_id: String,
    private_key: PathBuf,
}

/// Whether python3 has boto3 and moto's server; `Err` says what is missing.
fn tools_ready() -> Result<()> {
    let out = capture(
        Command::new("python3").args(["-c", "import boto3, moto.server, flask"]),
        None,
    )
    .map_err(|e| format!("cannot run python3: {e}"))?;
    if out.ok() {
        Ok(())
    } else {
        Err(format!(
            "python3 lacks boto3 or moto[server] (pip install boto3 'moto[server]'): {}",
            truncate(out.stderr.trim(), 200)
        ))
    }
}

fn boto3(args: &[&str]) -> Result<Value> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", BOTO3])
        .args(args)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE");
    run_json(&mut cmd).map_err(|e| format!("boto3 {}: {e}", args.first().unwrap_or(&"")))
}

impl S3Stack {
    /// Starts moto and uploads the media, starts the mock with `--s3-endpoint` and the IAM key,
    /// creates the origin access control and the distribution with boto3, and runs
    /// `cfsign-provision setup` on `/private/*`.
    pub(crate) fn start(work: &Path, release: bool) -> Result<S3Stack> {
        let bins = Binaries::build(&BINARIES, release.then_some("--release"))?;
        std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
        let media = work.join("s3-media");
        for (path, bytes) in origin_files() {
            let path = media.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let moto = moto::launch(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")])?
            .log(&work.join("moto.log"))
            .start()?;
        let moto_url = moto.url().to_owned();
        let seeded = boto3(&["moto", &moto_url, &media.display().to_string()])?;
        let what = "boto3 moto";
        let access_key = field(&seeded, "access_key", what)?.to_owned();
        let secret_key = field(&seeded, "secret_key", what)?.to_owned();
        println!(
            "  uploaded {} object(s) to s3://{BUCKET} in moto",
            seeded["uploaded"]
        );

        let mut cmd = bins.command("cfsign-mock")?;
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--s3-endpoint",
            &moto_url,
        ])
        .arg("--state-file")
        .arg(work.join("mock-s3-state.json"))
        .env("AWS_ACCESS_KEY_ID", &access_key)
        .env("AWS_SECRET_ACCESS_KEY", &secret_key)
        .env_remove("AWS_SESSION_TOKEN");
        let mock = Launch::new("cfsign-mock", cmd)
            .log(&work.join("mock-s3.log"))
            .graceful_stop(Duration::from_secs(3))
            .start()?;
        let bucket_domain = format!("{BUCKET}.s3.{REGION}.amazonaws.com");
        let created = boto3(&["cloudfront", mock.url(), &bucket_domain])?;
        let what = "boto3 cloudfront";
        let distribution_id = field(&created, "distribution_id", what)?.to_owned();
        let domain = field(&created, "domain", what)?.to_owned();
        println!(
            "  distribution {distribution_id} ({domain}) over {bucket_domain}, origin access control {}",
            created["oac_id"]
        );

        let keys = work.join("s3-keys");
        std::fs::create_dir_all(&keys).map_err(|e| format!("{}: {e}", keys.display()))?;
        let mut cmd = provision_command(&bins, mock.url())?;
        cmd.args(["--json", "setup", "--distribution-id", &distribution_id])
            .args([
                "--path-pattern",
                PRIVATE_PATTERN,
                "--key-group-name",
                "cfsign-s3",
                "--key-name",
                "cfsign-s3-key",
            ])
            .arg("--private-key-out")
            .arg(keys.join("cloudfront-private.pem"));
        println!("  $ {}", describe(&cmd));
        let setup = run_json(&mut cmd)?;
        let what = "cfsign-provision setup --json";
        Ok(S3Stack {
            key_pair_id: field(&setup, "key_pair_id", what)?.to_owned(),
            private_key: PathBuf::from(field(&setup, "private_key_path", what)?),
            bins,
            mock,
            moto: Some(moto),
            domain,
            distribution_id,
        })
    }

    /// `http://<domain>.localhost:<port><path>` on the mock's edge.
    pub(crate) fn edge_url(&self, path: &str) -> String {
        format!(
            "http://{}.localhost:{}{path}",
            self.domain,
            self.mock.port()
        )
    }

    /// `cfsign sign URL` for an hour.
    fn sign(&self, url: &str) -> Result<String> {
        let mut cmd = self.bins.command("cfsign")?;
        cmd.args([
            "sign",
            url,
            "--key-pair-id",
            &self.key_pair_id,
            "--private-key",
        ])
        .arg(&self.private_key)
        .args(["--expires-in", "1h"]);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        Ok(out
            .stdout
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned())
    }

    /// `cfsign cookies RESOURCE` for an hour, as a `Cookie` header.
    fn cookies(&self, resource: &str) -> Result<String> {
        let mut cmd = self.bins.command("cfsign")?;
        cmd.args([
            "cookies",
            resource,
            "--key-pair-id",
            &self.key_pair_id,
            "--private-key",
        ])
        .arg(&self.private_key)
        .args(["--expires-in", "1h"]);
        let out = capture(&mut cmd, None)?;
        if !out.ok() {
            return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
        }
        crate::stack::cookie_header_from(&out.stdout)
            .ok_or_else(|| format!("`{}` printed no CloudFront-* cookies", describe(&cmd)))
    }
}

/// The media file at `path` under the bucket.
fn media(path: &str) -> Result<Vec<u8>> {
    origin_files()
        .into_iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| b)
        .ok_or_else(|| format!("no media file {path}"))
}

/// GET `url` (with `cookie`, `range`) expecting `status` and, if given, exactly `body`.
fn expect(
    url: &str,
    cookie: Option<&str>,
    range: Option<&str>,
    status: u16,
    body: Option<&[u8]>,
) -> Result<String> {
    let mut req = http::get(url);
    if let Some(c) = cookie {
        req = req.cookie(c);
    }
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let resp = req.send()?;
    if resp.status != status {
        return Err(format!(
            "expected {status}, got {} {} for {}",
            resp.status,
            truncate(&resp.text(), 200),
            truncate(url, 200)
        ));
    }
    if let Some(b) = body
        && resp.body != b
    {
        return Err(format!(
            "{status} but the body differs ({} bytes, expected {})",
            resp.body.len(),
            b.len()
        ));
    }
    let x_cache = resp.header("x-cache").unwrap_or("none");
    Ok(format!(
        "{status}, {} bytes, X-Cache: {x_cache}",
        resp.body.len()
    ))
}

/// e2e's S3 leg: reports each check; a missing moto or boto3 fails in CI and is a loud skip
/// elsewhere.
pub(crate) fn leg(work: &Path, options: Options, report: &mut Report) {
    report.section("S3 origin (moto) through origin access control");
    if let Err(why) = tools_ready() {
        if in_ci() {
            report.fail("S3 leg: tools", why);
        } else {
            println!("\n!!! SKIPPING the S3 leg: {why} (with CI=true this fails)\n");
        }
        return;
    }
    let mut s3 = match S3Stack::start(&work.join("s3"), options.release) {
        Ok(s) => s,
        Err(e) => {
            report.fail(
                "moto + mock --s3-endpoint + boto3 OAC/distribution + setup",
                e,
            );
            return;
        }
    };
    report.pass(
        "moto + mock --s3-endpoint + boto3 OAC/distribution + setup",
        format!(
            "{} ({}), key {}",
            s3.distribution_id, s3.domain, s3.key_pair_id
        ),
    );
    let hello = s3.edge_url("/private/hello.txt");
    report.check(
        "S3: unsigned private object is refused before S3 is asked",
        expect(&hello, None, None, 403, None),
    );
    report.check(
        "S3: public object served from the bucket",
        media("public/index.html").and_then(|b| {
            expect(
                &s3.edge_url("/public/index.html"),
                None,
                None,
                200,
                Some(&b),
            )
        }),
    );
    report.check(
        "S3: signed URL (cfsign sign) served from the bucket with the edge's SigV4",
        s3.sign(&hello).and_then(|u| {
            media("private/hello.txt").and_then(|b| expect(&u, None, None, 200, Some(&b)))
        }),
    );
    report.check(
        "S3: Range through the edge is S3's 206",
        s3.sign(&s3.edge_url("/private/data.bin")).and_then(|u| {
            media("private/data.bin").and_then(|b| {
                let part = b.get(10..=19).unwrap_or_default().to_vec();
                expect(&u, None, Some("bytes=10-19"), 206, Some(&part))
            })
        }),
    );
    report.check(
        "S3: signed cookies (cfsign cookies) serve the HLS playlist and a segment",
        s3.cookies(&s3.edge_url("/private/video/*")).and_then(|c| {
            let playlist = media("private/video/index.m3u8")?;
            let segment = media("private/video/seg-0002.ts")?;
            let a = expect(
                &s3.edge_url("/private/video/index.m3u8"),
                Some(&c),
                None,
                200,
                Some(&playlist),
            )?;
            let b = expect(
                &s3.edge_url("/private/video/seg-0002.ts"),
                Some(&c),
                None,
                200,
                Some(&segment),
            )?;
            Ok(format!("{a}; {b}"))
        }),
    );
    report.check(
        "S3: a missing object is S3's 404 NoSuchKey",
        s3.sign(&s3.edge_url("/private/missing.txt")).and_then(|u| {
            let r = expect(&u, None, None, 404, None)?;
            let body = http::get(&u).send()?.text();
            if body.contains("<Code>NoSuchKey</Code>") {
                Ok(r)
            } else {
                Err(format!(
                    "404 without S3's NoSuchKey body: {}",
                    truncate(&body, 200)
                ))
            }
        }),
    );
    drop(s3.moto.take());
    report.check(
        "S3: moto stopped, the edge answers 502",
        s3.sign(&hello)
            .and_then(|u| expect(&u, None, None, 502, None)),
    );
    if !s3.mock.is_running() {
        report.fail(
            "cfsign-mock (S3) still running at the end",
            s3.mock.log_tail(20),
        );
    }
}

/// `cargo xtask demo --s3`: the S3 stack, a signed link and the same link unsigned; runs until
/// Ctrl-C.
pub(crate) fn demo(options: Options) -> Result<()> {
    tools_ready()?;
    let work = std::env::temp_dir().join(format!("cfsign-demo-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "== demo (S3 origin in moto): building and starting (work directory {})",
        work.display()
    );
    let mut s3 = S3Stack::start(&work, options.release)?;
    let image = s3.edge_url("/private/image.svg");
    let signed = s3.sign(&image)?;
    let signed_status = http::get(&signed).send()?.status;
    let unsigned = http::get(&image).send()?;
    println!(
        r#"
==========================================================================================
 cfsign demo (S3 origin) is running. Press Ctrl-C to stop everything.

 S3 (moto)                        {moto}  bucket {BUCKET} ({REGION}), uploaded with boto3
 Local CloudFront (cfsign-mock)   control plane {endpoint}, --s3-endpoint {moto}
   distribution {dist} ({domain}); origin {BUCKET}.s3.{REGION}.amazonaws.com via an
   origin access control (SigV4, checked by moto); /private/* needs a signature
 Provisioned by cfsign-provision  key {key} — private key (0600): {private_key}

 Signed link, valid 1 hour (the edge answered {signed_status}):
   curl -i '{signed}'
 The same link unsigned (the edge answered {unsigned_status}):
   curl -i '{image}'
==========================================================================================
"#,
        moto = s3.moto.as_ref().map_or("", |m| m.url()),
        endpoint = s3.mock.url(),
        dist = s3.distribution_id,
        domain = s3.domain,
        key = s3.key_pair_id,
        private_key = s3.private_key.display(),
        unsigned_status = unsigned.status,
    );
    if signed_status != 200 || unsigned.status != 403 {
        return Err(format!(
            "the S3 demo is not working: signed link answered {signed_status}, unsigned {}",
            unsigned.status
        ));
    }
    loop {
        std::thread::sleep(Duration::from_millis(500));
        if !s3.mock.is_running() {
            return Err(format!(
                "cfsign-mock stopped; its log:\n{}",
                s3.mock.log_tail(20)
            ));
        }
        if let Some(moto) = s3.moto.as_mut()
            && !moto.is_running()
        {
            return Err(format!("moto stopped; its log:\n{}", moto.log_tail(20)));
        }
    }
}
