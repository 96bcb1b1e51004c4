//! `cargo xtask bench`: runs the core's criterion benchmarks (native backend), every crate's
//! benchmark script, and the anchors everything is compared with — `openssl speed rsa2048` and a
//! botocore signing loop — then rewrites the "## Anchors (same run)" section of
//! docs/benchmarks.md. The crates' own sections are written by their scripts, not here.

use std::path::PathBuf;
use std::process::Command;

use cfsign_tests::proc::{capture, describe, run_inherit};
use cfsign_tests::{cargo, workspace_root};

use crate::{Options, Result};

const HEADING: &str = "## Anchors (same run)";

/// Runs the benchmarks.
pub(crate) fn run(options: Options) -> Result<()> {
    let mut failures = Vec::new();

    let steps = if options.anchors_only {
        Vec::new()
    } else {
        bench_steps()
    };
    for step in steps {
        println!("== bench: {}", describe(&step));
        let mut step = step;
        if let Err(e) = run_inherit(&mut step) {
            failures.push(e.into());
        }
    }

    println!("== bench: anchors");
    let machine = machine();
    let openssl = openssl_speed();
    let botocore = botocore_loop();
    let section = anchors_section(&machine, &openssl, &botocore);
    print!("{section}");
    let path = workspace_root().join("docs").join("benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    std::fs::write(&path, replace_section(&old, &section))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    if let Err(e) = &openssl {
        failures.push(e.clone());
    }
    if let Err(e) = &botocore {
        failures.push(e.clone());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "some benchmarks failed:\n  {}",
            failures.join("\n  ")
        ))
    }
}

/// Every crate's benchmarks, found by convention, in crate order:
/// `benches/*.rs` → `cargo bench -p CRATE` (the core with `--features native`);
/// `examples/bench.rs` → `cargo run --release -p CRATE --example bench`;
/// `benches/*.sh` → `bash SCRIPT` after `cargo build --release -p CRATE --bins --examples` (scripts
/// find the release binaries and examples under `$CARGO_TARGET_DIR` or `target/`).
fn bench_steps() -> Vec<Command> {
    let mut steps = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("crates"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    crates.sort();
    for dir in crates {
        let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let mut benches: Vec<PathBuf> = std::fs::read_dir(dir.join("benches"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        benches.sort();
        if benches
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "rs"))
        {
            let mut cmd = cargo();
            cmd.args(["bench", "-p", &name]);
            if name == "cfsign" {
                cmd.args(["--features", "native"]);
            }
            steps.push(cmd);
        }
        if dir.join("examples").join("bench.rs").is_file() {
            let mut cmd = cargo();
            cmd.args(["run", "--release", "-p", &name, "--example", "bench"]);
            steps.push(cmd);
        }
        let scripts: Vec<&PathBuf> = benches
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "sh"))
            .collect();
        if !scripts.is_empty() {
            let mut build = cargo();
            build.args(["build", "--release", "-p", &name, "--bins", "--examples"]);
            steps.push(build);
            for script in scripts {
                let mut cmd = Command::new("bash");
                cmd.arg(script).current_dir(workspace_root());
                steps.push(cmd);
            }
        }
    }
    steps
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let version = |cmd: &mut Command| {
        capture(cmd, None)
            .ok()
            .filter(|o| o.ok())
            .map(|o| {
                o.stdout
                    .trim()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| "absent".to_owned())
    };
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!(
        "{cpu}, {cores} cores available, load average {load}; {}; botocore {}",
        version(Command::new("openssl").arg("version")),
        version(
            Command::new("python3").args(["-c", "import botocore; print(botocore.__version__)"])
        )
    )
}

/// `openssl speed -seconds 3 rsa2048`: (sign/s, verify/s) of one core.
fn openssl_speed() -> Result<(f64, f64)> {
    let mut cmd = Command::new("openssl");
    cmd.args(["speed", "-seconds", "3", "rsa2048"]);
    println!("$ {}", describe(&cmd));
    let out = capture(&mut cmd, None)?;
    if !out.ok() {
        return Err(format!("`{}` failed: {}", describe(&cmd), out.summary()));
    }
    parse_openssl_speed(&out.stdout)
        .ok_or_else(|| format!("cannot read `openssl speed` output: {}", out.stdout))
}

fn parse_openssl_speed(text: &str) -> Option<(f64, f64)> {
    // "rsa 2048 bits 0.000603s 0.000018s   1658.3  56092.0"
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("rsa 2048 bits"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok())
        .collect();
    match numbers.as_slice() {
        [.., sign, verify] => Some((*sign, *verify)),
        _ => None,
    }
}

const BOTOCORE_LOOP: &str = r#"
import time
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signer = CloudFrontSigner("K2JCJMDEHXQW5F", lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
import datetime
when = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
n, start = 0, time.perf_counter()
while time.perf_counter() - start < 3.0:
    signer.generate_presigned_url("https://d111111abcdef8.cloudfront.net/private/%d.jpg" % n, date_less_than=when)
    n += 1
print(n / (time.perf_counter() - start))
"#;

/// A botocore `CloudFrontSigner` canned-URL loop for 3 s: URLs/s on one core.
fn botocore_loop() -> Result<f64> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", BOTOCORE_LOOP]);
    println!("$ python3 -c <botocore CloudFrontSigner loop, 3 s>");
    let out = capture(&mut cmd, None)
        .map_err(|e| format!("python3 is needed for the botocore anchor: {e}"))?;
    if !out.ok() {
        return Err(format!(
            "botocore loop failed (pip install botocore cryptography): {}",
            out.summary()
        ));
    }
    out.stdout
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("botocore loop printed `{}`", out.stdout.trim()))
}

fn anchors_section(machine: &str, openssl: &Result<(f64, f64)>, botocore: &Result<f64>) -> String {
    let date = capture(
        Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]),
        None,
    )
    .map(|o| o.stdout.trim().to_owned())
    .unwrap_or_default();
    let openssl = match openssl {
        Ok((sign, verify)) => format!(
            "| `openssl speed -seconds 3 rsa2048`, one core | {sign:.0} signatures/s, {verify:.0} verifications/s |"
        ),
        Err(e) => format!("| `openssl speed -seconds 3 rsa2048` | failed: {e} |"),
    };
    let botocore = match botocore {
        Ok(rate) => format!(
            "| botocore `CloudFrontSigner.generate_presigned_url` loop (canned, RSA-2048 via cryptography), one core, 3 s | {rate:.0} URLs/s |"
        ),
        Err(e) => format!(
            "| botocore signing loop | failed: {} |",
            e.replace('|', "/")
        ),
    };
    format!(
        "{HEADING}\n\n\
         Written by `cargo xtask bench` on {date}: {machine}. `cargo xtask bench` runs every\n\
         crate's benchmarks (criterion benches, `examples/bench.rs`, `benches/*.sh`) and then these\n\
         anchors, so numbers from one run compare with each other; a loaded machine lowers all of them.\n\n\
         | Anchor | Result |\n|---|---|\n{openssl}\n{botocore}\n\n"
    )
}

/// Replaces the anchors section of `doc` (from its heading to the next `## `), or appends it.
fn replace_section(doc: &str, section: &str) -> String {
    let Some(start) = doc.find(HEADING) else {
        let mut out = doc.trim_end().to_owned();
        out.push_str("\n\n");
        out.push_str(section);
        return out;
    };
    let after = start + HEADING.len();
    let end = doc[after..]
        .find("\n## ")
        .map_or(doc.len(), |i| after + i + 1);
    format!("{}{}{}", &doc[..start], section, &doc[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_anchor_section() {
        let doc =
            "# Benchmarks\n\n## cfsign\nx\n\n## Anchors (same run)\nold\n\n## cfsign-mock\ny\n";
        let new = replace_section(doc, "## Anchors (same run)\nnew\n\n");
        assert_eq!(
            new,
            "# Benchmarks\n\n## cfsign\nx\n\n## Anchors (same run)\nnew\n\n## cfsign-mock\ny\n"
        );
        let appended = replace_section("# Benchmarks\n", "## Anchors (same run)\nnew\n");
        assert_eq!(appended, "# Benchmarks\n\n## Anchors (same run)\nnew\n");
    }

    #[test]
    fn reads_openssl_speed() {
        let out = "                  sign    verify    sign/s verify/s\nrsa 2048 bits 0.000603s 0.000018s   1658.3  56092.0\n";
        assert_eq!(parse_openssl_speed(out), Some((1658.3, 56092.0)));
    }
}
