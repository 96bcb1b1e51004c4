//! aws-sdk-cloudfront, unmodified, creates an origin access control and a distribution whose S3
//! origin uses it on cfsign-mock; `cfsign-provision setup` restricts it; the mock's edge then
//! serves an object that boto3 put into moto's S3 server only with a valid signature, fetching
//! it from moto itself.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    DistributionConfig, Origin, OriginAccessControlConfig, OriginAccessControlOriginTypes,
    OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols, S3OriginConfig,
};
use cfsign_mock::{Credentials, MockConfig};
use common::*;

const BUCKET_DOMAIN: &str = "media-bucket.s3.eu-west-1.amazonaws.com";

fn oac_config(
    name: &str,
    behaviour: OriginAccessControlSigningBehaviors,
) -> OriginAccessControlConfig {
    OriginAccessControlConfig::builder()
        .name(name)
        .description("media bucket")
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(behaviour)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .build()
        .unwrap()
}

fn s3_distribution(reference: &str, oac_id: &str) -> DistributionConfig {
    let origin = Origin::builder()
        .id("media")
        .domain_name(BUCKET_DOMAIN)
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(oac_id)
        .build()
        .unwrap();
    distribution_config_for(origin, reference, &["/private/*"])
}

/// Creates the bucket in moto and puts `private/clip.txt` with boto3.
fn seed_moto(endpoint: &str) {
    let script = r#"
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket="media-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
s3.put_object(Bucket="media-bucket", Key="private/clip.txt", Body=b"media from moto")
"#;
    if let Err(e) = cfsign_tests::moto::boto3(endpoint, script) {
        panic!("boto3 could not seed moto: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_origin_access_control_and_an_s3_origin_served_from_moto() {
    let Some(moto) = Moto::start() else { return };
    seed_moto(&moto.endpoint());
    let mock = cfsign_mock::start(
        MockConfig::new()
            .with_s3_endpoint(&moto.endpoint())
            .unwrap()
            .with_s3_credentials(Credentials::new("testing", "testing", None)),
    )
    .await
    .unwrap();
    let c: Client = client(&mock.endpoint());

    // Create, Get, GetConfig, List, Update, and the errors the SDK models.
    let create = |behaviour| {
        c.create_origin_access_control()
            .origin_access_control_config(oac_config("media-oac", behaviour))
            .send()
    };
    let created = create(OriginAccessControlSigningBehaviors::NoOverride)
        .await
        .unwrap();
    let oac = created.origin_access_control.unwrap();
    let etag = created.e_tag.unwrap();
    assert!(
        created
            .location
            .unwrap()
            .ends_with(&format!("/2020-05-31/origin-access-control/{}", oac.id))
    );
    let got = c
        .get_origin_access_control()
        .id(&oac.id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag.as_deref(), Some(etag.as_str()));
    let config = got
        .origin_access_control
        .unwrap()
        .origin_access_control_config
        .unwrap();
    assert_eq!(config.name, "media-oac");
    assert_eq!(
        config.signing_behavior,
        OriginAccessControlSigningBehaviors::NoOverride
    );
    let got = c
        .get_origin_access_control_config()
        .id(&oac.id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.origin_access_control_config
            .unwrap()
            .description
            .as_deref(),
        Some("media bucket")
    );
    let list = c
        .list_origin_access_controls()
        .send()
        .await
        .unwrap()
        .origin_access_control_list
        .unwrap();
    assert_eq!(list.quantity, 1);
    assert_eq!(list.items.unwrap()[0].id, oac.id);
    let updated = c
        .update_origin_access_control()
        .id(&oac.id)
        .if_match(&etag)
        .origin_access_control_config(oac_config(
            "media-oac",
            OriginAccessControlSigningBehaviors::Always,
        ))
        .send()
        .await
        .unwrap();
    let etag = updated.e_tag.unwrap();
    // The same name again.
    let exists = create(OriginAccessControlSigningBehaviors::Always)
        .await
        .unwrap_err();
    assert_eq!(error_code(&exists), "OriginAccessControlAlreadyExists");
    let missing = c
        .get_origin_access_control()
        .id("ENOSUCH0000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&missing), "NoSuchOriginAccessControl");

    // A distribution whose S3 origin uses it; the control is then in use.
    let dist = c
        .create_distribution()
        .distribution_config(s3_distribution("s3-media", &oac.id))
        .send()
        .await
        .unwrap()
        .distribution
        .unwrap();
    let in_use = c
        .delete_origin_access_control()
        .id(&oac.id)
        .if_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&in_use), "OriginAccessControlInUse");

    // cfsign-provision restricts /private/*; the edge serves moto's object only when signed.
    let dir = tempfile::tempdir().unwrap();
    let setup = format!(
        "setup --distribution-id {} --path-pattern /private/* --json",
        dist.id
    );
    let setup = Cli::new(dir.path(), &mock.endpoint()).run(&setup).await;
    let key_path = dir
        .path()
        .join(setup.expect_code(0).json_str("private_key_path"));
    let signer = signer(&key_path, &setup.json_str("key_pair_id"));
    let url = format!("{}/private/clip.txt", mock.edge_base(&dist.domain_name));
    let signed = assert_served_only_signed(&mock, &signer, &url).await;
    let missing = signer
        .sign_canned_url(&url.replace("clip.txt", "missing.txt"), in_ten_minutes())
        .unwrap();
    assert_eq!(
        edge_get(&mock, &missing).await,
        404,
        "S3's 404 through the edge"
    );
    drop(moto);
    assert_eq!(edge_get(&mock, &signed).await, 502, "moto stopped");
}
