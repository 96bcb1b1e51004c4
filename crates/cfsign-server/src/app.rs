//! The service as an axum `Router`: every route behind the middleware stack, and the JSON answers
//! for unknown paths and methods.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics;
use crate::routes;
use crate::state::AppState;

/// The router with every endpoint and the middleware stack: request IDs (`x-request-id`),
/// tracing, a request timeout (answered with the JSON error `timeout`), bounded concurrency, a
/// body size limit, metrics, and `Connection: close` on every response once shutdown has begun.
pub fn app(state: AppState) -> Router {
    let fixed = state.shared.fixed;
    let (router, _openapi) = routes::router().split_for_parts();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.shared.metrics),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            close_while_draining,
        ))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %id,
                        )
                    }),
                )
                .layer(axum::middleware::from_fn_with_state(
                    fixed.timeout,
                    request_timeout,
                ))
                .layer(GlobalConcurrencyLimitLayer::new(fixed.max_concurrency))
                .layer(DefaultBodyLimit::max(fixed.body_limit)),
        )
}

/// Answers 408 with the JSON error `timeout` when the rest of the stack takes longer than
/// `limit` (dropping it, which abandons its signing jobs).
async fn request_timeout(
    State(limit): State<Duration>,
    request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout(limit).into_response(),
    }
}

/// Once shutdown has begun (`/readyz` answers 503), asks the client to close the connection after
/// each response, so keep-alive clients reconnect to a server that is staying.
async fn close_while_draining(
    State(state): State<AppState>,
    request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if !state.is_ready() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn not_found() -> impl IntoResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /openapi.json",
    )
}

async fn method_not_allowed(method: axum::http::Method) -> impl IntoResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this endpoint does not answer {method}; the `Allow` header lists what it answers"),
    )
}
