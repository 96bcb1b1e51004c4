//! The aws-sdk-cloudfront steps the SDK tests share (`mock.rs` against cfsign-mock, `moto.rs`
//! against moto, and the other tests' setup): each sends a call or two, asserts what every backend
//! must answer, and returns what the next step needs; what one backend does beyond that is checked
//! in that backend's test.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::http::HttpResponse;
use aws_sdk_cloudfront::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::operation::create_public_key::CreatePublicKeyOutput;
use aws_sdk_cloudfront::types::{
    DistributionConfig, KeyGroupConfig, PublicKeyConfig, PublicKeySummary, TrustedKeyGroups,
};

/// The error code of a failed call, `(no code)` when the answer had none.
pub fn error_code<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> String {
    e.as_service_error()
        .and_then(|s| s.code())
        .unwrap_or("(no code)")
        .to_owned()
}

/// A public key's config: the PEM `pem` named `name`, with an optional comment.
pub fn public_key_config(
    reference: &str,
    name: &str,
    pem: &str,
    comment: Option<&str>,
) -> PublicKeyConfig {
    PublicKeyConfig::builder()
        .caller_reference(reference)
        .name(name)
        .encoded_key(pem)
        .set_comment(comment.map(str::to_owned))
        .build()
        .unwrap()
}

/// CreatePublicKey; returns the whole answer (the key, its ETag and its Location).
pub async fn create_public_key(c: &Client, config: PublicKeyConfig) -> CreatePublicKeyOutput {
    c.create_public_key()
        .public_key_config(config)
        .send()
        .await
        .unwrap()
}

/// CreatePublicKey for the PEM `pem` named `name` (also the caller reference); returns its ID.
pub async fn upload_public_key(c: &Client, name: &str, pem: &str) -> String {
    create_public_key(c, public_key_config(name, name, pem, None))
        .await
        .public_key
        .unwrap()
        .id
}

/// GetPublicKey: asserts that key `id` is named `name` and holds the key whose DER is `der`.
pub async fn assert_public_key(c: &Client, id: &str, name: &str, der: &[u8]) {
    let got = c.get_public_key().id(id).send().await.unwrap();
    let config = got.public_key.unwrap().public_key_config.unwrap();
    assert_eq!(config.name, name);
    assert_eq!(
        cfsign::PublicKey::from_pem(&config.encoded_key)
            .unwrap()
            .to_der(),
        der
    );
}

/// The ETag of public key `id` (GetPublicKey).
pub async fn public_key_etag(c: &Client, id: &str) -> String {
    c.get_public_key()
        .id(id)
        .send()
        .await
        .unwrap()
        .e_tag
        .unwrap()
}

/// Every public key (ListPublicKeys).
pub async fn list_public_keys(c: &Client) -> Vec<PublicKeySummary> {
    c.list_public_keys()
        .send()
        .await
        .unwrap()
        .public_key_list
        .unwrap()
        .items
        .unwrap_or_default()
}

/// A key group's config: `keys` under `name`.
pub fn key_group_config(name: &str, keys: &[&str]) -> KeyGroupConfig {
    KeyGroupConfig::builder()
        .name(name)
        .set_items(Some(keys.iter().map(|k| k.to_string()).collect()))
        .build()
        .unwrap()
}

/// CreateKeyGroup with `keys` under `name`; returns its ID.
pub async fn create_key_group(c: &Client, name: &str, keys: &[&str]) -> String {
    c.create_key_group()
        .key_group_config(key_group_config(name, keys))
        .send()
        .await
        .unwrap()
        .key_group
        .unwrap()
        .id
}

/// The key IDs of key group `id` (GetKeyGroup).
pub async fn key_group_items(c: &Client, id: &str) -> Vec<String> {
    c.get_key_group()
        .id(id)
        .send()
        .await
        .unwrap()
        .key_group
        .unwrap()
        .key_group_config
        .unwrap()
        .items
}

/// The IDs of every key group (ListKeyGroups).
pub async fn list_key_groups(c: &Client) -> Vec<String> {
    let list = c.list_key_groups().send().await.unwrap().key_group_list;
    list.unwrap()
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.key_group.unwrap().id)
        .collect()
}

/// A behaviour's trusted key groups: `groups`, enabled; disabled when there are none.
pub fn trusted_key_groups(groups: &[&str]) -> TrustedKeyGroups {
    TrustedKeyGroups::builder()
        .enabled(!groups.is_empty())
        .quantity(groups.len() as i32)
        .set_items((!groups.is_empty()).then(|| groups.iter().map(|g| g.to_string()).collect()))
        .build()
        .unwrap()
}

/// GetDistribution: asserts that distribution `id` has a CloudFront domain name and returns it.
pub async fn domain_name(c: &Client, id: &str) -> String {
    let got = c.get_distribution().id(id).send().await.unwrap();
    let domain = got.distribution.unwrap().domain_name;
    assert!(domain.ends_with(".cloudfront.net"), "{domain}");
    domain
}

/// GetDistributionConfig, `edit`, then UpdateDistribution with the ETag it was read with;
/// returns the new ETag.
pub async fn edit_distribution_config(
    c: &Client,
    id: &str,
    edit: impl FnOnce(&mut DistributionConfig),
) -> Option<String> {
    let got = c.get_distribution_config().id(id).send().await.unwrap();
    let mut config = got.distribution_config.unwrap();
    edit(&mut config);
    c.update_distribution()
        .id(id)
        .if_match(got.e_tag.unwrap())
        .distribution_config(config)
        .send()
        .await
        .unwrap()
        .e_tag
}

/// The ETag of distribution `id`'s config (GetDistributionConfig).
pub async fn distribution_etag(c: &Client, id: &str) -> String {
    let got = c.get_distribution_config().id(id).send().await.unwrap();
    got.e_tag.unwrap()
}

/// Asserts that GetDistributionConfig for an ID that does not exist fails with
/// `NoSuchDistribution`.
pub async fn assert_no_such_distribution(c: &Client) {
    let got = c.get_distribution_config().id("ENOSUCHDIST").send().await;
    assert_eq!(error_code(&got.unwrap_err()), "NoSuchDistribution");
}

/// The IDs of every distribution (ListDistributions).
pub async fn list_distributions(c: &Client) -> Vec<String> {
    let list = c.list_distributions().send().await.unwrap();
    list.distribution_list
        .unwrap()
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.id)
        .collect()
}
