"""schemathesis hooks for crates/cfsign-server/tests/schemathesis.rs.

1. Requests the schema accepts, to the signing and streaming endpoints, are moved into the test client's scope
   (`https://d1.example.net/media/...`, see tests/common/mod.rs): otherwise nearly every generated
   URL is refused with 403 `out_of_scope` before the server reads the other fields. The rest of
   the generated URL (path, query) stays as generated.
2. A check: a request the schema accepts may be refused with 400 only for what no schema can state
   (the clock, the client's scope, one field against another), never as malformed.
"""

import schemathesis

IN_SCOPE_HOST = "d1.example.net"
IN_SCOPE = f"https://{IN_SCOPE_HOST}/media/"
# The schema's `maxLength` for `url` and `resource` (the server's default `max_url_bytes`).
MAX_URL = 4096

# Codes the server gives a request whose shape the schema describes: its JSON, its batch size, its
# query, its length.
SHAPE_CODES = {"invalid_json", "invalid_body", "invalid_batch", "invalid_query", "url_too_long"}
# `invalid_request` messages of the field parsers, whose syntax the schema's patterns state.
FIELD_PARSERS = ("`ttl`: ", "`expires`: ", "`now`: ", "`source_ip`: ", "`client_ip` ")


def _is_positive(case):
    return case.meta is not None and case.meta.generation.mode.is_positive


def _in_scope(url):
    """`url` with its scheme and host replaced by the test client's allowed prefix."""
    if not isinstance(url, str) or "://" not in url:
        return url
    moved = IN_SCOPE + url.split("://", 1)[1]
    return moved if len(moved) <= MAX_URL else url


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _is_positive(case):
        return
    path = case.operation.path
    if path == "/v1/redirect" and isinstance(case.query, dict):
        case.query["url"] = _in_scope(case.query.get("url"))
    elif path == "/v1/redirect/{host}/{path}" and isinstance(case.path_parameters, dict):
        rest = case.path_parameters.get("path", "")
        case.path_parameters = {**case.path_parameters, "host": IN_SCOPE_HOST, "path": f"media/{rest}"}
    elif path in ("/v1/stream/manifest", "/v1/stream/cookies") and isinstance(case.body, dict):
        for field in ("manifest_url", "prefix"):
            if field in case.body:
                case.body[field] = _in_scope(case.body[field])
    elif path in ("/v1/sign", "/v1/cookies") and isinstance(case.body, dict):
        items = case.body.get("requests")
        for item in items if isinstance(items, list) else [case.body]:
            for field in ("url", "resource"):
                if isinstance(item, dict) and field in item:
                    item[field] = _in_scope(item[field])


@schemathesis.check
def refused_only_for_what_no_schema_states(ctx, response, case):
    if not _is_positive(case) or response.status_code != 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # content_type_conformance reports it
    error, message = body.get("error"), str(body.get("message", ""))
    if error in SHAPE_CODES or (error == "invalid_request" and message.startswith(FIELD_PARSERS)):
        raise AssertionError(
            f"The schema accepts this request, but the server refused it as malformed: "
            f"{error}: {message}"
        )
    return None
