//! The request log: every edge request with its decision and explanation, kept in a bounded
//! in-memory ring for `GET /_cfsign/requests` and the console, and the filters that query it.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many requests the ring keeps by default; the oldest is dropped first.
pub const DEFAULT_REQUEST_LOG_ENTRIES: usize = 1000;

/// What the edge decided for one request, before any origin was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// The cache behaviour is not restricted: no signature was needed.
    Public,
    /// The signature (URL or cookies) was verified.
    Granted,
    /// Denied with one of CloudFront's 403 codes.
    Denied,
    /// Refused before any signature check (distribution disabled, method, no behaviour).
    Refused,
}

/// The edge's explanation of one request: what was decided and why, in words a person reads.
#[derive(Debug, Clone)]
pub(crate) struct Explanation {
    /// The decision.
    pub(crate) verdict: Verdict,
    /// The CloudFront error code (`MissingKey`, `AccessDenied`, …) when there is one.
    pub(crate) code: Option<String>,
    /// The core's short reason identifier (`expired`, `bad_signature`, …) for denials.
    pub(crate) kind: Option<&'static str>,
    /// The cache behaviour's path pattern (`*` for the default behaviour).
    pub(crate) behaviour: Option<String>,
    /// The sentence a person reads.
    pub(crate) text: String,
}

impl Explanation {
    /// A decision with an explanation and nothing else.
    pub(crate) fn new(verdict: Verdict, text: impl Into<String>) -> Explanation {
        Explanation {
            verdict,
            code: None,
            kind: None,
            behaviour: None,
            text: text.into(),
        }
    }

    /// The same, with a CloudFront error code.
    pub(crate) fn with_code(mut self, code: impl Into<String>) -> Explanation {
        self.code = Some(code.into());
        self
    }

    /// The value of the opt-in `x-cfsign-reason` header: the verdict, the code and the text,
    /// with anything that is not visible ASCII replaced so it is always a valid header value.
    pub(crate) fn header_value(&self) -> String {
        let mut out = match &self.code {
            Some(code) => format!("{code}: {}", self.text),
            None => format!("{}: {}", verdict_word(self.verdict), self.text),
        };
        out = out
            .chars()
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        out
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Public => "public",
        Verdict::Granted => "granted",
        Verdict::Denied => "denied",
        Verdict::Refused => "refused",
    }
}

/// One logged edge request, as `GET /_cfsign/requests` returns it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    /// A sequence number, increasing by one per request since start (a cursor for `after=`).
    pub(crate) id: u64,
    /// The mock clock's time of the decision, in milliseconds since the Unix epoch.
    pub(crate) time_ms: u64,
    /// The same time in RFC 3339.
    pub(crate) time: String,
    /// The distribution's ID.
    pub(crate) distribution_id: String,
    /// The distribution's domain name.
    pub(crate) domain_name: String,
    /// `GET`, `HEAD`, …
    pub(crate) method: String,
    /// The URL as the client sent it, with the `Signature` value shortened.
    pub(crate) url: String,
    /// Whether the request carried `CloudFront-*` cookies.
    pub(crate) cookies: bool,
    /// The viewer's address.
    pub(crate) client_ip: String,
    /// The HTTP status sent.
    pub(crate) status: u16,
    /// The decision.
    pub(crate) decision: Verdict,
    /// The CloudFront error code, if any.
    pub(crate) code: Option<String>,
    /// The core's reason identifier for denials.
    pub(crate) reason: Option<&'static str>,
    /// The matching cache behaviour's path pattern (`*` for the default behaviour).
    pub(crate) behaviour: Option<String>,
    /// The explanation a person reads.
    pub(crate) explanation: String,
}

/// Which logged requests to return.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filter {
    /// Only this distribution (ID or domain name, case-insensitive).
    pub(crate) distribution: Option<String>,
    /// Only this status (`403`) or class (`4xx`).
    pub(crate) status: Option<StatusFilter>,
    /// Only requests at or after this time (milliseconds since the Unix epoch).
    pub(crate) since_ms: Option<u64>,
    /// Only requests with an ID greater than this.
    pub(crate) after: Option<u64>,
    /// Only this decision.
    pub(crate) decision: Option<Verdict>,
    /// At most this many (newest first).
    pub(crate) limit: Option<usize>,
}

/// A status filter: one code or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusFilter {
    /// Exactly this status.
    Exact(u16),
    /// Any status whose first digit is this.
    Class(u16),
}

impl StatusFilter {
    /// Parses `403` or `4xx`; `None` names what is wrong.
    pub(crate) fn parse(text: &str) -> Result<StatusFilter, String> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(d) = lower.strip_suffix("xx")
            && let Ok(c @ 1..=5) = d.parse::<u16>()
        {
            return Ok(StatusFilter::Class(c));
        }
        match t.parse::<u16>() {
            Ok(s @ 100..=599) => Ok(StatusFilter::Exact(s)),
            _ => Err(format!(
                "status `{text}` is not an HTTP status (like 403) or a class (like 4xx)"
            )),
        }
    }

    fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Exact(s) => s == status,
            StatusFilter::Class(c) => status / 100 == c,
        }
    }
}

impl Verdict {
    /// Parses `public`, `granted`, `denied` or `refused`.
    pub(crate) fn parse(text: &str) -> Result<Verdict, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Verdict::Public),
            "granted" => Ok(Verdict::Granted),
            "denied" => Ok(Verdict::Denied),
            "refused" => Ok(Verdict::Refused),
            _ => Err(format!(
                "decision `{text}` is not one of public, granted, denied, refused"
            )),
        }
    }
}

/// The bounded ring of logged requests.
#[derive(Debug)]
pub(crate) struct RequestLog {
    capacity: usize,
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    next_id: u64,
    entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    /// A ring that keeps the newest `capacity` requests (0 keeps none).
    pub(crate) fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity,
            inner: Mutex::new(Ring {
                next_id: 1,
                entries: VecDeque::with_capacity(capacity.min(4096)),
            }),
        }
    }

    /// Adds a request, giving it the next ID (the `id` field is overwritten); drops the oldest
    /// when full.
    pub(crate) fn push(&self, mut entry: LoggedRequest) -> u64 {
        let mut ring = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let id = ring.next_id;
        ring.next_id += 1;
        if self.capacity == 0 {
            return id;
        }
        entry.id = id;
        if ring.entries.len() >= self.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
        id
    }

    /// The requests that pass `filter`, newest first.
    pub(crate) fn query(&self, filter: &Filter) -> Vec<LoggedRequest> {
        let ring = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let want_dist = filter.distribution.as_deref().map(str::to_ascii_lowercase);
        ring.entries
            .iter()
            .rev()
            .filter(|e| {
                want_dist.as_deref().is_none_or(|d| {
                    e.distribution_id.eq_ignore_ascii_case(d)
                        || e.domain_name.eq_ignore_ascii_case(d)
                })
            })
            .filter(|e| filter.status.is_none_or(|s| s.matches(e.status)))
            .filter(|e| filter.since_ms.is_none_or(|t| e.time_ms >= t))
            .filter(|e| filter.after.is_none_or(|a| e.id > a))
            .filter(|e| filter.decision.is_none_or(|d| e.decision == d))
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }
}

/// The URL with each `Signature` parameter's value shortened to its first 12 characters and
/// `…`, so a log shows which signature it was without keeping a usable bearer URL.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, v)) if k == "Signature" && v.len() > 12 => {
                let cut = v.char_indices().nth(12).map_or(v.len(), |(i, _)| i);
                format!("{k}={}…", &v[..cut])
            }
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dist: &str, status: u16, time_ms: u64, decision: Verdict) -> LoggedRequest {
        LoggedRequest {
            id: 0,
            time_ms,
            time: String::new(),
            distribution_id: dist.to_owned(),
            domain_name: format!("{}.cloudfront.net", dist.to_ascii_lowercase()),
            method: "GET".to_owned(),
            url: "http://h/a".to_owned(),
            cookies: false,
            client_ip: "127.0.0.1".to_owned(),
            status,
            decision,
            code: None,
            reason: None,
            behaviour: None,
            explanation: String::new(),
        }
    }

    #[test]
    fn ring_is_bounded_and_newest_first() {
        let log = RequestLog::new(3);
        for i in 0..5 {
            log.push(entry("E1", 200, i, Verdict::Public));
        }
        let all = log.query(&Filter::default());
        let ids: Vec<u64> = all.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![5, 4, 3]);
    }

    #[test]
    fn filters() {
        let log = RequestLog::new(10);
        log.push(entry("E1", 200, 10, Verdict::Public));
        log.push(entry("E1", 403, 20, Verdict::Denied));
        log.push(entry("E2", 403, 30, Verdict::Denied));
        log.push(entry("E2", 502, 40, Verdict::Refused));
        let check = |filter: Filter, expected: &[u64]| {
            let ids: Vec<u64> = log.query(&filter).iter().map(|e| e.id).collect();
            assert_eq!(ids, expected, "{filter:?}");
        };
        check(
            Filter {
                distribution: Some("e1".into()),
                ..Filter::default()
            },
            &[2, 1],
        );
        check(
            Filter {
                distribution: Some("E2.cloudfront.net".into()),
                ..Filter::default()
            },
            &[4, 3],
        );
        check(
            Filter {
                status: Some(StatusFilter::Exact(403)),
                ..Filter::default()
            },
            &[3, 2],
        );
        check(
            Filter {
                status: Some(StatusFilter::Class(5)),
                ..Filter::default()
            },
            &[4],
        );
        check(
            Filter {
                since_ms: Some(20),
                after: Some(2),
                ..Filter::default()
            },
            &[4, 3],
        );
        check(
            Filter {
                decision: Some(Verdict::Denied),
                limit: Some(1),
                ..Filter::default()
            },
            &[3],
        );
    }

    #[test]
    fn status_filters_parse() {
        assert_eq!(StatusFilter::parse("403"), Ok(StatusFilter::Exact(403)));
        assert_eq!(StatusFilter::parse("4XX"), Ok(StatusFilter::Class(4)));
        assert!(StatusFilter::parse("forbidden").is_err());
        assert!(StatusFilter::parse("9xx").is_err());
    }

    #[test]
    fn signatures_are_shortened() {
        assert_eq!(
            redact_url("http://h/a?Expires=1&Signature=abcdefghijklmnopqrstuvwxyz&Key-Pair-Id=K"),
            "http://h/a?Expires=1&Signature=abcdefghijkl…&Key-Pair-Id=K"
        );
        assert_eq!(redact_url("http://h/a"), "http://h/a");
    }

    #[test]
    fn header_values_are_visible_ascii() {
        let e =
            Explanation::new(Verdict::Denied, "expired 5 min — before\n").with_code("AccessDenied");
        assert_eq!(e.header_value(), "AccessDenied: expired 5 min ? before?");
    }
}
