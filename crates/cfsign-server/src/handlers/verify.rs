//! `POST /v1/verify`: whether CloudFront would serve a signed URL (or cookies), decided by the
//! core's `cfsign::verify` against every configured key.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use cfsign::{Decision, UnixTime};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthenticatedClient};
use crate::state::AppState;
use crate::wire::{MAX_VERIFY_URL_CHARS, UndocumentedNote, VerifyRequest, VerifyResponse};

/// Whether CloudFront would serve a signed URL (or cookies), and why not.
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "verifying",
    request_body = VerifyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision (also when CloudFront would deny)", body = VerifyResponse),
        (status = 400, description = "A request the schema refuses", body = ErrorBody),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    // Counted in characters, as the schema's `maxLength` counts them.
    if request.url.chars().count() > MAX_VERIFY_URL_CHARS {
        return Err(ApiError::bad_request(
            "url_too_long",
            "the URL is far longer than CloudFront accepts",
        ));
    }
    let now = match &request.now {
        Some(t) => t.parse("now")?,
        None => UnixTime::from_secs(state.now())
            .map_err(|e| ApiError::internal(format!("clock: {e}")))?,
    };
    let client_ip: Option<IpAddr> = request
        .client_ip
        .as_deref()
        .map(|ip| {
            ip.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_request",
                    format!("`client_ip` `{ip}` is not an IP address"),
                )
            })
        })
        .transpose()?;
    let runtime = Arc::clone(auth.runtime());
    let strict = request.strict;
    let decision = tokio::task::spawn_blocking(move || {
        let mut req = cfsign::Request::new(&request.url, now);
        if let Some(cookie) = &request.cookie {
            req = req.with_cookie_header(cookie);
        }
        if let Some(ip) = client_ip {
            req = req.with_client_ip(ip);
        }
        let decision = cfsign::verify(&req, &runtime.trusted);
        if strict { decision.strict() } else { decision }
    })
    .await
    .map_err(|e| ApiError::internal(format!("the verify task failed: {e}")))?;
    Ok(Json(response(decision)))
}

/// The answer for `decision`, with the core's explanation.
fn response(decision: Decision) -> VerifyResponse {
    let undocumented = decision
        .undocumented()
        .iter()
        .map(|b| UndocumentedNote {
            kind: b.kind().to_owned(),
            explanation: b.to_string(),
        })
        .collect();
    match decision {
        Decision::Granted(grant) => VerifyResponse {
            granted: true,
            status: 200,
            code: None,
            reason: None,
            explanation: format!(
                "granted: signed by {} ({}, {} policy), valid until {}",
                grant.key_pair_id(),
                grant.source(),
                if grant.is_custom_policy() {
                    "custom"
                } else {
                    "canned"
                },
                grant.expires()
            ),
            notes: grant.notes().to_vec(),
            undocumented,
            key_pair_id: Some(grant.key_pair_id().to_owned()),
            expires: Some(grant.expires().as_secs()),
        },
        Decision::Denied(denial) => VerifyResponse {
            granted: false,
            status: 403,
            code: Some(denial.code().as_str().to_owned()),
            reason: Some(denial.reason().kind().to_owned()),
            explanation: denial.reason().to_string(),
            notes: denial.notes().to_vec(),
            undocumented,
            key_pair_id: None,
            expires: None,
        },
    }
}
