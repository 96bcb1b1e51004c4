//! The operations moto supports, against a real moto server started by the test
//! (`python3 -m moto.server`). moto has no UpdateKeyGroup/DeleteKeyGroup/GetKeyGroupConfig and
//! ignores `If-Match`; what that means for each command is asserted here and listed in the README.
//! The SDK steps `mock.rs` takes against cfsign-mock too are in `common/sdk.rs`.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

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
    let config = public_key_config("r1", "moto-key", &key.to_pem(), None);
    let key_id = create_public_key(&c, config).await.public_key.unwrap().id;
    assert_public_key(&c, &key_id, "moto-key", &key.to_der()).await;
    let keys = list_public_keys(&c).await;
    assert!(keys.iter().any(|k| k.id == key_id && k.name == "moto-key"));

    let group_id = create_key_group(&c, "moto-group", &[&key_id]).await;
    assert_eq!(key_group_items(&c, &group_id).await, vec![key_id.clone()]);
    assert!(list_key_groups(&c).await.contains(&group_id));

    let dist = create_distribution(&c, &["/private/*"]).await;
    domain_name(&c, &dist).await; // GetDistribution, with a CloudFront domain name.
    edit_distribution_config(&c, &dist, |config| {
        let behaviors = config.cache_behaviors.as_mut().unwrap();
        behaviors.items.as_mut().unwrap()[0].trusted_key_groups =
            Some(trusted_key_groups(&[&group_id]));
    })
    .await;
    assert_eq!(
        trusted(&c, &dist, Some("/private/*")).await,
        vec![group_id.clone()]
    );
    assert!(list_distributions(&c).await.contains(&dist));

    // moto deletes a public key with any If-Match value (and without an in-use check).
    c.delete_public_key()
        .id(&key_id)
        .if_match("anything")
        .send()
        .await
        .unwrap();
    assert!(list_public_keys(&c).await.is_empty());
    assert_no_such_distribution(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let ep = moto.endpoint();
    let p = provisioner(&ep);
    let c = p.client().clone();
    let dist = create_distribution(&c, &["/private/*", "/media/*"]).await;
    let dir = tempfile::tempdir().unwrap();

    let cli = Cli::new(dir.path(), &ep);

    // upload-key: create, reuse, conflict.
    write_public_key(dir.path(), "app");
    let upload = "upload-key --name app --public-key app.pub.pem --json";
    let key_id = cli.run(upload).await.expect_code(0).json_str("key_pair_id");
    assert_eq!(cli.run(upload).await.json()["changed"], false);
    write_public_key(dir.path(), "other");
    let run = cli.run("upload-key --name app --public-key other.pub.pem");
    run.await.expect_failure(1, &["different key material"]);

    // key-group ensure: create and reuse work; changing the keys needs UpdateKeyGroup.
    let ensure = format!("key-group ensure --name grp --key-id {key_id} --json");
    let group_id = cli
        .run(&ensure)
        .await
        .expect_code(0)
        .json_str("key_group_id");
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
    let attach = format!(
        "attach --distribution-id {dist} --key-group grp --path-pattern /private/* /media/*"
    );
    cli.run(&attach).await.expect_code(0);
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
    let setup = format!("setup --distribution-id {dist} --key-type p256 --json");
    let first = cli.run(&setup).await;
    first.expect_code(0);
    assert_eq!(first.json()["changed"], true);
    let second = cli.run(&setup).await;
    assert_eq!(second.json()["changed"], false, "{}", second.stdout);
    let setup_group = first.json_str("key_group_id");
    assert_eq!(trusted(&c, &dist, None).await, vec![setup_group]);

    // rotate needs UpdateKeyGroup, which moto lacks: the key is written and uploaded, adding it
    // to the group fails, and the report says exactly that (exit code 3).
    let rotate = "rotate --key-group grp --key-type p256 --key-name grp-2 --json";
    let j = cli.run(rotate).await.expect_code(3).json();
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
    let cli = Cli::new(dir.path(), &ep);
    let setup = format!("setup --distribution-id {dist} --path-pattern /private/* --key-type p256");
    let setup = cli
        .run(&format!("{setup} --json"))
        .await
        .expect_code(0)
        .json();
    let key_id = setup["key_pair_id"].as_str().unwrap().to_owned();
    let key_file = setup["private_key_path"].as_str().unwrap();
    let doctor = format!(
        "doctor --distribution-id {dist} --private-key {key_file} --expect-private /private/* --json"
    );
    let run = cli.run(&doctor).await;
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
