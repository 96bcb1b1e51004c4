//! The fields config documents share, checked as CloudFront's API reference describes them: the
//! root element, required elements, `Name` (public keys and key groups) and `Comment`.

use crate::api_error::ApiError;
use crate::xml::Element;

/// The longest `Name` of a public key or key group, in characters.
const MAX_NAME_CHARS: usize = 128;
/// The longest `Comment`, in characters ("The comment cannot be longer than 128 characters").
const MAX_COMMENT_CHARS: usize = 128;

/// The text of a required child element; a missing one is `InvalidArgument`.
pub(crate) fn required_text<'a>(e: &'a Element, name: &str) -> Result<&'a str, ApiError> {
    e.child_text(name).ok_or_else(|| {
        ApiError::invalid_argument(format!(
            "{} is missing the required element {name}.",
            e.name
        ))
    })
}

/// The body must be a `<name>` document; anything else is `MalformedXML`.
pub(crate) fn expect_root(e: &Element, name: &str) -> Result<(), ApiError> {
    if e.name == name {
        Ok(())
    } else {
        Err(ApiError::malformed(format!(
            "The request body must be a <{name}> document, not <{}>.",
            e.name
        )))
    }
}

/// The `Name` of a `PublicKeyConfig` or `KeyGroupConfig` (`kind` says which, for the message).
///
/// The API reference says only that `Name` is a required string. The rule checked here, 1 to 128
/// ASCII letters, digits, `-` and `_`, is the one Terraform's AWS provider enforces for public key
/// names (`validPublicKeyName`); the mock applies it to key group names too, the stricter choice,
/// so a client whose names pass the mock is not refused by CloudFront for them.
pub(crate) fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let valid = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid_argument(format!(
            "The {kind} name `{name}` is not valid: use 1 to {MAX_NAME_CHARS} letters, digits, hyphens and underscores."
        )))
    }
}

/// The optional `Comment`: at most 128 characters.
pub(crate) fn check_comment(comment: Option<&str>) -> Result<(), ApiError> {
    match comment {
        Some(c) if c.chars().count() > MAX_COMMENT_CHARS => Err(ApiError::invalid_argument(
            format!("The Comment is longer than {MAX_COMMENT_CHARS} characters."),
        )),
        _ => Ok(()),
    }
}

/// A required boolean child: `true` or `false`, anything else is `InvalidArgument`.
pub(crate) fn parse_bool(e: &Element, name: &str) -> Result<bool, ApiError> {
    match required_text(e, name)?.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::invalid_argument(format!(
            "{}/{name} must be true or false, not `{other}`.",
            e.name
        ))),
    }
}

/// Every element with `Quantity` must have as many `Items` children.
pub(crate) fn check_quantities(e: &Element, path: &str) -> Result<(), ApiError> {
    let here = if path.is_empty() {
        e.name.clone()
    } else {
        format!("{path}/{}", e.name)
    };
    if let Some(q) = e.child_text("Quantity") {
        let quantity: usize = q.trim().parse().map_err(|_| {
            ApiError::invalid_argument(format!("{here}/Quantity `{q}` is not a number."))
        })?;
        let items = e.child("Items").map_or(0, |i| i.children.len());
        if quantity != items {
            return Err(ApiError::new(
                400,
                "InconsistentQuantities",
                format!(
                    "The value of Quantity and the size of Items don't match: {here} has Quantity {quantity} but {items} item(s)."
                ),
            ));
        }
    }
    for child in &e.children {
        check_quantities(child, &here)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let check = |name: &str, ok: bool| {
            let result = check_name("key group", name);
            assert_eq!(result.is_ok(), ok, "{name:?}: {result:?}");
            if let Err(e) = result {
                assert_eq!((e.status, e.code), (400, "InvalidArgument"), "{name:?}");
                assert!(
                    e.message
                        .contains("1 to 128 letters, digits, hyphens and underscores"),
                    "{}",
                    e.message
                );
                assert!(e.message.contains("key group name"), "{}", e.message);
            }
        };
        check("a", true);
        check("Z", true);
        check("7", true);
        check("-", true);
        check("_", true);
        check("media-signing_2026", true);
        check("cfsign-mock-demo-key", true);
        check(&"x".repeat(128), true);
        check("", false);
        check(&"x".repeat(129), false);
        // 64 two-byte characters: 128 bytes, but not ASCII.
        check(&"é".repeat(64), false);
        for bad in [
            "a b", " a", "a ", "a.b", "a/b", "a:b", "a@b", "a+b", "a=b", "a*", "a\n", "a\t",
            "ключ", "é", "a\u{0}",
        ] {
            check(bad, false);
        }
    }

    #[test]
    fn comments() {
        assert!(check_comment(None).is_ok());
        assert!(check_comment(Some("")).is_ok());
        assert!(check_comment(Some(&"é".repeat(128))).is_ok());
        let e = check_comment(Some(&"c".repeat(129))).unwrap_err();
        assert_eq!((e.status, e.code), (400, "InvalidArgument"));
    }
}
