//! The connection to the CloudFront API: configuration, thin wrappers over aws-sdk-cloudfront
//! calls, and turning SDK errors into [`Error`]s that say what to do.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::Region;
use aws_sdk_cloudfront::config::http::HttpResponse;
use aws_sdk_cloudfront::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::{
    Distribution, DistributionConfig, KeyGroupConfig, PublicKeyConfig,
};

use crate::Error;
use crate::pages::{Page, collect_pages};

/// Where and as whom to connect: the flags `--endpoint-url`, `--profile` and `--region`.
///
/// Everything not given comes from aws-config's default chain (environment, shared config and
/// credentials files, SSO, container and instance metadata). The region falls back to
/// `us-east-1`, where CloudFront's global API lives.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    endpoint_url: Option<String>,
    profile: Option<String>,
    region: Option<String>,
}

impl ConnectOptions {
    /// Options that use the default chain for everything.
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// Sends requests to this URL instead of AWS (cfsign-mock, moto). aws-config also reads
    /// `AWS_ENDPOINT_URL` by itself.
    pub fn with_endpoint_url(mut self, url: Option<String>) -> ConnectOptions {
        self.endpoint_url = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// Uses this profile of the shared config files.
    pub fn with_profile(mut self, profile: Option<String>) -> ConnectOptions {
        self.profile = profile;
        self
    }

    /// Uses this region (CloudFront itself is global; this matters for the endpoint partition).
    pub fn with_region(mut self, region: Option<String>) -> ConnectOptions {
        self.region = region;
        self
    }
}

/// How many times a read-modify-write is attempted when CloudFront answers `PreconditionFailed`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A connected CloudFront API client plus the settings of the provisioning commands.
#[derive(Debug, Clone)]
pub struct Provisioner {
    client: Client,
    endpoint: String,
    max_attempts: u32,
}

impl Provisioner {
    /// Loads the AWS configuration, checks that credentials can be found, and builds a client.
    pub async fn connect(options: &ConnectOptions) -> Result<Provisioner, Error> {
        if let Some(url) = &options.endpoint_url {
            check_endpoint_url(url)?;
        }
        let region = RegionProviderChain::first_try(options.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::from_static("us-east-1"));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        let endpoint = options
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_CLOUDFRONT").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "AWS (cloudfront.amazonaws.com)".to_owned());
        if endpoint.contains("://") {
            check_endpoint_url(&endpoint)?;
        }
        let Some(provider) = config.credentials_provider() else {
            return Err(Error::MissingCredentials {
                detail: "no credential provider is configured".to_owned(),
            });
        };
        use aws_sdk_cloudfront::config::ProvideCredentials as _;
        if let Err(e) = provider.provide_credentials().await {
            return Err(Error::MissingCredentials {
                detail: error_chain(&e),
            });
        }
        Ok(Provisioner::from_client(Client::new(&config), endpoint))
    }

    /// Wraps an existing client; `endpoint` names it in error messages.
    pub fn from_client(client: Client, endpoint: impl Into<String>) -> Provisioner {
        Provisioner {
            client,
            endpoint: endpoint.into(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Sets how many times a read-modify-write is attempted on `PreconditionFailed` (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Provisioner {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The underlying SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The endpoint as shown in messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Maps an SDK error to an [`Error`]; `subject` is the ID or name the call was about.
    pub(crate) fn api_err<E>(
        &self,
        operation: &'static str,
        subject: &str,
        err: SdkError<E, HttpResponse>,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let endpoint = self.endpoint.clone();
        match &err {
            SdkError::ServiceError(ctx) => {
                let Some(code) = ctx.err().code() else {
                    return Error::NotCloudFront {
                        endpoint,
                        operation,
                        detail: describe_response(ctx.raw()),
                    };
                };
                let message = ctx.err().message().unwrap_or("").to_owned();
                map_code(operation, subject, code, message, ctx.raw(), endpoint)
            }
            SdkError::ResponseError(ctx) => Error::NotCloudFront {
                endpoint,
                operation,
                detail: format!(
                    "{} that could not be read as a CloudFront answer ({})",
                    describe_response(ctx.raw()),
                    error_chain(&err)
                ),
            },
            _ => {
                let detail = error_chain(&err);
                if detail.contains("credential") || detail.contains("identity") {
                    Error::MissingCredentials { detail }
                } else if matches!(
                    err,
                    SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
                ) {
                    Error::Unreachable {
                        endpoint,
                        operation,
                        detail,
                    }
                } else {
                    Error::Api {
                        operation,
                        code: "ClientError".to_owned(),
                        message: detail,
                        hint: String::new(),
                    }
                }
            }
        }
    }
}

/// An error and its sources as one line, without repeating a message already contained in an
/// earlier one.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

fn check_endpoint_url(url: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidEndpoint {
        url: url.to_owned(),
        reason,
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(
            "it has no scheme; write it like http://127.0.0.1:4580 (cfsign-mock) or https://cloudfront.amazonaws.com",
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(invalid("the scheme must be http or https"));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid("the host is missing"));
    }
    Ok(())
}

fn describe_response(raw: &HttpResponse) -> String {
    let status = raw.status().as_u16();
    let content_type = raw
        .headers()
        .get("content-type")
        .unwrap_or("no content type")
        .to_owned();
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let snippet: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect();
    if snippet.trim().is_empty() {
        format!("HTTP {status} ({content_type}, empty body)")
    } else {
        format!(
            "HTTP {status} ({content_type}) starting `{}`",
            snippet.trim()
        )
    }
}

fn map_code(
    operation: &'static str,
    subject: &str,
    code: &str,
    message: String,
    raw: &HttpResponse,
    endpoint: String,
) -> Error {
    let subject = subject.to_owned();
    match code {
        "NoSuchDistribution" => Error::UnknownDistribution {
            id: subject,
            endpoint,
        },
        "NoSuchResource" | "NoSuchKeyGroup" | "TrustedKeyGroupDoesNotExist" => {
            Error::UnknownKeyGroup { name: subject }
        }
        "NoSuchPublicKey" => Error::UnknownPublicKey { id: subject },
        "TooManyPublicKeysInKeyGroup" => Error::TooManyKeysInGroup { detail: message },
        "TooManyKeyGroupsAssociatedToDistribution" => {
            Error::TooManyKeyGroupsOnBehavior { detail: message }
        }
        "PublicKeyInUse" => Error::KeyInUse {
            id: subject,
            groups: "(CloudFront did not say which)".to_owned(),
        },
        "ResourceInUse" => Error::ResourceInUse {
            what: subject,
            message,
        },
        "PreconditionFailed" => Error::EtagConflict {
            resource: subject,
            attempts: 1,
        },
        c if c.starts_with("TooMany") => Error::Quota { operation, message },
        c => {
            let hint = match c {
                "AccessDenied" => format!(
                    ". Fix: the credentials lack permission for cloudfront:{operation}; grant it in IAM or use another --profile"
                ),
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" | "UnrecognizedClientException" => {
                    ". Fix: the credentials were rejected; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run `aws sso login`".to_owned()
                }
                "InvalidIfMatchVersion" => {
                    ". Fix: run the command again (the resource's ETag was not accepted)".to_owned()
                }
                "InvalidArgument" => ". Fix: check the values given on the command line".to_owned(),
                _ if raw.status().as_u16() >= 500 => format!(
                    ". The endpoint {endpoint} failed with HTTP {}; if it is moto, it does not implement {operation} (see the cfsign-provision README); use cfsign-mock or AWS",
                    raw.status().as_u16()
                ),
                _ if raw.status().as_u16() == 404 || c.contains("Unknown") || c.contains("NotImplemented") || c.contains("InvalidAction") => format!(
                    ". The endpoint {endpoint} may not be the CloudFront API; check --endpoint-url"
                ),
                _ => String::new(),
            };
            Error::Api {
                operation,
                code: c.to_owned(),
                message,
                hint,
            }
        }
    }
}

/// A public key as listed.
#[derive(Debug, Clone)]
pub(crate) struct KeyInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) encoded_key: String,
    /// When it was uploaded (RFC 3339), when the listing says.
    pub(crate) created: Option<String>,
}

/// A key group as listed.
#[derive(Debug, Clone)]
pub(crate) struct GroupInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key_ids: Vec<String>,
}

/// A distribution's config as read, with its ETag.
#[derive(Debug, Clone)]
pub(crate) struct DistributionRead {
    /// The distribution's ID.
    pub(crate) id: String,
    /// Its config.
    pub(crate) config: DistributionConfig,
    /// The config's ETag, for `If-Match`.
    pub(crate) etag: String,
}

impl Provisioner {
    pub(crate) async fn list_public_keys(&self) -> Result<Vec<KeyInfo>, Error> {
        collect_pages(|marker| async move {
            let resp = self
                .client
                .list_public_keys()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.api_err("ListPublicKeys", "public keys", e))?;
            let list = resp.public_key_list.map(|l| (l.next_marker, l.items));
            Ok(Page::new(list, |k| {
                Some(KeyInfo {
                    id: k.id,
                    name: k.name,
                    encoded_key: k.encoded_key,
                    created: k
                        .created_time
                        .fmt(aws_sdk_cloudfront::primitives::DateTimeFormat::DateTime)
                        .ok(),
                })
            }))
        })
        .await
    }

    /// `GetDistribution`: the distribution and its ETag (empty when the answer has none).
    pub(crate) async fn get_distribution(
        &self,
        distribution_id: &str,
    ) -> Result<(Distribution, String), Error> {
        let resp = self
            .client
            .get_distribution()
            .id(distribution_id)
            .send()
            .await
            .map_err(|e| self.api_err("GetDistribution", distribution_id, e))?;
        let etag = resp.e_tag.unwrap_or_default();
        let Some(dist) = resp.distribution else {
            return Err(Error::NotCloudFront {
                endpoint: self.endpoint().to_owned(),
                operation: "GetDistribution",
                detail: "an answer without the <Distribution> element".to_owned(),
            });
        };
        Ok((dist, etag))
    }

    pub(crate) async fn list_key_groups(&self) -> Result<Vec<GroupInfo>, Error> {
        collect_pages(|marker| async move {
            let resp = self
                .client
                .list_key_groups()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.api_err("ListKeyGroups", "key groups", e))?;
            let list = resp.key_group_list.map(|l| (l.next_marker, l.items));
            Ok(Page::new(list, |summary| {
                let group = summary.key_group?;
                let (name, key_ids) = match group.key_group_config {
                    Some(c) => (c.name, c.items),
                    None => (String::new(), Vec::new()),
                };
                Some(GroupInfo {
                    id: group.id,
                    name,
                    key_ids,
                })
            }))
        })
        .await
    }

    pub(crate) async fn create_public_key(
        &self,
        name: &str,
        pem: &str,
        comment: &str,
    ) -> Result<String, Error> {
        let config = PublicKeyConfig::builder()
            .caller_reference(caller_reference(name))
            .name(name)
            .encoded_key(pem)
            .comment(comment)
            .build()
            .map_err(build_err)?;
        let resp = self
            .client
            .create_public_key()
            .public_key_config(config)
            .send()
            .await
            .map_err(|e| self.api_err("CreatePublicKey", name, e))?;
        resp.public_key
            .map(|k| k.id)
            .ok_or_else(|| self.missing("CreatePublicKey", "PublicKey"))
    }

    pub(crate) async fn create_key_group(
        &self,
        name: &str,
        key_ids: &[String],
        comment: &str,
    ) -> Result<String, Error> {
        let config = KeyGroupConfig::builder()
            .name(name)
            .set_items(Some(key_ids.to_vec()))
            .comment(comment)
            .build()
            .map_err(build_err)?;
        let resp = self
            .client
            .create_key_group()
            .key_group_config(config)
            .send()
            .await
            .map_err(|e| self.api_err("CreateKeyGroup", name, e))?;
        resp.key_group
            .map(|k| k.id)
            .ok_or_else(|| self.missing("CreateKeyGroup", "KeyGroup"))
    }

    /// Sets a key group's keys, re-reading on `PreconditionFailed`. `change` gets the current
    /// key IDs and returns the wanted ones (or `None` when nothing is to change).
    /// Returns the number of attempts, or 0 when nothing changed.
    pub(crate) async fn update_key_group(
        &self,
        group_id: &str,
        change: impl Fn(&[String]) -> Result<Option<Vec<String>>, Error>,
    ) -> Result<u32, Error> {
        let change = &change;
        self.retry_on_conflict(&format!("key group {group_id}"), |attempt| async move {
            let resp = self
                .client
                .get_key_group()
                .id(group_id)
                .send()
                .await
                .map_err(|e| self.api_err("GetKeyGroup", group_id, e))?;
            let etag = resp.e_tag.unwrap_or_default();
            let Some(config) = resp.key_group.and_then(|g| g.key_group_config) else {
                return Err(self.missing("GetKeyGroup", "KeyGroupConfig"));
            };
            let Some(wanted) = change(&config.items)? else {
                return Ok(0);
            };
            let new_config = KeyGroupConfig::builder()
                .name(config.name)
                .set_items(Some(wanted))
                .set_comment(config.comment)
                .build()
                .map_err(build_err)?;
            self.client
                .update_key_group()
                .id(group_id)
                .if_match(etag)
                .key_group_config(new_config)
                .send()
                .await
                .map_err(|e| self.api_err("UpdateKeyGroup", group_id, e))?;
            Ok(attempt)
        })
        .await
    }

    pub(crate) async fn get_distribution_config(
        &self,
        id: &str,
    ) -> Result<DistributionRead, Error> {
        let resp = self
            .client
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(|e| self.api_err("GetDistributionConfig", id, e))?;
        let etag = resp.e_tag.unwrap_or_default();
        let config = resp
            .distribution_config
            .ok_or_else(|| self.missing("GetDistributionConfig", "DistributionConfig"))?;
        Ok(DistributionRead {
            id: id.to_owned(),
            config,
            etag,
        })
    }

    pub(crate) async fn update_distribution(
        &self,
        id: &str,
        etag: &str,
        config: DistributionConfig,
    ) -> Result<(), Error> {
        self.client
            .update_distribution()
            .id(id)
            .if_match(etag)
            .distribution_config(config)
            .send()
            .await
            .map_err(|e| self.api_err("UpdateDistribution", id, e))?;
        Ok(())
    }

    /// Deletes a public key; `Ok(false)` when it did not exist.
    pub(crate) async fn delete_public_key(&self, id: &str) -> Result<bool, Error> {
        self.retry_on_conflict(&format!("public key {id}"), |_| async move {
            let resp = match self.client.get_public_key().id(id).send().await {
                Ok(resp) => resp,
                Err(e) => match self.api_err("GetPublicKey", id, e) {
                    Error::UnknownPublicKey { .. } => return Ok(false),
                    other => return Err(other),
                },
            };
            let result = self
                .client
                .delete_public_key()
                .id(id)
                .if_match(resp.e_tag.unwrap_or_default())
                .send()
                .await
                .map_err(|e| self.api_err("DeletePublicKey", id, e));
            match result {
                Ok(_) => Ok(true),
                Err(Error::UnknownPublicKey { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Runs a read-modify-write `attempt` (given its number, from 1) again while it ends in
    /// `PreconditionFailed` — someone else changed `resource` between the read and the write —
    /// waiting a little before each retry, at most [`Provisioner::with_max_attempts`] times.
    pub(crate) async fn retry_on_conflict<T, F>(
        &self,
        resource: &str,
        mut attempt: impl FnMut(u32) -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        for n in 1..=self.max_attempts {
            match attempt(n).await {
                Err(Error::EtagConflict { .. }) => {
                    if n < self.max_attempts {
                        backoff(n).await;
                    }
                }
                other => return other,
            }
        }
        Err(Error::EtagConflict {
            resource: resource.to_owned(),
            attempts: self.max_attempts,
        })
    }

    fn missing(&self, operation: &'static str, element: &str) -> Error {
        Error::NotCloudFront {
            endpoint: self.endpoint.clone(),
            operation,
            detail: format!("an answer without the <{element}> element"),
        }
    }
}

fn build_err(e: aws_sdk_cloudfront::error::BuildError) -> Error {
    Error::Usage(format!("cannot build the request: {e}"))
}

fn caller_reference(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("cfsign-provision-{name}-{nanos}")
}

/// Waits a little before re-reading after `PreconditionFailed`: 50 ms, 100 ms, ... plus jitter,
/// so that racing writers spread out.
async fn backoff(attempt: u32) {
    use rand::RngExt as _;
    let jitter: u64 = rand::rng().random_range(0..50);
    let millis = 50 * u64::from(attempt.min(10)) + jitter;
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
