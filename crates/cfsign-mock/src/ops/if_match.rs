//! `If-Match`: every update and delete names the ETag it read.

use crate::api_error::ApiError;

/// Checks `If-Match` against the current ETag: missing → 400, stale → 412.
pub(crate) fn check_if_match(if_match: Option<&str>, etag: &str) -> Result<(), ApiError> {
    match if_match.map(str::trim) {
        None | Some("") => Err(ApiError::new(
            400,
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource. Send the ETag from the last Get of this resource.",
        )),
        Some(given) if given.trim_matches('"') == etag => Ok(()),
        Some(given) => Err(ApiError::new(
            412,
            "PreconditionFailed",
            format!(
                "The precondition given in one or more of the request-header fields evaluated to false: If-Match `{given}` is not the current ETag; get the resource again and retry with its ETag."
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match() {
        assert_eq!(check_if_match(None, "E1").unwrap_err().status, 400);
        assert_eq!(
            check_if_match(Some(" "), "E1").unwrap_err().code,
            "InvalidIfMatchVersion"
        );
        assert_eq!(check_if_match(Some("E2"), "E1").unwrap_err().status, 412);
        assert!(check_if_match(Some("E1"), "E1").is_ok());
        assert!(check_if_match(Some("\"E1\""), "E1").is_ok());
    }
}
