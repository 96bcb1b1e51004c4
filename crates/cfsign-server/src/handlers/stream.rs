//! `POST /v1/stream/manifest` and `POST /v1/stream/cookies`: one custom policy for a stream's
//! prefix, in the client's scope, written into every URI of a manifest the app sends, or as
//! cookies with the stream's `Path` and a deliberate `SameSite`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use cfsign::stream::{Options, SignedParams, SkipReason, sign_manifest_with};
use cfsign::{CookieAttributes, SameSite};

use super::{cookie_pairs, no_store, set_cookies};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthenticatedClient};
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{
    SameSiteName, SignedManifestBody, SkippedUri, StreamCookiesBody, StreamCookiesRequest,
    StreamManifestRequest,
};

/// Sign every URI of an HLS playlist or DASH MPD for the stream's prefix.
#[utoipa::path(
    post,
    path = "/v1/stream/manifest",
    tag = "signing",
    request_body = StreamManifestRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The manifest with one custom policy's signing parameters on every URI inside the prefix; URIs outside it are listed in `skipped`", body = SignedManifestBody),
        (status = 400, description = "A request the schema refuses, or one the server refuses for what the schema cannot state: a manifest that is not an HLS playlist or a DASH MPD (`invalid_manifest`), a prefix without `/` or `*` at its end (`invalid_prefix`), an expiry not in the future, `ttl` with `expires`", body = ErrorBody),
        (status = 403, description = "The prefix is outside the client's scope or permissions (`allow`, `max_ttl`, `custom_policy`)", body = ErrorBody),
    )
)]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    ApiJson(request): ApiJson<StreamManifestRequest>,
) -> Result<Response, ApiError> {
    let runtime = auth.runtime();
    let client = auth.client();
    let prefix = match &request.prefix {
        Some(prefix) => prefix.clone(),
        None => directory(&request.manifest_url)?,
    };
    let (plan, policy) = plan::stream(
        &prefix,
        &request.terms,
        client,
        &runtime.limits,
        state.now(),
    )?;
    // Refuse a manifest that is not one before signing anything.
    cfsign::stream::manifest_uris(request.manifest.as_bytes(), &request.manifest_url)
        .map_err(invalid_manifest)?;
    let key = &runtime.active;
    let signature =
        issue::sign_policy(&state, key, client, "manifest", &policy, plan.hash()).await?;
    let params = SignedParams::from_signature(&policy, &signature, key.key_pair_id(), plan.hash())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let options = if request.absolute_uris {
        Options::new().with_absolute_uris()
    } else {
        Options::new()
    };
    let rewritten = sign_manifest_with(
        request.manifest.as_bytes(),
        &request.manifest_url,
        &params,
        &options,
    )
    .map_err(invalid_manifest)?;
    let body = SignedManifestBody {
        kind: rewritten.kind().as_str().to_ascii_lowercase(),
        signed: rewritten.signed() as u64,
        skipped: rewritten
            .skipped()
            .iter()
            .map(|s| SkippedUri {
                line: s.line() as u64,
                uri: s.uri().to_owned(),
                reason: reason_name(s.reason()).to_owned(),
            })
            .collect(),
        resource: params.resource().to_string(),
        expires: params.expires().as_secs(),
        expires_at: params.expires().to_rfc3339(),
        key_pair_id: key.key_pair_id().to_string(),
        manifest: rewritten.into_string(),
    };
    Ok(no_store(Json(body).into_response()))
}

/// Signed cookies for a stream's prefix.
#[utoipa::path(
    post,
    path = "/v1/stream/cookies",
    tag = "signing",
    request_body = StreamCookiesRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed cookies for the prefix (`Path` = the prefix's path, `SameSite=Lax` unless asked otherwise), and the same signature as a query string", body = StreamCookiesBody),
        (status = 400, description = "A request the schema refuses, or one the server refuses for what the schema cannot state: a prefix without `/` or `*` at its end (`invalid_prefix`), `same_site` `none` without `secure`, an expiry not in the future, `ttl` with `expires`", body = ErrorBody),
        (status = 403, description = "Outside the client's scope or permissions (`allow`, `max_ttl`, `custom_policy`, `cookies`)", body = ErrorBody),
    )
)]
pub(crate) async fn cookies(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    ApiJson(request): ApiJson<StreamCookiesRequest>,
) -> Result<Response, ApiError> {
    let runtime = auth.runtime();
    let client = auth.client();
    plan::cookies_allowed(client)?;
    let (plan, policy) = plan::stream(
        &request.prefix,
        &request.terms,
        client,
        &runtime.limits,
        state.now(),
    )?;
    let attributes = attributes(&request, policy.resource().map_or("*", |r| r.as_str()))?;
    let key = &runtime.active;
    let signature =
        issue::sign_policy(&state, key, client, "stream_cookies", &policy, plan.hash()).await?;
    let params = SignedParams::from_signature(&policy, &signature, key.key_pair_id(), plan.hash())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let cookies = params.cookies();
    let set_cookie = cookies.set_cookie_headers(&attributes);
    let body = StreamCookiesBody {
        cookies: cookie_pairs(&cookies),
        set_cookie: set_cookie.clone(),
        cookie_header: cookies.cookie_header(),
        query: params.query().to_owned(),
        resource: params.resource().to_string(),
        expires: params.expires().as_secs(),
        expires_at: params.expires().to_rfc3339(),
        key_pair_id: key.key_pair_id().to_string(),
    };
    let mut response = Json(body).into_response();
    if request.cookie.set_cookies {
        response = set_cookies(response, set_cookie)?;
    }
    Ok(no_store(response))
}

/// The cookie attributes: `Path` defaults to the prefix's path (up to its first wildcard, cut at
/// the last `/`, where browsers match `Path`), `SameSite` to `Lax`.
fn attributes(request: &StreamCookiesRequest, pattern: &str) -> Result<CookieAttributes, ApiError> {
    let same_site = match request.same_site {
        SameSiteName::Strict => SameSite::Strict,
        SameSiteName::Lax => SameSite::Lax,
        SameSiteName::None if !request.cookie.secure.unwrap_or(true) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`same_site` `none` needs `secure`: browsers drop SameSite=None cookies without it",
            ));
        }
        SameSiteName::None => SameSite::None,
    };
    let base = CookieAttributes::new().with_same_site(same_site);
    plan::cookie_attributes(&request.cookie, base, Some(&prefix_path(pattern)))
}

/// The path of a prefix pattern up to its first wildcard, cut at the last `/`.
fn prefix_path(pattern: &str) -> String {
    let after_scheme = pattern.find("://").map_or(0, |i| i + 3);
    let rest = &pattern[after_scheme..];
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let literal = path.split(['*', '?']).next().unwrap_or("/");
    literal
        .rfind('/')
        .map_or_else(|| "/".to_owned(), |i| literal[..=i].to_owned())
}

/// The directory of the manifest URL, as a prefix (`https://host/videos/123/`).
fn directory(url: &str) -> Result<String, ApiError> {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let after_scheme = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[after_scheme..].rfind('/') {
        Some(i) => Ok(without_query[..after_scheme + i + 1].to_owned()),
        None => Err(ApiError::bad_request(
            "invalid_prefix",
            format!("`manifest_url` `{url}` has no path; give `prefix`"),
        )),
    }
}

fn invalid_manifest(e: cfsign::Error) -> ApiError {
    match e {
        cfsign::Error::InvalidUrl { .. } => ApiError::bad_request("invalid_url", e.to_string()),
        e => ApiError::bad_request("invalid_manifest", e.to_string()),
    }
}

fn reason_name(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::OutsideResource => "outside_resource",
        SkipReason::OtherScheme => "other_scheme",
        SkipReason::Variable => "variable",
        SkipReason::AlreadySigned => "already_signed",
        _ => "not_understood",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_directories() {
        assert_eq!(prefix_path("https://h/videos/123/*"), "/videos/123/");
        assert_eq!(prefix_path("https://h/videos/12*"), "/videos/");
        assert_eq!(prefix_path("https://h*"), "/");
        assert_eq!(
            directory("https://h/v/1/i.m3u8?x=/y").unwrap(),
            "https://h/v/1/"
        );
        assert!(directory("https://h").is_err());
    }
}
