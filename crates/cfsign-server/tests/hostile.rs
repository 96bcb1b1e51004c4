//! Black-box tests of the `cfsign-server` binary under hostile and careless connections: request
//! heads that stall (slow loris), more connections than `max_connections`, the memory idle
//! connections hold, stalled clients at shutdown, the drain after SIGTERM, and a request body
//! that stalls until the request timeout.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;
#[path = "common/server.rs"]
mod server;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use server::{Server, wait_for};

/// A request head cut off in the middle of its path, as a slow-loris client sends it.
const PARTIAL_HEAD: &[u8] = b"POST /v1/si";

/// Opens a connection and sends `bytes`, nothing more.
fn stalled(server: &Server, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(bytes).unwrap();
    stream
}

/// How a connection ended from the client's side.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// The server closed it (EOF or reset) after sending `bytes`.
    Closed { bytes: Vec<u8> },
    /// Still open when the client gave up waiting.
    StillOpen,
}

/// Reads until the server closes the connection or `patience` has passed.
fn read_to_close(stream: &mut TcpStream, patience: Duration) -> (Ending, Duration) {
    let start = Instant::now();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = patience.saturating_sub(start.elapsed());
        if left.is_zero() {
            return (Ending::StillOpen, start.elapsed());
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return (Ending::Closed { bytes }, start.elapsed()),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (Ending::StillOpen, start.elapsed());
            }
            Err(_) => return (Ending::Closed { bytes }, start.elapsed()),
        }
    }
}

/// Sends a keep-alive `GET path` on `stream` and reads one response head (and a short body).
fn keep_alive_get(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("\r\n\r\n{") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&response).to_lowercase()
}

#[test]
fn stalled_request_heads_are_closed_after_the_header_timeout() {
    let server = Server::start(&config_toml(
        KEY_A,
        "[server]\nheader_read_timeout_secs = 1\n",
    ));
    let mut partial = stalled(&server, PARTIAL_HEAD);
    let mut silent = stalled(&server, b"");
    // A keep-alive connection that asked once and then went quiet.
    let mut idle = TcpStream::connect(server.addr()).unwrap();
    assert!(keep_alive_get(&mut idle, "/healthz").starts_with("http/1.1 200"));
    for (what, stream) in [
        ("a partial head", &mut partial),
        ("nothing at all", &mut silent),
        ("an idle keep-alive connection", &mut idle),
    ] {
        let (ending, took) = read_to_close(stream, Duration::from_secs(10));
        assert_eq!(
            ending,
            Ending::Closed { bytes: Vec::new() },
            "{what}: still open after {took:?}"
        );
        assert!(
            took < Duration::from_secs(5),
            "{what}: closed after {took:?}"
        );
        println!("{what}: closed after {took:?}");
    }
    // Counted (the count may trail the close the client saw by a moment), and the server serves on.
    wait_for("3 header timeouts counted", Duration::from_secs(5), || {
        server.metric("cfsign_connections_header_timeouts_total") >= 3
    });
    assert_eq!(server.metric("cfsign_connections_header_timeouts_total"), 3);
    assert_eq!(server.get_status("/healthz"), 200);
    server.sign("https://d1.example.net/media/a.jpg");
}

#[test]
fn connections_over_the_cap_are_refused_and_service_resumes() {
    const CAP: usize = 16;
    let server = Server::start(&config_toml(
        KEY_A,
        &format!("[server]\nmax_connections = {CAP}\nheader_read_timeout_secs = 60\n"),
    ));
    assert_eq!(server.metric("cfsign_connections_limit"), CAP as u64);
    let held: Vec<TcpStream> = (0..CAP).map(|_| stalled(&server, PARTIAL_HEAD)).collect();
    // Every connection beyond the cap is answered 503 and closed at once, stalled or not.
    let start = Instant::now();
    let mut refused_with_503 = 0;
    for i in 0..200 {
        let mut extra = stalled(&server, if i % 2 == 0 { PARTIAL_HEAD } else { b"" });
        let (ending, took) = read_to_close(&mut extra, Duration::from_secs(5));
        let Ending::Closed { bytes } = ending else {
            panic!("connection {i} over the cap is still open after {took:?}");
        };
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        if !text.is_empty() {
            assert!(text.starts_with("http/1.1 503"), "{text}");
            assert!(text.contains("retry-after: 1\r\n"), "{text}");
            assert!(text.contains(r#"{"error":"overloaded","#), "{text}");
            refused_with_503 += 1;
        }
    }
    println!(
        "200 connections over the cap refused in {:?}, {refused_with_503} with a 503",
        start.elapsed()
    );
    assert!(
        refused_with_503 >= 150,
        "only {refused_with_503} of 200 saw the 503"
    );
    // The held ones are still open: refusing others did not disturb them.
    for mut stream in held.iter().take(2).map(|s| s.try_clone().unwrap()) {
        let (ending, _) = read_to_close(&mut stream, Duration::from_millis(200));
        assert_eq!(ending, Ending::StillOpen);
    }
    // Once they leave, a normal request succeeds.
    drop(held);
    wait_for("a free connection slot", Duration::from_secs(5), || {
        server.get_status("/healthz") == 200
    });
    server.sign("https://d1.example.net/media/a.jpg");
    assert!(server.metric("cfsign_connections_refused_total") >= 200);
    let log = server.stderr();
    assert_eq!(
        log.matches("connection limit reached").count(),
        1,
        "logged once per episode, not per connection: {log}"
    );
}

/// Stalled connections cost memory only up to the cap: the same 2,000 slow-loris connections
/// against a server that accepts them all and one capped at 100.
#[test]
fn idle_connection_memory_is_bounded_by_the_cap() {
    const CONNECTIONS: usize = 2000;
    const CAP: usize = 100;
    let grow = |max_connections: usize| -> u64 {
        let server = Server::start(&config_toml(
            KEY_A,
            &format!(
                "[server]\nmax_connections = {max_connections}\nheader_read_timeout_secs = 60\n"
            ),
        ));
        // Warm up: one of everything, so that only the connections differ.
        server.sign("https://d1.example.net/media/warm.jpg");
        // The warm-up connection's close reaches the server a moment after the client saw the
        // answer; then only the metrics request's own connection is open.
        wait_for(
            "the warm-up connection closed",
            Duration::from_secs(5),
            || server.metric("cfsign_connections_open") == 1,
        );
        let before = server.rss_kib();
        let held: Vec<TcpStream> = (0..CONNECTIONS)
            .map(|_| stalled(&server, PARTIAL_HEAD))
            .collect();
        if max_connections > CONNECTIONS {
            // All accepted and open (the metrics request is one more).
            wait_for("2,000 open connections", Duration::from_secs(10), || {
                server.metric("cfsign_connections_open") == CONNECTIONS as u64 + 1
            });
        } else {
            // All but the first CAP refused (and the metrics endpoint unreachable meanwhile).
            wait_for("the refusals", Duration::from_secs(10), || {
                held.iter().filter(|s| closed_by_server(s)).count() == CONNECTIONS - CAP
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        let after = server.rss_kib();
        drop(held);
        after.saturating_sub(before)
    };
    let uncapped = grow(CONNECTIONS + 100);
    let capped = grow(CAP);
    #[allow(clippy::cast_precision_loss)] // Small numbers.
    let (each, ratio) = (
        uncapped as f64 / CONNECTIONS as f64,
        uncapped as f64 / capped.max(1) as f64,
    );
    println!(
        "memory: {CONNECTIONS} stalled connections all accepted: +{uncapped} KiB ({each:.1} KiB each); \
         with max_connections = {CAP}: +{capped} KiB ({ratio:.1}x less)"
    );
    assert!(
        capped * 4 < uncapped,
        "capped +{capped} KiB vs uncapped +{uncapped} KiB"
    );
}

/// Whether the server has answered or closed `stream` (without waiting).
fn closed_by_server(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

#[test]
fn sigterm_with_stalled_clients_exits_within_the_grace_deadline() {
    let mut server = Server::start(&config_toml(
        KEY_A,
        "[server]\nheader_read_timeout_secs = 60\nrequest_timeout_secs = 60\nshutdown_grace_secs = 1\n",
    ));
    // One stalls in its head, one in its body (a request in flight that never completes).
    let _partial_head = stalled(&server, PARTIAL_HEAD);
    let head = format!(
        "POST /v1/sign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {WEB_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"url\":"
    );
    let _partial_body = stalled(&server, head.as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    server.signal("TERM");
    let status = server.service.wait_exit(Duration::from_secs(15)).unwrap();
    let took = start.elapsed();
    println!("exited {took:?} after SIGTERM with two stalled clients (grace 1 s)");
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(5),
        "exited {took:?} after SIGTERM; the grace is 1 s"
    );
    let log = server.stderr();
    assert!(
        log.contains("shutdown deadline: dropped the connections still open"),
        "{log}"
    );
}

#[test]
fn drain_keeps_serving_with_readyz_503_until_a_second_signal() {
    let mut server = Server::start(&config_toml(
        KEY_A,
        "[server]\ndrain_secs = 60\nshutdown_grace_secs = 5\n",
    ));
    assert_eq!(server.get_status("/readyz"), 200);
    let mut keep_alive = TcpStream::connect(server.addr()).unwrap();
    let before = keep_alive_get(&mut keep_alive, "/healthz");
    assert!(!before.contains("connection: close"), "{before}");
    server.signal("TERM");
    wait_for("/readyz to answer 503", Duration::from_secs(5), || {
        server.get_status("/readyz") == 503
    });
    // Still serving, on new connections too, and asking keep-alive clients to go elsewhere.
    assert_eq!(server.get_status("/healthz"), 200);
    server.sign("https://d1.example.net/media/during-drain.jpg");
    let during = keep_alive_get(&mut keep_alive, "/healthz");
    assert!(during.starts_with("http/1.1 200"), "{during}");
    assert!(during.contains("connection: close"), "{during}");
    assert!(server.service.is_running());
    // A second signal ends the drain at once.
    let start = Instant::now();
    server.signal("TERM");
    let status = server.service.wait_exit(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let log = server.stderr();
    assert!(log.contains("signalled again: stopping now"), "{log}");
}

#[test]
fn drain_ends_by_itself_then_the_listener_closes() {
    let mut server = Server::start(&config_toml(
        KEY_A,
        "[server]\ndrain_secs = 1\nshutdown_grace_secs = 5\n",
    ));
    let start = Instant::now();
    server.signal("TERM");
    wait_for("/readyz to answer 503", Duration::from_secs(5), || {
        server.get_status("/readyz") == 503
    });
    let status = server.service.wait_exit(Duration::from_secs(10)).unwrap();
    let took = start.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "exited {took:?} after SIGTERM with a 1 s drain"
    );
    assert!(
        TcpStream::connect(server.addr()).is_err(),
        "still listening"
    );
}

#[test]
fn a_request_body_that_stalls_gets_the_json_timeout_error() {
    let server = Server::start(&config_toml(KEY_A, "[server]\nrequest_timeout_secs = 1\n"));
    let head = format!(
        "POST /v1/sign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {WEB_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"url\":"
    );
    let mut stream = stalled(&server, head.as_bytes());
    let (ending, took) = read_to_close(&mut stream, Duration::from_secs(10));
    let Ending::Closed { bytes } = ending else {
        panic!("no answer after {took:?}");
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/json"),
        "{text}"
    );
    assert!(head.to_lowercase().contains("x-request-id: "), "{text}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["error"], "timeout", "{json}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("request_timeout_secs"),
        "{json}"
    );
}

#[test]
fn a_head_over_max_header_bytes_gets_431_and_one_under_it_is_served() {
    let server = Server::start(&config_toml(KEY_A, "[server]\nmax_header_bytes = 16384\n"));
    for (padding, expected) in [(12_000, "HTTP/1.1 200"), (20_000, "HTTP/1.1 431")] {
        let request = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(padding)
        );
        let mut stream = stalled(&server, request.as_bytes());
        let (ending, took) = read_to_close(&mut stream, Duration::from_secs(5));
        let Ending::Closed { bytes } = ending else {
            panic!("{padding}: no answer after {took:?}");
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with(expected), "{padding}: {text}");
    }
}
