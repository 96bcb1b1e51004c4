//! `cfsign verify` (CloudFront's decision and the reason) and `cfsign inspect` (decoded parts).

use std::net::IpAddr;

use anyhow::{Context as _, Result, bail};
use cfsign::{Decision, KeyPairId, Request, SignatureSource, TrustedKeys, UnixTime};

use crate::cli::{InspectArgs, VerifyArgs};
use crate::output::{Out, pretty_json};
use crate::times::{self, parse_time};
use crate::{Outcome, keys};

/// `cfsign verify`.
pub(crate) fn verify(args: &VerifyArgs, out: &mut Out) -> Result<Outcome> {
    let trusted = trusted_keys(&args.trusted_key)?;
    let now = match &args.at {
        Some(t) => parse_time(t, "--at")?,
        None => times::now()?,
    };
    let mut request = Request::new(&args.url, now);
    if let Some(cookie) = &args.cookie {
        request = request.with_cookie_header(cookie);
    }
    if let Some(ip) = &args.client_ip {
        let ip: IpAddr = ip.trim().parse().map_err(|_| {
            anyhow::anyhow!("--client-ip `{ip}` is not an IP address (e.g. 203.0.113.9)")
        })?;
        request = request.with_client_ip(ip);
    }
    let mut decision = cfsign::verify(&request, &trusted);
    if args.strict {
        decision = decision.strict();
    }
    if args.json {
        out.line(&decision_json(&decision, now).to_string())?;
    } else {
        match &decision {
            Decision::Granted(grant) => {
                out.line(&format!(
                    "served: {} signed with key {}, {} policy, {}, valid until {} ({})",
                    grant.source(),
                    grant.key_pair_id(),
                    if grant.is_custom_policy() {
                        "custom"
                    } else {
                        "canned"
                    },
                    grant.hash_algorithm(),
                    grant.expires(),
                    times::relative(grant.expires(), now),
                ))?;
                for note in grant.notes() {
                    out.line(&format!("note: {note}"))?;
                }
                for behaviour in grant.undocumented() {
                    out.line(&format!("note: undocumented: {behaviour}"))?;
                }
            }
            Decision::Denied(denial) => {
                let code = denial.code();
                out.line(&format!("denied: 403 {} ({})", code, code.message()))?;
                out.line(&format!("reason: {}", denial.reason()))?;
                for note in denial.notes() {
                    out.line(&format!("note: {note}"))?;
                }
                if !matches!(denial.reason(), cfsign::DenyReason::Undocumented { .. }) {
                    for behaviour in denial.undocumented() {
                        out.line(&format!("note: undocumented: {behaviour}"))?;
                    }
                }
            }
        }
    }
    Ok(if decision.is_granted() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn trusted_keys(specs: &[String]) -> Result<TrustedKeys> {
    let mut trusted = TrustedKeys::new();
    for spec in specs {
        let Some((id, path)) = spec.split_once('=') else {
            bail!(
                "--trusted-key `{spec}` must be KEY_PAIR_ID=PUBLIC_KEY_PEM_PATH, e.g. K2JCJMDEHXQW5F=public_key.pem"
            );
        };
        let id = KeyPairId::new(id).context("--trusted-key")?;
        let key = keys::load_public_key(path).with_context(|| format!("--trusted-key {id}"))?;
        trusted.insert(id, key);
    }
    if trusted.is_empty() {
        let have_env = std::env::var_os(keys::KEY_ID_ENV).is_some()
            && std::env::var_os(keys::KEY_ENV).is_some();
        if !have_env {
            bail!(
                "no trusted keys: pass --trusted-key KEY_PAIR_ID=PUBLIC_KEY_PEM_PATH (repeatable), or set {} and {} \
                 to trust the signing key",
                keys::KEY_ID_ENV,
                keys::KEY_ENV
            );
        }
        let id = keys::key_pair_id(None)?;
        let key = keys::private_key(None)?;
        trusted.insert(id, key.public_key());
    }
    Ok(trusted)
}

fn decision_json(decision: &Decision, now: UnixTime) -> serde_json::Value {
    match decision {
        Decision::Granted(grant) => serde_json::json!({
            "served": true,
            "status": 200,
            "key_pair_id": grant.key_pair_id(),
            "source": source_name(grant.source()),
            "policy": if grant.is_custom_policy() { "custom" } else { "canned" },
            "hash_algorithm": grant.hash_algorithm().as_str(),
            "expires": grant.expires().as_secs(),
            "expires_at": grant.expires().to_string(),
            "at": now.to_string(),
            "notes": grant.notes(),
            "undocumented": undocumented_json(grant.undocumented()),
        }),
        Decision::Denied(denial) => serde_json::json!({
            "served": false,
            "status": 403,
            "code": denial.code().as_str(),
            "message": denial.code().message(),
            "reason": denial.reason().kind(),
            "explanation": denial.reason().to_string(),
            "body": denial.code().xml_body(),
            "at": now.to_string(),
            "notes": denial.notes(),
            "undocumented": undocumented_json(denial.undocumented()),
        }),
    }
}

/// Undocumented behaviour as `[{"kind": …, "explanation": …}]`.
fn undocumented_json(behaviours: &[cfsign::Undocumented]) -> serde_json::Value {
    behaviours
        .iter()
        .map(|b| serde_json::json!({"kind": b.kind(), "explanation": b.to_string()}))
        .collect()
}

fn source_name(source: SignatureSource) -> &'static str {
    match source {
        SignatureSource::Url => "url",
        SignatureSource::Cookies => "cookies",
    }
}

/// `cfsign inspect`.
pub(crate) fn inspect(args: &InspectArgs, out: &mut Out) -> Result<Outcome> {
    let now = times::now()?;
    let input = args.input.trim();
    let is_url =
        input.starts_with("http://") || input.starts_with("https://") || input.contains("://");
    let parts = if is_url {
        cfsign::inspect_url(input)
    } else {
        cfsign::inspect_cookies(input)
    };
    let policy = parts.custom_policy();
    if args.json {
        let time = |t: Option<UnixTime>| {
            t.map(|t| {
                serde_json::json!({
                    "epoch": t.as_secs(),
                    "utc": t.to_string(),
                    "relative": times::relative(t, now),
                })
            })
        };
        let json = serde_json::json!({
            "source": source_name(parts.source()),
            "url": parts.resource_url(),
            "key_pair_id": parts.key_pair_id(),
            "hash_algorithm": parts.hash_algorithm(),
            "policy_kind": if parts.is_custom_policy() { "custom" } else { "canned" },
            "expires": time(parts.expires()),
            "starts": time(parts.starts()),
            "source_ip": policy.and_then(|p| p.source_ip()).map(|ip| ip.to_string()),
            "resource": policy.and_then(|p| p.resource()).map(|r| r.as_str()),
            "signature_bytes": parts.signature().map(<[u8]>::len),
            "policy": parts.policy_json(),
            "problems": parts.problems(),
        });
        out.line(&json.to_string())?;
        return Ok(if parts.problems().is_empty() {
            Outcome::Success
        } else {
            Outcome::Failure
        });
    }
    field(out, "source:", &parts.source().to_string())?;
    if let Some(url) = parts.resource_url() {
        field(out, "url:", url)?;
    }
    field(
        out,
        "key pair id:",
        parts.key_pair_id().unwrap_or("(missing)"),
    )?;
    field(out, "hash:", parts.hash_algorithm())?;
    field(
        out,
        "policy:",
        if parts.is_custom_policy() {
            "custom"
        } else {
            "canned"
        },
    )?;
    if let Some(resource) = policy.and_then(|p| p.resource()) {
        field(out, "resource:", resource.as_str())?;
    } else if policy.is_some() {
        field(
            out,
            "resource:",
            "(none: every object the key is trusted for)",
        )?;
    }
    if let Some(starts) = parts.starts() {
        let phrase = if starts > now {
            format!("starts {}", times::relative(starts, now))
        } else {
            format!("started {}", times::relative(starts, now))
        };
        field(out, "starts:", &format!("{starts} ({phrase})"))?;
    }
    if let Some(expires) = parts.expires() {
        let phrase = if expires > now {
            format!("expires {}", times::relative(expires, now))
        } else {
            format!("expired {}", times::relative(expires, now))
        };
        field(out, "expires:", &format!("{expires} ({phrase})"))?;
    }
    if let Some(ip) = policy.and_then(|p| p.source_ip()) {
        field(out, "source ip:", &ip.to_string())?;
    }
    if let Some(sig) = parts.signature() {
        field(out, "signature:", &format!("{} bytes", sig.len()))?;
    }
    if let Some(json) = parts.policy_json() {
        out.line("policy json:")?;
        out.line(&pretty_json(json))?;
    }
    if !parts.problems().is_empty() {
        out.line("problems:")?;
        for problem in parts.problems() {
            out.line(&format!("  - {problem}"))?;
        }
    }
    Ok(if parts.problems().is_empty() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn field(out: &mut Out, name: &str, value: &str) -> std::io::Result<()> {
    out.line(&format!("{name:<15}{value}"))
}
