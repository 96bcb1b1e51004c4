//! A small HTTP/1.1 keep-alive load generator for the load test and the benchmark: N connections,
//! each sending requests back to back, recording status and latency of every answer.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use cfsign_server::loadgen::{Load, post_json};
//! let load = Load::new("127.0.0.1:8085".parse().unwrap(), 64, std::time::Duration::from_secs(5));
//! let report = load
//!     .run(|conn, seq| post_json("/v1/sign", "token", &format!(r#"{{"url":"https://d1.example.net/media/{conn}-{seq}.jpg"}}"#)))
//!     .await;
//! println!("{:.0} requests/s, p99 {:?}, {} errors", report.rate(), report.percentile(99.0), report.errors());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A load run: where, how many connections, for how long.
#[derive(Debug, Clone)]
pub struct Load {
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
}

/// What a load run observed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    statuses: BTreeMap<u16, u64>,
    io_errors: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
    first_error: Option<String>,
}

impl Report {
    /// Responses with status 2xx or 3xx.
    pub fn ok(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s < 400)
            .map(|(_, n)| n)
            .sum()
    }

    /// Responses with status ≥ 400, plus connection and protocol errors.
    pub fn errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 400)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.io_errors
    }

    /// Count per HTTP status.
    pub fn statuses(&self) -> &BTreeMap<u16, u64> {
        &self.statuses
    }

    /// The first failure seen, for error messages.
    pub fn first_error(&self) -> Option<&str> {
        self.first_error.as_deref()
    }

    /// Successful responses per second.
    pub fn rate(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // Request counts stay far below 2^52.
        let ok = self.ok() as f64;
        ok / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at percentile `p` (0–100) over all responses.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )] // An index into a vector of latencies.
        let index = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }

    /// Wall-clock time of the run.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Adds a later run's results (its time adds to the elapsed time).
    pub fn append(&mut self, other: Report) {
        self.elapsed += other.elapsed;
        self.merge(other);
        self.latencies.sort_unstable();
    }

    fn merge(&mut self, other: Report) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.io_errors += other.io_errors;
        self.latencies.extend(other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// A raw `POST` request with a JSON body and a bearer token.
pub fn post_json(path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A raw `GET` request.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}

impl Load {
    /// `connections` keep-alive connections to `addr`, each sending requests for `duration`.
    pub fn new(addr: SocketAddr, connections: usize, duration: Duration) -> Load {
        Load {
            addr,
            connections,
            duration,
        }
    }

    /// Runs the load; `request(connection, sequence)` builds each raw HTTP/1.1 request.
    pub async fn run<F>(&self, request: F) -> Report
    where
        F: Fn(usize, u64) -> Vec<u8> + Send + Sync + 'static,
    {
        let request = Arc::new(request);
        let start = Instant::now();
        let deadline = start + self.duration;
        let mut tasks = Vec::with_capacity(self.connections);
        for conn in 0..self.connections {
            let request = Arc::clone(&request);
            let addr = self.addr;
            tasks.push(tokio::spawn(async move {
                connection(addr, conn, deadline, &*request).await
            }));
        }
        let mut report = Report::default();
        for task in tasks {
            match task.await {
                Ok(r) => report.merge(r),
                Err(e) => {
                    report.io_errors += 1;
                    report
                        .first_error
                        .get_or_insert(format!("task failed: {e}"));
                }
            }
        }
        report.elapsed = start.elapsed();
        report.latencies.sort_unstable();
        report
    }
}

async fn connection(
    addr: SocketAddr,
    conn: usize,
    deadline: Instant,
    request: &(dyn Fn(usize, u64) -> Vec<u8> + Send + Sync),
) -> Report {
    let mut report = Report::default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut seq = 0u64;
    while Instant::now() < deadline {
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    report.io_errors += 1;
                    report.first_error.get_or_insert(format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let bytes = request(conn, seq);
        seq += 1;
        let sent = Instant::now();
        match exchange(s, &bytes, &mut buf).await {
            Ok((status, close)) => {
                report.latencies.push(sent.elapsed());
                *report.statuses.entry(status).or_default() += 1;
                if status >= 400 && report.first_error.is_none() {
                    report.first_error = Some(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&buf)
                            .chars()
                            .take(300)
                            .collect::<String>()
                    ));
                }
                if close {
                    stream = None;
                }
            }
            Err(e) => {
                report.io_errors += 1;
                report.first_error.get_or_insert(format!("exchange: {e}"));
                stream = None;
            }
        }
    }
    report
}

/// Sends one request and reads one response; returns the status and whether the server closes.
/// `buf` holds the response afterwards.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, bool)> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    stream.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("connection closed before the response headers"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..header_end]).map_err(|_| invalid("non-UTF-8 headers"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status code"))?;
    let mut length = None;
    let mut close = false;
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                close = true;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(invalid("chunked responses are not supported"));
            }
        }
    }
    let length = length.ok_or_else(|| invalid("no Content-Length"))?;
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("connection closed mid-body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((status, close))
}
