//! The manifest rewriter on ffmpeg-produced HLS and DASH manifests (every URI the player then
//! requests is granted by `cfsign::verify`), and properties on generated manifests: the
//! player-visible URIs are unchanged apart from the added parameters, and every other byte is
//! kept.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign::stream::{
    ManifestKind, Options, SignedParams, SkipReason, manifest_uris, sign_manifest,
    sign_manifest_with,
};
use cfsign::{
    CustomPolicy, HashAlgorithm, KeyPairId, Request, Resource, Signer, TrustedKeys, UnixTime,
    verify,
};
use proptest::prelude::*;

const PREFIX: &str = "https://d111111abcdef8.cloudfront.net/videos/123/";
const EXPIRES: u64 = 1_900_000_000;
const NOW: u64 = 1_800_000_000;

fn signer() -> Signer {
    Signer::new(
        "KP256".parse().unwrap(),
        common::private_key("p256-sec1.pem"),
    )
}

fn params(signer: &Signer) -> SignedParams {
    let policy = CustomPolicy::new(
        Resource::new(&format!("{PREFIX}*")).unwrap(),
        UnixTime::from_secs(EXPIRES).unwrap(),
    );
    SignedParams::sign(signer, &policy).unwrap()
}

/// A URL as a player builds it from a DASH template (identifiers filled in).
fn fill_template(url: &str) -> String {
    url.replace("$RepresentationID$", "0")
        .replace("$Number%05d$", "00001")
        .replace("$Number$", "1")
        .replace("$Time$", "0")
        .replace("$Bandwidth$", "39350")
}

#[test]
fn ffmpeg_manifests_are_signed_and_every_uri_is_granted() {
    let signer = signer();
    let params = params(&signer);
    let trusted: TrustedKeys = [(signer.key_pair_id().clone(), signer.public_key())]
        .into_iter()
        .collect();
    let now = UnixTime::from_secs(NOW).unwrap();
    // (fixture, where it is served, kind, URIs expected to be signed)
    let fixtures = [
        (
            "ffmpeg-hls-master.m3u8",
            "master.m3u8",
            ManifestKind::Hls,
            3,
        ),
        (
            "ffmpeg-hls-media.m3u8",
            "stream_0/index.m3u8",
            ManifestKind::Hls,
            6,
        ),
        ("ffmpeg-hls-fmp4.m3u8", "fmp4.m3u8", ManifestKind::Hls, 7),
        (
            "ffmpeg-hls-byterange.m3u8",
            "byterange.m3u8",
            ManifestKind::Hls,
            6,
        ),
        ("ffmpeg-hls-aes.m3u8", "aes.m3u8", ManifestKind::Hls, 4),
        (
            "ffmpeg-dash-template.mpd",
            "template.mpd",
            ManifestKind::Dash,
            4,
        ),
        (
            "ffmpeg-dash-timeline.mpd",
            "timeline.mpd",
            ManifestKind::Dash,
            4,
        ),
        (
            "ffmpeg-dash-single-file.mpd",
            "single.mpd",
            ManifestKind::Dash,
            2,
        ),
        (
            "ffmpeg-dash-segment-list.mpd",
            "list.mpd",
            ManifestKind::Dash,
            7,
        ),
    ];
    for (file, path, kind, expected) in fixtures {
        let original = std::fs::read(common::data_dir().join("stream").join(file)).unwrap();
        let url = format!("{PREFIX}{path}");
        let out = sign_manifest(&original, &url, &params).unwrap();
        assert_eq!(out.kind(), kind, "{file}");
        assert_eq!(out.signed(), expected, "{file}:\n{}", out.as_str());
        assert!(out.skipped().is_empty(), "{file}: {:?}", out.skipped());
        assert_only_insertions(
            &String::from_utf8(original.clone()).unwrap(),
            out.as_str(),
            params.query(),
        );
        let uris = manifest_uris(out.as_str().as_bytes(), &url).unwrap();
        assert_eq!(uris.len(), expected, "{file}");
        for uri in uris {
            for resolved in uri.resolved().unwrap() {
                let request = fill_template(resolved);
                let decision = verify(&Request::new(&request, now), &trusted);
                assert!(decision.is_granted(), "{file}: {request}: {decision:?}");
            }
        }
        // The same manifest under another prefix's policy: nothing is signed, all is reported.
        let elsewhere = format!("https://d111111abcdef8.cloudfront.net/videos/999/{path}");
        let out = sign_manifest(&original, &elsewhere, &params).unwrap();
        assert_eq!(out.signed(), 0, "{file}");
        assert_eq!(out.as_str().as_bytes(), original, "{file}");
        assert_eq!(out.skipped().len(), expected, "{file}");
        assert!(
            out.skipped()
                .iter()
                .all(|s| s.reason() == SkipReason::OutsideResource)
        );
    }
}

/// `rewritten` is `original` with only `?Q`, `&Q` or `Q` inserted here and there (`&` written
/// `&amp;` in XML): every other byte is kept, in order.
fn assert_only_insertions(original: &str, rewritten: &str, query: &str) {
    let xml = query.replace('&', "&amp;");
    let marker = if rewritten.contains(&xml) {
        xml
    } else {
        query.to_owned()
    };
    let mut at = 0;
    let mut chunks: Vec<&str> = rewritten.split(marker.as_str()).collect();
    let last = chunks.pop().unwrap_or_default();
    for chunk in chunks {
        let rest = &original[at..];
        let kept = [
            chunk,
            chunk.strip_suffix("&amp;").unwrap_or(chunk),
            chunk.strip_suffix(['?', '&']).unwrap_or(chunk),
        ]
        .into_iter()
        .find(|c| rest.starts_with(c));
        let Some(kept) = kept else {
            panic!(
                "not a pure insertion before byte {at} of the original:\n{original}\n---\n{rewritten}"
            );
        };
        at += kept.len();
    }
    assert_eq!(
        &original[at..],
        last,
        "the tail differs:\n{original}\n---\n{rewritten}"
    );
}

/// The player-visible URIs of `rewritten` are those of `original` with the query appended
/// (signed) or unchanged (skipped).
fn assert_same_uris(original: &str, rewritten: &str, url: &str, query: &str) {
    assert_same_uris_from(original, url, rewritten, url, query);
}

/// As [`assert_same_uris`], with `rewritten` served from `served_at`.
fn assert_same_uris_from(original: &str, url: &str, rewritten: &str, served_at: &str, query: &str) {
    let before = manifest_uris(original.as_bytes(), url).unwrap();
    let after = manifest_uris(rewritten.as_bytes(), served_at).unwrap();
    assert_eq!(before.len(), after.len(), "{original}\n---\n{rewritten}");
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(x.line(), y.line());
        match (x.resolved(), y.resolved()) {
            (Ok(xs), Ok(ys)) => {
                assert_eq!(xs.len(), ys.len());
                let signed = ys.iter().any(|u| u.ends_with(query));
                for (u, v) in xs.iter().zip(ys) {
                    if signed {
                        let ok = [
                            format!("{u}?{query}"),
                            format!("{u}&{query}"),
                            format!("{u}{query}"),
                        ]
                        .contains(v);
                        assert!(ok, "{u} became {v}");
                    } else {
                        assert_eq!(u, v);
                    }
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("{a:?} became {b:?}"),
        }
    }
}

fn fake_params() -> SignedParams {
    let policy = CustomPolicy::new(
        Resource::new(&format!("{PREFIX}*")).unwrap(),
        UnixTime::from_secs(EXPIRES).unwrap(),
    );
    SignedParams::from_signature(
        &policy,
        b"not a real signature",
        &KeyPairId::new("K2JCJMDEHXQW5F").unwrap(),
        HashAlgorithm::Sha256,
    )
    .unwrap()
}

fn uri() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,6}\\.(ts|m4s|m3u8)",
        "[a-z0-9]{1,4}/[a-z0-9]{1,4}\\.ts(\\?x=[0-9])?",
        "\\.\\./[a-z0-9]{1,4}/s\\.ts",
        "/videos/(123|999)/[a-z]{1,4}\\.ts",
        Just(format!("{PREFIX}abs.ts")),
        Just("https://ads.example.com/ad.ts".to_owned()),
        Just("//d111111abcdef8.cloudfront.net/videos/123/n.ts".to_owned()),
        Just("skd://key".to_owned()),
        Just("s-{$v}.ts".to_owned()),
        Just("a.ts?Signature=x".to_owned()),
        Just("a.ts#t=1".to_owned()),
        Just(String::new()),
    ]
}

fn hls_line() -> impl Strategy<Value = String> {
    prop_oneof![
        uri(),
        uri().prop_map(|u| format!("  {u} ")),
        (
            prop::sample::select(vec![
                "EXT-X-KEY:METHOD=AES-128,",
                "EXT-X-SESSION-KEY:METHOD=AES-128,",
                "EXT-X-MAP:",
                "EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x, y\",",
                "EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,",
                "EXT-X-PART:DURATION=1,",
                "EXT-X-UNKNOWN:",
            ]),
            uri(),
            prop::option::of(Just(",BYTERANGE=\"10@0\""))
        )
            .prop_map(|(tag, u, tail)| format!("#{tag}URI=\"{u}\"{}", tail.unwrap_or_default())),
        Just("#EXT-X-MAP:URI=bare.mp4".to_owned()),
        Just("#EXTINF:4.0,".to_owned()),
        Just("#EXT-X-BYTERANGE:100@0".to_owned()),
        Just("#EXT-X-STREAM-INF:BANDWIDTH=1".to_owned()),
        Just("# comment seg.ts".to_owned()),
        Just(String::new()),
        "[ -~]{0,20}",
    ]
}

fn dash_uri_attr() -> impl Strategy<Value = String> {
    uri().prop_map(|u| u.replace('&', "&amp;"))
}

fn dash_doc() -> impl Strategy<Value = String> {
    let base = prop::option::of(prop_oneof![
        "[a-z]{1,3}/",
        Just(PREFIX.to_owned()),
        Just("https://cdn2.example.com/v/".to_owned()),
        Just("../../x/".to_owned()),
    ]);
    let segments = prop_oneof![
        (dash_uri_attr(), dash_uri_attr()).prop_map(|(m, i)| format!(
            "<SegmentTemplate media=\"$Number$-{m}\" initialization=\"{i}\" startNumber=\"1\"/>"
        )),
        (dash_uri_attr(), dash_uri_attr()).prop_map(|(m, i)| format!(
            "<SegmentList><Initialization sourceURL=\"{i}\"/>\n<SegmentURL media=\"{m}\"/>\n<SegmentURL media=\"$x$\" index=\"{i}\"/></SegmentList>"
        )),
        Just("<SegmentBase indexRange=\"0-9\"/>".to_owned()),
        Just("<SegmentList><SegmentURL mediaRange=\"0-9\"/></SegmentList>".to_owned()),
        Just(String::new()),
    ];
    let rep = (base.clone(), segments.clone()).prop_map(|(b, s)| {
        let b = b
            .map(|b| format!("<BaseURL>{b}</BaseURL>\n"))
            .unwrap_or_default();
        format!("<Representation id=\"r\">\n{b}{s}\n</Representation>")
    });
    let set = (base.clone(), segments, prop::collection::vec(rep, 0..3)).prop_map(|(b, s, reps)| {
        let b = b.map(|b| format!("<BaseURL>{b}</BaseURL>\n")).unwrap_or_default();
        format!(
            "<AdaptationSet>\n{b}{s}\n<Unknown media=\"u.ts\"><BaseURL>z/</BaseURL></Unknown>\n{}\n</AdaptationSet>",
            reps.join("\n")
        )
    });
    (base, prop::collection::vec(set, 1..3)).prop_map(|(b, sets)| {
        let b = b.map(|b| format!("<BaseURL>{b}</BaseURL>\n")).unwrap_or_default();
        format!(
            "<?xml version=\"1.0\"?>\n<!-- generated -->\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">\n{b}<Period>\n{}\n</Period>\n</MPD>\n",
            sets.join("\n")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hls_rewrite_keeps_uris_and_other_bytes(
        lines in prop::collection::vec(hls_line(), 0..30),
        crlf in any::<bool>(),
        dir in prop::sample::select(vec!["", "a/", "a/b/"]),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let doc = format!("#EXTM3U{eol}{}", lines.iter().map(|l| format!("{l}{eol}")).collect::<String>());
        let url = format!("{PREFIX}{dir}index.m3u8");
        let params = fake_params();
        let out = sign_manifest(doc.as_bytes(), &url, &params).unwrap();
        assert_only_insertions(&doc, out.as_str(), params.query());
        assert_same_uris(&doc, out.as_str(), &url, params.query());
        let uris = manifest_uris(doc.as_bytes(), &url).unwrap();
        prop_assert_eq!(out.signed() + out.skipped().len(), uris.len());
    }

    #[test]
    fn hls_absolute_rewrite_points_at_the_same_objects_from_anywhere(
        lines in prop::collection::vec(hls_line(), 0..30),
        dir in prop::sample::select(vec!["", "a/", "a/b/"]),
    ) {
        let doc = format!("#EXTM3U\n{}", lines.iter().map(|l| format!("{l}\n")).collect::<String>());
        let url = format!("{PREFIX}{dir}index.m3u8");
        let params = fake_params();
        let options = Options::new().with_absolute_uris();
        let out = sign_manifest_with(doc.as_bytes(), &url, &params, &options).unwrap();
        assert_same_uris_from(&doc, &url, out.as_str(), "https://app.example.com/watch/42", params.query());
    }

    #[test]
    fn dash_rewrite_keeps_uris_and_other_bytes(doc in dash_doc(), bom in any::<bool>()) {
        let doc = if bom { format!("\u{feff}{doc}") } else { doc };
        let url = format!("{PREFIX}manifest.mpd");
        let params = fake_params();
        let out = sign_manifest(doc.as_bytes(), &url, &params).unwrap();
        assert_only_insertions(&doc, out.as_str(), params.query());
        assert_same_uris(&doc, out.as_str(), &url, params.query());
    }

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), hls in any::<bool>()) {
        let mut input = if hls { b"#EXTM3U\n".to_vec() } else { b"<MPD>".to_vec() };
        input.extend(bytes);
        let params = fake_params();
        let _ = sign_manifest(&input, &format!("{PREFIX}m"), &params);
        let _ = manifest_uris(&input, &format!("{PREFIX}m"));
    }
}
