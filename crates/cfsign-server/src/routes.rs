//! Every route, registered together with its OpenAPI description so the two cannot drift, and the
//! OpenAPI document itself (served at `/openapi.json`).

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::handlers::{cookies, ops, redirect, sign, stream, verify};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cfsign-server",
        description = "Signs Amazon CloudFront URLs and cookies for authenticated clients, within each client's scope."
    ),
    modifiers(&BearerAuth),
    paths(redirect::redirect_raw),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// Adds the `bearer` security scheme the signing endpoints name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route with its OpenAPI description.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sign::sign_urls))
        .routes(routes!(cookies::cookies))
        .routes(routes!(stream::manifest))
        .routes(routes!(stream::cookies))
        .routes(routes!(redirect::redirect))
        // Described in `ApiDoc`: its catch-all has no OpenAPI spelling.
        .route(redirect::RAW_ROUTE, get(redirect::redirect_raw))
        .routes(routes!(verify::verify))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(openapi_json))
}

/// The OpenAPI 3 document describing every endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut openapi = router().split_for_parts().1;
    crate::wire::merge_flattened(&mut openapi);
    CommonResponses.modify(&mut openapi);
    openapi
}

/// Adds the answers that come from the HTTP layer, the middleware and the extractors rather than
/// from a handler, as shared responses (`components/responses`), to every operation they apply
/// to: 401 (with `WWW-Authenticate`) and 500 where a token is needed, 413 where there is a body,
/// 408, 431 and 503 (with `Retry-After`) everywhere. A handler's own 503 (`/readyz`) stays. Runs
/// once the routes are in.
struct CommonResponses;

/// Which operations a shared response applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    Always,
    WithToken,
    WithBody,
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new().description(description).content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
        };
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(description))
                .build()
        };
        // Status, name, where, whether it replaces a handler's own response, the response.
        let shared = [
            (
                "401",
                "Unauthorized",
                Applies::WithToken,
                true,
                error("Missing or unknown bearer token (`unauthorized`)").header(
                    "WWW-Authenticate",
                    header("`Bearer realm=\"cfsign-server\"`"),
                ),
            ),
            (
                "408",
                "RequestTimeout",
                Applies::Always,
                true,
                error(
                    "The request took longer than `server.request_timeout_secs` (10 s by \
                     default) and was abandoned (`timeout`)",
                ),
            ),
            (
                "413",
                "PayloadTooLarge",
                Applies::WithBody,
                true,
                error(
                    "The body is larger than `server.body_limit_bytes` (64 KiB by default) \
                     (`body_too_large`)",
                ),
            ),
            (
                "431",
                "HeadersTooLarge",
                Applies::Always,
                true,
                ResponseBuilder::new().description(
                    "The request line and headers are larger than `server.max_header_bytes` \
                     (16 KiB by default); answered by the HTTP layer, without a body",
                ),
            ),
            (
                "500",
                "InternalError",
                Applies::WithToken,
                true,
                error("The server failed (`internal`); its log says why"),
            ),
            (
                "503",
                "Overloaded",
                Applies::Always,
                false,
                error(
                    "The server has `server.max_connections` connections open, or its signing \
                     queue is full (`overloaded`); retry after `Retry-After` seconds",
                )
                .header("Retry-After", header("Seconds to wait: `1`")),
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
                &mut item.query,
            ];
            for operation in operations.into_iter().flatten() {
                let with_token = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let with_body = operation.request_body.is_some();
                for (status, name, applies, replaces, _) in &shared {
                    let applies = match applies {
                        Applies::Always => true,
                        Applies::WithToken => with_token,
                        Applies::WithBody => with_body,
                    };
                    let responses = &mut operation.responses.responses;
                    if applies && (*replaces || !responses.contains_key(*status)) {
                        let shared = Ref::new(format!("#/components/responses/{name}"));
                        responses.insert((*status).to_owned(), shared.into());
                    }
                }
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, _, _, response) in shared {
            components
                .responses
                .insert(name.to_owned(), response.build().into());
        }
    }
}

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot render the OpenAPI document: {e}\"}}"))
});

/// This API's OpenAPI 3 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A request body's schema in the served document.
    fn served(name: &str) -> serde_json::Value {
        let doc = serde_json::to_value(openapi()).unwrap();
        doc["components"]["schemas"][name].clone()
    }

    #[test]
    fn a_sign_request_is_one_closed_object() {
        // Not the derive's `allOf` of `url` and the policy terms: no part can say that the
        // other parts' properties are allowed and everything else is not.
        let one = served("SignRequest");
        assert_eq!(one["type"], "object", "{one}");
        assert_eq!(one["additionalProperties"], false, "{one}");
        assert_eq!(one["required"], json!(["url"]), "{one}");
        for field in [
            "url",
            "policy",
            "resource",
            "starts_at",
            "source_ip",
            "ttl",
            "expires",
        ] {
            assert!(one["properties"][field].is_object(), "{field}: {one}");
        }
    }

    /// Every request with flattened parts is one closed object holding the parts' properties,
    /// with its own description, and the parts are not components of their own.
    #[test]
    fn flattened_requests_are_closed_objects() {
        let terms = ["starts_at", "source_ip", "ttl", "expires", "hash_algorithm"];
        let cookie = ["domain", "path", "secure", "http_only", "set_cookies"];
        for (name, own, cookies) in [
            ("SignRequest", &["url", "policy", "resource"][..], false),
            ("CookiesRequest", &["resource", "policy"][..], true),
            (
                "StreamManifestRequest",
                &["manifest", "manifest_url", "prefix", "absolute_uris"][..],
                false,
            ),
            ("StreamCookiesRequest", &["prefix", "same_site"][..], true),
        ] {
            let schema = served(name);
            assert_eq!(schema["type"], "object", "{name}: {schema}");
            assert_eq!(schema["additionalProperties"], false, "{name}: {schema}");
            assert!(schema["description"].is_string(), "{name}: {schema}");
            let cookie: &[&str] = if cookies { &cookie } else { &[] };
            let expected: std::collections::BTreeSet<&str> =
                terms.iter().chain(own).chain(cookie).copied().collect();
            let got: std::collections::BTreeSet<&str> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(got, expected, "{name}");
        }
        for part in ["PolicyTerms", "CookieFields"] {
            assert!(served(part).is_null(), "{part}");
        }
    }
}
