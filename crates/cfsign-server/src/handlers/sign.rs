//! `POST /v1/sign`: one URL, or a batch of them (all or nothing).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, AuthenticatedClient};
use crate::issue;
use crate::plan;
use crate::state::AppState;
use crate::wire::{SignBatch, SignBody, SignRequest, SignResponse, SignedBatch};

/// Sign one URL or a batch.
#[utoipa::path(
    post,
    path = "/v1/sign",
    tag = "signing",
    request_body = SignBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed URL, or for a batch the signed URLs in order", body = SignResponse),
        (status = 400, description = "A request the schema refuses, or one the server refuses for what the schema cannot state: an expiry not in the future, `ttl` with `expires`, `policy` `canned` with custom-policy fields, a signing parameter or a bad path in the URL, a resource that does not cover the URL; nothing is signed", body = ErrorBody),
        (status = 403, description = "Outside the client's scope or permissions (`allow`, `max_ttl`, `custom_policy`); nothing is signed", body = ErrorBody),
    )
)]
pub(crate) async fn sign_urls(
    State(state): State<AppState>,
    auth: AuthenticatedClient,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let runtime = auth.runtime();
    let client = auth.client();
    let batch = value.get("requests").is_some();
    let requests: Vec<SignRequest> = if batch {
        let batch: SignBatch = serde_json::from_value(value).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the batch is not valid: {e}"))
        })?;
        batch.requests
    } else {
        vec![serde_json::from_value(value).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the request is not valid: {e}"))
        })?]
    };
    let limits = &runtime.limits;
    if requests.is_empty() || requests.len() > limits.max_batch {
        return Err(ApiError::bad_request(
            "invalid_batch",
            format!(
                "a batch holds 1 to {} requests; this one has {}",
                limits.max_batch,
                requests.len()
            ),
        ));
    }
    let now = state.now();
    let planned = requests
        .into_iter()
        .enumerate()
        .map(|(index, request)| {
            plan::url(request, client, limits, now).map_err(|e| {
                if batch {
                    ApiError::new(
                        e.status(),
                        e.code(),
                        format!("request {index}: {}", e.message()),
                    )
                } else {
                    e
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = issue::sign_urls(&state, &runtime.active, client, planned).await?;
    let body = if batch {
        SignResponse::Batch(SignedBatch { results })
    } else {
        SignResponse::One(
            results
                .pop()
                .ok_or_else(|| ApiError::internal("no result"))?,
        )
    };
    Ok(no_store(Json(body).into_response()))
}
