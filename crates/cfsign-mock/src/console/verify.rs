//! `GET /_cfsign/verify?url=…[&cookie=…]`: the core's verification of a pasted signed URL or
//! Cookie header against the distribution it names, at the mock's time — the decoded policy,
//! the times and the reason, as the edge would decide.

use std::net::IpAddr;

use cfsign::{Decision, Inspection, Request, UnixTime, inspect_cookies, inspect_url};
use serde_json::{Value, json};

use crate::edge::{EDGE_PREFIX, EdgeView, percent_decode};

/// What the console asks to verify.
pub(super) struct VerifyInput<'a> {
    pub(super) url: &'a str,
    pub(super) cookie: Option<&'a str>,
    pub(super) client_ip: IpAddr,
    pub(super) now: UnixTime,
    pub(super) strict: bool,
    pub(super) default_distribution: Option<&'a str>,
}

/// The verification as JSON; `Err` says what is wrong with the input.
pub(super) fn verify(view: &EdgeView, input: &VerifyInput<'_>) -> Result<Value, String> {
    let url = input.url.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("paste a whole URL, starting with http:// or https://")?;
    let (host, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let (dist, path) = if let Some(d) = view.for_host(host) {
        (d, path.to_owned())
    } else if let Some(prefixed) = path.strip_prefix(EDGE_PREFIX) {
        let (key, object) = match prefixed.find('/') {
            Some(i) => (&prefixed[..i], &prefixed[i..]),
            None => (prefixed, "/"),
        };
        let d = view
            .for_id_or_domain(key)
            .ok_or_else(|| format!("no distribution has the ID or domain name `{key}`"))?;
        (d, object.to_owned())
    } else if let Some(d) = input
        .default_distribution
        .and_then(|d| view.for_id_or_domain(d))
    {
        (d, path.to_owned())
    } else {
        return Err(format!(
            "no distribution is reached at `{host}`: use the distribution's domain name (…cloudfront.net.localhost:PORT) or http://127.0.0.1:PORT{EDGE_PREFIX}<distribution id>/…"
        ));
    };
    let cookie = input.cookie.map(str::trim).filter(|c| !c.is_empty());
    let inspection = match cookie {
        Some(c) if !url.contains("Signature=") => inspect_cookies(c),
        _ => inspect_url(url),
    };
    let mut out = json!({
        "distribution_id": dist.id,
        "domain_name": dist.domain,
        "path": percent_decode(&path),
        "now": input.now.to_string(),
        "inspection": inspection_json(&inspection),
    });
    let Some((pattern, trusted)) = dist.trust_for(&path) else {
        out["decision"] = json!("refused");
        out["explanation"] = json!("no cache behaviour matches this path");
        return Ok(out);
    };
    out["behavior"] = json!(pattern);
    if !dist.enabled {
        out["decision"] = json!("refused");
        out["code"] = json!("AccessDenied");
        out["explanation"] =
            json!("the distribution is disabled: CloudFront refuses every request");
        return Ok(out);
    }
    let Some(keys) = trusted else {
        out["decision"] = json!("public");
        out["explanation"] = json!(format!(
            "cache behaviour `{pattern}` is not restricted: the edge serves this path without a signature"
        ));
        return Ok(out);
    };
    let mut request = Request::new(url, input.now).with_client_ip(input.client_ip);
    if let Some(c) = cookie {
        request = request.with_cookie_header(c);
    }
    let mut decision = cfsign::verify(&request, keys);
    if input.strict {
        decision = decision.strict();
    }
    let undocumented: Vec<String> = decision
        .undocumented()
        .iter()
        .map(ToString::to_string)
        .collect();
    out["undocumented"] = json!(undocumented);
    match decision {
        Decision::Granted(g) => {
            out["decision"] = json!("granted");
            out["explanation"] = json!(format!(
                "granted by cache behaviour `{pattern}`: {} by key {}, valid until {}",
                g.source(),
                g.key_pair_id(),
                g.expires()
            ));
            out["notes"] = json!(g.notes());
        }
        Decision::Denied(d) => {
            out["decision"] = json!("denied");
            out["code"] = json!(d.code().to_string());
            out["reason"] = json!(d.reason().kind());
            out["explanation"] = json!(format!(
                "cache behaviour `{pattern}` is restricted: {}",
                d.reason()
            ));
            out["notes"] = json!(d.notes());
        }
    }
    Ok(out)
}

fn inspection_json(i: &Inspection) -> Value {
    json!({
        "source": i.source().to_string(),
        "key_pair_id": i.key_pair_id(),
        "hash_algorithm": i.hash_algorithm(),
        "policy": if i.is_custom_policy() { "custom" } else { "canned" },
        "policy_json": i.policy_json(),
        "resource": i.resource_url(),
        "expires": i.expires().map(|t| t.to_string()),
        "starts": i.starts().map(|t| t.to_string()),
        "problems": i.problems(),
    })
}
