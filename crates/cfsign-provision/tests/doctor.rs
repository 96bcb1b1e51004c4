//! `cfsign-provision doctor` against cfsign-mock: a healthy distribution where it reports no
//! problem (and every probe as expected), and every problem it knows made to happen — each
//! found, with the exit code a pipeline acts on.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use std::path::PathBuf;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::TrustedSigners;
use cfsign::{KeyKind, PrivateKey};
use cfsign_mock::{MockConfig, RunningMock};
use cfsign_provision::{
    Behaviors, DoctorOptions, DoctorReport, DoctorSigner, Health, KeySource, Provisioner,
    SetupOptions, Severity,
};
use common::*;

/// The origin every test distribution points at (see `common::distribution_config`).
const ORIGIN: &str = "origin.example.com";

struct Stack {
    mock: RunningMock,
    origin: tempfile::TempDir,
    dir: tempfile::TempDir,
    client: Client,
    p: Provisioner,
    dist: String,
    domain: String,
    key_file: PathBuf,
    key_id: String,
}

/// A mock with one distribution whose `/private/*` (listed after `extra_patterns`) is restricted
/// by `setup` with a generated P-256 key.
async fn stack(config: MockConfig, extra_patterns: &[&str]) -> Stack {
    let origin = tempfile::tempdir().unwrap();
    for (path, body) in [("private/a.txt", "secret"), ("public/a.txt", "public")] {
        let file = origin.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, body).unwrap();
    }
    let mock = cfsign_mock::start(config.with_origin_for(ORIGIN, origin.path()))
        .await
        .unwrap();
    let client = client(&mock.endpoint());
    let patterns: Vec<&str> = extra_patterns
        .iter()
        .copied()
        .chain(["/private/*"])
        .collect();
    let dist = create_distribution(&client, &patterns).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.pem");
    let p = provisioner(&mock.endpoint());
    let mut o = SetupOptions::new(&dist);
    o.behaviors = Behaviors::from_patterns(vec!["/private/*".to_owned()]);
    o.key = KeySource::Generate {
        kind: KeyKind::P256,
        private_key_out: Some(key_file.clone()),
    };
    let report = p.apply(p.plan_setup(&o).await.unwrap()).await.unwrap();
    let domain = domain_name(&client, &dist).await;
    Stack {
        key_id: report.key_pair_id.unwrap(),
        mock,
        origin,
        dir,
        client,
        p,
        dist,
        domain,
        key_file,
    }
}

impl Stack {
    /// `cfsign-provision doctor` on the distribution with `args`, in the stack's directory.
    async fn run_doctor(&self, args: &str) -> Run {
        let command_line = format!("doctor --distribution-id {} {args}", self.dist);
        let cli = Cli::new(self.dir.path(), &self.mock.endpoint());
        cli.run(&command_line).await
    }

    fn url(&self, path: &str) -> String {
        format!(
            "http://{}{path}",
            self.mock
                .edge_base(&self.domain)
                .trim_start_matches("http://")
        )
    }

    fn signer(&self) -> DoctorSigner {
        DoctorSigner::PrivateKey {
            key: PrivateKey::from_pem(&std::fs::read_to_string(&self.key_file).unwrap()).unwrap(),
            source: "test key".to_owned(),
        }
    }

    async fn doctor(&self, f: impl FnOnce(&mut DoctorOptions)) -> DoctorReport {
        let mut o = DoctorOptions::new(&self.dist);
        f(&mut o);
        self.p.doctor(o).await.unwrap()
    }

    async fn edit_config(
        &self,
        f: impl FnOnce(&mut aws_sdk_cloudfront::types::DistributionConfig),
    ) {
        edit_distribution_config(&self.client, &self.dist, f).await;
    }
}

/// A signer with a fresh key that was never uploaded.
fn never_uploaded() -> DoctorSigner {
    DoctorSigner::PrivateKey {
        key: PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap(),
        source: "other".to_owned(),
    }
}

fn codes(report: &DoctorReport) -> Vec<&'static str> {
    report.problems.iter().map(|p| p.code).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_distribution_gets_a_clean_bill_and_every_probe_as_expected() {
    let s = stack(MockConfig::new(), &[]).await;
    let private = s.url("/private/a.txt");
    let public = s.url("/public/a.txt");
    // `key.pem` is `s.key_file`, relative to the directory the binary runs in.
    let args = format!(
        "--private-key key.pem --probe {private} --probe {public} --expect-private private/*"
    );
    let json = s.run_doctor(&format!("{args} --json")).await;
    let json = json.expect_code(0).json();
    assert_eq!(json["health"], "healthy", "{json:#}");
    assert_eq!(json["problems"], serde_json::json!([]));
    // CloudFront's order: `/private/*` first, the default last; only `/private/*` accepts the key.
    let behaviors = json["behaviors"].as_array().unwrap();
    assert_eq!(behaviors[0]["path_pattern"], "/private/*");
    assert_eq!(behaviors[0]["restricted"], true);
    assert_eq!(behaviors[0]["accepts_key"], true);
    let key = &behaviors[0]["key_groups"][0]["keys"][0];
    assert_eq!(key["id"], s.key_id.as_str());
    assert_eq!(key["algorithm"], "ECDSA P-256");
    assert!(key["created"].as_str().unwrap().ends_with('Z'), "{key}");
    assert_eq!(behaviors[1]["default_behavior"], true);
    assert_eq!(behaviors[1]["restricted"], false);
    assert_eq!(json["key"]["uploaded_as"], serde_json::json!([s.key_id]));
    assert_eq!(
        json["key"]["accepted_by"],
        serde_json::json!(["/private/*"])
    );
    // Unsigned private: 403 MissingKey; signed private: 200; public: 200 both ways.
    let probes = json["probes"].as_array().unwrap();
    let seen: Vec<(bool, u64, bool)> = probes
        .iter()
        .map(|p| {
            (
                p["signed"].as_bool().unwrap(),
                p["status"].as_u64().unwrap(),
                p["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (false, 403, true),
            (true, 200, true),
            (false, 200, true),
            (true, 200, true)
        ]
    );
    assert_eq!(probes[0]["code"], "MissingKey");

    // The text report says the same for people.
    let text = s.run_doctor(&args).await;
    text.expect_code(0).expect_stdout(&[
        "1. /private/*: restricted, accepts your key",
        "2. * (default): public",
        "[ok] unsigned",
        "no problems found: healthy",
    ]);
    assert!(!text.stdout.contains("FAIL"), "{}", text.stdout);
    drop(s.origin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_or_deploying_distribution_is_reported() {
    let s = stack(MockConfig::new().with_deployment_secs(3600), &[]).await;
    let r = s.doctor(|_| {}).await;
    assert_eq!(codes(&r), vec!["deploying"]);
    assert_eq!(r.health, Health::Warnings);
    s.edit_config(|c| c.enabled = false).await;
    let r = s.doctor(|o| o.probes = vec![s.url("/public/a.txt")]).await;
    assert_eq!(
        codes(&r),
        vec!["distribution_disabled", "probe_failed", "deploying"]
    );
    assert_eq!(r.health, Health::Broken);
    assert!(
        r.probes[0].explanation.contains("disabled"),
        "{:?}",
        r.probes[0]
    );
    // The binary exits 5 (broken) and 4 (warnings).
    s.run_doctor("")
        .await
        .expect_code(5)
        .expect_stdout(&["error [distribution_disabled]", "verdict: broken"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploying_only_is_a_warning_exit_code() {
    let s = stack(MockConfig::new().with_deployment_secs(3600), &[]).await;
    s.run_doctor("")
        .await
        .expect_code(4)
        .expect_stdout(&["warning [deploying]"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_behaviour_that_shadows_private_paths_is_broken() {
    // `/media/*` (public) comes before the restricted `/media/private/*`.
    let s = stack(MockConfig::new(), &["/media/*", "/media/private/*"]).await;
    let p = &s.p;
    let group = p
        .status(&s.dist)
        .await
        .unwrap()
        .behaviors
        .iter()
        .find(|b| b.path_pattern == "/private/*")
        .unwrap()
        .key_groups[0]
        .id
        .clone();
    let plan = p
        .plan_attach(
            &s.dist,
            &group,
            &Behaviors::PathPatterns(vec!["/media/private/*".to_owned()]),
        )
        .await
        .unwrap();
    p.apply(plan).await.unwrap();
    let r = s
        .doctor(|o| o.expect_private = vec!["/media/private/*".to_owned(), "private/*".to_owned()])
        .await;
    let found: Vec<(&str, Option<&str>, Severity)> = r
        .problems
        .iter()
        .map(|p| (p.code, p.behavior.as_deref(), p.severity))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "shadowed_behavior",
                Some("/media/private/*"),
                Severity::Error
            ),
            (
                "expected_private_is_public",
                Some("/media/*"),
                Severity::Error
            ),
        ],
        "{r:#?}"
    );
    assert!(r.problems[0].message.contains("WITHOUT a signature"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_trusted_signers_and_full_key_groups_are_warnings() {
    let s = stack(MockConfig::new(), &[]).await;
    s.edit_config(|c| {
        c.default_cache_behavior.as_mut().unwrap().trusted_signers = Some(
            TrustedSigners::builder()
                .enabled(true)
                .quantity(1)
                .items("self")
                .build()
                .unwrap(),
        );
    })
    .await;
    // Fill the group to CloudFront's limit of five keys.
    let mut ids = vec![s.key_id.clone()];
    for i in 0..4 {
        let (path, _) = write_public_key(s.dir.path(), &format!("extra{i}"));
        let key = cfsign_provision::read_public_key(&path).unwrap();
        let report =
            s.p.apply(
                s.p.plan_upload_key(&format!("extra{i}"), &key)
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
        ids.push(report.key_pair_id.unwrap());
    }
    let status = s.p.status(&s.dist).await.unwrap();
    let group_name = status
        .behaviors
        .iter()
        .find(|b| b.restricted)
        .unwrap()
        .key_groups[0]
        .name
        .clone()
        .unwrap();
    s.p.apply(s.p.plan_ensure_key_group(&group_name, &ids).await.unwrap())
        .await
        .unwrap();
    let r = s.doctor(|_| {}).await;
    assert_eq!(
        codes(&r),
        vec!["quota_keys_per_group", "legacy_trusted_signers"],
        "{r:#?}"
    );
    assert_eq!(r.health, Health::Warnings);
    assert_eq!(r.problems[1].behavior.as_deref(), Some("*"));
    // The default behaviour is now restricted by legacy signers only.
    let default = r.behaviors.last().unwrap();
    assert!(default.restricted && default.legacy_trusted_signers && default.key_groups.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_key_group_that_no_longer_exists_is_broken() {
    // Only a state file edited by hand (or an account-level mishap) gets here: the mock, like
    // CloudFront, refuses to delete a group in use.
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("state.json");
    let s = stack(MockConfig::new().with_state_file(&state_file), &[]).await;
    let signer = s.signer();
    let Stack { mock, dist, .. } = s;
    mock.shutdown().await;
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    saved["key_groups"] = serde_json::json!([]);
    std::fs::write(&state_file, saved.to_string()).unwrap();
    let mock = cfsign_mock::start(MockConfig::new().with_state_file(&state_file))
        .await
        .unwrap();
    let p = provisioner(&mock.endpoint());
    let mut o = DoctorOptions::new(&dist);
    o.signer = Some(signer);
    let r = p.doctor(o).await.unwrap();
    assert_eq!(
        codes(&r),
        vec!["missing_key_group", "key_not_trusted"],
        "{r:#?}"
    );
    assert!(!r.behaviors[0].key_groups[0].exists);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_key_is_named_and_the_right_one_described() {
    let s = stack(MockConfig::new(), &[]).await;
    let private = s.url("/private/a.txt");
    // A key that was never uploaded.
    let r = s
        .doctor(|o| {
            o.signer = Some(never_uploaded());
            o.probes = vec![private.clone()];
        })
        .await;
    assert_eq!(codes(&r), vec!["key_not_uploaded"], "{r:#?}");
    assert!(
        r.problems[0].message.contains(&s.key_id),
        "{}",
        r.problems[0].message
    );
    assert!(r.key.as_ref().unwrap().accepted_by.is_empty());
    // Only the unsigned probe ran (no Key-Pair-Id to sign with), and it was as expected.
    assert_eq!(r.probes.len(), 1);
    assert!(r.probes[0].ok);

    // The same key with the right Key-Pair-Id: a mismatch, and the signed probe is refused.
    let r = s
        .doctor(|o| {
            o.signer = Some(never_uploaded());
            o.key_pair_id = Some(s.key_id.clone());
            o.probes = vec![private.clone()];
        })
        .await;
    assert_eq!(
        codes(&r),
        vec!["key_pair_id_mismatch", "key_not_uploaded", "probe_failed"],
        "{r:#?}"
    );
    assert_eq!(r.probes[1].status, Some(403));
    assert_eq!(r.probes[1].code.as_deref(), Some("AccessDenied"));

    // An uploaded key that no group trusts.
    let (path, _) = write_public_key(s.dir.path(), "loose");
    let loose = cfsign_provision::read_public_key(&path).unwrap();
    let loose_id =
        s.p.apply(s.p.plan_upload_key("loose", &loose).await.unwrap())
            .await
            .unwrap()
            .key_pair_id
            .unwrap();
    let r = s.doctor(|o| o.key_pair_id = Some(loose_id.clone())).await;
    assert_eq!(codes(&r), vec!["key_not_trusted"], "{r:#?}");
    // With only a Key-Pair-Id that is trusted: which behaviours accept it, no problem.
    let r = s.doctor(|o| o.key_pair_id = Some(s.key_id.clone())).await;
    assert_eq!(codes(&r), Vec::<&str>::new());
    assert_eq!(r.key.unwrap().accepted_by, vec!["/private/*".to_owned()]);
    assert_eq!(
        r.behaviors
            .iter()
            .map(|b| b.accepts_key)
            .collect::<Vec<_>>(),
        vec![Some(true), Some(false)]
    );
}
