//! aws-sdk-cloudfront, unmodified, drives cfsign-mock's response headers policies: the managed
//! policies by their real IDs, a custom CORS policy with credentials created, read, updated and
//! deleted, and the errors the SDK models.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    ResponseHeadersPolicyAccessControlAllowHeaders, ResponseHeadersPolicyAccessControlAllowMethods,
    ResponseHeadersPolicyAccessControlAllowMethodsValues as Method,
    ResponseHeadersPolicyAccessControlAllowOrigins, ResponseHeadersPolicyConfig,
    ResponseHeadersPolicyCorsConfig, ResponseHeadersPolicyList, ResponseHeadersPolicyType,
};
use cfsign_mock::MockConfig;
use common::*;

const CORS_WITH_PREFLIGHT: &str = "5cc3b908-e619-4b99-88e5-2cf7f45965bd";

fn player_policy(name: &str, origin: &str) -> ResponseHeadersPolicyConfig {
    let cors = ResponseHeadersPolicyCorsConfig::builder()
        .access_control_allow_origins(
            ResponseHeadersPolicyAccessControlAllowOrigins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .access_control_allow_headers(
            ResponseHeadersPolicyAccessControlAllowHeaders::builder()
                .quantity(1)
                .items("Range")
                .build()
                .unwrap(),
        )
        .access_control_allow_methods(
            ResponseHeadersPolicyAccessControlAllowMethods::builder()
                .quantity(2)
                .items(Method::Get)
                .items(Method::Head)
                .build()
                .unwrap(),
        )
        .access_control_allow_credentials(true)
        .access_control_max_age_sec(600)
        .origin_override(true)
        .build()
        .unwrap();
    ResponseHeadersPolicyConfig::builder()
        .name(name)
        .comment("the player page, with cookies")
        .cors_config(cors)
        .build()
        .unwrap()
}

/// The response headers policies of one type (ListResponseHeadersPolicies).
async fn list_policies(c: &Client, kind: ResponseHeadersPolicyType) -> ResponseHeadersPolicyList {
    let list = c.list_response_headers_policies().r#type(kind).send().await;
    list.unwrap().response_headers_policy_list.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_reads_managed_and_manages_custom_response_headers_policies() {
    let mock = cfsign_mock::start(MockConfig::new()).await.unwrap();
    let c = client(&mock.endpoint());

    let managed = list_policies(&c, ResponseHeadersPolicyType::Managed).await;
    let items = managed.items.unwrap();
    assert_eq!(managed.quantity as usize, items.len());
    let preflight = items
        .iter()
        .find(|s| s.response_headers_policy.as_ref().unwrap().id == CORS_WITH_PREFLIGHT)
        .unwrap();
    assert_eq!(preflight.r#type, ResponseHeadersPolicyType::Managed);
    let config = preflight
        .response_headers_policy
        .as_ref()
        .unwrap()
        .response_headers_policy_config
        .as_ref()
        .unwrap();
    assert_eq!(config.name, "Managed-CORS-With-Preflight");
    let cors = config.cors_config.as_ref().unwrap();
    assert_eq!(
        cors.access_control_allow_origins.as_ref().unwrap().items,
        ["*"]
    );
    assert!(!cors.access_control_allow_credentials);
    let got = c
        .get_response_headers_policy()
        .id(CORS_WITH_PREFLIGHT)
        .send()
        .await
        .unwrap();
    let managed_etag = got.e_tag.unwrap();
    let err = c
        .delete_response_headers_policy()
        .id(CORS_WITH_PREFLIGHT)
        .if_match(&managed_etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "IllegalDelete");

    // The same request twice: created, then refused as a duplicate.
    let create = || {
        c.create_response_headers_policy()
            .response_headers_policy_config(player_policy("player", "https://www.example.com"))
            .send()
    };
    let created = create().await.unwrap();
    let policy = created.response_headers_policy.unwrap();
    let etag = created.e_tag.unwrap();
    assert!(created.location.unwrap().ends_with(&policy.id));
    let err = create().await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_response_headers_policy_already_exists()
    );
    let got = c
        .get_response_headers_policy_config()
        .id(&policy.id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag.as_deref(), Some(etag.as_str()));
    let cors = got
        .response_headers_policy_config
        .unwrap()
        .cors_config
        .unwrap();
    assert!(cors.access_control_allow_credentials);
    assert_eq!(cors.access_control_max_age_sec, Some(600));
    assert_eq!(
        cors.access_control_allow_methods.unwrap().items,
        [Method::Get, Method::Head]
    );
    // The same update with a stale ETag (refused), then with the current one.
    let update = |if_match: &str| {
        c.update_response_headers_policy()
            .id(&policy.id)
            .if_match(if_match)
            .response_headers_policy_config(player_policy("player", "https://app.example.com"))
            .send()
    };
    let err = update("ESTALE").await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_precondition_failed());
    let updated = update(&etag).await.unwrap();
    let etag = updated.e_tag.unwrap();
    let origins = updated
        .response_headers_policy
        .unwrap()
        .response_headers_policy_config
        .unwrap()
        .cors_config
        .unwrap()
        .access_control_allow_origins
        .unwrap()
        .items;
    assert_eq!(origins, ["https://app.example.com"]);
    let custom = list_policies(&c, ResponseHeadersPolicyType::Custom).await;
    assert_eq!(custom.quantity, 1);
    c.delete_response_headers_policy()
        .id(&policy.id)
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    let err = c
        .get_response_headers_policy()
        .id(&policy.id)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_no_such_response_headers_policy()
    );
    mock.shutdown().await;
}
