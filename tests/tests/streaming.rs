//! The streaming commands as a user runs them, with a real player: `cfsign stream cookies
//! --format ffmpeg` and `cfsign stream manifest` sign for a stream's prefix, the `cfsign-mock`
//! binary serves the private stream (made by ffmpeg at test time) from a restricted behaviour, and
//! ffmpeg decodes every frame — or fails on 403 when the cookies have expired.
//! Needs `ffmpeg`; skips without it unless `CI=true`, where it fails.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::process::Output;

use cfsign_tests::media::assert_plays;
use cfsign_tests::proc::{Launch, Service};
use cfsign_tests::require::skip_or_fail;
use cfsign_tests::{command, http, media, run_ok};

struct Fixture {
    _mock: Service,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT/_edge/<domain>/private/v1/`.
    prefix: String,
    key_pair_id: String,
}

impl Fixture {
    /// `cfsign stream <args> --key-pair-id … --private-key …`; its stdout.
    fn stream(&self, args: &[&str]) -> String {
        let mut cmd = command("cfsign");
        cmd.arg("stream")
            .args(args)
            .args(["--key-pair-id", &self.key_pair_id, "--private-key"])
            .arg(self.dir.path().join("key.pem"));
        String::from_utf8(run_ok(&mut cmd).stdout).unwrap()
    }
}

fn fixture() -> Option<Fixture> {
    if let Err(why) = media::ffmpeg_ready() {
        skip_or_fail(&format!("the streaming test cannot run: {why}"));
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    media::make_stream(&origin.join("private/v1")).unwrap();
    run_ok(
        command("cfsign")
            .args(["keygen", "--algorithm", "p256", "--out"])
            .arg(dir.path().join("key.pem"))
            .arg("--public-out")
            .arg(dir.path().join("key.pub.pem")),
    );
    let mut cmd = command("cfsign-mock");
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--origin"])
        .arg(&origin);
    let mock = Launch::new("cfsign-mock", cmd)
        .log(&dir.path().join("mock.log"))
        .start()
        .unwrap();
    let api = format!("{}/2020-05-31", mock.url());
    let pem = std::fs::read_to_string(dir.path().join("key.pub.pem")).unwrap();
    let post = |path: &str, body: String| {
        let r = http::Request::new("POST", &format!("{api}/{path}"))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status, 201, "{path}: {}", r.text());
        r
    };
    let key_pair_id = post(
        "public-key",
        format!(
            "<PublicKeyConfig><CallerReference>stream</CallerReference><Name>stream</Name><EncodedKey>{pem}</EncodedKey></PublicKeyConfig>"
        ),
    )
    .xml("Id")
    .unwrap();
    let group = post(
        "key-group",
        format!(
            "<KeyGroupConfig><Name>stream</Name><Items><PublicKey>{key_pair_id}</PublicKey></Items></KeyGroupConfig>"
        ),
    )
    .xml("Id")
    .unwrap();
    let behaviour = |pattern: &str, groups: &str| {
        format!(
            "{pattern}<TargetOriginId>local</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>{groups}"
        )
    };
    let domain = post(
        "distribution",
        format!(
            "<DistributionConfig><CallerReference>stream</CallerReference><Comment>stream</Comment><Enabled>true</Enabled>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>local</Id><DomainName>origin.local</DomainName>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior>{}</DefaultCacheBehavior>\
<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior>{}</CacheBehavior></Items></CacheBehaviors></DistributionConfig>",
            behaviour("", "<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>"),
            behaviour(
                "<PathPattern>/private/*</PathPattern>",
                &format!("<TrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup>{group}</KeyGroup></Items></TrustedKeyGroups>")
            )
        ),
    )
    .xml("DomainName")
    .unwrap();
    let prefix = format!("{}/_edge/{domain}/private/v1/", mock.url());
    Some(Fixture {
        _mock: mock,
        dir,
        prefix,
        key_pair_id,
    })
}

/// `ffmpeg -i url -f null -`, with ffmpeg's `-headers` value if given.
fn play(url: &str, headers: Option<&str>) -> Output {
    media::play(url, headers).unwrap()
}

#[test]
fn cli_cookies_and_rewritten_manifests_play_in_ffmpeg() {
    let Some(f) = fixture() else { return };
    let headers = f.stream(&[
        "cookies",
        &f.prefix,
        "--expires-in",
        "10m",
        "--format",
        "ffmpeg",
    ]);
    assert!(
        headers.starts_with("Cookie: ") && headers.ends_with("\r\n"),
        "{headers:?}"
    );
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}{manifest}", f.prefix);
        assert_plays(
            &play(&url, Some(&headers)),
            &format!("{manifest} with cookies"),
        );
    }
    // Expired cookies: 403.
    let expired = f.stream(&[
        "cookies",
        &f.prefix,
        "--expires-at",
        "2020-01-01",
        "--allow-expired",
        "--format",
        "ffmpeg",
    ]);
    let out = play(
        &format!("{}{}", f.prefix, media::HLS_MASTER),
        Some(&expired),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("403"));

    // Every playlist rewritten in place by `cfsign stream manifest`, no cookies.
    let stream_dir = f.dir.path().join("origin/private/v1");
    for name in [media::HLS_MASTER, media::HLS_MEDIA, media::DASH_MPD] {
        let file = stream_dir.join(name);
        let signed = f.dir.path().join(format!("signed-{name}"));
        let url = format!("{}{name}", f.prefix);
        f.stream(&[
            "manifest",
            file.to_str().unwrap(),
            "--url",
            &url,
            "--expires-in",
            "10m",
            "--require-all",
            "-o",
            signed.to_str().unwrap(),
        ]);
        std::fs::rename(&signed, &file).unwrap();
    }
    let json = f.stream(&[
        "cookies",
        &f.prefix,
        "--expires-in",
        "10m",
        "--format",
        "json",
    ]);
    let query = serde_json::from_str::<serde_json::Value>(&json).unwrap()["query"]
        .as_str()
        .unwrap()
        .to_owned();
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}{manifest}?{query}", f.prefix);
        assert_plays(&play(&url, None), &format!("rewritten {manifest}"));
    }
}
