//! The parts of the request schemas that `#[derive(ToSchema)]` cannot state: the exact syntax of
//! durations, times, URLs, resource patterns, IP addresses and cookie attributes as the server's
//! parsers read them, and the limits of the server's default configuration.
//!
//! A pattern here accepts what the parser behind the field accepts, so that a client (or
//! schemathesis) can tell a malformed request from the schema alone. Where a parser ignores
//! surrounding whitespace (Rust's `str::trim`), so does the pattern. What depends on the clock,
//! on the client's scope or on other fields (an expiry in the future, `max_ttl`, a resource that
//! covers the URL) is checked by the server and answered 400 or 403.

use std::collections::BTreeSet;

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType,
    Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr};

use crate::config::ServerConfig;

/// Any run of the characters Rust's `str::trim` removes (Unicode `White_Space`).
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*";

/// A duration of at least one second, as `cfsign::parse_duration` reads it: digits (seconds), or
/// numbers with units `s`, `m`, `h`, `d`, `w`; not all of them zero.
const DURATION: &str = r"0*[1-9][0-9]*|(?:[0-9]+[smhdw])*0*[1-9][0-9]*[smhdw](?:[0-9]+[smhdw])*";

/// Unix seconds from 0 to 2147483647 (any leading zeros), with an optional fraction that is
/// dropped, as `UnixTime::parse` reads them.
const EPOCH: &str = concat!(
    r"0*(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}",
    r"|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]",
    r"|214748364[0-7])(?:\.[0-9]*)?|\.[0-9]+",
);

/// `hh[:mm[:ss[.fff]]]` (a leap second `:60` is the next second).
const CLOCK: &str = r"(?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::(?:[0-5][0-9]|60)(?:[.,][0-9]+)?)?)?";

/// `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm` or `±hh`.
const ZONE: &str = r"[Zz]|UTC|GMT|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?";

/// Dates from 1970-01-01 to 2038-01-18 that exist in the calendar. Only at the two ends of
/// CloudFront's range does the pattern differ from the server, by a few hours: it leaves out
/// 2038-01-19 (valid until 03:14:07Z) and 1969-12-31 with a negative offset that puts the time
/// after the epoch, and lets through 1970-01-01 with a positive offset that puts it before.
const DATE: &str = concat!(
    r"(?:19[7-9][0-9]|20[0-2][0-9]|203[0-7])-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))",
    r"|(?:19(?:7[26]|8[048]|9[26])|20(?:0[048]|1[26]|2[048]|3[26]))-02-29",
    r"|2038-01-(?:0[1-9]|1[0-8])",
);

/// One IPv4 octet as Rust's `Ipv4Addr` parser reads it: 0 to 255, no leading zeros.
const OCTET: &str = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";

/// One IPv6 group of up to four hex digits.
const H16: &str = "[0-9A-Fa-f]{1,4}";

/// The characters of a URL that can be signed (`%` only before two hex digits), without `*`,
/// `"`, `\`, `#`, spaces and controls, which the server refuses.
const URL_CHAR: &str = r"[A-Za-z0-9._~:/?\[\]@!$&'()+,;=-]|%[0-9A-Fa-f]{2}";

/// The same without `/` and `?`, which end a URL's authority.
const URL_AUTHORITY_CHAR: &str = r"[A-Za-z0-9._~:\[\]@!$&'()+,;=-]|%[0-9A-Fa-f]{2}";

/// The characters of a resource pattern: a URL's, and `*`.
const PATTERN_CHAR: &str = r"[A-Za-z0-9._~:/?\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2}";

/// The same without `/`, which ends a pattern's authority.
const PATTERN_AUTHORITY_CHAR: &str = r"[A-Za-z0-9._~:?\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2}";

/// An `http`/`https` URL with a host (the authority, up to the first `/` or `?`, is not empty).
fn url_regex() -> String {
    format!("^https?://(?:{URL_AUTHORITY_CHAR})+(?:[/?](?:{URL_CHAR})*)?$")
}

/// An `http`/`https` resource pattern with a host (up to the first `/`).
fn resource_regex() -> String {
    format!("^https?://(?:{PATTERN_AUTHORITY_CHAR})+(?:/(?:{PATTERN_CHAR})*)?$")
}

/// The whole of a string: `body` with the whitespace `str::trim` ignores around it.
fn trimmed(body: &str) -> String {
    format!("^{SPACE}(?:{body}){SPACE}$")
}

/// An IPv4 address.
fn ipv4() -> String {
    format!(r"{OCTET}(?:\.{OCTET}){{3}}")
}

/// An IPv6 address in RFC 4291 text form (RFC 3986's `IPv6address`), which is what Rust's
/// `Ipv6Addr` parser reads: eight groups, `::` for one or more zero groups, an IPv4 tail.
fn ipv6() -> String {
    let ls32 = format!("(?:{H16}:{H16}|{})", ipv4());
    let groups = |n: usize| format!("(?:{H16}:){{{n}}}");
    // Before `::`, at most `n` groups; after it, what is left.
    let head = |n: usize| match n {
        0 => String::new(),
        1 => format!("(?:{H16})?"),
        n => format!("(?:(?:{H16}:){{0,{}}}{H16})?", n - 1),
    };
    [
        format!("{}{ls32}", groups(6)),
        format!("::{}{ls32}", groups(5)),
        format!("{}::{}{ls32}", head(1), groups(4)),
        format!("{}::{}{ls32}", head(2), groups(3)),
        format!("{}::{}{ls32}", head(3), groups(2)),
        format!("{}::{H16}:{ls32}", head(4)),
        format!("{}::{ls32}", head(5)),
        format!("{}::{H16}", head(6)),
        format!("{}::", head(7)),
    ]
    .join("|")
}

/// A string schema with `pattern`, optionally also `null`.
fn string(pattern: String, nullable: bool) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .pattern(Some(pattern))
}

/// The largest URL or resource pattern, in bytes, with the default `server.max_url_bytes`. The
/// patterns are ASCII, so JSON Schema's characters are bytes.
fn max_url_bytes() -> usize {
    ServerConfig::default().max_url_bytes
}

/// `url` of `POST /v1/sign` and `GET /v1/redirect`: an `http`/`https` URL that can be signed.
pub(super) fn url() -> ObjectBuilder {
    string(url_regex(), false)
        .max_length(Some(max_url_bytes()))
        .description(Some(
            "The URL exactly as clients will request it: `http` or `https`, percent-encoded \
             (no `*`, `\"`, `\\`, `#`, spaces or other characters that need encoding), at most \
             `server.max_url_bytes` bytes (4096 by default). It must lie within the client's \
             `allow` list (else 403), and the server refuses a URL without a host, with a dot \
             segment, user information or a signing parameter already in its query (400 or 403).",
        ))
}

/// `resource` of `POST /v1/cookies`: a URL, or a resource pattern with `*` and `?`.
pub(super) fn resource() -> ObjectBuilder {
    string(resource_regex(), false)
        .max_length(Some(max_url_bytes()))
        .description(Some(
            "A URL (canned policy) or, with a custom policy, a resource pattern such as \
             `https://media.example.com/videos/*` (`*` any characters, `?` one), at most \
             `server.max_url_bytes` bytes (4096 by default), within the client's `allow` list.",
        ))
}

/// `resource` of `POST /v1/sign`: a custom policy's resource pattern, or `null`.
pub(super) fn resource_pattern() -> ObjectBuilder {
    string(resource_regex(), true)
        .max_length(Some(max_url_bytes()))
        .description(Some(
            "Custom policy resource pattern (`*` any characters, `?` one) that covers `url`, \
             within the client's `allow` list; defaults to the exact URL.",
        ))
}

/// `source_ip`: an IPv4 address or CIDR block, or `null`.
pub(super) fn source_ip() -> ObjectBuilder {
    let pattern = format!(r"{}(?:/\+?0*(?:3[0-2]|[12]?[0-9]))?", ipv4());
    string(trimmed(&pattern), true).description(Some(
        "Custom policy: the IPv4 address or CIDR block allowed (`AWS:SourceIp`), such as \
         `192.0.2.0/24`; CloudFront policies take no IPv6.",
    ))
}

/// `client_ip` of `POST /v1/verify`: an IPv4 or IPv6 address, or `null`.
pub(super) fn client_ip() -> ObjectBuilder {
    string(trimmed(&format!("{}|{}", ipv4(), ipv6())), true).description(Some(
        "The client's IPv4 or IPv6 address (needed for policies with `AWS:SourceIp`).",
    ))
}

/// `url` of `POST /v1/verify`: any text up to twice CloudFront's URL limit.
pub(super) fn verify_url() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(super::MAX_VERIFY_URL_CHARS))
        .description(Some(
            "The full request URL, signing parameters included (at most 16384 characters).",
        ))
}

/// `domain` of `POST /v1/cookies`, or `null`.
pub(super) fn cookie_domain() -> ObjectBuilder {
    string(trimmed(r"\.*[A-Za-z0-9-][A-Za-z0-9.-]*"), true).description(Some(
        "`Domain` attribute: a host name (letters, digits, `-` and `.`), your alternate domain \
         name; never `cloudfront.net` itself.",
    ))
}

/// `path` of `POST /v1/cookies`, or `null`.
pub(super) fn cookie_path() -> ObjectBuilder {
    // Printable ASCII but `;`: browsers compare `Path` with the percent-encoded request path.
    string(r"^/[!-:<-~]*$".to_owned(), true).description(Some(
        "`Path` attribute (default `/`): starts with `/`, printable ASCII without `;` \
         (percent-encoded, as in the URL).",
    ))
}

/// `requests` of a batch: one to the default `server.max_batch` requests.
pub(super) fn batch() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("SignRequest"))
        .min_items(Some(1))
        .max_items(Some(ServerConfig::default().max_batch))
        .description(Some(
            "The URLs: 1 to `server.max_batch` requests (100 by default).",
        ))
}

/// A lifetime as text: `ttl` of `GET /v1/redirect`, and the text form of [`ttl`].
pub(super) fn ttl_text() -> ObjectBuilder {
    string(trimmed(DURATION), false).description(Some(
        "A lifetime of at least one second: digits (seconds) or numbers with units `s`, `m`, \
         `h`, `d`, `w` (`90s`, `30m`, `1h`, `1h30m`, `7d`); at most the client's `max_ttl` \
         (else 403).",
    ))
}

/// [`Ttl`](super::Ttl): whole seconds, at least 1, or a duration with units.
pub(super) fn ttl() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(u64::MAX))
                .description(Some("Seconds.")),
        )
        .item(ttl_text())
        .description(Some(
            "A lifetime of at least one second: a number of seconds (`300`) or text with units \
             (`\"5m\"`, `\"1h30m\"`). At most the client's `max_ttl` (else 403).",
        ))
        .into()
}

/// [`Time`](super::Time): Unix seconds, or an ISO 8601 / RFC 3339 date or date-time.
pub(super) fn time() -> RefOr<Schema> {
    let iso = format!("(?:{DATE})(?:[Tt ]{CLOCK}(?: ?(?:{ZONE}))?)?");
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(i64::from(i32::MAX)))
                .description(Some("Unix seconds.")),
        )
        .item(string(trimmed(&format!("{EPOCH}|{iso}")), false).description(Some(
            "Unix seconds as text (a fraction is dropped), a date (`2026-01-01`, midnight UTC) or \
             a date-time (`2026-01-01T00:00:00Z`; `T`, `t` or a space; seconds and fraction \
             optional; UTC unless followed by `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm` or `±hh`).",
        )))
        .description(Some(
            "A point in time from 1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z (CloudFront's \
             range): Unix seconds, or ISO 8601 / RFC 3339 text.",
        ))
        .into()
}

/// Every request body with flattened parts ([`PolicyTerms`](super::PolicyTerms),
/// [`CookieFields`](super::CookieFields)) as serde reads it: one object with all the parts'
/// properties that refuses any other (`deny_unknown_fields`), instead of the derive's `allOf` of
/// the parts, none of which could say that. The parts leave `components` (nothing else names
/// them). Runs once the routes are in.
pub(crate) fn merge_flattened(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let mut parts = BTreeSet::new();
    let merged: Vec<(String, Object)> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| match schema {
            RefOr::T(Schema::AllOf(all)) => {
                let mut object = ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(all.description.clone())
                    .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                    .build();
                for item in &all.items {
                    let part = match item {
                        RefOr::Ref(part) => {
                            let part_name = part.ref_location.rsplit('/').next()?;
                            parts.insert(part_name.to_owned());
                            components.schemas.get(part_name)?
                        }
                        inline => inline,
                    };
                    let RefOr::T(Schema::Object(part)) = part else {
                        return None;
                    };
                    object.properties.extend(part.properties.clone());
                    object.required.extend(part.required.iter().cloned());
                }
                Some((name.clone(), object))
            }
            _ => None,
        })
        .collect();
    for (name, object) in merged {
        components
            .schemas
            .insert(name, RefOr::T(Schema::Object(object)));
    }
    for part in parts {
        components.schemas.remove(&part);
    }
}
