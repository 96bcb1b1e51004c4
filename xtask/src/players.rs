//! e2e's players leg: ffmpeg and headless Chromium (hls.js, dash.js) play a private HLS and DASH
//! stream through the mock's edge, and fail on 403 or CORS exactly when CloudFront would. The
//! checks are `cargo test -p cfsign-mock --test ffmpeg --test browser` (whatever `cargo test` can
//! do stays there); this leg runs them and reports. Without ffmpeg or Chromium the tests skip,
//! and the leg says so, unless `CI=true`, where they fail.

use cfsign_tests::proc::{capture, truncate};

use crate::Options;
use crate::report::Report;

/// Runs the player tests and records one check per test binary.
pub(crate) fn leg(options: Options, report: &mut Report) {
    report.section("players (ffmpeg, Chromium)");
    for test in ["ffmpeg", "browser"] {
        let mut cmd = cfsign_tests::cargo();
        cmd.args(["test", "-p", "cfsign-mock", "--test", test]);
        if options.release {
            cmd.arg("--release");
        }
        cmd.args(["--", "--nocapture"]);
        let name = format!("cargo test -p cfsign-mock --test {test}");
        match capture(&mut cmd, None) {
            Err(e) => report.fail(&name, e.to_string()),
            Ok(out) if !out.ok() => report.fail(
                &name,
                truncate(&format!("{}\n{}", out.stdout, out.stderr), 4000),
            ),
            Ok(out) => {
                let skipped = out
                    .stderr
                    .lines()
                    .find(|l| l.contains("SKIPPING"))
                    .map(str::trim);
                let detail = match skipped {
                    Some(why) => why.to_owned(),
                    None => {
                        let shots: Vec<&str> = out
                            .stderr
                            .lines()
                            .filter_map(|l| l.strip_prefix("screenshot: "))
                            .collect();
                        let measured: Vec<&str> = out
                            .stderr
                            .lines()
                            .filter_map(|l| l.strip_prefix("measured: "))
                            .collect();
                        for m in &measured {
                            println!("  measured: {m}");
                        }
                        if shots.is_empty() {
                            "played; every frame decoded, 403s where CloudFront denies".to_owned()
                        } else {
                            format!(
                                "played and denied as expected; screenshots: {}",
                                shots.join(" ")
                            )
                        }
                    }
                };
                report.pass(&name, detail);
            }
        }
    }
}
