//! The operations endpoints: liveness, readiness and Prometheus metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::wire::Status;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Status)))]
pub(crate) async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".to_owned(),
        active_key: None,
        key_sources: Vec::new(),
    })
}

/// Readiness: a key is loaded and the server is not shutting down; with keys held in AWS, each
/// source's last read (a failed refresh keeps the last good key, and the server stays ready).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Shutting down", body = Status),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        Json(Status {
            status: "ready".to_owned(),
            active_key: Some(state.active_key_id()),
            key_sources: state.shared.remote.statuses(),
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "shutting_down".to_owned(),
                active_key: None,
                key_sources: Vec::new(),
            }),
        )
            .into_response()
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        {
            let mut text = state.shared.metrics.render(state.shared.signing.stats());
            state.shared.remote.render(&mut text);
            text
        },
    )
        .into_response()
}
