//! Custom (HTTP) origins behind the edge: an app server on loopback answers under the origin
//! path, gets the headers the behaviour forwards, streams large bodies through the edge as it
//! writes them, answers ranges with 206; a refused connection is 502, a slow origin 504.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cfsign_mock::MockConfig;
use common::*;

/// `AllViewerExceptHostHeader`, a managed origin request policy.
const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// The app server: one thread per connection, one request per connection.
///
/// - `/app/echo…` answers the request line and headers as text;
/// - `/app/big` answers 4 MiB (a single `Range` gives 206);
/// - `/app/stream` sends `first`, then waits for `release` before the rest;
/// - `/app/stall` sends the head and `first`, then nothing for 10 s;
/// - `/app/slow` answers nothing for 10 s.
struct App {
    port: u16,
    release: mpsc::Sender<()>,
}

const BIG: usize = 4 * 1024 * 1024;

fn big_byte(i: usize) -> u8 {
    (i * 7 % 253) as u8
}

fn app() -> App {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let released = std::sync::Arc::clone(&released);
            std::thread::spawn(move || serve(stream, &released));
        }
    });
    App { port, release }
}

fn serve(mut stream: TcpStream, released: &std::sync::Mutex<mpsc::Receiver<()>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let target = head.split(' ').nth(1).unwrap_or("").to_owned();
    let range = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("range: bytes=")
            .map(str::to_owned)
    });
    if target.starts_with("/app/echo") {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-App: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
            head.len()
        );
    } else if target == "/app/big" {
        let body: Vec<u8> = (0..BIG).map(big_byte).collect();
        match range.and_then(|r| {
            let (a, b) = r.trim().split_once('-')?;
            Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
        }) {
            Some((a, b)) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {a}-{b}/{BIG}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b - a + 1
                );
                let _ = stream.write_all(&body[a..=b]);
            }
            None => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(&body);
            }
        }
    } else if target == "/app/stream" {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nfirst");
        let _ = stream.flush();
        let _ = released
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(20));
        let _ = stream.write_all(b"-last");
    } else if target == "/app/stall" {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nfirst");
        let _ = stream.flush();
        std::thread::sleep(Duration::from_secs(10));
    } else if target == "/app/timed" {
        // An origin that reports its own timing, after a moment.
        std::thread::sleep(Duration::from_millis(60));
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nServer-Timing: app;dur=55\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        );
    } else if target == "/app/slow" {
        std::thread::sleep(Duration::from_secs(10));
    } else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        );
    }
}

/// A mock with one distribution over `127.0.0.1:port` (origin path `/app`, timeouts 2 s);
/// `policy` is the default behaviour's origin request policy, if any. Returns the mock and the
/// distribution's host.
fn distribution(port: u16, policy: Option<&str>) -> (Mock, String) {
    distribution_with(port, policy, None)
}

/// [`distribution`], with a response headers policy made from `headers_policy` (a
/// `ResponseHeadersPolicyConfig` document) on the default behaviour.
fn distribution_with(
    port: u16,
    policy: Option<&str>,
    headers_policy: Option<&str>,
) -> (Mock, String) {
    let m = Mock::start(MockConfig::default());
    let mut config = distribution_with_origin(
        "app",
        &origin_xml("127.0.0.1", "/app", None, Some(port)),
        &[],
    );
    if let Some(id) = policy {
        config = config.replacen(
            "<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>",
            &format!("<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><OriginRequestPolicyId>{id}</OriginRequestPolicyId></DefaultCacheBehavior>"),
            1,
        );
    }
    if let Some(body) = headers_policy {
        let r = m.post("/2020-05-31/response-headers-policy", body);
        assert_eq!(r.status, 201, "{}", r.text());
        let id = r.xml("Id").unwrap();
        config = config.replacen(
            "</DefaultCacheBehavior>",
            &format!(
                "<ResponseHeadersPolicyId>{id}</ResponseHeadersPolicyId></DefaultCacheBehavior>"
            ),
            1,
        );
    }
    let r = m.post("/2020-05-31/distribution", &config);
    assert_eq!(r.status, 201, "{}", r.text());
    let host = format!("{}.localhost:{}", r.xml("DomainName").unwrap(), m.port());
    (m, host)
}

#[test]
fn app_server_behind_the_edge() {
    let app = app();
    let (m, host) = distribution(app.port, None);
    let get = |target: &str| m.viewer_req("GET", target).host(&host);

    // The path under the origin path; without a policy, no viewer header, cookie or query.
    let r = get("/echo/a%20b?x=1")
        .header("X-Viewer", "v")
        .header("Cookie", "session=1")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = r.text();
    assert!(
        seen.starts_with("GET /app/echo/a%20b HTTP/1.1\r\n"),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("host: 127.0.0.1:{}\r\n", app.port)),
        "{seen}"
    );
    assert!(seen.contains("user-agent: Amazon CloudFront\r\n"), "{seen}");
    assert!(seen.contains("x-amz-cf-id: "), "{seen}");
    assert!(seen.contains("via: 1.1 "), "{seen}");
    assert!(seen.contains("x-forwarded-for: 127.0.0.1\r\n"), "{seen}");
    assert!(!seen.contains("x-viewer"), "{seen}");
    assert!(!seen.contains("session=1"), "{seen}");
    // The origin's headers come back, with CloudFront's.
    assert_eq!(r.header("x-app"), Some("yes"));
    assert_eq!(r.header("x-cache"), Some("Miss from cloudfront"));
    assert_eq!(r.header("x-amz-cf-id").map(str::len), Some(56));
    // The origin's 404 passes through.
    let r = get("/nothing").send();
    assert_eq!((r.status, r.text().as_str()), (404, "not found"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));

    // A range: the origin's 206, exact bytes; the whole object too.
    let r = get("/big").header("Range", "bytes=100-199").send();
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 100-199/{BIG}").as_str())
    );
    assert_eq!(r.body, (100..200).map(big_byte).collect::<Vec<u8>>());
    let r = get("/big").send();
    assert_eq!((r.status, r.body.len()), (200, BIG));
    assert!(r.body.iter().enumerate().all(|(i, b)| *b == big_byte(i)));

    // Streaming: the first bytes reach the viewer while the origin is still writing.
    let mut viewer = TcpStream::connect(("127.0.0.1", m.port())).unwrap();
    viewer
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        viewer,
        "GET /stream HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).ends_with("first") {
        let n = viewer
            .read(&mut buf)
            .expect("the first chunk arrives before the origin finishes");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    app.release.send(()).unwrap();
    viewer.read_to_end(&mut got).unwrap();
    assert!(String::from_utf8_lossy(&got).ends_with("first-last"));
}

#[test]
fn forwarded_headers_follow_the_origin_request_policy() {
    let app = app();
    let (m, host) = distribution(app.port, Some(ALL_VIEWER_EXCEPT_HOST));
    let r = m
        .viewer_req("GET", "/echo?x=1&y=2")
        .host(&host)
        .header("X-Viewer", "v")
        .header("Cookie", "session=1")
        .send();
    let seen = r.text();
    assert!(
        seen.starts_with("GET /app/echo?x=1&y=2 HTTP/1.1\r\n"),
        "{seen}"
    );
    assert!(seen.contains("x-viewer: v\r\n"), "{seen}");
    assert!(seen.contains("cookie: session=1\r\n"), "{seen}");
    assert!(
        seen.contains(&format!("host: 127.0.0.1:{}\r\n", app.port)),
        "{seen}"
    );
}

#[test]
fn unreachable_and_slow_origins() {
    // Nothing listens on a port just freed: 502.
    let port = cfsign_tests::proc::free_port().unwrap();
    let (m, host) = distribution(port, None);
    let r = m.viewer_req("GET", "/a").host(&host).send();
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.text().contains("<H1>502 ERROR</H1>"), "{}", r.text());
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert!(r.header("via").is_some() && r.header("x-amz-cf-pop").is_some());

    // An origin that does not answer within OriginReadTimeout (2 s): 504.
    let app = app();
    let (m, host) = distribution(app.port, None);
    let start = Instant::now();
    let r = m.viewer_req("GET", "/slow").host(&host).send();
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(r.text().contains("<H1>504 ERROR</H1>"), "{}", r.text());
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));

    // An origin that stalls mid-body for longer than OriginReadTimeout: the viewer's response is
    // cut (its connection closes before the promised 10 bytes), well before the origin resumes.
    let start = Instant::now();
    let mut viewer = TcpStream::connect(("127.0.0.1", m.port())).unwrap();
    viewer
        .set_read_timeout(Some(Duration::from_secs(9)))
        .unwrap();
    write!(
        viewer,
        "GET /stall HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let _ = viewer.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.ends_with("first"),
        "the body is cut after what the origin sent: {text}"
    );
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(6),
        "cut after the 2 s read timeout, not when the origin resumes: {elapsed:?}"
    );
}

#[test]
fn server_timing_measures_the_origin_and_keeps_its_metrics() {
    let app = app();
    let policy = format!(
        "<ResponseHeadersPolicyConfig xmlns=\"{NS}\"><Name>timing</Name><ServerTimingHeadersConfig>\
<Enabled>true</Enabled><SamplingRate>100.0</SamplingRate></ServerTimingHeadersConfig></ResponseHeadersPolicyConfig>"
    );
    let (m, host) = distribution_with(app.port, None, Some(&policy));
    let r = m.viewer_req("GET", "/timed").host(&host).send();
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    let value = r.header("server-timing").unwrap();
    let dur = |metric: &str| -> u64 {
        let start = value
            .find(&format!("{metric};dur="))
            .unwrap_or_else(|| panic!("{metric} in {value}"));
        value[start + metric.len() + 5..]
            .split(',')
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("{metric}'s duration in {value}"))
    };
    // The origin waited 60 ms before its answer; the edge saw that, and the viewer's first byte
    // came after it.
    assert!(dur("cdn-upstream-fbl") >= 60, "{value}");
    assert!(
        dur("cdn-downstream-fbl") >= dur("cdn-upstream-fbl"),
        "{value}"
    );
    assert!(value.contains(",cdn-cache-miss,"), "{value}");
    // One header: the edge's metrics, then the origin's own.
    assert!(value.ends_with(",app;dur=55"), "{value}");
}
