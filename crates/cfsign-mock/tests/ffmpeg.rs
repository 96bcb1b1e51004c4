//! ffmpeg, a real player, reads a private HLS and DASH stream through the edge: with the signed
//! cookies of one custom policy for the stream's prefix in one `Cookie:` header, or with every
//! playlist rewritten by `cfsign::stream` to carry that policy's signature, it decodes every
//! frame; with no, expired or wrongly scoped cookies, an expired rewrite, or a signed URL on the
//! master playlist only (relative URIs drop the query), it fails on 403 as CloudFront would.
//! Needs `ffmpeg` (Debian's); skips without it unless `CI=true`, where it fails.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::process::Output;

use cfsign::stream::{SignedParams, sign_manifest};
use cfsign::{CustomPolicy, Resource, Signer, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use cfsign_tests::media::{self, assert_forbidden, assert_plays};
use common::*;

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "media.s3.amazonaws.com";

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

struct Fixture {
    _m: Mock,
    dir: tempfile::TempDir,
    signer: Signer,
    /// `http://127.0.0.1:PORT/_edge/<domain>`: ffmpeg needs no DNS for it.
    base: String,
}

impl Fixture {
    /// The `Cookie:` header of a custom policy for `prefix` (under [`Fixture::base`]).
    fn cookies(&self, prefix: &str, expires: u64) -> String {
        let resource = Resource::new(&format!("{}{prefix}*", self.base)).unwrap();
        self.signer
            .custom_cookies(&CustomPolicy::new(resource, t(expires)))
            .unwrap()
            .cookie_header()
    }

    /// Rewrites every playlist of the stream in place (as an app serving them would) with one
    /// signature for `/private/v1/*` expiring at `expires`; returns the query to add to the
    /// first manifest's URL.
    fn rewrite(&self, expires: u64) -> String {
        self.rewrite_only(
            &[media::HLS_MASTER, media::HLS_MEDIA, media::DASH_MPD],
            expires,
        )
    }

    /// As [`Fixture::rewrite`], for the playlists `names` only.
    fn rewrite_only(&self, names: &[&str], expires: u64) -> String {
        let resource = Resource::new(&format!("{}/private/v1/*", self.base)).unwrap();
        let params =
            SignedParams::sign(&self.signer, &CustomPolicy::new(resource, t(expires))).unwrap();
        let dir = self.dir.path().join("private/v1");
        for name in names {
            let path = dir.join(name);
            let url = format!("{}/private/v1/{name}", self.base);
            let rewritten = sign_manifest(&std::fs::read(&path).unwrap(), &url, &params).unwrap();
            let skipped: Vec<String> = rewritten
                .skipped()
                .iter()
                .map(|s| format!("{} ({:?})", s.uri(), s.reason()))
                .collect();
            assert!(
                rewritten.signed() > 0 && skipped.is_empty(),
                "{name}: {} signed, skipped {skipped:?}",
                rewritten.signed()
            );
            std::fs::write(&path, rewritten.as_str()).unwrap();
        }
        params.query().to_owned()
    }
}

fn fixture() -> Option<Fixture> {
    require("the ffmpeg player test", media::ffmpeg_ready()).ok()?;
    let dir = tempfile::tempdir().unwrap();
    media::make_stream(&dir.path().join("private/v1")).unwrap();
    let m = Mock::start(
        MockConfig::default()
            .with_origin_for(ORIGIN, dir.path())
            .with_clock(Clock::Fixed(t(NOW))),
    );
    let (signer, group) = m.trusted_signer();
    let r = m.post(
        "/2020-05-31/distribution",
        &distribution_config("ffmpeg", true, ORIGIN, &[], &[&group]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let base = format!(
        "http://127.0.0.1:{}/_edge/{}",
        m.port(),
        r.xml("DomainName").unwrap()
    );
    Some(Fixture {
        _m: m,
        dir,
        signer,
        base,
    })
}

/// `ffmpeg -i url -f null -` with an optional `Cookie:` header; its output.
fn play(url: &str, cookie: Option<&str>) -> Output {
    let headers = cookie.map(|c| format!("Cookie: {c}\r\n"));
    media::play(url, headers.as_deref()).unwrap()
}

#[test]
fn ffmpeg_plays_hls_and_dash_with_one_cookie_header() {
    let Some(f) = fixture() else { return };
    let cookie = f.cookies("/private/v1/", NOW + 600);
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}/private/v1/{manifest}", f.base);
        assert_plays(&play(&url, Some(&cookie)), manifest);
    }
}

#[test]
fn ffmpeg_fails_on_403_without_valid_cookies() {
    let Some(f) = fixture() else { return };
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}/private/v1/{manifest}", f.base);
        assert_forbidden(&play(&url, None), &format!("{manifest} without cookies"));
        let expired = f.cookies("/private/v1/", NOW - 1);
        assert_forbidden(&play(&url, Some(&expired)), &format!("{manifest} expired"));
        let elsewhere = f.cookies("/private/v2/", NOW + 600);
        assert_forbidden(
            &play(&url, Some(&elsewhere)),
            &format!("{manifest} for another prefix"),
        );
    }
}

#[test]
fn a_signed_master_url_alone_does_not_play() {
    let Some(f) = fixture() else { return };
    // The classic mistake: sign the manifest's URL only. Its relative URIs resolve without the
    // query, so the media playlist (and every segment) is requested unsigned.
    let policy = CustomPolicy::new(
        Resource::new(&format!("{}/private/v1/*", f.base)).unwrap(),
        t(NOW + 600),
    );
    let url = f
        .signer
        .sign_custom_url(
            &format!("{}/private/v1/{}", f.base, media::HLS_MASTER),
            &policy,
        )
        .unwrap();
    assert_forbidden(&play(&url, None), "signed master only");
    // The same URL with the cookies plays: the signature itself was fine.
    let cookie = f.cookies("/private/v1/", NOW + 600);
    assert_plays(&play(&url, Some(&cookie)), "signed master with cookies");
}

#[test]
fn ffmpeg_plays_rewritten_manifests_without_cookies() {
    let Some(f) = fixture() else { return };
    let query = f.rewrite(NOW + 600);
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}/private/v1/{manifest}?{query}", f.base);
        assert_plays(&play(&url, None), &format!("rewritten {manifest}"));
    }
}

#[test]
fn ffmpeg_fails_on_403_with_an_expired_rewrite() {
    let Some(f) = fixture() else { return };
    let query = f.rewrite(NOW - 1);
    for manifest in [media::HLS_MASTER, media::DASH_MPD] {
        let url = format!("{}/private/v1/{manifest}?{query}", f.base);
        assert_forbidden(&play(&url, None), &format!("expired rewrite of {manifest}"));
    }
}

#[test]
fn a_rewritten_master_alone_does_not_play() {
    let Some(f) = fixture() else { return };
    // The master's variant URI carries the signature to the media playlist, but the media
    // playlist CloudFront serves is the original: its segments go unsigned.
    let query = f.rewrite_only(&[media::HLS_MASTER], NOW + 600);
    let url = format!("{}/private/v1/{}?{query}", f.base, media::HLS_MASTER);
    assert_forbidden(&play(&url, None), "rewritten master only");
}
