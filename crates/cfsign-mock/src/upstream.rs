//! The edge's HTTP client for S3 and custom origins: one HTTP/1.1 connection per origin request
//! (hyper's client connection over a tokio socket, no pool), with CloudFront's connection and
//! read timeouts. The response body is streamed, never buffered.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::sigv4::Credentials;

/// CloudFront's default `ConnectionTimeout`, in seconds.
pub(crate) const DEFAULT_CONNECTION_TIMEOUT: u64 = 10;
/// CloudFront's default `OriginReadTimeout`, in seconds.
pub(crate) const DEFAULT_READ_TIMEOUT: u64 = 30;

/// Where an origin listens: a host name or address and a port, spoken to in plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpTarget {
    /// The host name or IP address (IPv6 without brackets).
    pub(crate) host: String,
    /// The TCP port.
    pub(crate) port: u16,
}

impl HttpTarget {
    /// The `Host` header value for this target: `host` alone on port 80, else `host:port`.
    pub(crate) fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Parses an endpoint URL like `http://127.0.0.1:9000` (a trailing `/` allowed; no path, no
    /// TLS: the mock's origin client speaks plain HTTP).
    pub(crate) fn parse_url(url: &str) -> Result<HttpTarget, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "`{url}` is an https URL, but cfsign-mock reaches origins over plain HTTP; give the http:// endpoint of the S3-compatible server (moto, MinIO, LocalStack)"
            ));
        } else {
            return Err(format!(
                "`{url}` is not an endpoint URL; write it like http://127.0.0.1:9000"
            ));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "`{url}` must be just scheme, host and port, like http://127.0.0.1:9000 (no path, query or user)"
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{url}` has an unclosed `[` in its host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("`{url}` has junk after its IPv6 host")),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{url}` has an invalid port `{p}`"))?,
        };
        if host.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        Ok(HttpTarget {
            host: host.to_owned(),
            port,
        })
    }
}

/// The S3-compatible server that S3 origins are read from, path-style, and the credentials that
/// sign origin requests for origin access control.
#[derive(Debug, Clone)]
pub(crate) struct S3Endpoint {
    /// Where it listens.
    pub(crate) target: HttpTarget,
    /// The credentials CloudFront's service principal would sign with.
    pub(crate) credentials: Option<Credentials>,
}

/// An origin's timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// `ConnectionTimeout`: how long to wait for the TCP connection.
    pub(crate) connect: Duration,
    /// `OriginReadTimeout`: how long to wait for the response head, and then for each next part
    /// of the body.
    pub(crate) read: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(DEFAULT_CONNECTION_TIMEOUT),
            read: Duration::from_secs(DEFAULT_READ_TIMEOUT),
        }
    }
}

/// Why an origin request got no response.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    /// The connection was refused or failed, or the origin broke HTTP: CloudFront's 502.
    Unreachable(String),
    /// The connection or the response head took longer than the origin's timeout: CloudFront's 504.
    TimedOut(String),
}

/// A response body streaming from the origin that fails once the origin sends nothing for the
/// read timeout (CloudFront then cuts the viewer's connection, as here).
pub(crate) struct IdleTimeout {
    inner: Incoming,
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl hyper::body::Body for IdleTimeout {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = Instant::now() + this.timeout;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the origin sent nothing for its read timeout of {} s",
                    this.timeout.as_secs()
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How long an origin took to answer, for `Server-Timing`; carried in the edge's response
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// From the start of the origin request to the connection being open (zero for the
    /// in-process origin).
    pub(crate) connect: Duration,
    /// From the request being sent to the response head arriving (for the in-process origin,
    /// reading the object).
    pub(crate) first_byte: Duration,
}

/// Sends `request` to `target` on a new connection and returns the response with its body still
/// streaming from the origin, each part within the read timeout of the one before, and how long
/// the connection and the response head took.
pub(crate) async fn send(
    target: &HttpTarget,
    request: Request<Body>,
    timeouts: Timeouts,
) -> Result<(Response<IdleTimeout>, Timing), UpstreamError> {
    let started = Instant::now();
    let addr = (target.host.as_str(), target.port);
    let stream = match tokio::time::timeout(timeouts.connect, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(UpstreamError::TimedOut(format!(
                "no connection to {}:{} within the origin's ConnectionTimeout of {} s",
                target.host,
                target.port,
                timeouts.connect.as_secs()
            )));
        }
        Ok(Err(e)) => {
            return Err(UpstreamError::Unreachable(format!(
                "cannot connect to {}:{}: {e}",
                target.host, target.port
            )));
        }
        Ok(Ok(s)) => s,
    };
    let connect = started.elapsed();
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| UpstreamError::Unreachable(format!("HTTP handshake failed: {e}")))?;
    // The connection task lives as long as the response body is being read.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("origin connection ended: {e}");
        }
    });
    let sent = Instant::now();
    match tokio::time::timeout(timeouts.read, sender.send_request(request)).await {
        Err(_) => Err(UpstreamError::TimedOut(format!(
            "{}:{} sent no response within the origin's read timeout of {} s",
            target.host,
            target.port,
            timeouts.read.as_secs()
        ))),
        Ok(Err(e)) => Err(UpstreamError::Unreachable(format!(
            "{}:{} did not answer with HTTP: {e}",
            target.host, target.port
        ))),
        Ok(Ok(r)) => {
            let timing = Timing {
                connect,
                first_byte: sent.elapsed(),
            };
            let r = r.map(|inner| IdleTimeout {
                inner,
                timeout: timeouts.read,
                sleep: Box::pin(tokio::time::sleep(timeouts.read)),
            });
            Ok((r, timing))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        let ok = |url: &str, host: &str, port: u16| {
            assert_eq!(
                HttpTarget::parse_url(url),
                Ok(HttpTarget {
                    host: host.to_owned(),
                    port
                }),
                "{url}"
            );
        };
        ok("http://127.0.0.1:9000", "127.0.0.1", 9000);
        ok("http://localhost:4566/", "localhost", 4566);
        ok("http://minio", "minio", 80);
        ok("http://[::1]:9000", "::1", 9000);
        for bad in [
            "https://s3.amazonaws.com",
            "127.0.0.1:9000",
            "http://",
            "http://h:0",
            "http://h:99999",
            "http://h:9000/bucket",
            "http://u@h:9000",
            "http://[::1",
        ] {
            let e = HttpTarget::parse_url(bad).unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        let t = HttpTarget::parse_url("http://[::1]:9000").unwrap();
        assert_eq!(t.host_header(), "[::1]:9000");
        assert_eq!(
            HttpTarget::parse_url("http://h").unwrap().host_header(),
            "h"
        );
    }
}
