//! The one HTTP/1.1 client of the tests and xtask, for services on loopback: [`get`],
//! [`post_json`] or [`Request::new`], then [`Request::send`]; [`percent_encode`] for query values.
//!
//! It sends exactly what the test says. The request target is the URL's path and query byte for
//! byte (`..`, `%2e`, `%2f`, `;`, `//` are never normalised); the `Host` header is the URL's
//! authority or whatever [`Request::host`] sets, while the connection goes to 127.0.0.1 for
//! `localhost` and `*.localhost` (no DNS: that is how a test reaches the mock edge's
//! `<domain>.localhost`) or to the IP the URL names. Any method, headers, cookies and body; one
//! request per connection (`Connection: close`). Responses are read by the rules of RFC 9112:
//! `Content-Length`, chunked, to the end of the connection, nothing for `HEAD`, 204 and 304.
//! Redirects are returned, not followed; a 4xx or 5xx is a response, not an error.
//!
//! Underneath is `ureq` (blocking, std only, a handful of small dependencies), configured so
//! that nothing is added behind the test's back: no proxy from `HTTP_PROXY`/`ALL_PROXY`, no
//! redirects, no pooling. What it cannot send is a request target with bytes that are not URI
//! characters (space, `"`, `<`, `>`, `{`, `|`, …): [`Request::send`] says so.

use std::net::IpAddr;
use std::time::Duration;

use crate::proc::truncate;
use crate::{Error, Result};

/// A request being built: [`get`], [`post_json`] or [`Request::new`].
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    host: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A query or fragment value: every byte but the unreserved characters (RFC 3986:
/// `A-Z a-z 0-9 - . _ ~`) percent-encoded.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET url`.
pub fn get(url: &str) -> Request {
    Request::new("GET", url)
}

/// `POST url` with `body` as JSON (`Content-Type: application/json`).
pub fn post_json(url: &str, body: &serde_json::Value) -> Request {
    Request::new("POST", url)
        .header("content-type", "application/json")
        .body(body.to_string())
}

impl Request {
    /// `method url`, any method (`GET`, `PURGE`, …), no headers of its own, no body.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_owned(),
            url: url.to_owned(),
            host: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Sends `Host: host` instead of the URL's authority; the connection still goes where the
    /// URL says.
    pub fn host(mut self, host: &str) -> Request {
        self.host = Some(host.to_owned());
        self
    }

    /// Adds a header (names are case-insensitive; repeated names are sent in order).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a `Cookie` header.
    pub fn cookie(self, cookie_header: &str) -> Request {
        self.header("cookie", cookie_header)
    }

    /// Adds `Authorization: Bearer token`.
    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// The body (with its `Content-Length`; `POST`, `PUT` and `PATCH` send one even when empty).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sends it and reads the whole response.
    pub fn send(&self) -> Result<Response> {
        let fail = |what: String| Error::new(format!("{} {}: {what}", self.method, self.url));
        let target = Target::parse(&self.url).map_err(fail)?;
        let ip = target.connect_ip().map_err(fail)?;
        let ip = match ip {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let uri = format!("http://{ip}:{}{}", target.port, target.path_and_query);
        let host = self.host.as_deref().unwrap_or(&target.authority);
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(uri.as_str())
            .header("host", host)
            .header("connection", "close");
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let sends_body =
            !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PUT" | "PATCH");
        let result = if sends_body {
            builder
                .body(self.body.as_slice())
                .map(|request| agent().run(request))
        } else {
            builder.body(()).map(|request| agent().run(request))
        };
        let response = result
            .map_err(|e| {
                fail(format!(
                    "cannot send this request ({e}): the request target `{}` may hold only URI \
                     characters, header values no control characters",
                    target.path_and_query
                ))
            })?
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| fail(format!("reading the {status} response's body: {e}")))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The client, configured as the module docs say.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .max_idle_connections(0)
        .user_agent("cfsign-tests")
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// A response, read completely.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case, repeated names kept.
    pub headers: Vec<(String, String)>,
    /// The body, decoded from chunks; empty for `HEAD`.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(format!(
                "response (status {}) is not JSON: {e}: {}",
                self.status,
                truncate(&self.text(), 300)
            ))
        })
    }

    /// The text of the body's first `<tag>…</tag>`.
    pub fn xml(&self, tag: &str) -> Option<String> {
        xml_value(&self.text(), tag)
    }

    /// The `<Code>` of a CloudFront XML error body, if any.
    pub fn error_code(&self) -> Option<String> {
        self.xml("Code")
    }
}

/// The text of the first `<tag>…</tag>` in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// The parts of an `http://` URL, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// `host[:port]`.
    authority: String,
    /// The host name or IP (an IPv6 one without its brackets).
    host: String,
    /// The port (80 when absent).
    port: u16,
    /// Path and query (at least `/`).
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> std::result::Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("only http:// URLs are supported, not `{url}`"))?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("bad port in `{url}`"))?,
            ),
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(Target {
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path_and_query: path,
        })
    }

    /// Where to connect: 127.0.0.1 for `localhost` and `*.localhost`, else the IP in the URL.
    fn connect_ip(&self) -> std::result::Result<IpAddr, String> {
        let host = self.host.to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            return Ok(IpAddr::from([127, 0, 0, 1]));
        }
        self.host.parse().map_err(|_| {
            format!(
                "`{}` is neither an IP nor *.localhost (to send it as the Host header, connect to \
                 127.0.0.1 and use Request::host)",
                self.host
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    /// A one-connection server that answers `response` and reports the request it read (head,
    /// then as many body bytes as `Content-Length` says).
    fn serve(response: &'static [u8]) -> (u16, mpsc::Receiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                request.extend_from_slice(line.as_bytes());
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            request.extend_from_slice(&body);
            (&stream).write_all(response).unwrap();
            tx.send(request).unwrap();
        });
        (port, rx)
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    fn head_lines(request: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(request)
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn sends_the_path_byte_for_byte_and_the_host_of_the_url() {
        let (port, rx) = serve(OK);
        let path = "/a/../b/%2e%2E/./c;v=1//d?x=%2F..&y=a%20b&z=*";
        let url = format!("http://d111.cloudfront.net.localhost:{port}{path}");
        let resp = get(&url)
            .cookie("CloudFront-Key-Pair-Id=K1; a=b")
            .send()
            .unwrap();
        assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
        let lines = head_lines(&rx.recv().unwrap());
        assert_eq!(lines[0], format!("GET {path} HTTP/1.1"));
        assert!(
            lines.contains(&format!("host: d111.cloudfront.net.localhost:{port}")),
            "{lines:?}"
        );
        assert!(lines.contains(&"cookie: CloudFront-Key-Pair-Id=K1; a=b".to_owned()));
        assert!(lines.contains(&"connection: close".to_owned()));
        assert!(
            !lines.iter().any(|l| l.starts_with("content-length")),
            "{lines:?}"
        );
    }

    #[test]
    fn sends_any_host_any_method_and_a_body() {
        let (port, rx) = serve(OK);
        let url = format!("http://127.0.0.1:{port}/x");
        Request::new("PURGE", &url)
            .host("CDN.example.com")
            .header("If-Match", "E1")
            .body("abc")
            .send()
            .unwrap();
        let request = String::from_utf8(rx.recv().unwrap()).unwrap();
        assert!(request.starts_with("PURGE /x HTTP/1.1\r\n"), "{request}");
        assert!(
            request.contains("\r\nhost: CDN.example.com\r\n"),
            "{request}"
        );
        assert!(request.contains("\r\nif-match: E1\r\n"), "{request}");
        assert!(request.contains("\r\ncontent-length: 3\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\nabc"), "{request}");
        // An empty POST still says how long its body is.
        let (port, rx) = serve(OK);
        Request::new("POST", &format!("http://127.0.0.1:{port}/"))
            .send()
            .unwrap();
        let lines = head_lines(&rx.recv().unwrap());
        assert!(lines.contains(&"content-length: 0".to_owned()), "{lines:?}");
    }

    #[test]
    fn reads_chunked_sized_close_delimited_and_bodiless_responses() {
        let cases: [(&str, &'static [u8], &[u8]); 5] = [
            (
                "GET",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                b"abcde",
            ),
            (
                "GET",
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 48\r\nContent-Type: text/xml\r\n\r\n<Error><Code>MissingKey</Code><Message/></Error>",
                b"<Error><Code>MissingKey</Code><Message/></Error>",
            ),
            ("GET", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end", b"to the end"),
            ("HEAD", b"HTTP/1.1 206 Partial Content\r\nContent-Length: 36\r\n\r\n", b""),
            ("GET", b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n", b""),
        ];
        for (method, raw, body) in cases {
            let (port, _rx) = serve(raw);
            let resp = Request::new(method, &format!("http://localhost:{port}/"))
                .send()
                .unwrap();
            assert_eq!(resp.body, body, "{}", String::from_utf8_lossy(raw));
        }
        let (port, _rx) = serve(cases[1].1);
        let resp = get(&format!("http://127.0.0.1:{port}/")).send().unwrap();
        assert_eq!(resp.status, 403);
        assert_eq!(resp.header("Content-Type"), Some("text/xml"));
        assert_eq!(resp.error_code().as_deref(), Some("MissingKey"));
        let (port, _rx) = serve(cases[4].1);
        let resp = get(&format!("http://127.0.0.1:{port}/")).send().unwrap();
        assert_eq!(
            (resp.status, resp.header("location")),
            (302, Some("/elsewhere"))
        );
    }

    #[test]
    fn says_what_it_cannot_send() {
        let err = get("https://d1.example/").send().unwrap_err().to_string();
        assert!(err.contains("only http://"), "{err}");
        let err = get("http://d1.example/").send().unwrap_err().to_string();
        assert!(err.contains("neither an IP nor *.localhost"), "{err}");
        let err = get("http://127.0.0.1:1/a b")
            .send()
            .unwrap_err()
            .to_string();
        assert!(err.contains("request target"), "{err}");
    }

    #[test]
    fn parses_urls_as_written() {
        let t = Target::parse("http://d1.cloudfront.net.localhost:4580/a/b?x=1").unwrap();
        assert_eq!(t.host, "d1.cloudfront.net.localhost");
        assert_eq!(t.authority, "d1.cloudfront.net.localhost:4580");
        assert_eq!(t.port, 4580);
        assert_eq!(t.path_and_query, "/a/b?x=1");
        let t = Target::parse("http://[::1]:8080?q").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8080));
        assert_eq!(t.path_and_query, "/?q");
        assert_eq!(Target::parse("http://127.0.0.1").unwrap().port, 80);
    }
}
