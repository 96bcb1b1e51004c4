//! The query strings of `/_cfsign/` endpoints: decoded pairs and the request-log filter.

use cfsign::UnixTime;

use crate::edge::percent_decode;
use crate::requests::{Filter, StatusFilter, Verdict};

/// The decoded `name=value` pairs of a query string (`+` is a space).
pub(super) fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The request-log filter: `distribution` (ID or domain name), `status` (`403` or `4xx`),
/// `decision`, `since` (RFC 3339 or Unix seconds), `after` (a request ID), `limit`. Empty values
/// are ignored; anything else that does not parse is an error naming the parameter.
pub(super) fn filter(params: &[(String, String)]) -> Result<Filter, String> {
    let mut filter = Filter::default();
    for (name, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "distribution" => filter.distribution = Some(value.to_owned()),
            "status" => filter.status = Some(StatusFilter::parse(value)?),
            "decision" => filter.decision = Some(Verdict::parse(value)?),
            "since" => {
                let t = UnixTime::parse(value).map_err(|e| {
                    format!("since `{value}` is not a time (RFC 3339 or Unix seconds): {e}")
                })?;
                filter.since_ms = Some(t.as_secs().saturating_mul(1000));
            }
            "after" => {
                filter.after = Some(
                    value
                        .parse()
                        .map_err(|_| format!("after `{value}` is not a request id"))?,
                );
            }
            "limit" => {
                filter.limit = Some(
                    value
                        .parse()
                        .map_err(|_| format!("limit `{value}` is not a number"))?,
                );
            }
            other => {
                return Err(format!(
                    "unknown parameter `{other}`: use distribution, status, decision, since, after or limit"
                ));
            }
        }
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = filter(&pairs(
            "distribution=E1&status=4xx&since=1767225600&after=3&limit=2&decision=",
        ))
        .unwrap();
        assert_eq!(f.distribution.as_deref(), Some("E1"));
        assert_eq!(f.status, Some(StatusFilter::Class(4)));
        assert_eq!(f.since_ms, Some(1_767_225_600_000));
        assert_eq!((f.after, f.limit, f.decision), (Some(3), Some(2), None));
        assert!(
            filter(&pairs("since=yesterday"))
                .unwrap_err()
                .contains("since")
        );
        assert!(filter(&pairs("colour=red")).unwrap_err().contains("colour"));
    }
}
