//! `cfsign stream manifest` and `cfsign stream cookies`: what they write is granted by
//! `cfsign verify` inside the prefix and denied outside it.

use crate::util::{Dir, EC_KEY, EC_PUB, KEY_ID};

const BASE: &str = "https://d1.example.net/videos/123/";

const PLAYLIST: &str = "#EXTM3U\r\n#EXT-X-VERSION:7\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXT-X-KEY:METHOD=AES-128,URI=\"k/key.bin\",IV=0x01\r\n#EXTINF:4.0,\r\nseg-1.m4s\r\n#EXTINF:4.0,\r\n#EXT-X-BYTERANGE:100@0\r\nhttps://ads.example.com/ad.ts\r\n#EXT-X-ENDLIST\r\n";

fn key_flags() -> Vec<&'static str> {
    vec!["--key-pair-id", KEY_ID, "--private-key", EC_KEY]
}

/// `stream manifest FILE --url URL EXTRA… --key-pair-id … --private-key …`.
fn manifest_args<'a>(file: &'a str, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["stream", "manifest", file, "--url", url];
    args.extend(extra);
    args.extend(key_flags());
    args
}

/// `cfsign verify` on `url` (and a Cookie header): its exit code.
fn verify(dir: &Dir, url: &str, cookie: Option<&str>) -> i32 {
    let trusted = format!("{KEY_ID}={EC_PUB}");
    let mut args = vec!["verify", url, "--trusted-key", &trusted];
    if let Some(cookie) = cookie {
        args.extend(["--cookie", cookie]);
    }
    dir.run(&args).code
}

#[test]
fn manifest_is_signed_for_its_directory_and_verifies() {
    let dir = Dir::new();
    std::fs::write(dir.path("index.m3u8"), PLAYLIST).unwrap();
    let url = format!("{BASE}index.m3u8");
    let args = manifest_args("index.m3u8", &url, &["--expires-in", "1h"]);
    let out = dir.run(&args);
    let text = out.ok().to_owned();
    assert!(
        out.stderr
            .contains("signed 3 URIs of the HLS manifest for https://d1.example.net/videos/123/*"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("warning: left unsigned: line 9: `https://ads.example.com/ad.ts`: it resolves outside the policy's resource"),
        "{}",
        out.stderr
    );
    // Only the URIs changed; CRLF and every other line are kept.
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), PLAYLIST.split("\r\n").count());
    assert_eq!(lines[4], "#EXTINF:4.0,");
    assert_eq!(lines[8], "https://ads.example.com/ad.ts");
    let segment = lines[5];
    assert!(segment.starts_with("seg-1.m4s?Policy="), "{segment}");
    let init = lines[2]
        .strip_prefix("#EXT-X-MAP:URI=\"")
        .and_then(|l| l.strip_suffix('"'))
        .unwrap();
    let key = lines[3]
        .split("URI=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    for uri in [segment, init, key] {
        assert_eq!(verify(&dir, &format!("{BASE}{uri}"), None), 0, "{uri}");
    }
    // The signature covers the prefix, not other folders.
    let query = segment.split_once('?').unwrap().1;
    assert_eq!(
        verify(
            &dir,
            &format!("https://d1.example.net/videos/999/seg-1.m4s?{query}"),
            None
        ),
        1
    );

    // From stdin, and to a file: the same bytes (one signature per run, same second).
    let args = manifest_args("-", &url, &["--expires-at", "2037-01-01", "-o", "out.m3u8"]);
    let from_stdin = dir.run_stdin(&args, PLAYLIST);
    assert_eq!(from_stdin.ok(), "");
    let written = dir.read("out.m3u8");
    let args = manifest_args("index.m3u8", &url, &["--expires-at", "2037-01-01"]);
    assert_eq!(dir.run(&args).ok(), written);

    // --require-all: a URI outside the prefix fails the run and writes nothing.
    let args = manifest_args(
        "index.m3u8",
        &url,
        &["--expires-in", "1h", "--require-all", "-o", "none.m3u8"],
    );
    dir.run(&args)
        .fails(1, &["1 URIs would be left unsigned", "--require-all"]);
    assert!(!dir.path("none.m3u8").exists());

    // --absolute-uris: the manifest can be served from anywhere.
    let args = manifest_args(
        "index.m3u8",
        &url,
        &["--expires-in", "1h", "--absolute-uris"],
    );
    let text = dir.run(&args).ok().to_owned();
    let segment = text.split("\r\n").nth(5).unwrap();
    assert!(
        segment.starts_with(&format!("{BASE}seg-1.m4s?Policy=")),
        "{segment}"
    );
    assert_eq!(verify(&dir, segment, None), 0, "{segment}");
    assert!(text.contains("\r\nhttps://ads.example.com/ad.ts\r\n"));
}

#[test]
fn dash_manifest_with_explicit_prefix() {
    let dir = Dir::new();
    let mpd = "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">\n<Period><AdaptationSet>\n<SegmentTemplate media=\"$RepresentationID$/$Number$.m4s\" initialization=\"$RepresentationID$/init.mp4\"/>\n<Representation id=\"v1\"/></AdaptationSet></Period>\n</MPD>\n";
    let url = format!("{BASE}dash/manifest.mpd");
    let args = manifest_args(
        "-",
        &url,
        &["--prefix", BASE, "--expires-in", "1h", "--hash", "sha256"],
    );
    let out = dir.run_stdin(&args, mpd);
    let text = out.ok();
    assert!(
        out.stderr
            .contains("signed 2 URIs of the DASH manifest for https://d1.example.net/videos/123/*")
    );
    let media = text
        .split("media=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(media.contains("&amp;Signature="), "{media}");
    let request = format!(
        "{BASE}dash/{}",
        media
            .replace("$RepresentationID$", "v1")
            .replace("$Number$", "7")
            .replace("&amp;", "&")
    );
    assert!(request.ends_with("&Hash-Algorithm=SHA256"), "{request}");
    assert_eq!(verify(&dir, &request, None), 0, "{request}");
}

#[test]
fn bad_input_is_refused() {
    let dir = Dir::new();
    std::fs::write(dir.path("page.html"), "<html></html>").unwrap();
    let url = format!("{BASE}index.m3u8");
    let args = manifest_args("page.html", &url, &["--expires-in", "1h"]);
    dir.run(&args).fails(
        2,
        &["invalid manifest", "the root element is <html>, not <MPD>"],
    );
    let args = manifest_args(
        "page.html",
        &url,
        &[
            "--prefix",
            "https://d1.example.net/videos/123",
            "--expires-in",
            "1h",
        ],
    );
    dir.run(&args).fails(2, &["must end in `/`"]);
    let args = manifest_args("missing.m3u8", &url, &["--expires-in", "1h"]);
    dir.run(&args).fails(2, &["cannot read `missing.m3u8`"]);
    let mut args = vec![
        "stream",
        "cookies",
        BASE,
        "--expires-in",
        "1h",
        "--same-site",
        "none",
        "--insecure-no-secure",
    ];
    args.extend(key_flags());
    dir.run(&args)
        .fails(2, &["--same-site none needs the Secure attribute"]);
}

#[test]
fn cookies_in_every_form() {
    let dir = Dir::new();
    let run = |format: &str, extra: &[&str]| {
        let mut args = vec![
            "stream",
            "cookies",
            BASE,
            "--expires-at",
            "2037-01-01",
            "--format",
            format,
        ];
        args.extend(key_flags());
        args.extend(extra);
        dir.run(&args).ok().to_owned()
    };
    let set_cookie = run("set-cookie", &["--domain", "example.com"]);
    let lines: Vec<&str> = set_cookie.lines().collect();
    assert_eq!(lines.len(), 3, "{set_cookie}");
    for (line, name) in lines.iter().zip([
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
    ]) {
        assert!(line.starts_with(&format!("Set-Cookie: {name}=")), "{line}");
        assert!(
            line.ends_with(
                "; Domain=example.com; Path=/videos/123/; Secure; HttpOnly; SameSite=Lax"
            ),
            "{line}"
        );
    }
    let strict = run(
        "set-cookie",
        &["--same-site", "strict", "--path", "/videos/"],
    );
    assert!(
        strict
            .lines()
            .all(|l| l.ends_with("; Path=/videos/; Secure; HttpOnly; SameSite=Strict")),
        "{strict}"
    );

    let header = run("header", &[]);
    let header = header.trim_end();
    assert!(header.starts_with("Cookie: CloudFront-Policy="), "{header}");
    assert_eq!(verify(&dir, &format!("{BASE}hd/seg-9.ts"), Some(header)), 0);
    assert_eq!(
        verify(
            &dir,
            "https://d1.example.net/videos/999/seg-9.ts",
            Some(header)
        ),
        1
    );

    let ffmpeg = run("ffmpeg", &[]);
    assert_eq!(ffmpeg, format!("{header}\r\n"));

    let json: serde_json::Value =
        serde_json::from_str(&run("json", &["--domain", "media.example.com"])).unwrap();
    assert_eq!(json["resource"], "https://d1.example.net/videos/123/*");
    assert_eq!(json["path"], "/videos/123/");
    assert_eq!(json["domain"], "media.example.com");
    assert_eq!(json["same_site"], "Lax");
    assert_eq!(json["expires_at"], "2037-01-01T00:00:00Z");
    assert_eq!(
        format!("Cookie: {}", json["cookie_header"].as_str().unwrap()),
        header
    );
    assert_eq!(json["ffmpeg_headers"].as_str().unwrap(), ffmpeg);
    assert_eq!(json["set_cookie"].as_array().unwrap().len(), 3);
    assert_eq!(json["cookies"]["CloudFront-Key-Pair-Id"], KEY_ID);
    // The same signature as query parameters.
    let query = json["query"].as_str().unwrap();
    assert_eq!(verify(&dir, &format!("{BASE}a/b.m4s?{query}"), None), 0);
}
