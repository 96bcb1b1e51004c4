//! Helpers: run the real `cfsign` binary in its own temporary directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) const KEY_ID: &str = "K2JCJMDEHXQW5F";
pub(crate) const RSA_KEY: &str = "rsa.pem";
pub(crate) const RSA_PUB: &str = "rsa.pub.pem";
pub(crate) const EC_KEY: &str = "ec.pem";
pub(crate) const EC_PUB: &str = "ec.pub.pem";

/// A temporary directory holding copies of the test keys; commands run inside it.
pub(crate) struct Dir {
    tmp: tempfile::TempDir,
}

/// What a run of the binary produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// Asserts exit code 0 and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        &self.stdout
    }

    /// Asserts `code` and that stderr mentions every one of `needles`.
    #[track_caller]
    pub(crate) fn fails(&self, code: i32, needles: &[&str]) {
        assert_eq!(self.code, code, "{self:#?}");
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}: {self:#?}"
            );
        }
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
    }
}

impl Dir {
    pub(crate) fn new() -> Dir {
        let tmp = tempfile::tempdir().unwrap();
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        for (from, to) in [
            ("openssl-genrsa-traditional-2048.pem", RSA_KEY),
            ("openssl-genrsa-traditional-2048.pub.pem", RSA_PUB),
            ("openssl-ecparam-prime256v1.pem", EC_KEY),
            ("openssl-ecparam-prime256v1.pub.pem", EC_PUB),
        ] {
            std::fs::copy(data.join(from), tmp.path().join(to)).unwrap();
        }
        Dir { tmp }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// The binary, in this directory, with no key variables inherited.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign"));
        cmd.args(args)
            .current_dir(self.tmp.path())
            .env_remove("AWS_CLOUDFRONT_KEY")
            .env_remove("AWS_CLOUDFRONT_KEY_ID")
            .env_remove("AWS_CLOUDFRONT_KEY_PASSPHRASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        collect(self.command(args).output().unwrap())
    }

    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        collect(cmd.output().unwrap())
    }

    pub(crate) fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self.command(args).stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_owned();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        collect(out)
    }

    /// `cfsign sign URL` with the RSA test key and `extra` flags; the signed URL without newline.
    #[track_caller]
    pub(crate) fn sign(&self, url: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "sign",
            url,
            "--key-pair-id",
            KEY_ID,
            "--private-key",
            RSA_KEY,
        ];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        out.ok().trim_end_matches('\n').to_owned()
    }
}

fn collect(out: std::process::Output) -> Output {
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Whether an external tool is usable. Outside CI a missing tool skips the test loudly; with
/// `CI=true` it fails the test.
pub(crate) fn have_tool(name: &str, probe: &[&str]) -> bool {
    let ok = Command::new(name)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "`{name}` is required in CI (probe `{name} {}` failed)",
                probe.join(" ")
            );
        }
        eprintln!(
            "\n!!!!! SKIPPING: `{name}` is not usable here (probe `{name} {}` failed); this test runs in CI !!!!!\n",
            probe.join(" ")
        );
    }
    ok
}

/// Unix time now.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
