//! `GET /v1/redirect`: a 302 to a signed URL (canned policy), for `<img src>` and `<video src>`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthenticatedClient;
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{PolicyFields, PolicyKind, RedirectParams, SignRequest, Ttl};

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
        fields: PolicyFields {
            policy: Some(PolicyKind::Canned),
            ttl: params.ttl.map(Ttl::Text),
            hash_algorithm: params.hash_algorithm.unwrap_or_default(),
            ..PolicyFields::default()
        },
    };
    let runtime = auth.runtime();
    let client = auth.client();
    let planned = plan::url(request, client, &runtime.limits, state.now())?;
    let signed = issue::sign_urls(&state, &runtime.active, client, vec![planned])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no result"))?;
    let location = HeaderValue::from_str(&signed.signed_url)
        .map_err(|_| ApiError::internal("the signed URL is not a valid header value"))?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(no_store(response))
}
