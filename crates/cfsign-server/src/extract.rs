//! The handlers' extractors, rejecting with the API's own JSON error: the authenticated client
//! (from `Authorization: Bearer …`) and a JSON body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::client::{self, Client};
use crate::error::ApiError;
use crate::state::{AppState, Runtime};

/// The client a request's bearer token belongs to, with the runtime (keys, clients, limits) it
/// was found in: the whole request is served with that one runtime, even if a reload happens
/// meanwhile.
pub(crate) struct AuthenticatedClient {
    runtime: Arc<Runtime>,
    /// The client's index in `runtime.clients`.
    index: usize,
}

impl AuthenticatedClient {
    /// The runtime the client was found in.
    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The client.
    pub(crate) fn client(&self) -> &Client {
        // `index` came from `client::authenticate` over this same runtime's clients, which never
        // change: it is in bounds.
        &self.runtime.clients[self.index]
    }
}

impl FromRequestParts<AppState> for AuthenticatedClient {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<AuthenticatedClient, ApiError> {
        let runtime = state.runtime();
        let Some(value) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(ApiError::unauthorized(
                "missing `Authorization: Bearer <token>` header",
            ));
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        let index = client::authenticate(&runtime.clients, token)
            .ok_or_else(|| ApiError::unauthorized("unknown bearer token"))?;
        Ok(AuthenticatedClient { runtime, index })
    }
}

/// A JSON object body, whatever its `Content-Type`: too large is `413 body_too_large`, unreadable
/// is `invalid_body`, and anything but an object that fits `T` is `400 invalid_json` (serde would
/// also read a struct from an array of its fields in order, which the API does not offer).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_error)?;
        let first = bytes
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if first != Some(&b'{') {
            return Err(ApiError::bad_request(
                "invalid_json",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the body is not valid here: {e}"))
        })
    }
}

/// The error for a body that could not be read.
fn body_error(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "body_too_large",
            "the request body is larger than this server accepts (server.body_limit_bytes)",
        )
    } else {
        ApiError::new(status, "invalid_body", rejection.body_text())
    }
}
