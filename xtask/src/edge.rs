//! Fetching through the mock's edge and checking what it served: exactly the origin file.

use cfsign_tests::http;
use cfsign_tests::proc::truncate;

use crate::{Result, stack};

/// GET through the edge, expecting 200 and exactly the origin file's bytes.
pub(crate) fn expect_served(url: &str, cookie: Option<&str>, origin_path: &str) -> Result<String> {
    let expected = stack::origin_files()
        .into_iter()
        .find(|(p, _)| *p == origin_path)
        .map(|(_, b)| b)
        .ok_or_else(|| format!("no origin file {origin_path}"))?;
    let mut req = http::get(url);
    if let Some(c) = cookie {
        req = req.cookie(c);
    }
    let resp = req.send()?;
    if resp.status != 200 {
        return Err(format!(
            "expected 200, got {} {} for {}",
            resp.status,
            truncate(&resp.text(), 200),
            truncate(url, 200)
        ));
    }
    if resp.body != expected {
        return Err(format!(
            "200 but the body differs from origin/{origin_path} ({} bytes vs {})",
            resp.body.len(),
            expected.len()
        ));
    }
    Ok(format!("200, {} bytes match", resp.body.len()))
}
