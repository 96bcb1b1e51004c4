//! A real browser plays a private stream cross-origin: the player page (hls.js, dash.js) on
//! `player.cfsign.test`, the media on `media.cfsign.test` behind a restricted behaviour with a
//! custom response headers policy (the page's origin, credentials), both distributions of one
//! mock on loopback (`--host-resolver-rules`), headless Debian Chromium driven by playwright-core.
//! With cookies for the stream's prefix playback passes 2 s with no 403; with cookies for another
//! prefix it never starts and the page shows the 403s. Screenshots go to
//! `target/tmp/browser-*.png`.
//!
//! Needs `/usr/bin/chromium` (or `CFSIGN_CHROMIUM`), `node` and `npm ci` in `tests/browser/players`;
//! without them it skips, unless `CI=true`, where it fails.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cfsign::stream::{SignedParams, sign_manifest};
use cfsign::{CustomPolicy, Resource, Signer, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use cfsign_tests::http::percent_encode;
use cfsign_tests::media;
use common::*;

const NOW: u64 = 1_800_000_000;
const MEDIA_ORIGIN: &str = "media.s3.amazonaws.com";
const PAGE_ORIGIN: &str = "page.s3.amazonaws.com";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/players")
}

fn chromium() -> PathBuf {
    std::env::var_os("CFSIGN_CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from)
}

/// Whether Chromium, node and the npm packages are there.
fn browser_ready() -> Result<(), String> {
    if !chromium().is_file() {
        return Err(format!(
            "no Chromium at {} (apt-get install chromium, or set CFSIGN_CHROMIUM)",
            chromium().display()
        ));
    }
    Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node ({e}); apt-get install nodejs npm"))?;
    for package in ["playwright-core", "hls.js", "dashjs"] {
        if !browser_dir().join("node_modules").join(package).is_dir() {
            return Err(format!(
                "{package} is not installed: run `npm ci` in tests/browser/players"
            ));
        }
    }
    Ok(())
}

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

/// The player page's files: the page, its script and the two players from `node_modules`.
fn write_page(dir: &Path) {
    let browser = browser_dir();
    std::fs::create_dir_all(dir).unwrap();
    for (from, to) in [
        (browser.join("page/player.html"), "player.html"),
        (browser.join("page/player.js"), "player.js"),
        (
            browser.join("node_modules/hls.js/dist/hls.min.js"),
            "hls.min.js",
        ),
        (
            browser.join("node_modules/dashjs/dist/modern/umd/dash.all.min.js"),
            "dash.all.min.js",
        ),
    ] {
        std::fs::copy(&from, dir.join(to))
            .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn alias_distribution(caller: &str, alias: &str, origin: &str, private: &str) -> String {
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>{caller}</CallerReference>\
<Aliases><Quantity>1</Quantity><Items><CNAME>{alias}</CNAME></Items></Aliases>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>{origin}</DomainName><OriginPath></OriginPath>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>\
{private}<Comment>browser</Comment><Enabled>true</Enabled></DistributionConfig>"
    )
}

struct Fixture {
    _m: Mock,
    dir: tempfile::TempDir,
    signer: Signer,
    media: String,
    page: String,
}

fn fixture() -> Option<Fixture> {
    require("the browser player test", media::ffmpeg_ready()).ok()?;
    require("the browser player test", browser_ready()).ok()?;
    let dir = tempfile::tempdir().unwrap();
    media::make_stream(&dir.path().join("media/private/v1")).unwrap();
    write_page(&dir.path().join("page"));
    let m = Mock::start(
        MockConfig::default()
            .with_origin_for(MEDIA_ORIGIN, dir.path().join("media"))
            .with_origin_for(PAGE_ORIGIN, dir.path().join("page"))
            .with_clock(Clock::Fixed(t(NOW))),
    );
    let page = format!("http://player.cfsign.test:{}", m.port());
    let media = format!("http://media.cfsign.test:{}", m.port());
    let (signer, group) = m.trusted_signer();
    // The media's CORS: exactly the page's origin, with credentials (cookies).
    let policy = format!(
        "<ResponseHeadersPolicyConfig xmlns=\"{NS}\"><Name>player</Name><CorsConfig>\
<AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>{page}</Origin></Items></AccessControlAllowOrigins>\
<AccessControlAllowHeaders><Quantity>1</Quantity><Items><Header>Range</Header></Items></AccessControlAllowHeaders>\
<AccessControlAllowMethods><Quantity>3</Quantity><Items><Method>GET</Method><Method>HEAD</Method><Method>OPTIONS</Method></Items></AccessControlAllowMethods>\
<AccessControlAllowCredentials>true</AccessControlAllowCredentials><OriginOverride>true</OriginOverride></CorsConfig>\
</ResponseHeadersPolicyConfig>"
    );
    let r = m.post("/2020-05-31/response-headers-policy", &policy);
    assert_eq!(r.status, 201, "{}", r.text());
    let policy_id = r.xml("Id").unwrap();
    let private = format!(
        "<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>o1</TargetOriginId>\
<TrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup>{group}</KeyGroup></Items></TrustedKeyGroups>\
<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><ResponseHeadersPolicyId>{policy_id}</ResponseHeadersPolicyId></CacheBehavior></Items></CacheBehaviors>"
    );
    for config in [
        alias_distribution("media", "media.cfsign.test", MEDIA_ORIGIN, &private),
        alias_distribution("page", "player.cfsign.test", PAGE_ORIGIN, ""),
        alias_distribution("other", "other.cfsign.test", PAGE_ORIGIN, ""),
    ] {
        let r = m.post("/2020-05-31/distribution", &config);
        assert_eq!(r.status, 201, "{}", r.text());
    }
    Some(Fixture {
        _m: m,
        dir,
        signer,
        media,
        page,
    })
}

/// What the driver reports.
struct Run {
    current_time: f64,
    failed: Option<String>,
    /// `(url, status)` of every response the browser saw.
    responses: Vec<(String, u64)>,
    raw: String,
}

impl Fixture {
    /// Plays `/private/v1/<manifest>` with the signed cookies of a policy for `prefix`;
    /// screenshot `shot`.
    fn play(&self, manifest: &str, prefix: &str, shot: &str) -> Run {
        self.play_from(&self.page, manifest, prefix, shot)
    }

    /// As [`Fixture::play`], with the player page served from `page` (an origin).
    fn play_from(&self, page: &str, manifest: &str, prefix: &str, shot: &str) -> Run {
        let resource = Resource::new(&format!("{}{prefix}*", self.media)).unwrap();
        let cookies = self
            .signer
            .custom_cookies(&CustomPolicy::new(resource, t(NOW + 600)))
            .unwrap();
        // As the app would set them: `Domain=cfsign.test` (shared by page and media hosts),
        // `Path=/private/`, `SameSite=Lax` (same site, so sent on the players' XHRs).
        let cookies: Vec<serde_json::Value> = cookies
            .pairs()
            .iter()
            .map(|(name, value)| {
                serde_json::json!({
                    "name": name, "value": value, "domain": ".cfsign.test", "path": "/private/",
                    "httpOnly": true, "sameSite": "Lax",
                })
            })
            .collect();
        let src = format!("{}/private/v1/{manifest}", self.media);
        self.run(page, &src, &cookies, shot)
    }

    /// Rewrites every playlist of the stream in place with one signature for `/private/v1/*`
    /// (as the app serving them would); returns the query for the first manifest's URL.
    fn rewrite(&self) -> String {
        let resource = Resource::new(&format!("{}/private/v1/*", self.media)).unwrap();
        let params =
            SignedParams::sign(&self.signer, &CustomPolicy::new(resource, t(NOW + 600))).unwrap();
        let dir = self.dir.path().join("media/private/v1");
        for name in [media::HLS_MASTER, media::HLS_MEDIA, media::DASH_MPD] {
            let path = dir.join(name);
            let url = format!("{}/private/v1/{name}", self.media);
            let rewritten = sign_manifest(&std::fs::read(&path).unwrap(), &url, &params).unwrap();
            assert!(rewritten.skipped().is_empty(), "{name}");
            std::fs::write(&path, rewritten.as_str()).unwrap();
        }
        params.query().to_owned()
    }

    /// Opens the player page on `page` for the manifest URL `src` with `cookies` in the browser.
    fn run(&self, page: &str, src: &str, cookies: &[serde_json::Value], shot: &str) -> Run {
        let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("browser-{shot}.png"));
        let page = format!("{page}/player.html?src={}", percent_encode(src));
        let out = Command::new("node")
            .current_dir(browser_dir())
            .env("CFSIGN_CHROMIUM", chromium())
            .arg("play.mjs")
            .args(["--page", &page])
            .args([
                "--cookies",
                &serde_json::Value::from(cookies.to_vec()).to_string(),
            ])
            .arg("--screenshot")
            .arg(&screenshot)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "the browser driver failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("screenshot: {}", screenshot.display());
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        Run {
            current_time: v["currentTime"].as_f64().unwrap_or(0.0),
            failed: v["failed"].as_str().map(str::to_owned),
            responses: v["responses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["url"].as_str().unwrap().to_owned(),
                        r["status"].as_u64().unwrap(),
                    )
                })
                .collect(),
            raw: stdout,
        }
    }
}

impl Run {
    fn media_statuses(&self, media: &str) -> Vec<u64> {
        self.responses
            .iter()
            .filter(|(u, _)| u.starts_with(media))
            .map(|(_, s)| *s)
            .collect()
    }
}

#[test]
fn chromium_plays_private_hls_and_dash_cross_origin_with_cookies() {
    let Some(f) = fixture() else { return };
    for (manifest, shot) in [(media::HLS_MASTER, "hls"), (media::DASH_MPD, "dash")] {
        let run = f.play(manifest, "/private/v1/", shot);
        let statuses = run.media_statuses(&f.media);
        assert!(
            run.current_time > 2.0,
            "{manifest}: playback stalled\n{}",
            run.raw
        );
        assert_eq!(run.failed, None, "{manifest}\n{}", run.raw);
        assert!(statuses.len() >= 4, "{manifest}: {statuses:?}");
        assert!(!statuses.contains(&403), "{manifest}: {statuses:?}");
        // What per-request signing would cost: every request is one signature, against one
        // signature (the cookies' policy) for the whole stream here.
        let segments = run
            .responses
            .iter()
            .filter(|(u, _)| {
                u.starts_with(&f.media)
                    && !u.contains("/init-")
                    && (u.ends_with(".ts") || u.ends_with(".m4s"))
            })
            .count();
        let manifests = statuses.len() - segments;
        eprintln!(
            "measured: {manifest}: {manifests} manifest/init + {segments} segment requests for {} s of 1-s segments = {} signatures per stream-hour with a signed URL per request (1 with cookies)",
            media::SECONDS,
            manifests + segments * 3600 / media::SECONDS as usize
        );
    }
}

#[test]
fn chromium_cannot_play_with_cookies_for_another_prefix() {
    let Some(f) = fixture() else { return };
    // The stream lives under /private/v1/; the cookies are for /private/v2/ (path and policy).
    for (manifest, shot) in [
        (media::HLS_MASTER, "hls-403"),
        (media::DASH_MPD, "dash-403"),
    ] {
        let run = f.play(manifest, "/private/v2/", shot);
        let statuses = run.media_statuses(&f.media);
        assert!(run.current_time < 0.1, "{manifest} played\n{}", run.raw);
        assert!(
            run.failed.as_deref().is_some_and(|f| f.contains("403")),
            "{manifest}: the page does not show the 403\n{}",
            run.raw
        );
        assert!(
            statuses.contains(&403),
            "{manifest}: {statuses:?}\n{}",
            run.raw
        );
    }
}

#[test]
fn chromium_blocks_the_media_for_a_page_the_policy_does_not_name() {
    let Some(f) = fixture() else { return };
    // Valid cookies, but the page is on other.cfsign.test: the edge sends no
    // Access-Control-Allow-Origin for it, so the browser hides every response from the player.
    let other = f.page.replace("player.cfsign.test", "other.cfsign.test");
    let run = f.play_from(&other, media::HLS_MASTER, "/private/v1/", "hls-cors");
    assert!(run.current_time < 0.1, "played\n{}", run.raw);
    assert!(run.failed.is_some(), "{}", run.raw);
    // CORS, not the signature, stopped it: the browser says so, and the player saw status 0.
    assert!(
        run.raw
            .contains("blocked by CORS policy: No 'Access-Control-Allow-Origin'"),
        "{}",
        run.raw
    );
    assert!(!run.media_statuses(&f.media).contains(&403), "{}", run.raw);
}

#[test]
fn chromium_plays_rewritten_manifests_without_cookies() {
    let Some(f) = fixture() else { return };
    let query = f.rewrite();
    for (manifest, shot) in [
        (media::HLS_MASTER, "hls-rewritten"),
        (media::DASH_MPD, "dash-rewritten"),
    ] {
        let src = format!("{}/private/v1/{manifest}?{query}", f.media);
        let run = f.run(&f.page, &src, &[], shot);
        let statuses = run.media_statuses(&f.media);
        assert!(
            run.current_time > 2.0,
            "{manifest}: playback stalled\n{}",
            run.raw
        );
        assert!(!statuses.contains(&403), "{manifest}: {statuses:?}");
        // Every media request carried the signature in its query.
        assert!(
            run.responses
                .iter()
                .filter(|(u, _)| u.starts_with(&f.media))
                .all(|(u, _)| u.contains("Signature=")),
            "{}",
            run.raw
        );
    }
}
