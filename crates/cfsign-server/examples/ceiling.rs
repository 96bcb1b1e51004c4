//! Benchmark baseline: the fastest a signing service can answer `POST /v1/sign` on this machine —
//! axum with one route, the JSON body in and out, and the signature computed inline in the
//! handler; no authentication, scopes, cache, metrics, request IDs, tracing, timeouts, limits or
//! signer tasks. `benches/wrk.sh` loads it in the same interleaved rounds as the real server, so
//! "server ÷ ceiling" is what cfsign-server's features cost, and "ceiling ÷ `openssl speed
//! -multi`" is what HTTP over loopback TCP and a load generator on the same cores cost before any
//! feature.
//!
//! Run: `cargo run --release -p cfsign-server --example ceiling -- KEY.pem [ADDR]` (ADDR defaults
//! to `127.0.0.1:0`; it prints `listening on http://ADDR`). Not a server to deploy: it signs any
//! URL for anyone.

#![allow(clippy::unwrap_used)] // A benchmark: fail loudly at startup; requests never unwrap.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use cfsign::{Backend, PrivateKey, Signer, UnixTime};

/// What wrk.sh posts: a URL and a lifetime (read, but always 10 minutes here).
#[derive(serde::Deserialize)]
struct SignRequest {
    url: String,
    #[serde(rename = "ttl")]
    _ttl: Option<String>,
}

#[derive(serde::Serialize)]
struct SignResponse {
    url: String,
}

async fn sign(
    State(signer): State<Arc<Signer>>,
    Json(request): Json<SignRequest>,
) -> Result<Json<SignResponse>, (StatusCode, String)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let expires = UnixTime::from_secs(now.as_secs() + 600)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let url = signer
        .sign_canned_url(&request.url, expires)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(Json(SignResponse {
        url: url.to_string(),
    }))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let key = args
        .next()
        .expect("usage: ceiling KEY.pem [ADDR] (the private key to sign with)");
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let pem = std::fs::read(&key).unwrap();
    let signer = Signer::with_backend(
        "K2JCJMDEHXQW5F".parse().unwrap(),
        PrivateKey::parse(&pem).unwrap(),
        Backend::fastest(),
    );
    let app = Router::new()
        .route("/v1/sign", post(sign))
        .with_state(Arc::new(signer));
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
