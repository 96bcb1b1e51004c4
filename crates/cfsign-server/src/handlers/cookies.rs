//! `POST /v1/cookies`: signed cookies for a URL or resource pattern, as values and as
//! `Set-Cookie` headers.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthenticatedClient};
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{CookiePair, CookiesRequest, SignedCookiesBody};

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
        cookies: cookies
            .pairs()
            .iter()
            .map(|(n, v)| CookiePair {
                name: (*n).to_owned(),
                value: v.clone(),
            })
            .collect(),
        set_cookie: set_cookie.clone(),
        expires: plan.expires().as_secs(),
        expires_at: plan.expires().to_rfc3339(),
        key_pair_id: key.key_pair_id().to_string(),
        policy: plan.kind(),
    };
    let mut response = Json(body).into_response();
    if request.set_cookies {
        for value in set_cookie {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| ApiError::internal("a Set-Cookie value is not a valid header"))?;
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(no_store(response))
}
