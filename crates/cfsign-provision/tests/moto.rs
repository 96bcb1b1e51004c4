//! The operations moto supports, against a real moto server started by the test
//! (`python3 -m moto.server`). moto has no UpdateKeyGroup/DeleteKeyGroup/GetKeyGroupConfig and
//! ignores `If-Match`; what that means for each command is asserted here and listed in the README.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use aws_sdk_cloudfront::types::{KeyGroupConfig, PublicKeyConfig, TrustedKeyGroups};
use cfsign::{KeyKind, PrivateKey};
use cfsign_provision::{Behaviors, Error, StepStatus};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_operations_moto_supports() {
    let Some(moto) = Moto::start() else { return };
    let c = client(&moto.endpoint());

    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())
        .unwrap()
        .public_key();
    let created = c
        .create_public_key()
        .public_key_config(
            PublicKeyConfig::builder()
                .caller_reference("r1")
                .name("moto-key")
                .encoded_key(key.to_pem())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let key_id = created.public_key.unwrap().id;
    let got = c.get_public_key().id(&key_id).send().await.unwrap();
    let encoded = got
        .public_key
        .unwrap()
        .public_key_config
        .unwrap()
        .encoded_key;
    assert_eq!(cfsign::PublicKey::from_pem(&encoded).unwrap(), key);
    let list = c
        .list_public_keys()
        .send()
        .await
        .unwrap()
        .public_key_list
        .unwrap();
    assert!(list.items().iter().any(|k| k.id == key_id));

    let group = c
        .create_key_group()
        .key_group_config(
            KeyGroupConfig::builder()
                .name("moto-group")
                .items(&key_id)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_group
        .unwrap();
    let got = c.get_key_group().id(&group.id).send().await.unwrap();
    assert_eq!(
        got.key_group.unwrap().key_group_config.unwrap().items,
        vec![key_id.clone()]
    );
    let groups = c
        .list_key_groups()
        .send()
        .await
        .unwrap()
        .key_group_list
        .unwrap();
    assert!(
        groups
            .items()
            .iter()
            .any(|g| g.key_group.as_ref().unwrap().id == group.id)
    );

    let dist = create_distribution(&c, &["/private/*"]).await;
    c.get_distribution().id(&dist).send().await.unwrap();
    let cfg = c.get_distribution_config().id(&dist).send().await.unwrap();
    let mut config = cfg.distribution_config.unwrap();
    config
        .cache_behaviors
        .as_mut()
        .unwrap()
        .items
        .as_mut()
        .unwrap()[0]
        .trusted_key_groups = Some(
        TrustedKeyGroups::builder()
            .enabled(true)
            .quantity(1)
            .items(&group.id)
            .build()
            .unwrap(),
    );
    c.update_distribution()
        .id(&dist)
        .if_match(cfg.e_tag.unwrap())
        .distribution_config(config)
        .send()
        .await
        .unwrap();
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![group.id.clone()]
    );
    let list = c
        .list_distributions()
        .send()
        .await
        .unwrap()
        .distribution_list
        .unwrap();
    assert!(list.items().iter().any(|d| d.id == dist));

    // moto deletes a public key with any If-Match value (and without an in-use check).
    c.delete_public_key()
        .id(&key_id)
        .if_match("anything")
        .send()
        .await
        .unwrap();
    assert!(
        c.list_public_keys()
            .send()
            .await
            .unwrap()
            .public_key_list
            .unwrap()
            .items()
            .is_empty()
    );
    let missing = c
        .get_distribution_config()
        .id("ENOSUCH")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_cloudfront::error::ProvideErrorMetadata::code(&missing.into_service_error()),
        Some("NoSuchDistribution")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let ep = moto.endpoint();
    let p = provisioner(&ep);
    let c = p.client().clone();
    let dist = create_distribution(&c, &["/private/*", "/media/*"]).await;
    let dir = tempfile::tempdir().unwrap();

    // upload-key: create, reuse, conflict.
    let (path, _) = write_public_key(dir.path(), "app");
    let path = path.to_str().unwrap().to_owned();
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "upload-key",
            "--name",
            "app",
            "--public-key",
            &path,
            "--json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key_id = run.json()["key_pair_id"].as_str().unwrap().to_owned();
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "upload-key",
            "--name",
            "app",
            "--public-key",
            &path,
            "--json",
        ],
    )
    .await;
    assert_eq!(run.json()["changed"], false);
    let (other, _) = write_public_key(dir.path(), "other");
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "upload-key",
            "--name",
            "app",
            "--public-key",
            other.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("different key material"),
        "{}",
        run.stderr
    );

    // key-group ensure: create and reuse work; changing the keys needs UpdateKeyGroup.
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "key-group",
            "ensure",
            "--name",
            "grp",
            "--key-id",
            &key_id,
            "--json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let group_id = run.json()["key_group_id"].as_str().unwrap().to_owned();
    let again = p
        .ensure_key_group("grp", std::slice::from_ref(&key_id))
        .await
        .unwrap();
    assert!(!again.changed);

    // attach / detach / status: all supported (moto ignores If-Match, so no conflict detection).
    let plan = p
        .plan_attach(
            &dist,
            "grp",
            &Behaviors::PathPatterns(vec!["/private/*".into()]),
        )
        .await
        .unwrap()
        .dry_run()
        .unwrap();
    assert_eq!(plan.steps[0].status, StepStatus::Planned);
    assert_eq!(plan.steps[0].behaviors[0].after, vec![group_id.clone()]);
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "attach",
            "--distribution-id",
            &dist,
            "--key-group",
            "grp",
            "--path-pattern",
            "/private/*",
            "/media/*",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        trusted(&c, &dist, Some("/media/*")).await,
        vec![group_id.clone()]
    );
    let status = p.status(&dist).await.unwrap();
    let media = status
        .behaviors
        .iter()
        .find(|b| b.path_pattern == "/media/*")
        .unwrap();
    assert_eq!(media.key_groups[0].key_ids, vec![key_id.clone()]);
    p.detach(
        &dist,
        "grp",
        &Behaviors::PathPatterns(vec!["/media/*".into()]),
    )
    .await
    .unwrap();
    assert!(trusted(&c, &dist, Some("/media/*")).await.is_empty());
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![group_id.clone()]
    );

    // setup: twice, the second run changes nothing.
    let args = [
        "setup",
        "--distribution-id",
        &dist,
        "--key-type",
        "p256",
        "--json",
    ];
    let first = run_bin_async(dir.path(), Some(&ep), &args).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["changed"], true);
    let second = run_bin_async(dir.path(), Some(&ep), &args).await;
    assert_eq!(second.json()["changed"], false, "{}", second.stdout);
    let setup_group = first.json()["key_group_id"].as_str().unwrap().to_owned();
    assert_eq!(trusted(&c, &dist, None).await, vec![setup_group]);

    // rotate needs UpdateKeyGroup, which moto lacks: the key is written and uploaded, adding it
    // to the group fails, and the report says exactly that (exit code 3).
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "rotate",
            "--key-group",
            "grp",
            "--key-type",
            "p256",
            "--key-name",
            "grp-2",
            "--json",
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let j = run.json();
    let steps = j["report"]["steps"].as_array().unwrap();
    let status_of =
        |action: &str| steps.iter().find(|s| s["action"] == action).unwrap()["status"].clone();
    assert_eq!(status_of("write private key"), "done");
    assert_eq!(status_of("upload public key"), "done");
    assert_eq!(status_of("add key to group"), "failed");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--key-name grp-2"),
        "{j}"
    );
    let err = p
        .ensure_key_group("grp", &[key_id.clone(), "K0000000000000".into()])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPublicKey { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let ep = moto.endpoint();
    let p = provisioner(&ep);
    let c = p.client().clone();
    let dist = create_distribution(&c, &["/private/*"]).await;
    let dir = tempfile::tempdir().unwrap();
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "setup",
            "--distribution-id",
            &dist,
            "--path-pattern",
            "/private/*",
            "--key-type",
            "p256",
            "--json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let setup = run.json();
    let key_id = setup["key_pair_id"].as_str().unwrap().to_owned();
    let key_file = dir.path().join(setup["private_key_path"].as_str().unwrap());
    let run = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "doctor",
            "--distribution-id",
            &dist,
            "--private-key",
            key_file.to_str().unwrap(),
            "--expect-private",
            "/private/*",
            "--json",
        ],
    )
    .await;
    let json = run.json();
    // moto keeps no deployment state worth trusting: whatever it says, the only problem doctor
    // may report is `deploying`, and only when moto's status is not `Deployed`.
    let problems: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    if json["status"] == "Deployed" {
        assert_eq!((run.code, problems), (0, vec![]), "{json:#}");
    } else {
        assert_eq!((run.code, problems), (4, vec!["deploying"]), "{json:#}");
    }
    assert_eq!(json["behaviors"][0]["path_pattern"], "/private/*");
    assert_eq!(json["behaviors"][0]["accepts_key"], true);
    assert_eq!(
        json["behaviors"][0]["key_groups"][0]["keys"][0]["id"],
        key_id.as_str()
    );
    assert_eq!(json["behaviors"][1]["restricted"], false);
    assert_eq!(json["key"]["uploaded_as"], serde_json::json!([key_id]));
}
