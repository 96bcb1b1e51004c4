//! `GET /v1/redirect`: a 302 to a signed URL (canned policy), for `<img src>` and `<video src>`,
//! in two forms: `?url=<URL-encoded URL>`, and the raw-path form `/v1/redirect/<host>/<path>`
//! that a reverse proxy fills from the viewer's request line byte for byte.

use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthenticatedClient;
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{PolicyKind, PolicyTerms, RedirectParams, SignRequest, Ttl};

/// Redirect (302) to a signed URL with a canned policy, for `<img src>` and `<video src>`.
#[utoipa::path(
    get,
    path = "/v1/redirect",
    tag = "signing",
    params(RedirectParams),
    security(("bearer" = [])),
    responses(
        (status = 302, description = "Redirect to the signed URL (in `Location`)"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
        (status = 403, description = "Outside the client's scope", body = ErrorBody),
    )
)]
pub(crate) async fn redirect(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    query: Result<Query<RedirectParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("{}; use ?url=<URL-encoded URL>[&ttl=300]", e.body_text()),
        )
    })?;
    let request = SignRequest {
        url: params.url,
        policy: Some(PolicyKind::Canned),
        resource: None,
        terms: PolicyTerms {
            ttl: params.ttl.map(Ttl::Text),
            hash_algorithm: params.hash_algorithm,
            ..PolicyTerms::default()
        },
    };
    redirect_to(&state, &auth, request).await
}

/// Where the raw-path form is routed: axum's catch-all, which OpenAPI cannot spell (the document
/// shows it as `/v1/redirect/{host}/{path}`).
pub(crate) const RAW_ROUTE: &str = "/v1/redirect/{*target}";

/// Redirect (302) to a signed URL with a canned policy, for a reverse proxy that passes the
/// viewer's request on unchanged: `/v1/redirect/<host><the viewer's path and query>` signs
/// `https://<host><the viewer's path and query>`, byte for byte. Nothing in the viewer's
/// request sets the lifetime or the hash: it is the server's `default_ttl` (capped by the
/// client's `max_ttl`) and SHA-1.
#[utoipa::path(
    get,
    path = "/v1/redirect/{host}/{path}",
    tag = "signing",
    params(
        ("host" = String, Path, description = "The CloudFront host name (`media.example.com`, or with `:port`)"),
        ("path" = String, Path, description = "The rest of the path, `/`s included, and any query string: signed exactly as sent, percent-encoding and all"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 302, description = "Redirect to the signed URL (in `Location`)"),
        (status = 400, description = "Not a URL once `https://` is put in front (no host, a character a URL cannot hold, a signing parameter in the query); nothing is signed", body = ErrorBody),
        (status = 403, description = "Outside the client's scope, or an escape attempt (`dot_segment`, `double_encoding`, …); nothing is signed", body = ErrorBody),
    )
)]
pub(crate) async fn redirect_raw(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let request = SignRequest {
        url: raw_target(&uri)?,
        policy: Some(PolicyKind::Canned),
        resource: None,
        terms: PolicyTerms::default(),
    };
    redirect_to(&state, &auth, request).await
}

/// The URL a raw-path request names: `https://` and the request target after `/v1/redirect/`,
/// as it came (the scope check that follows refuses what may not be signed).
fn raw_target(uri: &Uri) -> Result<String, ApiError> {
    let target = uri
        .path()
        .strip_prefix("/v1/redirect/")
        .filter(|target| !target.is_empty() && !target.starts_with('/'))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_url",
                "the raw-path form is /v1/redirect/<host>/<path>[?<query>]; the host is missing",
            )
        })?;
    Ok(match uri.query() {
        Some(query) => format!("https://{target}?{query}"),
        None => format!("https://{target}"),
    })
}

/// Plans, signs and answers one redirect.
async fn redirect_to(
    state: &AppState,
    auth: &AuthenticatedClient,
    request: SignRequest,
) -> Result<Response, ApiError> {
    let runtime = auth.runtime();
    let client = auth.client();
    let planned = plan::url(request, client, &runtime.limits, state.now())?;
    let signed = issue::sign_urls(state, &runtime.active, client, vec![planned])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no result"))?;
    let location = HeaderValue::from_str(&signed.signed_url)
        .map_err(|_| ApiError::internal("the signed URL is not a valid header value"))?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(no_store(response))
}
