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
use cfsign::SignedCookies;

use crate::error::ApiError;
use crate::wire::CookiePair;

/// Marks a response carrying a signature as not to be stored by caches.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The cookies as the API writes them: one name and value each.
fn cookie_pairs(cookies: &SignedCookies) -> Vec<CookiePair> {
    cookies
        .pairs()
        .iter()
        .map(|(n, v)| CookiePair {
            name: (*n).to_owned(),
            value: v.clone(),
        })
        .collect()
}

/// Adds the cookies as `Set-Cookie` headers, when the request asked for them (`set_cookies`).
fn set_cookies(mut response: Response, set_cookie: Vec<String>) -> Result<Response, ApiError> {
    for value in set_cookie {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| ApiError::internal("a Set-Cookie value is not a valid header"))?;
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
