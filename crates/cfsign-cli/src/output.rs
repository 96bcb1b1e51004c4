//! Output: a buffered stdout, and JSON pretty-printing that keeps key order.

use std::io::{self, BufWriter, StdoutLock, Write as _};

/// Buffered, locked standard output. Write errors (such as a closed pipe) surface as `io::Error`s.
pub(crate) struct Out {
    inner: BufWriter<StdoutLock<'static>>,
}

impl Out {
    /// Locks stdout.
    pub(crate) fn stdout() -> Out {
        Out {
            inner: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        }
    }

    /// Writes `s` as is.
    pub(crate) fn write_str(&mut self, s: &str) -> io::Result<()> {
        self.inner.write_all(s.as_bytes())
    }

    /// Writes `s` and a newline.
    pub(crate) fn line(&mut self, s: &str) -> io::Result<()> {
        self.inner.write_all(s.as_bytes())?;
        self.inner.write_all(b"\n")
    }

    /// Flushes.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Re-indents compact JSON text with two spaces, keeping key order and every byte of the strings.
pub(crate) fn pretty_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_keeps_order_and_strings() {
        let json = r#"{"Statement":[{"Resource":"https://a/b?c=1,d:{x}","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}],"e":[],"q":"\"{"}"#;
        let pretty = pretty_json(json);
        assert_eq!(
            pretty,
            "{\n  \"Statement\": [\n    {\n      \"Resource\": \"https://a/b?c=1,d:{x}\",\n      \"Condition\": {\n        \
             \"DateLessThan\": {\n          \"AWS:EpochTime\": 5\n        }\n      }\n    }\n  ],\n  \"e\": [],\n  \"q\": \"\\\"{\"\n}"
        );
        let a: serde_json::Value = serde_json::from_str(json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(a, b);
    }
}
