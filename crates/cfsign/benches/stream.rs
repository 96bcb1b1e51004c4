//! Criterion benchmarks of the manifest rewriter, as ratios to signing one URL: rewriting a
//! one-hour HLS media playlist (900 segments of 4 s) and a DASH MPD (SegmentTemplate, and a
//! SegmentList of 900 segments), each with the signature already made, against one
//! `sign_custom_url` with RSA-2048 (SHA-1) on the same machine.
//!
//! `cargo bench -p cfsign --bench stream --features native` (add
//! `-- --warm-up-time 1 --measurement-time 3` for a quick run); see `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use cfsign::stream::{SignedParams, sign_manifest};
use cfsign::{Backend, CustomPolicy, PrivateKey, Resource, Signer, UnixTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PREFIX: &str = "https://d111111abcdef8.cloudfront.net/videos/2026/launch/";
const SEGMENTS: usize = 900;

fn signer(backend: Backend) -> Signer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys/rsa2048-pkcs1.pem");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let key = PrivateKey::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
    Signer::with_backend(
        "K2JCJMDEHXQW5F".parse().unwrap_or_else(|e| panic!("{e}")),
        key,
        backend,
    )
}

fn policy() -> CustomPolicy {
    CustomPolicy::new(
        Resource::new(&format!("{PREFIX}*")).unwrap_or_else(|e| panic!("{e}")),
        UnixTime::from_secs(1_767_225_600).unwrap_or_else(|e| panic!("{e}")),
    )
}

/// A one-hour VOD media playlist as ffmpeg writes it (fMP4, 4-second segments).
fn hls_hour() -> String {
    let mut out = String::from(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n",
    );
    for i in 0..SEGMENTS {
        let _ = write!(out, "#EXTINF:4.000000,\nsegment-{i:05}.m4s\n");
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// An MPD with a SegmentTemplate (as ffmpeg writes for live profiles), 3 Representations.
fn dash_template() -> String {
    let reps: String = (0..3)
        .map(|i| {
            format!(
                "<Representation id=\"{i}\" bandwidth=\"{}\"/>\n",
                (i + 1) * 500_000
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" mediaPresentationDuration=\"PT1H\">\n<Period>\n<AdaptationSet contentType=\"video\">\n<SegmentTemplate timescale=\"1000\" duration=\"4000\" initialization=\"init-$RepresentationID$.m4s\" media=\"chunk-$RepresentationID$-$Number%05d$.m4s\" startNumber=\"1\"/>\n{reps}</AdaptationSet>\n</Period>\n</MPD>\n"
    )
}

/// An MPD with a SegmentList of one hour (900 SegmentURLs).
fn dash_list() -> String {
    let mut urls = String::new();
    for i in 0..SEGMENTS {
        let _ = writeln!(urls, "<SegmentURL media=\"chunk-{i:05}.m4s\"/>");
    }
    format!(
        "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\">\n<Period>\n<AdaptationSet>\n<Representation id=\"0\" bandwidth=\"1\">\n<SegmentList timescale=\"1000\" duration=\"4000\">\n<Initialization sourceURL=\"init.m4s\"/>\n{urls}</SegmentList>\n</Representation>\n</AdaptationSet>\n</Period>\n</MPD>\n"
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(1));
    let backends: &[(Backend, &str)] = &[
        (Backend::RustCrypto, "rustcrypto"),
        #[cfg(feature = "native")]
        (Backend::OpenSsl, "openssl"),
    ];
    let policy = policy();
    for (backend, name) in backends {
        let signer = signer(*backend);
        let url = format!("{PREFIX}segment-00001.m4s");
        group.bench_function(format!("sign_one_url/rsa2048/{name}"), |b| {
            b.iter(|| signer.sign_custom_url(black_box(&url), &policy))
        });
        group.bench_function(format!("signed_params/rsa2048/{name}"), |b| {
            b.iter(|| SignedParams::sign(&signer, black_box(&policy)))
        });
    }
    let params =
        SignedParams::sign(&signer(Backend::RustCrypto), &policy).unwrap_or_else(|e| panic!("{e}"));
    for (name, doc, file) in [
        ("rewrite_hls_1h_900_segments", hls_hour(), "index.m3u8"),
        (
            "rewrite_dash_template_3_reps",
            dash_template(),
            "manifest.mpd",
        ),
        ("rewrite_dash_segment_list_900", dash_list(), "manifest.mpd"),
    ] {
        let url = format!("{PREFIX}{file}");
        let check = sign_manifest(doc.as_bytes(), &url, &params).unwrap_or_else(|e| panic!("{e}"));
        assert!(check.skipped().is_empty() && check.signed() > 0, "{name}");
        group.bench_function(name, |b| {
            b.iter(|| sign_manifest(black_box(doc.as_bytes()), &url, &params))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
