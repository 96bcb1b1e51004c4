//! Table tests of the manifest rewriter: one row per tag or element, with the exact output.

use super::*;

const URL: &str = "https://d1.example.net/videos/123/index.m3u8";
const MPD_URL: &str = "https://d1.example.net/videos/123/manifest.mpd";

fn params() -> SignedParams {
    let policy = CustomPolicy::new(
        Resource::new("https://d1.example.net/videos/123/*").unwrap(),
        UnixTime::from_secs(1_767_225_600).unwrap(),
    );
    SignedParams::from_signature(
        &policy,
        b"signature",
        &KeyPairId::new("K2JCJMDEHXQW5F").unwrap(),
        HashAlgorithm::Sha1,
    )
    .unwrap()
}

/// Rewrites `input` and replaces the parameters with `«Q»` (`«QX»` for the XML-escaped form), so
/// the tables stay readable.
fn rewrite(input: &str, url: &str) -> (String, Vec<(usize, String, SkipReason)>) {
    let params = params();
    let out = sign_manifest(input.as_bytes(), url, &params).unwrap();
    let text = out
        .as_str()
        .replace(&params.query().replace('&', "&amp;"), "«QX»")
        .replace(params.query(), "«Q»");
    let skipped = out
        .skipped()
        .iter()
        .map(|s| (s.line(), s.uri().to_owned(), s.reason()))
        .collect();
    assert_eq!(
        out.signed(),
        text.matches("«Q»").count() + text.matches("«QX»").count()
    );
    (text, skipped)
}

#[test]
fn hls_tags() {
    // (input line(s) after #EXTM3U, expected output lines)
    let rows: &[(&str, &str)] = &[
        ("seg-1.ts", "seg-1.ts?«Q»"),
        ("  seg-1.ts\t", "  seg-1.ts?«Q»\t"),
        ("seg-1.ts?v=2", "seg-1.ts?v=2&«Q»"),
        ("sub/seg-1.ts", "sub/seg-1.ts?«Q»"),
        ("/videos/123/a.ts", "/videos/123/a.ts?«Q»"),
        (
            "https://d1.example.net/videos/123/a.ts",
            "https://d1.example.net/videos/123/a.ts?«Q»",
        ),
        (
            "//d1.example.net/videos/123/a.ts",
            "//d1.example.net/videos/123/a.ts?«Q»",
        ),
        ("a.ts#frag", "a.ts?«Q»#frag"),
        (
            "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin\",IV=0x0123",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin?«Q»\",IV=0x0123",
        ),
        (
            "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"k/key.bin\"",
            "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"k/key.bin?«Q»\"",
        ),
        (
            "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"",
            "#EXT-X-MAP:URI=\"init.mp4?«Q»\",BYTERANGE=\"720@0\"",
        ),
        (
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English, main\",DEFAULT=YES,URI=\"audio/en.m3u8\"",
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English, main\",DEFAULT=YES,URI=\"audio/en.m3u8?«Q»\"",
        ),
        (
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"iframe.m3u8\"",
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"iframe.m3u8?«Q»\"",
        ),
        (
            "#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360\nlow/index.m3u8",
            "#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360\nlow/index.m3u8?«Q»",
        ),
        (
            "#EXTINF:4.0,\n#EXT-X-BYTERANGE:75232@0\nall.ts",
            "#EXTINF:4.0,\n#EXT-X-BYTERANGE:75232@0\nall.ts?«Q»",
        ),
        (
            "#EXT-X-PART:DURATION=0.5,URI=\"part1.mp4\"",
            "#EXT-X-PART:DURATION=0.5,URI=\"part1.mp4?«Q»\"",
        ),
        (
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part2.mp4\"",
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part2.mp4?«Q»\"",
        ),
        (
            "#EXT-X-RENDITION-REPORT:URI=\"../456/x.m3u8\",LAST-MSN=1",
            "#EXT-X-RENDITION-REPORT:URI=\"../456/x.m3u8\",LAST-MSN=1",
        ),
        (
            "#EXT-X-SESSION-DATA:DATA-ID=\"com.x\",URI=\"data.json\"",
            "#EXT-X-SESSION-DATA:DATA-ID=\"com.x\",URI=\"data.json?«Q»\"",
        ),
        // Left alone: no URI, unknown tags, comments, other schemes.
        ("#EXT-X-KEY:METHOD=NONE", "#EXT-X-KEY:METHOD=NONE"),
        (
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"s.json\"",
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"s.json\"",
        ),
        (
            "#EXT-X-FUTURE-TAG:URI=\"x.ts\"",
            "#EXT-X-FUTURE-TAG:URI=\"x.ts\"",
        ),
        ("# a comment with seg.ts", "# a comment with seg.ts"),
        (
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\",KEYFORMAT=\"com.apple.streamingkeydelivery\"",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key-id\",KEYFORMAT=\"com.apple.streamingkeydelivery\"",
        ),
        (
            "https://ads.example.com/ad.ts",
            "https://ads.example.com/ad.ts",
        ),
        ("../other/seg.ts", "../other/seg.ts"),
        ("seg-{$n}.ts", "seg-{$n}.ts"),
        ("a.ts?Policy=x&Signature=y", "a.ts?Policy=x&Signature=y"),
        ("#EXT-X-MAP:URI=init.mp4", "#EXT-X-MAP:URI=init.mp4"),
    ];
    for (input, expected) in rows {
        for eol in ["\n", "\r\n"] {
            let doc = format!("#EXTM3U{eol}{}{eol}", input.replace('\n', eol));
            let (out, _) = rewrite(&doc, URL);
            let want = format!("#EXTM3U{eol}{}{eol}", expected.replace('\n', eol));
            assert_eq!(out, want, "row {input:?} with {eol:?}");
        }
    }
}

#[test]
fn hls_skips_are_reported() {
    let doc = "#EXTM3U\n#EXTINF:4,\nhttps://ads.example.com/ad.ts\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k\"\nseg-{$n}.ts\na.ts?Policy=x\n#EXT-X-MAP:URI=init.mp4\nok.ts";
    let (out, skipped) = rewrite(doc, URL);
    assert!(out.ends_with("\nok.ts?«Q»"), "{out}");
    assert_eq!(
        skipped,
        vec![
            (
                3,
                "https://ads.example.com/ad.ts".to_owned(),
                SkipReason::OutsideResource
            ),
            (4, "skd://k".to_owned(), SkipReason::OtherScheme),
            (5, "seg-{$n}.ts".to_owned(), SkipReason::Variable),
            (6, "a.ts?Policy=x".to_owned(), SkipReason::AlreadySigned),
            (
                7,
                "#EXT-X-MAP:URI=init.mp4".to_owned(),
                SkipReason::NotUnderstood
            ),
        ]
    );
}

#[test]
fn hls_keeps_bom_and_missing_final_newline() {
    let (out, _) = rewrite("\u{feff}#EXTM3U\r\nseg.ts", URL);
    assert_eq!(out, "\u{feff}#EXTM3U\r\nseg.ts?«Q»");
}

#[test]
fn not_playlists_are_refused() {
    let p = params();
    for (input, needle) in [
        ("", "neither an HLS playlist"),
        ("hello", "it starts with `hello`"),
        ("#EXTM3UX\nseg.ts", "the first line is `#EXTM3UX`"),
        ("\n#EXTM3U\nseg.ts", "neither an HLS playlist"),
        (
            "<html><body/></html>",
            "the root element is <html>, not <MPD>",
        ),
        ("<MPD><Period></MPD>", "not well-formed XML"),
        ("<?xml version=\"1.0\"?>", "no root element"),
    ] {
        let err = sign_manifest(input.as_bytes(), URL, &p).unwrap_err();
        assert!(
            matches!(err, Error::InvalidManifest { .. }),
            "{input:?}: {err}"
        );
        assert!(err.to_string().contains(needle), "{input:?}: {err}");
    }
    let err = sign_manifest(b"#EXTM3U\n\xff\n", URL, &p).unwrap_err();
    assert!(
        err.to_string()
            .contains("not UTF-8 (invalid byte at offset 8)"),
        "{err}"
    );
    let err = sign_manifest(b"#EXTM3U\n", "index.m3u8", &p).unwrap_err();
    assert!(
        err.to_string()
            .contains("the manifest URL: it is not an absolute URL"),
        "{err}"
    );
}

#[test]
fn dash_elements() {
    let wrap = |inner: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\">\n<Period>{inner}</Period>\n</MPD>\n"
        )
    };
    let rows: &[(&str, &str)] = &[
        (
            r#"<AdaptationSet><SegmentTemplate media="chunk-$RepresentationID$-$Number%05d$.m4s" initialization="init-$RepresentationID$.m4s" index="idx-$Bandwidth$.sidx" startNumber="1"/><Representation id="0" bandwidth="1"/></AdaptationSet>"#,
            r#"<AdaptationSet><SegmentTemplate media="chunk-$RepresentationID$-$Number%05d$.m4s?«QX»" initialization="init-$RepresentationID$.m4s?«QX»" index="idx-$Bandwidth$.sidx?«QX»" startNumber="1"/><Representation id="0" bandwidth="1"/></AdaptationSet>"#,
        ),
        (
            r#"<AdaptationSet><Representation id="v"><SegmentTemplate media="$Time$.m4s?a=1&amp;b=2"/></Representation></AdaptationSet>"#,
            r#"<AdaptationSet><Representation id="v"><SegmentTemplate media="$Time$.m4s?a=1&amp;b=2&amp;«QX»"/></Representation></AdaptationSet>"#,
        ),
        (
            r#"<BaseURL>video/</BaseURL><AdaptationSet><Representation id="v"><BaseURL>hd/</BaseURL><SegmentList><Initialization sourceURL="init.mp4"/><SegmentURL media="s1.m4s"/><SegmentURL media="s2.m4s" index="s2.sidx"/></SegmentList></Representation></AdaptationSet>"#,
            r#"<BaseURL>video/</BaseURL><AdaptationSet><Representation id="v"><BaseURL>hd/</BaseURL><SegmentList><Initialization sourceURL="init.mp4?«QX»"/><SegmentURL media="s1.m4s?«QX»"/><SegmentURL media="s2.m4s?«QX»" index="s2.sidx?«QX»"/></SegmentList></Representation></AdaptationSet>"#,
        ),
        // SegmentBase: the BaseURL is the media file.
        (
            r#"<AdaptationSet><Representation id="a"><BaseURL> audio.mp4 </BaseURL><SegmentBase indexRange="800-1200"><Initialization range="0-799"/></SegmentBase></Representation></AdaptationSet>"#,
            r#"<AdaptationSet><Representation id="a"><BaseURL> audio.mp4?«QX» </BaseURL><SegmentBase indexRange="800-1200"><Initialization range="0-799"/></SegmentBase></Representation></AdaptationSet>"#,
        ),
        // SegmentURLs without media: byte ranges of the BaseURL.
        (
            r#"<AdaptationSet><Representation id="a"><BaseURL>all.mp4</BaseURL><SegmentList><SegmentURL mediaRange="0-99"/></SegmentList></Representation></AdaptationSet>"#,
            r#"<AdaptationSet><Representation id="a"><BaseURL>all.mp4?«QX»</BaseURL><SegmentList><SegmentURL mediaRange="0-99"/></SegmentList></Representation></AdaptationSet>"#,
        ),
        // A BaseURL that is only a base keeps its text; the segments resolved through it are signed.
        (
            r#"<AdaptationSet><BaseURL>https://d1.example.net/videos/123/v/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="1"/></AdaptationSet>"#,
            r#"<AdaptationSet><BaseURL>https://d1.example.net/videos/123/v/</BaseURL><SegmentTemplate media="$Number$.m4s?«QX»"/><Representation id="1"/></AdaptationSet>"#,
        ),
        // Outside the resource through the BaseURL: left alone.
        (
            r#"<AdaptationSet><BaseURL>https://cdn2.example.com/v/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="1"/></AdaptationSet>"#,
            r#"<AdaptationSet><BaseURL>https://cdn2.example.com/v/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="1"/></AdaptationSet>"#,
        ),
        // Two BaseURL alternatives, one outside: the template is left alone.
        (
            r#"<AdaptationSet><BaseURL>a/</BaseURL><BaseURL>https://cdn2.example.com/v/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="1"/></AdaptationSet>"#,
            r#"<AdaptationSet><BaseURL>a/</BaseURL><BaseURL>https://cdn2.example.com/v/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="1"/></AdaptationSet>"#,
        ),
        // An inherited template is signed only if every Representation's base is inside.
        (
            r#"<AdaptationSet><SegmentTemplate media="$Number$.m4s"/><Representation id="1"><BaseURL>ok/</BaseURL></Representation><Representation id="2"><BaseURL>../../elsewhere/</BaseURL></Representation></AdaptationSet>"#,
            r#"<AdaptationSet><SegmentTemplate media="$Number$.m4s"/><Representation id="1"><BaseURL>ok/</BaseURL></Representation><Representation id="2"><BaseURL>../../elsewhere/</BaseURL></Representation></AdaptationSet>"#,
        ),
        // Unknown elements and attributes, comments, CDATA: byte for byte.
        (
            "<!-- c --><AdaptationSet x:y=\"1\"><ContentProtection><BaseURL>k/</BaseURL></ContentProtection><Label><![CDATA[a & b]]></Label><SegmentTemplate media='m.m4s' future=\"f.m4s\"/><Representation id=\"1\"/></AdaptationSet>",
            "<!-- c --><AdaptationSet x:y=\"1\"><ContentProtection><BaseURL>k/</BaseURL></ContentProtection><Label><![CDATA[a & b]]></Label><SegmentTemplate media='m.m4s?«QX»' future=\"f.m4s\"/><Representation id=\"1\"/></AdaptationSet>",
        ),
    ];
    for (input, expected) in rows {
        let (out, _) = rewrite(&wrap(input), MPD_URL);
        assert_eq!(out, wrap(expected), "row {input}");
    }
}

#[test]
fn dash_uris_resolve_through_base_urls() {
    let doc = r#"<MPD><BaseURL>https://d1.example.net/videos/123/</BaseURL><Period><BaseURL>p1/</BaseURL><AdaptationSet><SegmentTemplate media="$RepresentationID$/$Number$.m4s"/><Representation id="a"><BaseURL>hd/</BaseURL></Representation><Representation id="b"/></AdaptationSet></Period></MPD>"#;
    let uris = manifest_uris(doc.as_bytes(), "https://other.example/x.mpd").unwrap();
    assert_eq!(uris.len(), 1);
    assert_eq!(
        uris[0].resolved().unwrap(),
        [
            "https://d1.example.net/videos/123/p1/$RepresentationID$/$Number$.m4s",
            "https://d1.example.net/videos/123/p1/hd/$RepresentationID$/$Number$.m4s",
        ]
    );
}

#[test]
fn params_and_cookies_share_one_signature() {
    let p = params();
    assert!(p.query().starts_with("Policy="));
    assert!(p.query().ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"));
    let cookies = p.cookies();
    let policy = cookies.get("CloudFront-Policy").unwrap();
    let signature = cookies.get("CloudFront-Signature").unwrap();
    assert_eq!(
        p.query(),
        format!("Policy={policy}&Signature={signature}&Key-Pair-Id=K2JCJMDEHXQW5F")
    );
    let any = CustomPolicy::for_any_resource(UnixTime::from_secs(1_767_225_600).unwrap());
    let err = SignedParams::from_signature(
        &any,
        b"s",
        &KeyPairId::new("K2JCJMDEHXQW5F").unwrap(),
        HashAlgorithm::Sha256,
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a Resource"), "{err}");
}

#[test]
fn scope_fast_path_agrees_with_resource_matching() {
    let patterns = [
        "https://d1.example.net/videos/123/*",
        "https://d1.example.net/videos/12*",
        "https://d1.example.net*",
        "https://d1.example.net/v/*/hd/*",
        "https://d1.example.net/v?/*",
        "*",
    ];
    let base = Base::parse("https://d1.example.net/videos/123/i.m3u8", "t").unwrap();
    let refs = [
        "a.ts",
        "a.ts?x=1",
        "../1234/a.ts",
        "/videos/12/a.ts",
        "HTTPS://D1.EXAMPLE.NET/videos/123/a.ts",
        "https://d1.example.net.evil.com/videos/123/a.ts",
        "//other/videos/123/a.ts",
        "/v/x/hd/a.ts",
        "/v1/a.ts",
    ];
    for pattern in patterns {
        let resource = Resource::new(pattern).unwrap();
        let scope = Scope::new(&resource);
        for reference in refs {
            let target = base.resolve(reference).unwrap();
            assert_eq!(
                scope.covers(&target),
                resource.matches(&target.as_url()),
                "{pattern} {reference}"
            );
        }
    }
}

#[test]
fn absolute_uris() {
    let params = params();
    let absolute = Options::new().with_absolute_uris();
    let q = params.query();
    let hls = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\nhd/a.ts?x=1#t\n../999/b.ts\nskd://k\n";
    let out = sign_manifest_with(hls.as_bytes(), URL, &params, &absolute).unwrap();
    assert_eq!(
        out.as_str(),
        format!(
            "#EXTM3U\n#EXT-X-MAP:URI=\"https://d1.example.net/videos/123/init.mp4?{q}\"\nhttps://d1.example.net/videos/123/hd/a.ts?x=1&{q}\nhttps://d1.example.net/videos/999/b.ts\nskd://k\n"
        )
    );
    // From anywhere, the rewritten URIs are the originals with the parameters.
    let before = manifest_uris(hls.as_bytes(), URL).unwrap();
    let after = manifest_uris(out.as_str().as_bytes(), "https://app.example.com/watch/1").unwrap();
    assert_eq!(
        after[0].resolved().unwrap(),
        [format!("{}?{q}", before[0].resolved().unwrap()[0])]
    );
    assert_eq!(after[2].resolved(), before[2].resolved());

    let xq = q.replace('&', "&amp;");
    let mpd = r#"<MPD><BaseURL>v/</BaseURL><Period><AdaptationSet><SegmentTemplate media="$Number$.m4s?a=1&amp;b=2"/><Representation id="1"/></AdaptationSet><AdaptationSet><BaseURL>x/</BaseURL><BaseURL>y/</BaseURL><SegmentTemplate media="$Number$.m4s"/><Representation id="2"/></AdaptationSet></Period></MPD>"#;
    let out = sign_manifest_with(mpd.as_bytes(), MPD_URL, &params, &absolute).unwrap();
    assert!(
        out.as_str().contains(&format!(
            r#"media="https://d1.example.net/videos/123/v/$Number$.m4s?a=1&amp;b=2&amp;{xq}""#
        )),
        "{}",
        out.as_str()
    );
    // Two BaseURL alternatives: one URL cannot say both; left as written and reported.
    assert!(
        out.as_str()
            .contains(r#"<SegmentTemplate media="$Number$.m4s"/>"#)
    );
    assert_eq!(out.skipped()[0].reason(), SkipReason::NotUnderstood);
    assert_eq!(out.signed(), 1);
}

#[test]
fn dash_with_a_byte_order_mark() {
    // Found by the fuzzer: quick-xml skips a UTF-8 BOM, so its positions must be shifted back.
    let mpd = "\u{feff}<MPD><Period><AdaptationSet><Representation id=\"1\"><BaseURL>a.mp4</BaseURL><SegmentBase/></Representation></AdaptationSet></Period></MPD>";
    let (out, skipped) = rewrite(mpd, MPD_URL);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(out, mpd.replace("a.mp4<", "a.mp4?«QX»<"));
}
