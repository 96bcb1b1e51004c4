//! The endpoint handlers, one module per family: signing URLs, cookies, redirects, streams,
//! verifying, and the operations endpoints.

pub(crate) mod cookies;
pub(crate) mod ops;
pub(crate) mod redirect;
pub(crate) mod sign;
pub(crate) mod stream;
pub(crate) mod verify;

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// Marks a response carrying a signature as not to be stored by caches.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
