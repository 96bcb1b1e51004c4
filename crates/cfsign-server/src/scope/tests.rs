//! Unit tables for the scope rules and the path normaliser.

use super::*;

fn scope(entries: &[&str]) -> Scope {
    Scope::new(
        entries
            .iter()
            .map(|e| AllowRule::parse(e).unwrap())
            .collect(),
    )
}

/// `expected` is `Ok(())` or the error code.
fn check_url(entries: &[&str], url: &str, expected: Result<(), &str>) {
    let got = scope(entries).check_url(url, 4096).map_err(|e| e.code());
    assert_eq!(got, expected, "{entries:?} {url}");
}

fn check_pattern(entries: &[&str], pattern: &str, expected: Result<(), &str>) {
    let got = scope(entries)
        .check_pattern(pattern, 4096)
        .map_err(|e| e.code());
    assert_eq!(got, expected, "{entries:?} {pattern}");
}

const MEDIA: &[&str] = &["https://d1.example.net/media"];

#[test]
fn prefixes() {
    check_url(MEDIA, "https://d1.example.net/media", Ok(()));
    check_url(MEDIA, "https://d1.example.net/media/a.jpg?v=2", Ok(()));
    check_url(MEDIA, "https://D1.Example.NET/media/a.jpg", Ok(()));
    check_url(
        MEDIA,
        "https://d1.example.net/media-private/a.jpg",
        Err("out_of_scope"),
    );
    check_url(
        MEDIA,
        "http://d1.example.net/media/a.jpg",
        Err("out_of_scope"),
    );
    check_url(MEDIA, "https://d1.example.net/", Err("out_of_scope"));
    check_url(MEDIA, "https://d1.example.net", Err("out_of_scope"));
    check_url(
        &["https://d1.example.net/"],
        "https://d1.example.net",
        Ok(()),
    );
}

#[test]
fn globs() {
    let users = &[
        "https://d1.example.net/users/*/avatar.png",
        "https://d1.example.net/pub/**.m3u8",
    ];
    check_url(users, "https://d1.example.net/users/42/avatar.png", Ok(()));
    check_url(
        users,
        "https://d1.example.net/users/42/x/avatar.png",
        Err("out_of_scope"),
    );
    check_url(users, "https://d1.example.net/pub/a/b/c.m3u8", Ok(()));
    check_url(
        users,
        "https://d1.example.net/pub/a/b/c.ts",
        Err("out_of_scope"),
    );
    check_pattern(users, "https://d1.example.net/users/*", Err("out_of_scope"));
}

#[test]
fn dot_segments() {
    for url in [
        "https://d1.example.net/media/../secret/a.jpg",
        "https://d1.example.net/media/./a.jpg",
        "https://d1.example.net/media/%2e%2e/secret",
        "https://d1.example.net/media/%2E%2e/secret",
        "https://d1.example.net/media/.%2E/secret",
        "https://d1.example.net/media/..",
    ] {
        check_url(MEDIA, url, Err("dot_segment"));
    }
    check_url(MEDIA, "https://d1.example.net/media/..a/b", Ok(()));
    check_pattern(
        MEDIA,
        "https://d1.example.net/media/%2e%2e/*",
        Err("dot_segment"),
    );
}

#[test]
fn encoded_slashes() {
    for url in [
        "https://d1.example.net/media%2f..%2fsecret",
        "https://d1.example.net/media/a%2Fb",
        "https://d1.example.net/media/a%5cb",
    ] {
        check_url(MEDIA, url, Err("encoded_slash"));
    }
    check_url(
        MEDIA,
        "https://d1.example.net/media/%252e%252e/x",
        Err("double_encoding"),
    );
}

#[test]
fn wildcard_and_json_injection() {
    check_url(MEDIA, "https://d1.example.net/media/*", Err("wildcard"));
    check_url(
        MEDIA,
        "https://d1.example.net/media/a\"}],\"x",
        Err("injection"),
    );
    check_pattern(
        MEDIA,
        "https://d1.example.net/media/*\"},{\"Resource\":\"*",
        Err("injection"),
    );
    check_pattern(MEDIA, "https://d1.example.net/media/*", Ok(()));
    check_pattern(MEDIA, "https://d1.example.net/media/a?.jpg", Ok(()));
    check_pattern(MEDIA, "https://d1.example.net/med*", Err("out_of_scope"));
    check_pattern(MEDIA, "https://d1.example.net/media*", Err("out_of_scope"));
    check_pattern(MEDIA, "https://d1.example.net/*", Err("out_of_scope"));
    check_pattern(MEDIA, "https://*.example.net/media/*", Err("wildcard"));
    check_pattern(MEDIA, "https://d1.example.net?/media/*", Err("wildcard"));
    check_pattern(MEDIA, "http*://d1.example.net/media/*", Err("invalid_url"));
    check_pattern(MEDIA, "*", Err("invalid_url"));
    check_pattern(
        MEDIA,
        r"https://d1.example.net/media/a\?x=1",
        Err("injection"),
    );
}

#[test]
fn userinfo_port_and_host_tricks() {
    check_url(
        MEDIA,
        "https://d1.example.net@evil.com/media/a",
        Err("userinfo"),
    );
    check_url(
        MEDIA,
        "https://evil.com@d1.example.net/media/a",
        Err("userinfo"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net:443/media/a",
        Err("out_of_scope"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net:8443/media/a",
        Err("out_of_scope"),
    );
    check_url(MEDIA, "https://d1.example.net:/media/a", Err("bad_port"));
    check_url(
        MEDIA,
        "https://d1.example.net./media/a",
        Err("out_of_scope"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net.evil.com/media/a",
        Err("out_of_scope"),
    );
    check_url(
        MEDIA,
        "https://d1%2eexample.net/media/a",
        Err("encoded_host"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net\\@evil.com/media",
        Err("injection"),
    );
    check_url(MEDIA, "https://d1.exa_mple.net/media/a", Err("bad_host"));
    check_url(
        &["https://d1.example.net:8443/media"],
        "https://d1.example.net:8443/media/a",
        Ok(()),
    );
}

#[test]
fn malformed_and_oversize() {
    check_url(MEDIA, "d1.example.net/media/a", Err("invalid_url"));
    check_url(MEDIA, "ftp://d1.example.net/media/a", Err("invalid_url"));
    check_url(MEDIA, "HTTPS://d1.example.net/media/a", Err("invalid_url"));
    check_url(
        MEDIA,
        "https://d1.example.net/media/a b",
        Err("invalid_url"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net/media/a#x",
        Err("invalid_url"),
    );
    check_url(
        MEDIA,
        "https://d1.example.net/media/%zz",
        Err("invalid_url"),
    );
    check_url(MEDIA, "https:///media/a", Err("invalid_url"));
    check_url(
        MEDIA,
        "https://d1.example.net/media/a?Signature=x",
        Err("reserved_parameter"),
    );
    let long = format!("https://d1.example.net/media/{}", "a".repeat(5000));
    check_url(MEDIA, &long, Err("url_too_long"));
}

const PRIVATE: &[&str] = &[
    "https://media.example.com/private/",
    "https://media.example.com/users/*/avatar.png",
];

/// `path` on media.example.com, for a client allowed `PRIVATE`.
fn check_private(path: &str, expected: Result<(), &str>) {
    check_url(
        PRIVATE,
        &format!("https://media.example.com{path}"),
        expected,
    );
}

#[test]
fn path_parameters_and_trailing_junk_make_dot_segments() {
    for path in [
        "/private/..;/secret/a.jpg",
        "/private/..;x=1/secret/a.jpg",
        "/private/%2e%2e;/secret/a.jpg",
        "/private/..%3b/secret/a.jpg",
        "/private/..%3Bjsessionid=1/secret/a.jpg",
        "/private/.;/a.jpg",
        "/private/..%00/secret/a.jpg",
        "/private/..%20/secret/a.jpg",
        "/private/..%09/secret/a.jpg",
        "/private/%20../secret/a.jpg",
        "/private/.%20./secret/a.jpg",
        "/private/.../a.jpg",
        "/private/..%e2%80%8b/secret/a.jpg",
        "/private/..%c2%a0/secret/a.jpg",
        "/private/..%3f/secret/a.jpg",
        "/private/..%23/secret/a.jpg",
    ] {
        check_private(path, Err("dot_segment"));
    }
    for path in [
        "/private/..a/b.jpg",
        "/private/a..b.jpg",
        "/private/.well-known/a.jpg",
        "/private/a;v=1.jpg",
        "/private/a.jpg;jsessionid=1",
    ] {
        check_private(path, Ok(()));
    }
}

#[test]
fn every_double_encoding_of_structure_is_refused() {
    for path in [
        "/private/%252e%252e/secret/a.jpg",
        "/private/%25%32%65%25%32%65/secret/a.jpg",
        "/private/%25%32%45%25%32%45/secret/a.jpg",
        "/private/..%25%32%66secret/a.jpg",
        "/private/..%25%35%63secret/a.jpg",
        "/private/%25252e%25252e/secret/a.jpg",
        "/private/a%25252ejpg",
        "/private/a%252ejpg",
        "/private/..%253b/secret/a.jpg",
        "/private/a%253f/a.jpg",
        "/private/a%2525.jpg",
        "/private/%25c0%25ae%25c0%25ae/secret/a.jpg",
        "/private/%25ef%25bc%258e%25ef%25bc%258e/secret/a.jpg",
        "/private/..%2500/secret/a.jpg",
    ] {
        check_private(path, Err("double_encoding"));
    }
    // Double-encoded characters that are not structure stay allowed (S3 keys with a
    // literal `%20` are common): every reading is still in scope.
    check_private("/private/a%2520b.jpg", Ok(()));
    check_private("/private/a%2541.jpg", Ok(()));
    check_private("/private/caf%25C3%25A9.jpg", Ok(()));
}

#[test]
fn overlong_utf8_controls_and_lookalikes() {
    for path in [
        "/private/%c0%ae%c0%ae/secret/a.jpg",
        "/private/%e0%80%ae%e0%80%ae/secret/a.jpg",
        "/private/..%c0%afsecret/a.jpg",
        "/private/%c1%9c/a.jpg",
        "/private/%f0%80%80%ae/a.jpg",
        "/private/caf%e9.jpg",
        "/private/%ed%a0%80.jpg",
    ] {
        check_private(path, Err("invalid_utf8"));
    }
    for path in [
        "/private/%ef%bc%8e%ef%bc%8e/secret/a.jpg",
        "/private/%e2%80%a5/secret/a.jpg",
        "/private/%e2%80%a4%e2%80%a4/secret/a.jpg",
        "/private/..%ef%bc%8fsecret/a.jpg",
        "/private/..%e2%88%95secret/a.jpg",
        "/private/..%c2%a5secret/a.jpg",
        "/private/%ef%bc%85%ef%bc%92%ef%bd%85/a.jpg",
        "/private/a%ef%bc%9bb.jpg",
        "/private/a%e3%80%82jpg",
    ] {
        check_private(path, Err("lookalike"));
    }
    for path in [
        "/private/a%00.jpg",
        "/private/a%0a.jpg",
        "/private/a%7f.jpg",
        "/private/a%c2%85.jpg",
        "/users/%00/avatar.png",
    ] {
        check_private(path, Err("control_character"));
    }
    for path in [
        "/private/caf%C3%A9.jpg",
        "/private/%E2%9D%A4%EF%B8%8F.png",
        "/private/%E6%97%A5%E6%9C%AC.jpg",
        "/private/a%20b.jpg",
        "/private/a%2Bb.jpg",
        "/private/100%25.jpg",
        "/private/a%2Ab.jpg",
    ] {
        check_private(path, Ok(()));
    }
}

#[test]
fn a_glob_star_needs_a_segment_origins_keep() {
    check_private("/users/42/avatar.png", Ok(()));
    check_private("/users/42;v=1/avatar.png", Ok(()));
    check_private("/users/42./avatar.png", Ok(()));
    for path in [
        "/users//avatar.png",
        "/users/;/avatar.png",
        "/users/;x=1/avatar.png",
        "/users/%3b/avatar.png",
        "/users/%20/avatar.png",
        "/users/%e2%80%8b/avatar.png",
        "/users/42/avatar.png;x",
        "/users/42%3f/avatar.png",
        "/users/42%23/avatar.png",
        "/users/avatar.png",
        "//users/42/avatar.png",
    ] {
        check_private(path, Err("out_of_scope"));
    }
    assert!(glob_match(b"/a/*/b", b"/a/x/b"));
    assert!(!glob_match(b"/a/*/b", b"/a//b"));
    assert!(!glob_match(b"/a/*/b", b"/a/x/y/b"));
    assert!(glob_match(b"/a/**/b", b"/a/x/y/b"));
    assert!(!glob_match(b"/a/**/b", b"/a//b"));
    assert!(!glob_match(b"/a/*", b"/a/"));
}

#[test]
fn patterns_are_read_like_urls() {
    let check = |pattern: &str, expected| {
        check_pattern(
            PRIVATE,
            &format!("https://media.example.com{pattern}"),
            expected,
        );
    };
    check("/private/*", Ok(()));
    check("/private/hls/*.ts", Ok(()));
    check("/private/a;b/*", Ok(()));
    check("/private/..;/*", Err("dot_segment"));
    check("/private/%2e%2e%3b/*", Err("dot_segment"));
    check("/private/..%00/*", Err("dot_segment"));
    check("/private/%25%32%65%25%32%65/*", Err("double_encoding"));
    check("/private/%c0%ae%c0%ae/*", Err("invalid_utf8"));
    check("/private/%ef%bc%8e%ef%bc%8e/*", Err("lookalike"));
    check("/private;/*", Err("out_of_scope"));
    check("/private%3b/*", Err("out_of_scope"));
    check("/users/*/avatar.png", Err("out_of_scope"));
}

/// `path`'s readings, decoded once and until stable.
fn check_normal(path: &str, once: &str, full: &str) {
    let got = normalise(path).unwrap();
    assert_eq!(
        (got.once.as_str(), got.full.as_str()),
        (once, full),
        "{path}"
    );
}

#[test]
fn normal_forms() {
    check_normal("/", "/", "/");
    check_normal("/a/b", "/a/b", "/a/b");
    check_normal("/a/b/", "/a/b/", "/a/b/");
    check_normal("/a//b//", "/a/b/", "/a/b/");
    check_normal("/a;x/b;y=1", "/a/b", "/a/b");
    check_normal("/a/;", "/a/", "/a/");
    check_normal("/a%3fb/c", "/a", "/a");
    check_normal("/a/%23b", "/a/", "/a/");
    check_normal("/a./b%20", "/a/b", "/a/b");
    check_normal("/a%2541", "/a%41", "/aA");
    check_normal("/caf%C3%A9", "/caf\u{e9}", "/caf\u{e9}");
}

#[test]
fn rules_are_read_like_urls() {
    let rules = &["https://h.example/my%20files/"];
    check_url(rules, "https://h.example/my%20files/a.jpg", Ok(()));
    check_url(
        rules,
        "https://h.example/my%2520files/a.jpg",
        Err("out_of_scope"),
    );
    check_url(
        rules,
        "https://h.example/my files/a.jpg",
        Err("invalid_url"),
    );
    for entry in [
        "https://h.example/users/%2A/*",
        "https://h.example/users/a;*/avatar.png",
        "https://h.example/a/..;/b",
        "https://h.example/a/%c0%ae/b",
    ] {
        assert!(AllowRule::parse(entry).is_err(), "{entry}");
    }
}

#[test]
fn rules_are_validated() {
    for entry in [
        "d1.example.net/media",
        "https://*.example.net/",
        "https://u@d1.example.net/",
        "https://d1.example.net/a/../b",
        "https://d1.example.net/a?b",
    ] {
        assert!(AllowRule::parse(entry).is_err(), "{entry}");
    }
}
