//! The probes of `doctor`: a GET of each `--probe` URL, unsigned and (with a key) signed, each
//! compared with what the distribution's configuration says a healthy edge answers.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::doctor::checks::Facts;
use crate::doctor::report::Probe;

/// How long one probe may take, connection included.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most body bytes read from an answer (CloudFront's error bodies are far smaller).
const MAX_BODY: usize = 64 * 1024;

/// What came back from a GET.
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The `Location` header of a redirect.
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

/// The parts of a probe URL the request needs.
#[derive(Debug)]
struct Target {
    /// `https://`.
    tls: bool,
    host: String,
    port: u16,
    /// The `Host` header: host and port as written.
    authority: String,
    /// Path and query.
    path_and_query: String,
}

/// The path of `url` (without query), for picking the cache behaviour; `None` if it is not an
/// absolute `http://` or `https://` URL.
pub(crate) fn url_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    Some(path.split(['?', '#']).next().unwrap_or("/").to_owned())
}

fn parse(url: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err("not an http:// or https:// URL".to_owned());
    };
    let (authority, path_and_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port = p
                .parse::<u16>()
                .map_err(|_| format!("port `{p}` is not a number"))?;
            (h.trim_start_matches('[').trim_end_matches(']'), port)
        }
        _ => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err("the URL has no host".to_owned());
    }
    Ok(Target {
        tls,
        host: host.to_owned(),
        port,
        authority: authority.to_owned(),
        path_and_query: path_and_query.to_owned(),
    })
}

/// GETs `url` on a new connection. Host names under `.localhost` connect to 127.0.0.1
/// (RFC 6761 reserves them for loopback), so cfsign-mock's `<domain>.localhost:PORT` works
/// without DNS set-up.
pub(crate) async fn get(url: &str) -> Result<Answer, String> {
    let target = parse(url)?;
    tokio::time::timeout(PROBE_TIMEOUT, get_target(&target))
        .await
        .map_err(|_| format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))?
}

async fn get_target(target: &Target) -> Result<Answer, String> {
    let host = target.host.to_ascii_lowercase();
    let connect_host = if host == "localhost" || host.ends_with(".localhost") {
        "127.0.0.1"
    } else {
        target.host.as_str()
    };
    let stream = TcpStream::connect((connect_host, target.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", target.host, target.port))?;
    if target.tls {
        let server_name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|e| format!("`{}` is not a TLS server name: {e}", target.host))?;
        let tls = tls_connector()?
            .connect(server_name, stream)
            .await
            .map_err(|e| format!("TLS with {} failed: {e}", target.host))?;
        exchange(tls, target).await
    } else {
        exchange(stream, target).await
    }
}

/// A TLS client with the system's root certificates (rustls with aws-lc-rs, as the AWS SDK).
fn tls_connector() -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(
            "no root certificates found on this system (install ca-certificates)".to_owned(),
        );
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("cannot set up TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// One GET over an open connection.
async fn exchange<S>(io: S, target: &Target) -> Result<Answer, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = hyper::Request::get(target.path_and_query.as_str())
        .header(hyper::header::HOST, target.authority.as_str())
        .header(hyper::header::USER_AGENT, "cfsign-provision-doctor")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut incoming = response.into_body();
    while body.len() < MAX_BODY {
        match incoming.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    body.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => return Err(format!("the answer's body broke off: {e}")),
            None => break,
        }
    }
    Ok(Answer {
        status,
        location,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The `<Code>` of a CloudFront XML error body.
pub(crate) fn error_code(body: &str) -> Option<String> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    Some(body[start..end].trim().to_owned())
}

/// The explanation of a redirect: nothing about signatures can be concluded from it.
fn redirected(location: Option<&str>) -> String {
    match location {
        Some(to) => format!(
            "redirected to {to} (the behaviour's viewer protocol policy, or the origin): nothing was checked; probe that URL instead"
        ),
        None => "redirected: nothing was checked; probe the final URL instead".to_owned(),
    }
}

/// Sends a probe's request to `target`, records the status and CloudFront error code on `probe`
/// and returns the answer with the code; on a failed request the probe explains the failure and
/// `None` comes back.
async fn send(probe: &mut Probe, target: &str) -> Option<(Answer, Option<String>)> {
    match get(target).await {
        Err(e) => {
            probe.explanation = format!("the request failed: {e}");
            None
        }
        Ok(answer) => {
            let code = (answer.status >= 400)
                .then(|| error_code(&answer.body))
                .flatten();
            probe.status = Some(answer.status);
            probe.code = code.clone();
            Some((answer, code))
        }
    }
}

/// An unsigned probe: a restricted behaviour must answer 403 `MissingKey`, a public one must
/// not answer 403.
pub(crate) async fn unsigned(facts: &Facts, url: &str) -> Probe {
    let behaviour = url_path(url).and_then(|p| facts.behaviour_for(&p).cloned());
    let restricted = behaviour.as_ref().is_some_and(|b| b.restricted());
    let label = behaviour.as_ref().map(|b| b.label().to_owned());
    let expected = if restricted {
        "403 MissingKey".to_owned()
    } else {
        "not 403 (public)".to_owned()
    };
    let mut probe = Probe::new(url, false, label.clone(), expected);
    let label = label.unwrap_or_else(|| "(none)".to_owned());
    if let Some((answer, code)) = send(&mut probe, url).await {
        (probe.ok, probe.explanation) = match (restricted, answer.status, code.as_deref()) {
            (_, 301..=308, _) => (false, redirected(answer.location.as_deref())),
            (true, 403, Some("MissingKey")) => (
                true,
                format!(
                    "cache behaviour `{label}` is restricted and refuses requests without a signature, as it should"
                ),
            ),
            (true, s, _) if (200..400).contains(&s) => (
                false,
                format!(
                    "served WITHOUT a signature although cache behaviour `{label}` is restricted: the configuration is not deployed yet, or the URL reaches another distribution or behaviour"
                ),
            ),
            (true, s, c) => (
                false,
                format!(
                    "expected 403 MissingKey from the restricted behaviour `{label}`, got {s} {}: is this URL on this distribution?",
                    c.unwrap_or("")
                ),
            ),
            (false, 403, c) => (
                false,
                format!(
                    "403 {} although cache behaviour `{label}` needs no signature: the distribution is disabled, the origin refuses CloudFront (origin access control, bucket policy), or the URL reaches another behaviour",
                    c.unwrap_or("")
                ),
            ),
            (false, s, _) => (
                true,
                format!(
                    "cache behaviour `{label}` is public: answered {s} without asking for a signature"
                ),
            ),
        };
    }
    probe
}

/// A signed probe of `url` (already signed as `signed_url`): expect 2xx.
pub(crate) async fn signed(facts: &Facts, url: &str, signed_url: &str, key_pair_id: &str) -> Probe {
    let behaviour = url_path(url).and_then(|p| facts.behaviour_for(&p).cloned());
    let restricted = behaviour.as_ref().is_some_and(|b| b.restricted());
    let label = behaviour.as_ref().map(|b| b.label().to_owned());
    let mut probe = Probe::new(url, true, label.clone(), "2xx".to_owned());
    let label = label.unwrap_or_else(|| "(none)".to_owned());
    if let Some((answer, code)) = send(&mut probe, signed_url).await {
        (probe.ok, probe.explanation) = match (answer.status, code.as_deref()) {
                (301..=308, _) => (false, redirected(answer.location.as_deref())),
                (200..=299, _) if restricted => (
                    true,
                    format!("a URL signed with key {key_pair_id} (canned policy, 5 minutes) is served by cache behaviour `{label}`"),
                ),
                (200..=299, _) => (
                    true,
                    format!("served; cache behaviour `{label}` is public, so the signature was not checked"),
                ),
                (403, Some("InvalidKey")) => (
                    false,
                    format!("InvalidKey: cache behaviour `{label}` does not trust key {key_pair_id}; add it to one of the behaviour's key groups (`cfsign-provision rotate`) or attach its group (`cfsign-provision attach`)"),
                ),
                (403, Some("AccessDenied")) => (
                    false,
                    format!("AccessDenied: the signature with key {key_pair_id} did not verify: the private key does not belong to that Key-Pair-Id, or the edge's clock disagrees with this machine's by minutes"),
                ),
                (404, _) => (
                    false,
                    "the signature was accepted but the origin has no such object (404): pick a probe URL that exists".to_owned(),
                ),
                (s, c) => (
                    false,
                    format!("expected 2xx, got {s} {}", c.unwrap_or("")),
                ),
            };
    }
    probe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(url_path("http://h:1/a/b?x=1").as_deref(), Some("/a/b"));
        assert_eq!(url_path("https://h").as_deref(), Some("/"));
        assert_eq!(url_path("ftp://h/a"), None);
        let t = parse("http://d1.cloudfront.net.localhost:4580/a?b=c").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port),
            ("d1.cloudfront.net.localhost", 4580)
        );
        assert_eq!(t.path_and_query, "/a?b=c");
        assert_eq!(parse("http://h/").unwrap().port, 80);
        let t = parse("https://d1.cloudfront.net/a").unwrap();
        assert_eq!((t.tls, t.port), (true, 443));
        assert!(parse("ftp://h/").unwrap_err().contains("http"));
        assert!(parse("http://h:x/").unwrap_err().contains("port"));
    }

    /// A one-shot HTTP server on loopback answering every request with `answer`.
    async fn answering(answer: &'static str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_redirect_is_never_taken_for_a_verdict() {
        use crate::doctor::checks::{BehaviourFacts, Facts};
        let base = answering(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: https://d1.example.net/private/a\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        let facts = Facts {
            behaviours: vec![BehaviourFacts {
                pattern: None,
                key_group_ids: vec!["G".to_owned()],
                trusted_signers: false,
            }],
            ..Facts::default()
        };
        let probe = unsigned(&facts, &format!("{base}/private/a")).await;
        assert!(!probe.ok);
        assert_eq!(probe.status, Some(301));
        assert!(
            probe
                .explanation
                .starts_with("redirected to https://d1.example.net/private/a"),
            "{}",
            probe.explanation
        );
        // A 403 MissingKey is what a restricted behaviour must answer.
        let base = answering(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: 106\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code><Message>Missing Key</Message></Error>",
        )
        .await;
        let probe = unsigned(&facts, &format!("{base}/a")).await;
        assert!(probe.ok, "{probe:?}");
        assert_eq!(probe.code.as_deref(), Some("MissingKey"));
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            error_code("<?xml version=\"1.0\"?><Error><Code>MissingKey</Code></Error>").as_deref(),
            Some("MissingKey")
        );
        assert_eq!(error_code("<html>"), None);
    }
}
