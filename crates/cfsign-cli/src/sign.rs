//! `cfsign sign` (one URL, the `aws cloudfront sign` form, and bulk mode) and `cfsign cookies`.

use std::io::{self, BufRead as _, IsTerminal as _};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result, bail};
use cfsign::{
    Backend, CookieAttributes, CustomPolicy, Resource, SameSite, Signer, SourceIp, UnixTime,
};
use serde::Deserialize;

use crate::cli::{
    CookieAttributeArgs, CookieFormat, CookiesArgs, PolicyArgs, SameSiteArg, SignArgs, SignFormat,
};
use crate::output::Out;
use crate::times::{self, parse_time};
use crate::{Outcome, keys};

/// Lines signed per batch in bulk mode: input is read, signed in parallel and written batch by batch.
const BATCH_LINES: usize = 4096;
/// Lines a worker takes at a time.
const CHUNK_LINES: usize = 16;

/// One input line: its number and its text (or why it is not text).
type InputLine = (usize, Result<String, String>);
/// One line's result: the output line, nothing (blank or comment), or the error message.
type LineResult = Result<Option<String>, String>;

/// What a URL's policy says, as text from flags or a bulk JSON line (not yet parsed).
#[derive(Debug, Clone, Default)]
struct Spec {
    expires_in: Option<String>,
    expires_at: Option<String>,
    starts_at: Option<String>,
    ip: Option<String>,
    resource: Option<String>,
}

impl Spec {
    fn from_args(args: &PolicyArgs, resource: Option<&str>) -> Spec {
        Spec {
            expires_in: args.expires_in.clone(),
            expires_at: args.expires_at.clone(),
            starts_at: args.starts_at.clone(),
            ip: args.ip.clone(),
            resource: resource.map(str::to_owned),
        }
    }

    /// `line`'s fields over `self`'s. An expiry on the line replaces both expiry flags.
    fn overlay(&self, line: Spec) -> Spec {
        let line_has_expiry = line.expires_in.is_some() || line.expires_at.is_some();
        Spec {
            expires_in: if line_has_expiry {
                line.expires_in
            } else {
                self.expires_in.clone()
            },
            expires_at: if line_has_expiry {
                line.expires_at
            } else {
                self.expires_at.clone()
            },
            starts_at: line.starts_at.or_else(|| self.starts_at.clone()),
            ip: line.ip.or_else(|| self.ip.clone()),
            resource: line.resource.or_else(|| self.resource.clone()),
        }
    }

    /// Parses the times and the IP; `names` gives the flag names for messages.
    fn plan(&self, now: UnixTime, allow_expired: bool, names: &Names) -> Result<Plan> {
        let expires = match (&self.expires_in, &self.expires_at) {
            (Some(_), Some(_)) => bail!(
                "both {} and {} are given; use one",
                names.expires_in,
                names.expires_at
            ),
            (Some(d), None) => {
                let secs = cfsign::parse_duration(d)
                    .with_context(|| format!("{} `{d}`", names.expires_in))?;
                if secs == 0 {
                    bail!(
                        "{} is zero: the URL would be expired at once",
                        names.expires_in
                    );
                }
                now.checked_add_secs(secs)
                    .with_context(|| format!("{} `{d}`", names.expires_in))?
            }
            (None, Some(t)) => parse_time(t, names.expires_at)?,
            (None, None) => bail!(
                "no expiry: pass {} (e.g. 1h) or {} (e.g. 2026-12-01T00:00:00Z)",
                names.expires_in,
                names.expires_at
            ),
        };
        if expires <= now && !allow_expired {
            bail!(
                "the expiry {expires} is in the past ({}); CloudFront would refuse the URL. Give a later time \
                 (or pass --allow-expired to sign it anyway, e.g. to test 403 handling)",
                times::relative(expires, now)
            );
        }
        let starts = self
            .starts_at
            .as_deref()
            .map(|t| parse_time(t, names.starts_at))
            .transpose()?;
        // `aws cloudfront sign --ip-address ''` makes a custom policy without IpAddress; so do we.
        let ip = match self.ip.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<SourceIp>()
                    .with_context(|| names.ip.to_owned())?,
            ),
        };
        Ok(Plan {
            expires,
            starts,
            ip,
            custom: self.starts_at.is_some() || self.ip.is_some() || self.resource.is_some(),
            resource: self.resource.clone(),
            document: None,
        })
    }
}

/// Reads a policy document for `--policy` from a file or `-` (stdin), byte for byte.
fn read_policy_document(path: &str) -> Result<String> {
    let bytes = if path == "-" {
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes)
            .context("--policy -: cannot read the policy document from stdin")?;
        bytes
    } else {
        std::fs::read(path).with_context(|| format!("--policy: cannot read `{path}`"))?
    };
    String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "--policy: the policy document is not UTF-8 text; CloudFront policies are UTF-8 JSON"
        )
    })
}

impl Plan {
    /// The plan for a caller-written policy document: signed byte for byte.
    fn from_document(document: String, now: UnixTime, allow_expired: bool) -> Result<Plan> {
        let policy = CustomPolicy::parse(document.as_bytes())
            .context("--policy: the document is not a CloudFront policy")?;
        let expires = policy.date_less_than();
        if expires <= now && !allow_expired {
            bail!(
                "--policy: the policy's DateLessThan {expires} is in the past ({}); CloudFront would refuse it. \
                 Write a later time (or pass --allow-expired to sign it anyway)",
                times::relative(expires, now)
            );
        }
        Ok(Plan {
            expires,
            starts: policy.date_greater_than(),
            ip: policy.source_ip(),
            custom: true,
            resource: policy.resource().map(|r| r.as_str().to_owned()),
            document: Some(document),
        })
    }
}

/// Flag (or JSON field) names for error messages.
struct Names {
    expires_in: &'static str,
    expires_at: &'static str,
    starts_at: &'static str,
    ip: &'static str,
}

const FLAG_NAMES: Names = Names {
    expires_in: "--expires-in",
    expires_at: "--expires-at",
    starts_at: "--starts-at",
    ip: "--ip",
};

const AWS_FLAG_NAMES: Names = Names {
    expires_in: "--expires-in",
    expires_at: "--date-less-than",
    starts_at: "--date-greater-than",
    ip: "--ip-address",
};

const LINE_NAMES: Names = Names {
    expires_in: "expires_in",
    expires_at: "expires_at",
    starts_at: "starts_at",
    ip: "ip",
};

/// A parsed policy plan for one URL.
struct Plan {
    expires: UnixTime,
    starts: Option<UnixTime>,
    ip: Option<SourceIp>,
    custom: bool,
    resource: Option<String>,
    /// A caller-written policy document (`--policy`), signed as given.
    document: Option<String>,
}

impl Plan {
    /// The custom policy for `url`, or `None` for a canned policy.
    fn custom_policy(&self, url: &str) -> Result<Option<CustomPolicy>> {
        if !self.custom {
            return Ok(None);
        }
        let resource = match &self.resource {
            Some(pattern) => {
                let resource = Resource::new(pattern)?;
                if !resource.matches(url) {
                    bail!(
                        "the resource pattern `{pattern}` does not cover `{url}`, so CloudFront would answer 403 \
                         AccessDenied; widen the pattern (e.g. end it with /*) or leave out --resource"
                    );
                }
                resource
            }
            // botocore writes the URL itself as the resource; so do we, byte for byte.
            None => Resource::new(url)?,
        };
        self.policy_for(resource).map(Some)
    }

    /// The custom policy for `resource` with this plan's conditions.
    fn policy_for(&self, resource: Resource) -> Result<CustomPolicy> {
        let mut policy = CustomPolicy::new(resource, self.expires);
        if let Some(ip) = self.ip {
            policy = policy.with_source_ip(ip);
        }
        if let Some(starts) = self.starts {
            policy = policy.with_starts_at(starts)?;
        }
        Ok(policy)
    }

    fn sign_url(&self, signer: &Signer, url: &str) -> Result<String> {
        if let Some(document) = &self.document {
            return Ok(signer.sign_url_with_policy(url, document)?);
        }
        Ok(match self.custom_policy(url)? {
            Some(policy) => signer.sign_custom_url(url, &policy)?,
            None => signer.sign_canned_url(url, self.expires)?,
        })
    }

    fn json(&self, signed: &str, signer: &Signer) -> serde_json::Value {
        serde_json::json!({
            "url": signed,
            "expires": self.expires.as_secs(),
            "expires_at": self.expires.to_string(),
            "policy": if self.custom { "custom" } else { "canned" },
            "key_pair_id": signer.key_pair_id().as_str(),
            "hash_algorithm": signer.hash_algorithm().as_str(),
        })
    }
}

/// `cfsign sign`.
pub(crate) fn sign(args: &SignArgs, out: &mut Out) -> Result<Outcome> {
    let now = times::now()?;
    let aws_form = args.url.is_some();
    let names = if aws_form {
        &AWS_FLAG_NAMES
    } else {
        &FLAG_NAMES
    };
    let globals = Spec::from_args(&args.policy, args.resource.as_deref());
    let url = args.url.as_deref().or(args.target.as_deref());
    let bulk_explicit = url == Some("-");
    if url.is_none() && io::stdin().is_terminal() {
        bail!(
            "no URL given: pass the URL to sign, or `-` to read URLs from stdin (try `cfsign sign --help`)"
        );
    }
    // Check the key before reading any input, so a bad key fails once, not once per line.
    // One URL: RustCrypto, which needs no OpenSSL start-up (about half the wall time of a
    // one-shot run). Many URLs: the default backend, OpenSSL with the `native` feature, which
    // signs several times faster once loaded.
    let bulk = url.is_none_or(|u| u == "-");
    let backend = if bulk {
        Backend::fastest()
    } else {
        Backend::RustCrypto
    };
    let signer = keys::signer(&args.key, backend)?;
    if bulk && args.policy_file.as_deref() == Some("-") {
        bail!(
            "--policy - reads the policy from stdin, where bulk mode reads the URLs; give the policy as a file"
        );
    }
    let document_plan = match args.policy_file.as_deref() {
        Some(path) => Some(Plan::from_document(
            read_policy_document(path)?,
            now,
            args.policy.allow_expired,
        )?),
        None => None,
    };
    let Some(url) = url.filter(|u| *u != "-") else {
        let threads = match args.threads {
            Some(0) => bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        // With an expiry on the command line, check the flags once (a bad flag is a usage error, not
        // an error on every line) and reuse the plan for plain-URL lines.
        let has_expiry = globals.expires_in.is_some() || globals.expires_at.is_some();
        let base = if document_plan.is_some() {
            document_plan
        } else if has_expiry {
            Some(globals.plan(now, args.policy.allow_expired, names)?)
        } else {
            None
        };
        let bulk = Bulk {
            signer: &signer,
            globals: &globals,
            base: base.as_ref(),
            now,
            allow_expired: args.policy.allow_expired,
            format: args.format,
        };
        return bulk.run(out, threads, bulk_explicit);
    };
    let plan = match document_plan {
        Some(plan) => plan,
        None => globals.plan(now, args.policy.allow_expired, names)?,
    };
    let signed = plan.sign_url(&signer, url)?;
    match args.format {
        SignFormat::Url if aws_form => out.write_str(&signed)?,
        SignFormat::Url => out.line(&signed)?,
        SignFormat::Json => out.line(&plan.json(&signed, &signer).to_string())?,
    }
    Ok(Outcome::Success)
}

/// One bulk JSON input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    url: String,
    expires_in: Option<serde_json::Value>,
    expires_at: Option<serde_json::Value>,
    starts_at: Option<serde_json::Value>,
    ip: Option<String>,
    resource: Option<String>,
}

fn text(value: Option<serde_json::Value>, field: &str) -> Result<Option<String>> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => bail!("`{field}` must be a string or a number, not {other}"),
    }
}

struct Bulk<'a> {
    signer: &'a Signer,
    globals: &'a Spec,
    /// The plan from the flags alone, when they include an expiry.
    base: Option<&'a Plan>,
    now: UnixTime,
    allow_expired: bool,
    format: SignFormat,
}

impl Bulk<'_> {
    fn run(&self, out: &mut Out, threads: usize, explicit: bool) -> Result<Outcome> {
        let mut input = io::stdin().lock();
        let mut line_no = 0usize;
        let mut seen_any = false;
        let mut failed = 0usize;
        let mut buf = Vec::new();
        loop {
            let mut batch: Vec<InputLine> = Vec::with_capacity(BATCH_LINES);
            while batch.len() < BATCH_LINES {
                buf.clear();
                let n = input
                    .read_until(b'\n', &mut buf)
                    .context("cannot read stdin")?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                let line = String::from_utf8(std::mem::take(&mut buf))
                    .map_err(|_| "the line is not UTF-8 text".to_owned());
                batch.push((line_no, line));
            }
            if batch.is_empty() {
                break;
            }
            seen_any = true;
            let results = self.sign_batch(&batch, threads);
            for ((number, _), result) in batch.iter().zip(results) {
                match result {
                    Ok(Some(signed)) => out.line(&signed)?,
                    Ok(None) => {}
                    Err(e) => {
                        failed += 1;
                        eprintln!("line {number}: {e}");
                    }
                }
            }
        }
        out.flush()?;
        if !seen_any && !explicit {
            bail!(
                "no URL given and stdin is empty: pass the URL to sign, or pipe URLs in (one per line)"
            );
        }
        if failed > 0 {
            eprintln!("{failed} of {line_no} lines failed; the other lines were signed");
            return Ok(Outcome::Failure);
        }
        Ok(Outcome::Success)
    }

    /// Signs a batch on `threads` threads; results in input order.
    fn sign_batch(&self, batch: &[InputLine], threads: usize) -> Vec<LineResult> {
        let chunks: Vec<&[InputLine]> = batch.chunks(CHUNK_LINES).collect();
        let threads = threads.min(chunks.len()).max(1);
        let work = |chunk: &[InputLine]| -> Vec<LineResult> {
            chunk
                .iter()
                .map(|(number, line)| match line {
                    Ok(line) => self.sign_line(*number, line).map_err(|e| format!("{e:#}")),
                    Err(e) => Err(e.clone()),
                })
                .collect()
        };
        if threads == 1 {
            return chunks.into_iter().flat_map(work).collect();
        }
        let next = AtomicUsize::new(0);
        let mut slots: Vec<Option<Vec<LineResult>>> = (0..chunks.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some(chunk) = chunks.get(index) else {
                                break;
                            };
                            done.push((index, work(chunk)));
                        }
                        done
                    })
                })
                .collect();
            for handle in handles {
                // A worker only panics on a bug; re-raise it rather than lose lines silently.
                let done = handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                for (index, results) in done {
                    slots[index] = Some(results);
                }
            }
        });
        slots.into_iter().flatten().flatten().collect()
    }

    /// Signs one input line; `None` for blank and comment lines.
    fn sign_line(&self, number: usize, line: &str) -> Result<Option<String>> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        if !line.starts_with('{') {
            let Some(plan) = self.base else {
                bail!(
                    "no expiry: pass --expires-in or --expires-at, or write the line as JSON with expires_in or \
                     expires_at"
                );
            };
            return self
                .finish(number, plan, plan.sign_url(self.signer, line)?)
                .map(Some);
        }
        if self.base.is_some_and(|plan| plan.document.is_some()) {
            bail!(
                "with --policy, give one plain URL per line (JSON lines would build their own policies)"
            );
        }
        let parsed: Line = serde_json::from_str(line).context(
            "not a valid JSON line: expected {\"url\": ..., and optionally expires_in, expires_at, starts_at, \
             ip, resource}",
        )?;
        let spec = self.globals.overlay(Spec {
            expires_in: text(parsed.expires_in, "expires_in")?,
            expires_at: text(parsed.expires_at, "expires_at")?,
            starts_at: text(parsed.starts_at, "starts_at")?,
            ip: parsed.ip,
            resource: parsed.resource,
        });
        let plan = spec.plan(self.now, self.allow_expired, &LINE_NAMES)?;
        let signed = plan.sign_url(self.signer, &parsed.url)?;
        self.finish(number, &plan, signed).map(Some)
    }

    /// The output line: the signed URL, or JSON that also carries the input line number.
    fn finish(&self, number: usize, plan: &Plan, signed: String) -> Result<String> {
        Ok(match self.format {
            SignFormat::Url => signed,
            SignFormat::Json => {
                let mut json = plan.json(&signed, self.signer);
                json["line"] = number.into();
                json.to_string()
            }
        })
    }
}

/// The `Set-Cookie` attributes from the flags, with the command's defaults for `Path` and
/// `SameSite`.
pub(crate) fn cookie_attributes(
    args: &CookieAttributeArgs,
    default_path: &str,
    default_same_site: Option<SameSite>,
) -> Result<CookieAttributes> {
    let mut attrs = CookieAttributes::new()
        .with_path(args.path.as_deref().unwrap_or(default_path))?
        .with_secure(!args.insecure_no_secure)
        .with_http_only(!args.no_http_only);
    if let Some(domain) = &args.domain {
        attrs = attrs.with_domain(domain)?;
    }
    let same_site = match args.same_site {
        Some(SameSiteArg::Strict) => Some(SameSite::Strict),
        Some(SameSiteArg::Lax) => Some(SameSite::Lax),
        Some(SameSiteArg::None) => Some(SameSite::None),
        None => default_same_site,
    };
    if let Some(same_site) = same_site {
        if same_site == SameSite::None && args.insecure_no_secure {
            bail!(
                "--same-site none needs the Secure attribute (browsers drop SameSite=None cookies without it); \
                 leave out --insecure-no-secure"
            );
        }
        attrs = attrs.with_same_site(same_site);
    }
    Ok(attrs)
}

/// The custom policy for a resource pattern (a stream's prefix) from the policy flags: expiry,
/// start and source IP.
pub(crate) fn prefix_policy(
    args: &PolicyArgs,
    resource: &str,
    now: UnixTime,
) -> Result<CustomPolicy> {
    Spec::from_args(args, Some(resource))
        .plan(now, args.allow_expired, &FLAG_NAMES)?
        .policy_for(Resource::new(resource)?)
}

/// `cfsign cookies`.
pub(crate) fn cookies(args: &CookiesArgs, out: &mut Out) -> Result<Outcome> {
    let now = times::now()?;
    let signer = keys::signer(&args.key, Backend::RustCrypto)?;
    let (plan, cookies) = match (&args.policy_file, &args.resource) {
        (Some(path), _) => {
            let plan =
                Plan::from_document(read_policy_document(path)?, now, args.policy.allow_expired)?;
            let document = plan.document.as_deref().unwrap_or_default();
            let cookies = signer.cookies_with_policy(document)?;
            (plan, cookies)
        }
        (None, Some(resource)) => {
            // As the aws CLI and the JS signer decide: a custom policy for a `*`, a start time
            // or an IP; an exact URL (query string and all) gets a canned policy.
            let wildcard = resource.contains('*');
            let mut plan = Spec::from_args(&args.policy, None).plan(
                now,
                args.policy.allow_expired,
                &FLAG_NAMES,
            )?;
            plan.custom |= wildcard || args.custom;
            plan.resource = Some(resource.clone());
            let cookies = if plan.custom {
                signer.custom_cookies(&plan.policy_for(Resource::new(resource)?)?)?
            } else {
                signer.canned_cookies(resource, plan.expires)?
            };
            (plan, cookies)
        }
        (None, None) => bail!(
            "give the resource (a URL or a pattern such as https://media.example.com/videos/*), or --policy FILE"
        ),
    };
    let attrs = cookie_attributes(&args.attributes, "/", None)?;
    let set_cookie = cookies.set_cookie_headers(&attrs);
    match args.format {
        CookieFormat::SetCookie => {
            for header in &set_cookie {
                out.line(&format!("Set-Cookie: {header}"))?;
            }
        }
        CookieFormat::Header => out.line(&format!("Cookie: {}", cookies.cookie_header()))?,
        CookieFormat::Json => {
            let pairs: serde_json::Map<String, serde_json::Value> = cookies
                .pairs()
                .iter()
                .map(|(n, v)| ((*n).to_owned(), serde_json::Value::from(v.as_str())))
                .collect();
            let json = serde_json::json!({
                "cookies": pairs,
                "set_cookie": set_cookie,
                "cookie_header": cookies.cookie_header(),
                "expires": plan.expires.as_secs(),
                "expires_at": plan.expires.to_string(),
                "policy": if plan.custom { "custom" } else { "canned" },
                "resource": plan.resource,
                "key_pair_id": signer.key_pair_id().as_str(),
            });
            out.line(&json.to_string())?;
        }
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn spec(expires_in: Option<&str>, expires_at: Option<&str>) -> Spec {
        Spec {
            expires_in: expires_in.map(str::to_owned),
            expires_at: expires_at.map(str::to_owned),
            ..Spec::default()
        }
    }

    fn plan(spec: &Spec, allow_expired: bool) -> Result<Plan, String> {
        let now = UnixTime::from_secs(NOW).unwrap();
        spec.plan(now, allow_expired, &FLAG_NAMES)
            .map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn expiry_rules() {
        let check = |s: Spec, allow: bool, expected: Result<u64, &str>| {
            let got = plan(&s, allow).map(|p| p.expires.as_secs());
            match (&got, expected) {
                (Ok(secs), Ok(want)) => assert_eq!(*secs, want, "{s:?}"),
                (Err(e), Err(needle)) => assert!(e.contains(needle), "{s:?}: {e}"),
                _ => panic!("{s:?}: got {got:?}, expected {expected:?}"),
            }
        };
        check(spec(Some("1h"), None), false, Ok(NOW + 3600));
        check(spec(None, Some("1800003600")), false, Ok(NOW + 3600));
        check(spec(None, None), false, Err("no expiry"));
        check(spec(Some("1h"), Some("1800003600")), false, Err("use one"));
        check(spec(Some("0s"), None), false, Err("zero"));
        check(spec(None, Some("1700000000")), false, Err("in the past"));
        check(spec(None, Some("1700000000")), true, Ok(1_700_000_000));
        check(
            spec(None, Some("1800000000000")),
            false,
            Err("milliseconds"),
        );
    }

    #[test]
    fn custom_when_start_ip_or_resource() {
        let base = spec(Some("1h"), None);
        assert!(!plan(&base, false).unwrap().custom);
        for (field, value) in [
            ("starts_at", "1799999000"),
            ("ip", ""),
            ("ip", "192.0.2.1"),
            ("resource", "*"),
        ] {
            let mut s = base.clone();
            let v = Some(value.to_owned());
            match field {
                "starts_at" => s.starts_at = v,
                "ip" => s.ip = v,
                _ => s.resource = v,
            }
            let p = plan(&s, false).unwrap();
            assert!(p.custom, "{field}={value}");
            assert_eq!(p.ip.is_some(), field == "ip" && !value.is_empty());
        }
    }

    #[test]
    fn line_fields_override_flags() {
        let globals = Spec {
            ip: Some("10.0.0.0/8".to_owned()),
            ..spec(Some("1h"), None)
        };
        let merged = globals.overlay(spec(None, Some("2037-01-01")));
        assert_eq!(merged.expires_in, None);
        assert_eq!(merged.expires_at.as_deref(), Some("2037-01-01"));
        assert_eq!(merged.ip.as_deref(), Some("10.0.0.0/8"));
        let kept = globals.overlay(Spec::default());
        assert_eq!(kept.expires_in.as_deref(), Some("1h"));
    }
}
