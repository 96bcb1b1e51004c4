//! The pre-flight check of public key and key group names, made before any AWS call so that a
//! bad name fails at once with a message that says what is wrong and how to fix it.
//!
//! CloudFront's API reference documents `Name` in `PublicKeyConfig` and `KeyGroupConfig` only as
//! a required string. The rule checked here is the one CloudFront applies to public key names —
//! 1 to 128 ASCII letters, digits, `-` and `_` (Terraform's AWS provider validates
//! `aws_cloudfront_public_key` names with the same pattern and length) — and it is applied to key
//! group names as well, as cfsign-mock does, so that a name this tool accepts is accepted by both.

use crate::Error;

/// The longest name CloudFront accepts, in characters.
pub(crate) const MAX_NAME_LEN: usize = 128;

/// Checks a public key or key group name; `flag` names the option it came from in the message.
pub(crate) fn check_name(name: &str, flag: &str) -> Result<(), Error> {
    match problem(name) {
        None => Ok(()),
        Some(problem) => Err(Error::Usage(format!("{flag}: {problem}"))),
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// What is wrong with `name` and how to fix it, or `None` when CloudFront accepts it.
fn problem(name: &str) -> Option<String> {
    const RULE: &str = "CloudFront names of public keys and key groups are 1 to 128 ASCII letters, \
                        digits, `-` and `_`";
    if name.is_empty() {
        return Some(format!(
            "the name is empty; {RULE}. Fix: give a name such as `media-signing`"
        ));
    }
    let mut wrong = Vec::new();
    let mut bad = name.chars().enumerate().filter(|(_, c)| !allowed(*c));
    if let Some((position, c)) = bad.next() {
        let more = bad.count();
        wrong.push(format!(
            "contains {} at character {}{}",
            describe(c),
            position + 1,
            match more {
                0 => String::new(),
                1 => " (and 1 more character CloudFront does not accept)".to_owned(),
                n => format!(" (and {n} more characters CloudFront does not accept)"),
            }
        ));
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        wrong.push(format!("is {len} characters long (at most {MAX_NAME_LEN})"));
    }
    if wrong.is_empty() {
        return None;
    }
    let fix = match suggest(name) {
        Some(s) => format!("use `{s}` instead"),
        None => "use only letters, digits, `-` and `_`".to_owned(),
    };
    Some(format!(
        "the name `{}` {}; {RULE}. Fix: {fix}",
        shown(name),
        wrong.join(" and ")
    ))
}

/// A character CloudFront refuses, named so that it can be found in the name.
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c if !c.is_ascii() => format!("`{c}` (U+{:04X}, not ASCII)", u32::from(c)),
        c => format!("`{c}`"),
    }
}

/// The name as shown in a message: control characters escaped, long names cut.
fn shown(name: &str) -> String {
    const SHOWN: usize = 60;
    let escaped: String = name.escape_debug().collect();
    if escaped.chars().count() <= SHOWN {
        escaped
    } else {
        format!("{}…", escaped.chars().take(SHOWN).collect::<String>())
    }
}

/// A name CloudFront accepts that is close to `name`: each run of refused characters becomes
/// one `-` (none at the ends), cut to 128 characters; `None` when nothing usable is left.
fn suggest(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in name.chars() {
        if allowed(c) {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    let out: String = out.chars().take(MAX_NAME_LEN).collect();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(())` when the name is accepted, else fragments the message must contain.
    fn check(name: &str, expected: Result<(), &[&str]>) {
        let got = check_name(name, "--name");
        match (got, expected) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(fragments)) => {
                let msg = e.to_string();
                assert!(msg.starts_with("--name: "), "{name:?}: {msg}");
                assert!(msg.contains("Fix: "), "{name:?}: {msg}");
                for f in fragments {
                    assert!(msg.contains(f), "{name:?}: {msg:?} lacks {f:?}");
                }
            }
            (got, expected) => panic!("{name:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn names() {
        let max = "a".repeat(128);
        let long = "a".repeat(129);
        let long_and_spaced = format!("{} b", "a".repeat(127));
        check("a-b_C9", Ok(()));
        check("0", Ok(()));
        check(&max, Ok(()));
        check(
            "",
            Err(&["the name is empty", "1 to 128", "`media-signing`"]),
        );
        check(
            &long,
            Err(&[
                "is 129 characters long (at most 128)",
                "…",
                &format!("`{max}`"),
            ]),
        );
        check(
            "media signing",
            Err(&[
                "`media signing` contains a space at character 6;",
                "use `media-signing` instead",
            ]),
        );
        check(
            "a/b.c",
            Err(&[
                "contains `/` at character 2 (and 1 more character CloudFront does not accept)",
                "use `a-b-c` instead",
            ]),
        );
        check(
            " key  2 ",
            Err(&["(and 3 more characters", "use `key-2` instead"]),
        );
        check(
            "é",
            Err(&[
                "`é` (U+00E9, not ASCII) at character 1",
                "use only letters, digits, `-` and `_`",
            ]),
        );
        check(
            "tab\tname",
            Err(&[
                "`tab\\tname`",
                "the control character U+0009 at character 4",
                "use `tab-name` instead",
            ]),
        );
        check(
            &long_and_spaced,
            Err(&[
                "contains a space at character 128 and is 129 characters long",
                &format!("use `{}` instead", &format!("{}-b", "a".repeat(127))[..128]),
            ]),
        );
    }
}
