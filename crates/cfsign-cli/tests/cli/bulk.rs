//! Bulk mode: order, per-line options and errors, threads, broken pipes.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::Stdio;

use crate::util::{Dir, KEY_ID, RSA_KEY, RSA_PUB};

fn bulk_args(threads: &str) -> Vec<&str> {
    vec![
        "sign",
        "-",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-at",
        "2037-01-01",
        "--threads",
        threads,
    ]
}

#[test]
fn output_is_in_input_order_and_independent_of_threads() {
    let dir = Dir::new();
    let urls: Vec<String> = (0..700)
        .map(|i| {
            format!(
                "https://d111111abcdef8.cloudfront.net/f/{i}.jpg?n={}",
                i * 7
            )
        })
        .collect();
    let input = urls.join("\n") + "\n";
    let one = dir.run_stdin(&bulk_args("1"), &input);
    let two = dir.run_stdin(&bulk_args("2"), &input);
    let many = dir.run_stdin(&bulk_args("7"), &input);
    assert_eq!(one.ok(), two.ok());
    assert_eq!(one.ok(), many.ok());
    let lines: Vec<&str> = one.stdout.lines().collect();
    assert_eq!(lines.len(), urls.len());
    for (url, line) in urls.iter().zip(&lines) {
        assert!(
            line.starts_with(&format!("{url}&Expires=2114380800&Signature=")),
            "{line}"
        );
    }
    // Each equals the one-shot result.
    for index in [0, 345, 699] {
        assert_eq!(
            lines[index],
            dir.sign(&urls[index], &["--expires-at", "2037-01-01"])
        );
    }
}

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_are_signed() {
    let dir = Dir::new();
    let input = "\
https://d1.example.net/ok1.jpg
not a url
# a comment

{\"url\": \"https://d1.example.net/ok2.jpg\", \"expires_in\": \"10m\", \"ip\": \"192.0.2.1\"}
{\"url\": \"https://d1.example.net/late.jpg\", \"expires_at\": \"2020-01-01\"}
{\"url\": \"https://d1.example.net/x.jpg\", \"expires\": 5}
{broken json
https://d1.example.net/ok3.jpg?Signature=abc
https://d1.example.net/ok4.jpg
";
    let out = dir.run_stdin(&bulk_args("2"), input);
    assert_eq!(out.code, 1, "{out:#?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out:#?}");
    assert!(lines[0].starts_with("https://d1.example.net/ok1.jpg?Expires="));
    assert!(lines[1].starts_with("https://d1.example.net/ok2.jpg?Policy="));
    assert!(lines[2].starts_with("https://d1.example.net/ok4.jpg?Expires="));
    for needle in [
        "line 2:",
        "line 6:",
        "in the past",
        "line 7:",
        "expires",
        "line 8:",
        "line 9:",
        "signed already",
    ] {
        assert!(
            out.stderr.contains(needle),
            "stderr lacks {needle:?}: {out:#?}"
        );
    }
    assert!(
        !out.stderr.contains("line 1:")
            && !out.stderr.contains("line 3:")
            && !out.stderr.contains("line 4:")
    );
    assert!(out.stderr.contains("5 of 10 lines failed"), "{out:#?}");
    // The per-line options took effect: the IP restriction is in the policy.
    let inspect = dir.run(&["inspect", lines[1]]);
    assert!(inspect.ok().contains("192.0.2.1/32"), "{inspect:#?}");
    let trusted = format!("{KEY_ID}={RSA_PUB}");
    dir.run(&[
        "verify",
        lines[1],
        "--trusted-key",
        &trusted,
        "--client-ip",
        "192.0.2.1",
    ])
    .ok();
}

#[test]
fn json_output_per_line() {
    let dir = Dir::new();
    let mut args = bulk_args("2");
    args.extend(["--format", "json"]);
    let out = dir.run_stdin(
        &args,
        "https://d1.example.net/a.jpg\nhttps://d1.example.net/b.jpg\n",
    );
    let lines: Vec<serde_json::Value> = out
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://d1.example.net/b.jpg?Expires=2114380800")
    );
    assert_eq!(lines[1]["policy"], "canned");
    assert_eq!(lines[1]["line"], 2);
}

#[test]
fn stdin_without_urls() {
    let dir = Dir::new();
    // Explicit `-` with empty input: nothing to do.
    assert_eq!(dir.run_stdin(&bulk_args("1"), "").ok(), "");
    // No URL at all and nothing on stdin: a usage error.
    dir.run(&[
        "sign",
        "--key-pair-id",
        KEY_ID,
        "--private-key",
        RSA_KEY,
        "--expires-in",
        "1h",
    ])
    .fails(2, &["no URL given"]);
    // A bad key fails once, before reading input.
    let out = dir.run_stdin(
        &[
            "sign",
            "-",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            "nope.pem",
            "--expires-in",
            "1h",
        ],
        "https://d1.example.net/a.jpg\n",
    );
    out.fails(2, &["nope.pem"]);
    // So does a bad expiry flag: once, not once per line.
    let out = dir.run_stdin(
        &[
            "sign",
            "-",
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
            "--expires-at",
            "2020-01-01",
        ],
        "https://d1.example.net/a.jpg\nhttps://d1.example.net/b.jpg\n",
    );
    out.fails(2, &["in the past"]);
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    // Without an expiry flag, plain lines need one and JSON lines can bring their own.
    let out = dir.run_stdin(
        &["sign", "-", "--key-pair-id", KEY_ID, "--private-key", RSA_KEY],
        "https://d1.example.net/a.jpg\n{\"url\":\"https://d1.example.net/b.jpg\",\"expires_in\":60}\n",
    );
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stderr.contains("line 1: no expiry"), "{out:#?}");
    assert!(
        out.stdout
            .starts_with("https://d1.example.net/b.jpg?Expires="),
        "{out:#?}"
    );
}

#[test]
fn a_closed_output_pipe_is_not_an_error() {
    let dir = Dir::new();
    let mut child = dir
        .command(&bulk_args("2"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..10_000 {
            if writeln!(stdin, "https://d1.example.net/{i}.jpg").is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("https://d1.example.net/0.jpg?Expires="));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
