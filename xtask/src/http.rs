//! A minimal HTTP/1.1 client over std `TcpStream` for loopback services (one request per
//! connection, `Connection: close`), so xtask needs no HTTP crate.
//!
//! Host names `localhost` and `*.localhost` connect to 127.0.0.1 while the `Host` header keeps the
//! name, which is how the cfsign-mock edge picks a distribution.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::Result;

/// A response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// Header names in lower case, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "response (status {}) is not JSON: {e}: {}",
                self.status,
                crate::proc::truncate(&self.text(), 300)
            )
        })
    }

    /// The `<Code>` of a CloudFront XML error body, if any.
    pub(crate) fn error_code(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].to_owned())
    }
}

/// The parts of an `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `host[:port]` as written.
    pub(crate) authority: String,
    /// The host name or IP.
    pub(crate) host: String,
    /// The port (80 when absent).
    pub(crate) port: u16,
    /// Path and query as written (at least `/`).
    pub(crate) path_and_query: String,
}

impl Url {
    /// Parses `http://authority/path?query`.
    pub(crate) fn parse(url: &str) -> Result<Url> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("only http:// URLs are supported here, got `{url}`"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("bad port in `{url}`"))?,
            ),
            None => (authority, 80),
        };
        Ok(Url {
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path_and_query: path.to_owned(),
        })
    }

    fn socket_addr(&self) -> Result<SocketAddr> {
        let ip = if self.host == "localhost" || self.host.ends_with(".localhost") {
            "127.0.0.1".to_owned()
        } else {
            self.host.clone()
        };
        format!("{ip}:{}", self.port).parse().map_err(|_| {
            format!(
                "`{}` is not a loopback host this client can reach",
                self.host
            )
        })
    }
}

/// A request being built.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Duration,
}

/// `GET url`.
pub(crate) fn get(url: &str) -> Request {
    Request::new("GET", url)
}

/// `POST url` with a JSON body.
pub(crate) fn post_json(url: &str, body: &serde_json::Value) -> Request {
    let mut r = Request::new("POST", url);
    r.body = body.to_string().into_bytes();
    r.header("content-type", "application/json")
}

impl Request {
    /// A request with any method and a raw body.
    pub(crate) fn raw(method: &'static str, url: &str, body: Vec<u8>) -> Request {
        let mut r = Request::new(method, url);
        r.body = body;
        r
    }

    fn new(method: &'static str, url: &str) -> Request {
        Request {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: Duration::from_secs(20),
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a `Cookie` header.
    pub(crate) fn cookie(self, cookie_header: &str) -> Request {
        self.header("cookie", cookie_header)
    }

    /// Adds `Authorization: Bearer token`.
    pub(crate) fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends it and reads the whole response.
    pub(crate) fn send(&self) -> Result<Response> {
        let url = Url::parse(&self.url)?;
        let addr = url.socket_addr()?;
        let mut stream = TcpStream::connect_timeout(&addr, self.timeout)
            .map_err(|e| format!("cannot connect to {addr} for {}: {e}", self.url))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(|e| format!("socket option: {e}"))?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\nuser-agent: cfsign-xtask\r\n",
            self.method, url.path_and_query, url.authority
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" {
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&self.body))
            .map_err(|e| format!("sending {} {}: {e}", self.method, self.url))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("reading the response to {} {}: {e}", self.method, self.url))?;
        parse_response(&raw, self.method == "HEAD")
            .map_err(|e| format!("{} {}: {e}", self.method, self.url))
    }
}

fn parse_response(raw: &[u8], head_only: bool) -> Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete response head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        rest.get(..len)
            .ok_or_else(|| format!("body has {} bytes, content-length says {len}", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size `{size_text}`"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("truncated chunk")?);
        data = data.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = Url::parse("http://d1.cloudfront.net.localhost:4580/a/b?x=1").unwrap();
        assert_eq!(u.host, "d1.cloudfront.net.localhost");
        assert_eq!(u.port, 4580);
        assert_eq!(u.path_and_query, "/a/b?x=1");
        assert_eq!(u.socket_addr().unwrap().to_string(), "127.0.0.1:4580");
        assert!(Url::parse("https://x/").is_err());
    }

    #[test]
    fn parses_chunked_and_sized_bodies() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 48\r\n\r\n<Error><Code>MissingKey</Code><Message/></Error>xxx",
            false,
        )
        .unwrap();
        assert_eq!(r.status, 403);
        assert_eq!(r.error_code().as_deref(), Some("MissingKey"));
    }
}
