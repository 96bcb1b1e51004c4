//! aws-sdk-cloudfront, unmodified, creates an origin access control and a distribution whose S3
//! origin uses it on cfsign-mock; `cfsign-provision setup` restricts it; the mock's edge then
//! serves an object that boto3 put into moto's S3 server only with a valid signature, fetching
//! it from moto itself.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use std::process::Command;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::error::ProvideErrorMetadata;
use aws_sdk_cloudfront::types::{
    CacheBehavior, CacheBehaviors, DefaultCacheBehavior, DistributionConfig, Origin,
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use cfsign::{PrivateKey, Signer, UnixTime};
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
    let behaviour = |pattern: Option<&str>| {
        let b = CacheBehavior::builder()
            .path_pattern(pattern.unwrap_or("*"))
            .target_origin_id("media")
            .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
            .cache_policy_id(CACHE_POLICY);
        b.build().unwrap()
    };
    DistributionConfig::builder()
        .caller_reference(reference)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("media")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHE_POLICY)
                .build()
                .unwrap(),
        )
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(1)
                .items(behaviour(Some("/private/*")))
                .build()
                .unwrap(),
        )
        .comment("S3 behind the mock")
        .enabled(true)
        .build()
        .unwrap()
}

async fn code_of<T, E: ProvideErrorMetadata>(
    r: Result<
        T,
        aws_sdk_cloudfront::error::SdkError<E, aws_sdk_cloudfront::config::http::HttpResponse>,
    >,
) -> String {
    match r {
        Ok(_) => "(succeeded)".to_owned(),
        Err(e) => e
            .as_service_error()
            .and_then(|s| s.code())
            .unwrap_or("(no code)")
            .to_owned(),
    }
}

/// Creates the bucket in moto and puts `private/clip.txt` with boto3.
fn seed_moto(endpoint: &str) -> bool {
    let script = r#"
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket="media-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
s3.put_object(Bucket="media-bucket", Key="private/clip.txt", Body=b"media from moto")
"#;
    let out = Command::new("python3")
        .args(["-c", script, endpoint])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "boto3 could not seed moto: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            skip_or_fail(&format!("cannot run python3: {e}"));
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_origin_access_control_and_an_s3_origin_served_from_moto() {
    let Some(moto) = Moto::start() else { return };
    if !seed_moto(&moto.endpoint()) {
        return;
    }
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
    let created = c
        .create_origin_access_control()
        .origin_access_control_config(oac_config(
            "media-oac",
            OriginAccessControlSigningBehaviors::NoOverride,
        ))
        .send()
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
    assert_eq!(
        code_of(
            c.create_origin_access_control()
                .origin_access_control_config(oac_config(
                    "media-oac",
                    OriginAccessControlSigningBehaviors::Always
                ))
                .send()
                .await
        )
        .await,
        "OriginAccessControlAlreadyExists"
    );
    assert_eq!(
        code_of(
            c.get_origin_access_control()
                .id("ENOSUCH0000000")
                .send()
                .await
        )
        .await,
        "NoSuchOriginAccessControl"
    );

    // A distribution whose S3 origin uses it; the control is then in use.
    let dist = c
        .create_distribution()
        .distribution_config(s3_distribution("s3-media", &oac.id))
        .send()
        .await
        .unwrap()
        .distribution
        .unwrap();
    assert_eq!(
        code_of(
            c.delete_origin_access_control()
                .id(&oac.id)
                .if_match(&etag)
                .send()
                .await
        )
        .await,
        "OriginAccessControlInUse"
    );

    // cfsign-provision restricts /private/*; the edge serves moto's object only when signed.
    let dir = tempfile::tempdir().unwrap();
    let ep = mock.endpoint();
    let setup = run_bin_async(
        dir.path(),
        Some(&ep),
        &[
            "setup",
            "--distribution-id",
            &dist.id,
            "--path-pattern",
            "/private/*",
            "--json",
        ],
    )
    .await;
    assert_eq!(setup.code, 0, "{}", setup.stderr);
    let setup = setup.json();
    let key_path = dir.path().join(setup["private_key_path"].as_str().unwrap());
    let key = PrivateKey::from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let signer = Signer::new(setup["key_pair_id"].as_str().unwrap().parse().unwrap(), key);
    let url = format!("{}/private/clip.txt", mock.edge_base(&dist.domain_name));
    assert_eq!(edge_get(&mock, &url).await, 403, "unsigned is refused");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = signer
        .sign_canned_url(&url, UnixTime::from_secs(now + 600).unwrap())
        .unwrap();
    assert_eq!(edge_get(&mock, &signed).await, 200, "{signed}");
    let missing = signer
        .sign_canned_url(
            &url.replace("clip.txt", "missing.txt"),
            UnixTime::from_secs(now + 600).unwrap(),
        )
        .unwrap();
    assert_eq!(
        edge_get(&mock, &missing).await,
        404,
        "S3's 404 through the edge"
    );
    drop(moto);
    assert_eq!(edge_get(&mock, &signed).await, 502, "moto stopped");
}
