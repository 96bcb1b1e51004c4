//! `cargo xtask demo`'s private stream: a 3-second HLS and DASH stream (made by ffmpeg) under
//! `/private/stream/` of a distribution aliased `media.cfsign-demo`, restricted by the demo's key
//! group, with a custom response headers policy (CORS with credentials) for the player page on a
//! second distribution, `player.cfsign-demo`; both reached as `*.cfsign-demo.localhost:PORT`
//! (browsers send `*.localhost` to loopback), the same site, so the cookies for the media domain
//! work. The page gets the cookies (signed by `cfsign stream cookies`) in its URL fragment. When
//! Chromium and the npm packages are there, a headless run checks it plays and saves a screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use cfsign_tests::http;
use cfsign_tests::media;
use cfsign_tests::proc::{capture, truncate};
use cfsign_tests::stack::Stack;

use crate::Result;

const NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// What the demo prints.
pub(crate) struct StreamDemo {
    /// The player page for HLS, cookies in the fragment.
    pub(crate) hls_page: String,
    /// The same for DASH.
    pub(crate) dash_page: String,
    /// The headless check: playback time and screenshot, or why it did not run.
    pub(crate) headless: String,
}

fn browser_dir() -> PathBuf {
    cfsign_tests::workspace_root().join("tests/browser/players")
}

/// Adds the stream, the page and the two distributions to the running stack.
pub(crate) fn start(stack: &Stack, work: &Path) -> Result<StreamDemo> {
    media::ffmpeg_ready()?;
    let modules = browser_dir().join("node_modules");
    for package in ["hls.js", "dashjs"] {
        if !modules.join(package).is_dir() {
            return Err(format!(
                "{package} is missing: run `npm ci` in tests/browser/players"
            ));
        }
    }
    let origin = stack.dir().join("origin");
    media::make_stream(&origin.join("private/stream"))?;
    let page_dir = origin.join("player");
    std::fs::create_dir_all(&page_dir).map_err(|e| format!("{}: {e}", page_dir.display()))?;
    for (from, to) in [
        (browser_dir().join("page/player.html"), "player.html"),
        (browser_dir().join("page/player.js"), "player.js"),
        (modules.join("hls.js/dist/hls.min.js"), "hls.min.js"),
        (
            modules.join("dashjs/dist/modern/umd/dash.all.min.js"),
            "dash.all.min.js",
        ),
    ] {
        std::fs::copy(&from, page_dir.join(to)).map_err(|e| format!("{}: {e}", from.display()))?;
    }

    let port = stack.mock().port();
    let media_base = format!("http://media.cfsign-demo.localhost:{port}");
    let page_base = format!("http://player.cfsign-demo.localhost:{port}");
    let policy = format!(
        "<ResponseHeadersPolicyConfig xmlns=\"{NS}\"><Name>cfsign-demo-player</Name><Comment>the demo player page, with cookies</Comment><CorsConfig>\
<AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>{page_base}</Origin></Items></AccessControlAllowOrigins>\
<AccessControlAllowHeaders><Quantity>1</Quantity><Items><Header>Range</Header></Items></AccessControlAllowHeaders>\
<AccessControlAllowMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items></AccessControlAllowMethods>\
<AccessControlAllowCredentials>true</AccessControlAllowCredentials><OriginOverride>true</OriginOverride></CorsConfig>\
</ResponseHeadersPolicyConfig>"
    );
    let policy_id = create(stack, "response-headers-policy", &policy)?;
    let group = stack.setup_field("key_group_id")?;
    let private = format!(
        "<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>local</TargetOriginId>\
<TrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup>{group}</KeyGroup></Items></TrustedKeyGroups>\
<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><ResponseHeadersPolicyId>{policy_id}</ResponseHeadersPolicyId></CacheBehavior></Items></CacheBehaviors>"
    );
    create(
        stack,
        "distribution",
        &distribution("cfsign-demo-media", "media.cfsign-demo", &private),
    )?;
    create(
        stack,
        "distribution",
        &distribution("cfsign-demo-player", "player.cfsign-demo", ""),
    )?;

    let mut cmd = stack.bins().command("cfsign")?;
    cmd.args([
        "stream",
        "cookies",
        &format!("{media_base}/private/stream/"),
    ])
    .args(["--expires-in", "1h", "--format", "header"])
    .args(["--key-pair-id", stack.setup_field("key_pair_id")?])
    .args(["--private-key", stack.setup_field("private_key_path")?]);
    let out = capture(&mut cmd, None)?;
    if !out.ok() {
        return Err(format!(
            "cfsign stream cookies failed: {}",
            truncate(&out.stderr, 400)
        ));
    }
    let cookie = out
        .stdout
        .trim()
        .trim_start_matches("Cookie:")
        .trim()
        .to_owned();
    let page = |manifest: &str| {
        format!(
            "{page_base}/player/player.html?src={}#cookies={}&domain=cfsign-demo.localhost",
            http::percent_encode(&format!("{media_base}/private/stream/{manifest}")),
            http::percent_encode(&cookie)
        )
    };
    let (hls_page, dash_page) = (page(media::HLS_MASTER), page(media::DASH_MPD));
    let unsigned = http::get(&format!(
        "{media_base}/private/stream/{}",
        media::HLS_MASTER
    ))
    .send()?;
    if unsigned.status != 403 {
        return Err(format!(
            "the stream is not private: unsigned master answered {}",
            unsigned.status
        ));
    }
    let headless = headless(&hls_page, work).unwrap_or_else(|why| format!("not run: {why}"));
    Ok(StreamDemo {
        hls_page,
        dash_page,
        headless,
    })
}

/// POSTs a config to the control plane; the new resource's `Id`.
fn create(stack: &Stack, kind: &str, body: &str) -> Result<String> {
    let r = http::Request::new("POST", &format!("{}/2020-05-31/{kind}", stack.endpoint()))
        .body(body.as_bytes().to_vec())
        .send()?;
    if r.status != 201 {
        return Err(format!(
            "creating a {kind} failed: {} {}",
            r.status,
            truncate(&r.text(), 300)
        ));
    }
    r.xml("Id")
        .ok_or_else(|| format!("the {kind} answer has no Id"))
}

fn distribution(caller: &str, alias: &str, behaviours: &str) -> String {
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>{caller}</CallerReference><Comment>{alias}</Comment><Enabled>true</Enabled>\
<Aliases><Quantity>1</Quantity><Items><CNAME>{alias}</CNAME></Items></Aliases>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>local</Id><DomainName>origin.local</DomainName>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>local</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>\
<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups></DefaultCacheBehavior>{behaviours}</DistributionConfig>"
    )
}

/// Plays `page` in headless Chromium (tests/browser/players/play.mjs); the playback time and screenshot.
fn headless(page: &str, work: &Path) -> Result<String> {
    let chromium = std::env::var_os("CFSIGN_CHROMIUM")
        .map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    if !chromium.is_file() || !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Err("needs /usr/bin/chromium and `npm ci` in tests/browser/players".into());
    }
    let shot = work.join("player.png");
    let mut cmd = Command::new("node");
    cmd.current_dir(browser_dir())
        .env("CFSIGN_CHROMIUM", &chromium)
        .arg("play.mjs")
        .args(["--page", page])
        .arg("--screenshot")
        .arg(&shot);
    let out = capture(&mut cmd, None)?;
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).map_err(|e| {
        format!(
            "the driver printed no JSON ({e}): {}",
            truncate(&out.stderr, 300)
        )
    })?;
    let played = v["currentTime"].as_f64().unwrap_or(0.0);
    match v["failed"].as_str() {
        Some(why) => Err(format!(
            "the page did not play: {why} (screenshot {})",
            shot.display()
        )),
        None if played < 2.0 => Err(format!(
            "playback stalled at {played:.1} s (screenshot {})",
            shot.display()
        )),
        None => Ok(format!(
            "played {played:.1} s; screenshot {}",
            shot.display()
        )),
    }
}
