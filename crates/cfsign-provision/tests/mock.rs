//! Every command against cfsign-mock started in-process, plus proof that aws-sdk-cloudfront works
//! unmodified against the mock (Create/Get/Update/Delete/List for keys, groups, distributions;
//! the steps `moto.rs` takes against moto too are in `common/sdk.rs`).

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudfront::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudfront::error::BoxError;
use aws_sdk_cloudfront::types::DistributionConfig;
use cfsign::{KeyKind, PrivateKey};
use cfsign_mock::{MockConfig, RunningMock};
use cfsign_provision::{
    Behaviors, Error, KeySource, Provisioner, RotateOptions, SetupOptions, StepStatus,
};
use common::*;

async fn mock() -> RunningMock {
    cfsign_mock::start(MockConfig::default()).await.unwrap()
}

fn p256_pem() -> (String, Vec<u8>) {
    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
    (key.public_key().to_pem(), key.public_key().to_der())
}

fn p256_source(dir: &std::path::Path, name: &str) -> KeySource {
    KeySource::Generate {
        kind: KeyKind::P256,
        private_key_out: Some(dir.join(format!("{name}.pem"))),
    }
}

/// aws-sdk-cloudfront, unmodified, against the mock: every operation the provisioner needs and
/// the error codes it relies on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_crud_for_keys_groups_and_distributions() {
    let mock = mock().await;
    let c = client(&mock.endpoint());

    // Public keys: Create, Get, GetConfig, List, Update.
    let (pem, der) = p256_pem();
    let config = public_key_config("ref-1", "sdk-key", &pem, Some("first"));
    let created = create_public_key(&c, config).await;
    assert!(created.e_tag.is_some() && created.location.is_some());
    let key_id = created.public_key.unwrap().id;
    assert_public_key(&c, &key_id, "sdk-key", &der).await;
    let got_cfg = c.get_public_key_config().id(&key_id).send().await.unwrap();
    let etag = got_cfg.e_tag.unwrap();
    let keys = list_public_keys(&c).await;
    assert!(keys.iter().any(|k| k.id == key_id && k.name == "sdk-key"));
    let updated = c
        .update_public_key()
        .id(&key_id)
        .if_match(&etag)
        .public_key_config(public_key_config("ref-1", "sdk-key", &pem, Some("second")))
        .send()
        .await
        .unwrap();
    assert_ne!(
        updated.e_tag.as_deref(),
        Some(etag.as_str()),
        "update changes the ETag"
    );

    // Key groups: Create, Get, GetConfig, List, Update.
    let group_id = create_key_group(&c, "sdk-group", &[&key_id]).await;
    assert_eq!(key_group_items(&c, &group_id).await, vec![key_id.clone()]);
    let gcfg = c.get_key_group_config().id(&group_id).send().await.unwrap();
    let group_etag = gcfg.e_tag.unwrap();
    assert!(list_key_groups(&c).await.contains(&group_id));
    let key2 = upload_public_key(&c, "sdk-key-2", &p256_pem().0).await;
    let upd = c
        .update_key_group()
        .id(&group_id)
        .if_match(&group_etag)
        .key_group_config(key_group_config("sdk-group", &[&key_id, &key2]))
        .send()
        .await
        .unwrap();
    let group_etag = upd.e_tag.unwrap();
    // A stale ETag is refused with PreconditionFailed.
    let stale = c
        .update_key_group()
        .id(&group_id)
        .if_match("E-NOT-CURRENT")
        .key_group_config(key_group_config("sdk-group", &[&key_id]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&stale), "PreconditionFailed");

    // Distributions: Create, Get, GetConfig, Update (with TrustedKeyGroups), List, ListByKeyGroup.
    let dist_id = create_distribution(&c, &["/private/*"]).await;
    domain_name(&c, &dist_id).await; // GetDistribution, with a CloudFront domain name.
    let dcfg = c
        .get_distribution_config()
        .id(&dist_id)
        .send()
        .await
        .unwrap();
    let dist_etag = dcfg.e_tag.unwrap();
    let mut config = dcfg.distribution_config.unwrap();
    let default_behavior = config.default_cache_behavior.as_mut().unwrap();
    default_behavior.trusted_key_groups = Some(trusted_key_groups(&[&group_id]));
    // UpdateDistribution with `If-Match` set to `etag`: none is refused; each update's answer
    // has the ETag the next one needs.
    let update = |config: DistributionConfig, etag: Option<&str>| {
        c.update_distribution()
            .id(&dist_id)
            .set_if_match(etag.map(str::to_owned))
            .distribution_config(config)
            .send()
    };
    let missing_if_match = update(config.clone(), None).await.unwrap_err();
    assert_eq!(error_code(&missing_if_match), "InvalidIfMatchVersion");
    let updated = update(config.clone(), Some(&dist_etag)).await.unwrap();
    let dist_etag = updated.e_tag.unwrap();
    assert_eq!(trusted(&c, &dist_id, None).await, vec![group_id.clone()]);
    let d = c.get_distribution().id(&dist_id).send().await.unwrap();
    assert!(
        d.distribution
            .unwrap()
            .active_trusted_key_groups
            .unwrap()
            .enabled
    );
    assert!(list_distributions(&c).await.contains(&dist_id));
    let by_group = c
        .list_distributions_by_key_group()
        .key_group_id(&group_id)
        .send()
        .await
        .unwrap()
        .distribution_id_list
        .unwrap();
    assert!(by_group.items().contains(&dist_id));

    // Errors the provisioner maps: in use, quota, unknown. Each delete is refused here while
    // what it deletes is in use, and made again below, once it is not.
    let delete_key = |id: &str, etag: &str| c.delete_public_key().id(id).if_match(etag).send();
    let delete_group = |etag: &str| c.delete_key_group().id(&group_id).if_match(etag).send();
    let delete_dist = |etag: &str| c.delete_distribution().id(&dist_id).if_match(etag).send();
    let in_use = delete_key(&key_id, &public_key_etag(&c, &key_id).await)
        .await
        .unwrap_err();
    assert_eq!(error_code(&in_use), "PublicKeyInUse");
    let group_in_use = delete_group(&group_etag).await.unwrap_err();
    assert_eq!(error_code(&group_in_use), "ResourceInUse");
    assert_no_such_distribution(&c).await;
    let mut six = Vec::new();
    for i in 0..6 {
        six.push(upload_public_key(&c, &format!("q-{i}"), &p256_pem().0).await);
    }
    let six: Vec<&str> = six.iter().map(String::as_str).collect();
    let quota = c
        .create_key_group()
        .key_group_config(key_group_config("too-many", &six))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&quota), "TooManyPublicKeysInKeyGroup");

    // Delete: detach, delete group, delete keys, disable and delete the distribution.
    let default_behavior = config.default_cache_behavior.as_mut().unwrap();
    default_behavior.trusted_key_groups = Some(trusted_key_groups(&[]));
    let dist_etag = update(config.clone(), Some(&dist_etag))
        .await
        .unwrap()
        .e_tag
        .unwrap();
    let not_disabled = delete_dist(&dist_etag).await.unwrap_err();
    assert_eq!(error_code(&not_disabled), "DistributionNotDisabled");
    config.enabled = false;
    let dist_etag = update(config, Some(&dist_etag))
        .await
        .unwrap()
        .e_tag
        .unwrap();
    delete_dist(&dist_etag).await.unwrap();
    delete_group(&group_etag).await.unwrap();
    for id in [&key_id, &key2] {
        delete_key(id, &public_key_etag(&c, id).await)
            .await
            .unwrap();
    }
    let gone = c.get_public_key().id(&key_id).send().await.unwrap_err();
    assert_eq!(error_code(&gone), "NoSuchPublicKey");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_key_is_idempotent_and_refuses_other_material_under_the_same_name() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())
        .unwrap()
        .public_key();

    let plan = p
        .plan_upload_key("app-key", &key)
        .await
        .unwrap()
        .dry_run()
        .unwrap();
    assert!(plan.dry_run && plan.changed);
    assert_eq!(plan.steps[0].status, StepStatus::Planned);
    assert!(list_public_keys(p.client()).await.is_empty());

    let first = p.upload_key("app-key", &key).await.unwrap();
    assert!(first.changed);
    let id = first.key_pair_id.clone().unwrap();
    let again = p.upload_key("app-key", &key).await.unwrap();
    assert!(!again.changed, "{again}");
    assert_eq!(again.key_pair_id.as_deref(), Some(id.as_str()));

    let other = PrivateKey::generate(KeyKind::P256, &mut rand::rng())
        .unwrap()
        .public_key();
    let err = p.upload_key("app-key", &other).await.unwrap_err();
    assert!(matches!(err, Error::KeyNameConflict { .. }), "{err}");
    assert!(err.to_string().contains(&id) && err.to_string().contains("different key material"));

    // An RSA key uploaded through the binary, then the same file again.
    let dir = tempfile::tempdir().unwrap();
    let rsa = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng()).unwrap();
    std::fs::write(dir.path().join("pub.pem"), rsa.public_key().to_pem()).unwrap();
    let cli = Cli::new(dir.path(), &mock.endpoint());
    let upload = "upload-key --name rsa-key --public-key pub.pem --json";
    let run = cli.run(upload).await;
    run.expect_code(0);
    assert_eq!(run.json()["changed"], true);
    let run2 = cli.run(upload).await;
    assert_eq!(run2.json()["changed"], false);
    assert_eq!(run.json()["key_pair_id"], run2.json()["key_pair_id"]);

    // A private key given by mistake is refused locally, without echoing it.
    let pem = rsa.to_pkcs8_pem();
    std::fs::write(dir.path().join("secret.pem"), pem.as_bytes()).unwrap();
    let run = cli
        .run("upload-key --name oops --public-key secret.pem")
        .await;
    run.expect_failure(1, &["this is a private key"]);
    let secret_line = pem.lines().nth(3).unwrap();
    assert!(!run.stderr.contains(secret_line) && !run.stdout.contains(secret_line));
    // A 1024-bit key is refused with the reason.
    let small = dir.path().join("small.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ])
        .output();
    if let Some(out) = out.ok().filter(|o| o.status.success()) {
        let private = PrivateKey::from_pem(&String::from_utf8(out.stdout).unwrap()).unwrap();
        std::fs::write(&small, private.public_key().to_pem()).unwrap();
        let run = cli.run("upload-key --name small --public-key small.pem");
        run.await.expect_failure(1, &["2048-bit RSA or P-256"]);
    } else {
        skip_or_fail("openssl is not installed; the 1024-bit key check did not run");
    }
}

async fn upload(p: &Provisioner, name: &str) -> String {
    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())
        .unwrap()
        .public_key();
    p.upload_key(name, &key).await.unwrap().key_pair_id.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_group_ensure_creates_updates_and_respects_the_quota() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(upload(&p, &format!("k{i}")).await);
    }
    let created = p.ensure_key_group("grp", &ids[..1]).await.unwrap();
    assert!(created.changed);
    let group_id = created.key_group_id.clone().unwrap();
    let plan = p
        .plan_ensure_key_group("grp", &ids[..2])
        .await
        .unwrap()
        .dry_run()
        .unwrap();
    assert_eq!(plan.steps[0].status, StepStatus::Planned);
    let updated = p.ensure_key_group("grp", &ids[..2]).await.unwrap();
    assert_eq!(updated.steps[0].status, StepStatus::Done, "{updated}");
    assert_eq!(updated.key_group_id.as_deref(), Some(group_id.as_str()));
    let same = p
        .ensure_key_group("grp", &[ids[1].clone(), ids[0].clone()])
        .await
        .unwrap();
    assert!(!same.changed, "order does not matter: {same}");
    let shrunk = p.ensure_key_group("grp", &ids[1..2]).await.unwrap();
    assert!(shrunk.changed);
    assert_eq!(
        key_group_items(p.client(), &group_id).await,
        vec![ids[1].clone()]
    );

    let err = p.ensure_key_group("grp", &ids).await.unwrap_err();
    assert!(matches!(err, Error::TooManyKeysInGroup { .. }));
    assert!(err.to_string().contains("at most 5"), "{err}");
    let err = p
        .ensure_key_group("grp", &["KNOSUCHKEY1234".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPublicKey { .. }), "{err}");

    // Through the binary, with JSON.
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &mock.endpoint());
    let ensure = format!(
        "key-group ensure --name bin-grp --key-id {} {} --json",
        ids[2], ids[3]
    );
    let run = cli.run(&ensure).await;
    assert_eq!(run.expect_code(0).json()["steps"][0]["status"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_detach_dry_run_and_status() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let c = p.client().clone();
    let dist = create_distribution(&c, &["/private/*", "/media/*", "/public/*"]).await;
    let k = upload(&p, "k").await;
    let g = p
        .ensure_key_group("g1", std::slice::from_ref(&k))
        .await
        .unwrap()
        .key_group_id
        .unwrap();
    let patterns = Behaviors::PathPatterns(vec!["/private/*".into(), "/media/*".into()]);

    let plan = p
        .plan_attach(&dist, "g1", &patterns)
        .await
        .unwrap()
        .dry_run()
        .unwrap();
    assert!(plan.dry_run && plan.changed);
    let step = &plan.steps[0];
    assert_eq!(step.status, StepStatus::Planned);
    assert_eq!(step.behaviors.len(), 2);
    assert!(
        step.behaviors
            .iter()
            .all(|b| b.before.is_empty() && b.after == vec![g.clone()])
    );
    assert!(
        trusted(&c, &dist, Some("/private/*")).await.is_empty(),
        "dry run changed nothing"
    );

    let etag_before = distribution_etag(&c, &dist).await;
    let done = p.attach(&dist, &g, &patterns).await.unwrap();
    assert_eq!(done.steps[0].status, StepStatus::Done);
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![g.clone()]
    );
    assert_eq!(trusted(&c, &dist, Some("/media/*")).await, vec![g.clone()]);
    assert!(
        trusted(&c, &dist, Some("/public/*")).await.is_empty(),
        "other behaviours untouched"
    );
    assert!(trusted(&c, &dist, None).await.is_empty());
    assert_ne!(etag_before, distribution_etag(&c, &dist).await);
    let again = p.attach(&dist, "g1", &patterns).await.unwrap();
    assert!(!again.changed, "{again}");

    let status = p.status(&dist).await.unwrap();
    let private = status
        .behaviors
        .iter()
        .find(|b| b.path_pattern == "/private/*")
        .unwrap();
    assert!(private.restricted);
    assert_eq!(private.key_groups[0].id, g);
    assert_eq!(private.key_groups[0].name.as_deref(), Some("g1"));
    assert_eq!(private.key_groups[0].key_ids, vec![k.clone()]);
    assert!(!status.behaviors[0].restricted && status.behaviors[0].default_behavior);

    // The binary: status, attach --default-behavior with a dry run, detach.
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &mock.endpoint());
    let run = cli.run(&format!("status --distribution-id {dist}")).await;
    run.expect_code(0)
        .expect_stdout(&["behaviour /private/*: restricted to", &k]);
    let attach = format!("attach --distribution-id {dist} --key-group g1 --default-behavior");
    let plan = cli.run(&format!("{attach} --dry-run --json")).await.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["steps"][0]["behaviors"][0]["before"],
        serde_json::json!([])
    );
    assert_eq!(
        plan["steps"][0]["behaviors"][0]["after"],
        serde_json::json!([g])
    );
    assert!(trusted(&c, &dist, None).await.is_empty());
    let detach = format!("detach --distribution-id {dist} --key-group g1 --path-pattern /media/*");
    cli.run(&detach)
        .await
        .expect_code(0)
        .expect_stdout(&["no longer restricts viewer access"]);
    assert!(trusted(&c, &dist, Some("/media/*")).await.is_empty());
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![g.clone()]
    );

    // Clear errors.
    let err = p
        .attach(
            &dist,
            "g1",
            &Behaviors::PathPatterns(vec!["/nope/*".into()]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPathPattern { .. }));
    assert!(
        err.to_string().contains("/private/*, /media/*, /public/*"),
        "{err}"
    );
    let err = p
        .attach("ENOSUCHDIST", "g1", &Behaviors::Default)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownDistribution { .. }), "{err}");
    let err = p
        .attach(&dist, "no-such-group", &Behaviors::Default)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKeyGroup { .. }), "{err}");
    let err = p.status("ENOSUCHDIST").await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    // Quota: at most 4 key groups per behaviour.
    for i in 2..=4 {
        p.ensure_key_group(&format!("g{i}"), std::slice::from_ref(&k))
            .await
            .unwrap();
        p.attach(&dist, &format!("g{i}"), &Behaviors::Default)
            .await
            .unwrap();
    }
    p.attach(&dist, "g1", &Behaviors::Default).await.unwrap();
    p.ensure_key_group("g5", std::slice::from_ref(&k))
        .await
        .unwrap();
    let err = p
        .attach(&dist, "g5", &Behaviors::Default)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyKeyGroupsOnBehavior { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_twice_changes_nothing_and_the_key_signs_urls_the_edge_accepts() {
    let origin = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(origin.path().join("private")).unwrap();
    std::fs::write(origin.path().join("private/a.txt"), "secret content").unwrap();
    let mock = cfsign_mock::start(MockConfig::new().with_origin(origin.path()))
        .await
        .unwrap();
    let c = client(&mock.endpoint());
    let dist = create_distribution(&c, &["/private/*"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &mock.endpoint());
    let setup = format!("setup --distribution-id {dist} --path-pattern /private/*");
    let setup_json = format!("{setup} --json");

    let plan = cli.run(&format!("{setup_json} --dry-run")).await;
    let plan = plan.expect_code(0).json();
    assert_eq!(plan["dry_run"], true);
    assert!(
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "planned"),
        "{plan}"
    );
    assert!(!dir.path().join(format!("cfsign-{dist}-key.pem")).exists());
    assert!(trusted(&c, &dist, Some("/private/*")).await.is_empty());

    let first = cli.run(&setup_json).await.expect_code(0).json();
    assert_eq!(first["changed"], true);
    let key_id = first["key_pair_id"].as_str().unwrap().to_owned();
    let group_id = first["key_group_id"].as_str().unwrap().to_owned();
    let key_path = dir.path().join(first["private_key_path"].as_str().unwrap());
    assert_eq!(first["env"]["AWS_CLOUDFRONT_KEY_ID"], key_id.as_str());
    assert!(
        first["env"]["AWS_CLOUDFRONT_KEY"]
            .as_str()
            .unwrap()
            .contains("cat ")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![group_id.clone()]
    );

    let second = cli.run(&setup_json).await.expect_code(0).json();
    assert_eq!(second["changed"], false, "{second}");
    assert_eq!(second["key_pair_id"], key_id.as_str());
    assert!(
        second["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unchanged")
    );

    // The key works end to end at the mock's edge.
    let domain = domain_name(&c, &dist).await;
    let url = format!("{}/private/a.txt", mock.edge_base(&domain));
    assert_served_only_signed(&mock, &signer(&key_path, &key_id), &url).await;

    // Losing the private key file is reported instead of silently making a second key.
    std::fs::remove_file(&key_path).unwrap();
    cli.run(&setup)
        .await
        .expect_failure(1, &["its private key is not at"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_with_existing_public_key_and_default_behaviour() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let dist = create_distribution(p.client(), &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_public_key(dir.path(), "mine");
    let mut o = SetupOptions::new(&dist);
    o.key = KeySource::PublicKeyFile(path);
    o.key_group_name = Some("my-group".into());
    let r = p.setup(&o).await.unwrap();
    assert!(r.changed && r.private_key_path.is_none());
    assert_eq!(
        trusted(p.client(), &dist, None).await,
        vec![r.key_group_id.clone().unwrap()]
    );
    let again = p.setup(&o).await.unwrap();
    assert!(!again.changed, "{again}");
    let err = p
        .setup(&{
            let mut o = SetupOptions::new(&dist);
            o.behaviors = Behaviors::PathPatterns(vec!["/x/*".into()]);
            o
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPathPattern { .. }), "{err}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "nothing written on error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_then_retire() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let c = p.client().clone();
    let dist = create_distribution(&c, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut o = SetupOptions::new(&dist);
    o.key = p256_source(dir.path(), "first");
    o.key_group_name = Some("rot".into());
    let setup = p.setup(&o).await.unwrap();
    let old = setup.key_pair_id.clone().unwrap();
    let group = setup.key_group_id.clone().unwrap();

    let mut r = RotateOptions::new("rot");
    r.key = p256_source(dir.path(), "second");
    r.key_name = Some("rot-second".into());
    let plan = p.plan_rotate(&r).await.unwrap().dry_run().unwrap();
    assert!(
        plan.steps.iter().all(|s| s.status == StepStatus::Planned),
        "{plan}"
    );
    let rotated = p.rotate(&r).await.unwrap();
    let new = rotated.key_pair_id.clone().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        key_group_items(&c, &group).await,
        vec![old.clone(), new.clone()]
    );
    let text = rotated.to_string();
    assert!(text.contains(&format!("--retire {old}")), "{text}");
    assert!(rotated.env["AWS_CLOUDFRONT_KEY_ID"] == new);
    assert!(
        !p.rotate(&r).await.unwrap().changed,
        "rotate with the same name and file is idempotent"
    );

    // Retire the old key: removed from the group, then deleted.
    let plan = p.plan_retire("rot", &old).await.unwrap().dry_run().unwrap();
    assert!(
        plan.steps.iter().all(|s| s.status == StepStatus::Planned),
        "{plan}"
    );
    let retired = p.retire("rot", &old).await.unwrap();
    assert!(
        retired.steps.iter().all(|s| s.status == StepStatus::Done),
        "{retired}"
    );
    assert_eq!(key_group_items(&c, &group).await, vec![new.clone()]);
    assert!(c.get_public_key().id(&old).send().await.is_err());
    let again = p.retire("rot", &old).await.unwrap();
    assert!(!again.changed, "{again}");
    let err = p.retire("rot", &new).await.unwrap_err();
    assert!(matches!(err, Error::LastKeyInGroup { .. }), "{err}");

    // A key held by another group is not deleted; the error names the group.
    let other = p
        .ensure_key_group("other", std::slice::from_ref(&new))
        .await
        .unwrap();
    let third = upload(&p, "third").await;
    p.ensure_key_group("rot", &[new.clone(), third.clone()])
        .await
        .unwrap();
    let err = p.retire("rot", &new).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::Incomplete { source, .. } if matches!(**source, Error::KeyInUse { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("other") && msg.contains(other.key_group_id.as_deref().unwrap()),
        "{msg}"
    );
    assert!(msg.contains("Done: remove key from group"), "{msg}");
    assert!(c.get_public_key().id(&new).send().await.is_ok());

    // The 5-key quota stops rotate before anything is generated.
    let mut five = vec![third.clone()];
    for i in 0..4 {
        five.push(upload(&p, &format!("fill{i}")).await);
    }
    p.ensure_key_group("rot", &five).await.unwrap();
    let mut r = RotateOptions::new(&group);
    r.key = p256_source(dir.path(), "sixth");
    let err = p.rotate(&r).await.unwrap_err();
    assert!(matches!(err, Error::TooManyKeysInGroup { .. }), "{err}");
    assert!(!dir.path().join("sixth.pem").exists());

    // Through the binary: rotate and retire with JSON.
    p.ensure_key_group("rot", &five[..1]).await.unwrap();
    let cli = Cli::new(dir.path(), &mock.endpoint());
    let run = cli
        .run("rotate --key-group rot --key-type p256 --json")
        .await;
    let j = run.expect_code(0).json();
    let newest = j["key_pair_id"].as_str().unwrap().to_owned();
    assert!(
        dir.path()
            .join(j["private_key_path"].as_str().unwrap())
            .exists()
    );
    assert!(
        j["next_steps"]
            .to_string()
            .contains(&format!("--retire {third}"))
    );
    let retire = format!("rotate --key-group rot --retire {third}");
    cli.run(&retire).await.expect_code(0);
    assert_eq!(key_group_items(&c, &group).await, vec![newest]);
}

/// Forces a stale `If-Match` on the first `n` UpdateDistribution requests, as if another writer
/// had updated the distribution in between.
#[derive(Debug)]
struct StaleIfMatch(Arc<AtomicU32>);

impl Intercept for StaleIfMatch {
    fn name(&self) -> &'static str {
        "StaleIfMatch"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let is_update = request.method() == "PUT" && request.uri().contains("/distribution/");
        if is_update && self.0.load(Ordering::SeqCst) > 0 {
            self.0.fetch_sub(1, Ordering::SeqCst);
            request.headers_mut().insert("If-Match", "E-STALE");
        }
        Ok(())
    }
}

fn provisioner_with_stale(endpoint: &str, stale: u32) -> Provisioner {
    let conf = sdk_config(endpoint)
        .interceptor(StaleIfMatch(Arc::new(AtomicU32::new(stale))))
        .build();
    Provisioner::from_client(Client::from_conf(conf), endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_conflicts_are_retried_or_reported() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let dist = create_distribution(p.client(), &[]).await;
    let k = upload(&p, "k").await;
    p.ensure_key_group("g", &[k]).await.unwrap();

    // Two stale answers, then success on the third read-modify-write.
    let flaky = provisioner_with_stale(&mock.endpoint(), 2);
    let r = flaky.attach(&dist, "g", &Behaviors::Default).await.unwrap();
    assert_eq!(r.steps[0].attempts, 3, "{r}");
    assert!(r.steps[0].detail.contains("changed concurrently"));

    // Always stale: a clear error after the bounded number of attempts, nothing changed.
    let hopeless = provisioner_with_stale(&mock.endpoint(), 100).with_max_attempts(3);
    let err = hopeless
        .detach(&dist, "g", &Behaviors::Default)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::EtagConflict { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("kept changing"), "{err}");
    assert_eq!(trusted(p.client(), &dist, None).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attaches_all_succeed() {
    let mock = mock().await;
    let p = provisioner(&mock.endpoint());
    let dist = create_distribution(p.client(), &["/a/*"]).await;
    let k = upload(&p, "k").await;
    let mut groups = Vec::new();
    for i in 0..4 {
        let r = p
            .ensure_key_group(&format!("race{i}"), std::slice::from_ref(&k))
            .await
            .unwrap();
        groups.push(r.key_group_id.unwrap());
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(groups.len()));
    let mut tasks = Vec::new();
    for g in groups.clone() {
        let p = provisioner(&mock.endpoint()).with_max_attempts(10);
        let dist = dist.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            p.attach(&dist, &g, &Behaviors::PathPatterns(vec!["/a/*".into()]))
                .await
        }));
    }
    let mut attempts = 0;
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        attempts += r.steps[0].attempts.max(1);
    }
    let mut got = trusted(p.client(), &dist, Some("/a/*")).await;
    got.sort();
    groups.sort();
    assert_eq!(
        got, groups,
        "every racing attach landed ({attempts} attempts in total)"
    );
    eprintln!("racing attaches: {attempts} attempts for 4 updates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;

    // No credentials anywhere.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfsign-provision"));
    cmd.current_dir(dir.path())
        .args(["status", "--distribution-id", "E1", "--json"]);
    clean_aws_env(&mut cmd, dir.path());
    cmd.env("AWS_ENDPOINT_URL", mock.endpoint());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["error"]["kind"], "missing_credentials", "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AWS_ACCESS_KEY_ID")
    );

    // Something that is not CloudFront.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let not_cloudfront = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let body = "<html><body>Welcome to nginx!</body></html>";
                let resp = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    // Nothing listening.
    let closed = format!(
        "http://127.0.0.1:{}",
        cfsign_tests::proc::free_port().unwrap()
    );
    let mock_cli = Cli::new(dir.path(), &mock.endpoint());
    // Each case: how the binary is run, its arguments, its exit code and what stderr says.
    let cases: [(Cli, &str, i32, &[&str]); 4] = [
        (
            Cli::new(dir.path(), &closed),
            "status --distribution-id E1",
            1,
            &["cannot reach the CloudFront API"],
        ),
        (
            Cli::new(dir.path(), &not_cloudfront),
            "status --distribution-id E1",
            1,
            &["does not look like the CloudFront API", "--endpoint-url"],
        ),
        // A malformed endpoint URL.
        (
            Cli::without_endpoint(dir.path()),
            "--endpoint-url localhost:4580 status --distribution-id E1",
            1,
            &["has no scheme"],
        ),
        // Usage errors are exit code 2.
        (
            Cli::new(dir.path(), &mock.endpoint()),
            "attach --distribution-id E1 --key-group g",
            2,
            &[],
        ),
    ];
    for (cli, command_line, code, stderr) in cases {
        cli.run(command_line).await.expect_failure(code, stderr);
    }

    // Unknown distribution through the binary, with JSON.
    let run = mock_cli
        .run("status --distribution-id ENOSUCH --json")
        .await;
    assert_eq!(run.json()["error"]["kind"], "unknown_distribution");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_stopped_part_way_reports_progress_and_a_rerun_completes_it() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let p = provisioner(&mock.endpoint());
    let dist = create_distribution(p.client(), &[]).await;
    let mut o = SetupOptions::new(&dist);
    o.key = p256_source(dir.path(), "partial");

    // Every UpdateDistribution answers PreconditionFailed: key and group are made, attach fails.
    let broken = provisioner_with_stale(&mock.endpoint(), 100).with_max_attempts(2);
    let err = broken.setup(&o).await.unwrap_err();
    let report = err
        .incomplete_report()
        .expect("an incomplete report")
        .clone();
    let status = |action: &str| {
        report
            .steps
            .iter()
            .find(|s| s.action == action)
            .unwrap()
            .status
    };
    assert_eq!(status("write private key"), StepStatus::Done);
    assert_eq!(status("upload public key"), StepStatus::Done);
    assert_eq!(status("ensure key group"), StepStatus::Done);
    assert_eq!(status("attach key group"), StepStatus::Failed);
    let msg = err.to_string();
    assert!(
        msg.contains("Done: write private key, upload public key, ensure key group."),
        "{msg}"
    );
    assert!(msg.contains("Failed: attach key group."), "{msg}");
    assert!(trusted(p.client(), &dist, None).await.is_empty());

    let done = p.setup(&o).await.unwrap();
    let statuses: Vec<StepStatus> = done.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            StepStatus::Unchanged,
            StepStatus::Unchanged,
            StepStatus::Unchanged,
            StepStatus::Done
        ],
        "{done}"
    );
    assert_eq!(
        trusted(p.client(), &dist, None).await,
        vec![done.key_group_id.unwrap()]
    );
}
