//! `POST /v1/cookies`: signed cookies for a URL or resource pattern, as values and as
//! `Set-Cookie` headers.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{cookie_pairs, no_store, set_cookies};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthenticatedClient};
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{CookiesRequest, SignedCookiesBody};

/// Signed cookies (values and `Set-Cookie` header values) for a URL or resource pattern.
#[utoipa::path(
    post,
    path = "/v1/cookies",
    tag = "signing",
    request_body = CookiesRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed cookies", body = SignedCookiesBody),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
        (status = 403, description = "Outside the client's scope, or cookies not allowed", body = ErrorBody),
    )
)]
pub(crate) async fn cookies(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    ApiJson(request): ApiJson<CookiesRequest>,
) -> Result<Response, ApiError> {
    let runtime = auth.runtime();
    let client = auth.client();
    let planned = plan::cookies(&request, client, &runtime.limits, state.now())?;
    let key = &runtime.active;
    let cookies = issue::sign_cookies(&state, key, client, &request.resource, &planned).await?;
    let set_cookie = cookies.set_cookie_headers(planned.attributes());
    let plan = planned.plan();
    let body = SignedCookiesBody {
        cookie_header: cookies.cookie_header(),
        cookies: cookie_pairs(&cookies),
        set_cookie: set_cookie.clone(),
        expires: plan.expires().as_secs(),
        expires_at: plan.expires().to_rfc3339(),
        key_pair_id: key.key_pair_id().to_string(),
        policy: plan.kind(),
    };
    let mut response = Json(body).into_response();
    if request.cookie.set_cookies {
        response = set_cookies(response, set_cookie)?;
    }
    Ok(no_store(response))
}
