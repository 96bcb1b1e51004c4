//! `cfsign stream`: sign a manifest's URIs for a stream's prefix, or print the stream's cookies
//! in the form each player needs.

use std::io::Read as _;

use anyhow::{Context as _, Result, bail};
use cfsign::stream::{Options, SignedParams, sign_manifest_with};
use cfsign::{Backend, SameSite};

use crate::cli::{StreamCommand, StreamCookieFormat, StreamCookiesArgs, StreamManifestArgs};
use crate::output::Out;
use crate::sign::{cookie_attributes, prefix_policy};
use crate::{Outcome, keys, times};

/// `cfsign stream …`.
pub(crate) fn stream(command: &StreamCommand, out: &mut Out) -> Result<Outcome> {
    match command {
        StreamCommand::Manifest(args) => manifest(args, out),
        StreamCommand::Cookies(args) => cookies(args, out),
    }
}

/// The resource pattern for a prefix: `https://host/videos/123/` becomes
/// `https://host/videos/123/*`; a pattern ending in `*` is kept.
fn prefix_pattern(prefix: &str, flag: &str) -> Result<String> {
    if prefix.ends_with('*') {
        Ok(prefix.to_owned())
    } else if prefix.ends_with('/') {
        Ok(format!("{prefix}*"))
    } else {
        bail!(
            "{flag} `{prefix}` must end in `/` (the stream's folder, e.g. https://media.example.com/videos/123/) \
             or `*`; a stream's playlists and segments share a prefix"
        )
    }
}

/// The directory of `url` as a pattern: `https://host/videos/123/index.m3u8` gives
/// `https://host/videos/123/*`.
fn directory_pattern(url: &str) -> Result<String> {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let after_scheme = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[after_scheme..].rfind('/') {
        Some(i) => Ok(format!("{}*", &without_query[..after_scheme + i + 1])),
        None => bail!(
            "--url `{url}` has no path, so there is no directory to sign; give --prefix (e.g. https://media.example.com/videos/123/)"
        ),
    }
}

/// The cookie `Path` for a prefix pattern: its path up to the first wildcard, cut at the last `/`
/// (browsers match `Path` at `/` boundaries).
fn cookie_path(pattern: &str) -> String {
    let after_scheme = pattern.find("://").map_or(0, |i| i + 3);
    let rest = &pattern[after_scheme..];
    let path = match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    };
    let literal = path.split(['*', '?']).next().unwrap_or("/");
    match literal.rfind('/') {
        Some(i) => literal[..=i].to_owned(),
        None => "/".to_owned(),
    }
}

fn signed_params(
    key: &crate::cli::KeyArgs,
    policy: &crate::cli::PolicyArgs,
    pattern: &str,
) -> Result<SignedParams> {
    let now = times::now()?;
    let policy = prefix_policy(policy, pattern, now)?;
    // One signature: RustCrypto needs no OpenSSL start-up.
    let signer = keys::signer(key, Backend::RustCrypto)?;
    Ok(SignedParams::sign(&signer, &policy)?)
}

/// `cfsign stream manifest`.
fn manifest(args: &StreamManifestArgs, out: &mut Out) -> Result<Outcome> {
    let pattern = match &args.prefix {
        Some(prefix) => prefix_pattern(prefix, "--prefix")?,
        None => directory_pattern(&args.url)?,
    };
    let params = signed_params(&args.key, &args.policy, &pattern)?;
    let bytes = if args.input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read the manifest from stdin")?;
        bytes
    } else {
        std::fs::read(&args.input).with_context(|| format!("cannot read `{}`", args.input))?
    };
    let options = if args.absolute_uris {
        Options::new().with_absolute_uris()
    } else {
        Options::new()
    };
    let rewritten = sign_manifest_with(&bytes, &args.url, &params, &options)
        .with_context(|| format!("`{}`", args.input))?;
    for skipped in rewritten.skipped() {
        eprintln!("warning: left unsigned: {skipped}");
    }
    if args.require_all && !rewritten.skipped().is_empty() {
        eprintln!(
            "error: {} URIs would be left unsigned and --require-all is given; nothing was written",
            rewritten.skipped().len()
        );
        return Ok(Outcome::Failure);
    }
    match &args.output {
        Some(path) => std::fs::write(path, rewritten.as_str())
            .with_context(|| format!("-o: cannot write `{}`", path.display()))?,
        None => out.write_str(rewritten.as_str())?,
    }
    eprintln!(
        "signed {} URIs of the {} manifest for {pattern} (expires {})",
        rewritten.signed(),
        rewritten.kind(),
        params.expires()
    );
    Ok(Outcome::Success)
}

/// `cfsign stream cookies`.
fn cookies(args: &StreamCookiesArgs, out: &mut Out) -> Result<Outcome> {
    let pattern = prefix_pattern(&args.prefix, "the prefix")?;
    let params = signed_params(&args.key, &args.policy, &pattern)?;
    let path = cookie_path(&pattern);
    // Lax: sent with the player's requests from a page on the same site (www.example.com and
    // media.example.com), not with requests other sites' pages make.
    let attrs = cookie_attributes(&args.attributes, &path, Some(SameSite::Lax))?;
    let cookies = params.cookies();
    let set_cookie = cookies.set_cookie_headers(&attrs);
    let header = cookies.cookie_header();
    match args.format {
        StreamCookieFormat::SetCookie => {
            for line in &set_cookie {
                out.line(&format!("Set-Cookie: {line}"))?;
            }
        }
        StreamCookieFormat::Header => out.line(&format!("Cookie: {header}"))?,
        StreamCookieFormat::Ffmpeg => out.write_str(&format!("Cookie: {header}\r\n"))?,
        StreamCookieFormat::Json => {
            let pairs: serde_json::Map<String, serde_json::Value> = cookies
                .pairs()
                .iter()
                .map(|(n, v)| ((*n).to_owned(), serde_json::Value::from(v.as_str())))
                .collect();
            let json = serde_json::json!({
                "resource": pattern,
                "expires": params.expires().as_secs(),
                "expires_at": params.expires().to_string(),
                "cookies": pairs,
                "set_cookie": set_cookie,
                "cookie_header": header,
                "ffmpeg_headers": format!("Cookie: {header}\r\n"),
                "query": params.query(),
                "domain": attrs.domain(),
                "path": attrs.path(),
                "same_site": attrs.same_site().map(SameSite::as_str),
            });
            out.line(&json.to_string())?;
        }
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_paths() {
        assert_eq!(
            prefix_pattern("https://h/v/1/", "p").unwrap(),
            "https://h/v/1/*"
        );
        assert_eq!(
            prefix_pattern("https://h/v/1*", "p").unwrap(),
            "https://h/v/1*"
        );
        assert!(
            prefix_pattern("https://h/v/1", "p")
                .unwrap_err()
                .to_string()
                .contains("must end in `/`")
        );
        assert_eq!(
            directory_pattern("https://h/v/1/index.m3u8?x=/y").unwrap(),
            "https://h/v/1/*"
        );
        assert!(directory_pattern("https://h").is_err());
        for (pattern, path) in [
            ("https://h/videos/123/*", "/videos/123/"),
            ("https://h/videos/12*", "/videos/"),
            ("https://h/v/?/x*", "/v/"),
            ("https://h*", "/"),
            ("*", "/"),
        ] {
            assert_eq!(cookie_path(pattern), path, "{pattern}");
        }
    }
}
