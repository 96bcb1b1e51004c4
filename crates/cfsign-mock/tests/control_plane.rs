//! Every control-plane operation and error, over HTTP against an in-process mock.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign::{KeyKind, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use common::*;

fn mock() -> Mock {
    Mock::start(MockConfig::default())
}

/// Creates a public key and returns (id, etag).
fn create_key(m: &Mock, name: &str) -> (String, String) {
    let (_, pem) = keypair(KeyKind::P256);
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config(name, name, &pem),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    (r.xml("Id").unwrap(), r.etag())
}

fn create_group(m: &Mock, name: &str, keys: &[&str]) -> (String, String) {
    let r = m.post("/2020-05-31/key-group", &key_group_config(name, keys));
    assert_eq!(r.status, 201, "{}", r.text());
    (r.xml("Id").unwrap(), r.etag())
}

#[test]
fn public_key_lifecycle() {
    let m = mock();
    let (_, pem) = keypair(KeyKind::Rsa2048);
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("ref-1", "key-1", &pem),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.xml("Id").unwrap();
    assert!(id.starts_with('K') && id.len() == 14, "{id}");
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/2020-05-31/public-key/{id}", m.endpoint())
    );
    assert!(r.text().contains(&format!("<PublicKey xmlns=\"{NS}\">")));
    let created = r.xml("CreatedTime").unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    let etag1 = r.etag();

    let r = m.get(&format!("/2020-05-31/public-key/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.etag(), etag1);
    assert_eq!(r.xml("Name").unwrap(), "key-1");
    assert_eq!(r.xml("EncodedKey").unwrap().trim(), pem.trim());

    let r = m.get(&format!("/2020-05-31/public-key/{id}/config"));
    assert_eq!(r.status, 200);
    assert!(
        r.text()
            .contains(&format!("<PublicKeyConfig xmlns=\"{NS}\">"))
    );
    assert_eq!(r.xml("CallerReference").unwrap(), "ref-1");

    // Update: name and comment may change; a new ETag each time.
    let path = format!("/2020-05-31/public-key/{id}/config");
    let r = m.put(
        &path,
        &etag1,
        &public_key_config("ref-1", "key-1-renamed", &pem),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let etag2 = r.etag();
    assert_ne!(etag1, etag2);
    assert_eq!(r.xml("Name").unwrap(), "key-1-renamed");
    // Stale, missing If-Match.
    m.put(&path, &etag1, &public_key_config("ref-1", "x", &pem))
        .expect_error(412, "PreconditionFailed");
    m.req("PUT", &path)
        .body(public_key_config("ref-1", "x", &pem))
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    // Immutable fields.
    let (_, other_pem) = keypair(KeyKind::P256);
    m.put(
        &path,
        &etag2,
        &public_key_config("ref-1", "key-1", &other_pem),
    )
    .expect_error(400, "CannotChangeImmutablePublicKeyFields");
    m.put(&path, &etag2, &public_key_config("ref-2", "key-1", &pem))
        .expect_error(400, "CannotChangeImmutablePublicKeyFields");

    // List.
    let r = m.get("/2020-05-31/public-key");
    assert_eq!(r.status, 200);
    assert!(
        r.text()
            .contains(&format!("<PublicKeyList xmlns=\"{NS}\">"))
    );
    assert_eq!(r.xml("Quantity").unwrap(), "1");
    assert!(r.text().contains("<PublicKeySummary><Id>"));

    // Delete.
    let del = format!("/2020-05-31/public-key/{id}");
    m.req("DELETE", &del)
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    m.delete(&del, &etag1)
        .expect_error(412, "PreconditionFailed");
    let r = m.delete(&del, &etag2);
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    m.get(&del).expect_error(404, "NoSuchPublicKey");
    m.get(&format!("{del}/config"))
        .expect_error(404, "NoSuchPublicKey");
    m.delete(&del, &etag2).expect_error(404, "NoSuchPublicKey");
}

#[test]
fn public_key_validation() {
    let m = mock();
    let (_, pem) = keypair(KeyKind::P256);
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("r1", "k1", &pem),
    );
    assert_eq!(r.status, 201);
    // Reused CallerReference or name.
    m.post(
        "/2020-05-31/public-key",
        &public_key_config("r1", "k2", &pem),
    )
    .expect_error(409, "PublicKeyAlreadyExists");
    m.post(
        "/2020-05-31/public-key",
        &public_key_config("r2", "k1", &pem),
    )
    .expect_error(409, "PublicKeyAlreadyExists");
    // Not a public key: private key, garbage, RSA-1024.
    let (private, _) = keypair(KeyKind::P256);
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("r3", "k3", &private.to_pkcs8_pem()),
    );
    r.expect_error(400, "InvalidArgument");
    assert!(r.text().contains("private key"), "{}", r.text());
    assert!(!r.text().contains("BEGIN PRIVATE KEY"), "echoed the key");
    m.post(
        "/2020-05-31/public-key",
        &public_key_config(
            "r4",
            "k4",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ),
    )
    .expect_error(400, "InvalidArgument");
    // From `openssl genrsa 1024 | openssl rsa -pubout`.
    let rsa1024 = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDHek+6726inesoToMRchhLJBXy\nOTVM/pjk5opNaZ4EWOnd75v7kW41/2X+djYK6zYDbM3oq0u453BI1DogmmyfVOId\nwDskE/30K4CvkI5dW6nCCbBD6/yof8P4DVqb+J41VUXFg7WU9qZwnpCk6MY7CIKS\nSV9j9+x8om/4cxXxuwIDAQAB\n-----END PUBLIC KEY-----";
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("r5", "k5", rsa1024),
    );
    r.expect_error(400, "InvalidArgument");
    assert!(r.text().contains("1024"), "{}", r.text());
    // Bad name, missing element.
    m.post(
        "/2020-05-31/public-key",
        &public_key_config("r6", "bad name!", &pem),
    )
    .expect_error(400, "InvalidArgument");
    m.post(
        "/2020-05-31/public-key",
        &format!("<PublicKeyConfig xmlns=\"{NS}\"><CallerReference>x</CallerReference><Name>n</Name></PublicKeyConfig>"),
    )
    .expect_error(400, "InvalidArgument");
    // Quota: 10 per account.
    for i in 0..9 {
        let (_, pem) = keypair(KeyKind::P256);
        let r = m.post(
            "/2020-05-31/public-key",
            &public_key_config(&format!("q{i}"), &format!("q{i}"), &pem),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let (_, pem) = keypair(KeyKind::P256);
    m.post(
        "/2020-05-31/public-key",
        &public_key_config("q10", "q10", &pem),
    )
    .expect_error(400, "TooManyPublicKeys");
    // Pagination.
    let r = m.get("/2020-05-31/public-key?MaxItems=4");
    assert_eq!(r.xml("Quantity").unwrap(), "4");
    let next = r.xml("NextMarker").unwrap();
    let r2 = m.get(&format!("/2020-05-31/public-key?MaxItems=4&Marker={next}"));
    assert_eq!(r2.xml("Quantity").unwrap(), "4");
    assert_ne!(r2.xml("Id"), r.xml("Id"));
    m.get("/2020-05-31/public-key?MaxItems=abc")
        .expect_error(400, "InvalidArgument");
}

#[test]
fn key_group_lifecycle_and_rules() {
    let m = mock();
    let keys: Vec<(String, String)> = (0..6).map(|i| create_key(&m, &format!("k{i}"))).collect();
    let ids: Vec<&str> = keys.iter().map(|(id, _)| id.as_str()).collect();

    let r = m.post("/2020-05-31/key-group", &key_group_config("g1", &ids[..2]));
    assert_eq!(r.status, 201, "{}", r.text());
    let gid = r.xml("Id").unwrap();
    assert_eq!(gid.len(), 36);
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/2020-05-31/key-group/{gid}", m.endpoint())
    );
    assert!(r.text().contains(&format!(
        "<KeyGroup xmlns=\"{NS}\"><Id>{gid}</Id><LastModifiedTime>"
    )));
    let etag1 = r.etag();

    // Quotas and validation.
    m.post("/2020-05-31/key-group", &key_group_config("g2", &ids))
        .expect_error(400, "TooManyPublicKeysInKeyGroup");
    m.post("/2020-05-31/key-group", &key_group_config("g1", &ids[..1]))
        .expect_error(409, "KeyGroupAlreadyExists");
    m.post(
        "/2020-05-31/key-group",
        &key_group_config("g3", &["KNOSUCHKEY0000"]),
    )
    .expect_error(400, "InvalidArgument");
    m.post("/2020-05-31/key-group", &key_group_config("g3", &[]))
        .expect_error(400, "InvalidArgument");

    // Get, GetConfig, List.
    let r = m.get(&format!("/2020-05-31/key-group/{gid}"));
    assert_eq!((r.status, r.etag()), (200, etag1.clone()));
    let r = m.get(&format!("/2020-05-31/key-group/{gid}/config"));
    assert!(r.text().contains(&format!(
        "<KeyGroupConfig xmlns=\"{NS}\"><Name>g1</Name><Items><PublicKey>{}</PublicKey>",
        ids[0]
    )));
    let r = m.get("/2020-05-31/key-group");
    assert!(r.text().contains("<KeyGroupList xmlns="));
    assert!(r.text().contains("<Items><KeyGroupSummary><KeyGroup><Id>"));
    m.get("/2020-05-31/key-group/nope")
        .expect_error(404, "NoSuchResource");
    m.get("/2020-05-31/key-group/nope/config")
        .expect_error(404, "NoSuchResource");

    // Update (PUT on the group itself).
    let path = format!("/2020-05-31/key-group/{gid}");
    let r = m.put(&path, &etag1, &key_group_config("g1", &ids[..5]));
    assert_eq!(r.status, 200, "{}", r.text());
    let etag2 = r.etag();
    assert_ne!(etag1, etag2);
    m.put(&path, &etag2, &key_group_config("g1", &ids))
        .expect_error(400, "TooManyPublicKeysInKeyGroup");
    m.put(&path, &etag1, &key_group_config("g1", &ids[..1]))
        .expect_error(412, "PreconditionFailed");
    m.req("PUT", &path)
        .body(key_group_config("g1", &ids[..1]))
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    let (_, _) = create_group(&m, "other", &ids[5..]);
    m.put(&path, &etag2, &key_group_config("other", &ids[..1]))
        .expect_error(409, "KeyGroupAlreadyExists");
    m.put(
        "/2020-05-31/key-group/nope",
        &etag2,
        &key_group_config("z", &ids[..1]),
    )
    .expect_error(404, "NoSuchResource");

    // A key in a group cannot be deleted.
    let (k0, k0_etag) = &keys[0];
    m.delete(&format!("/2020-05-31/public-key/{k0}"), k0_etag)
        .expect_error(409, "PublicKeyInUse");

    // Delete the group, then the key.
    m.delete(&path, &etag1)
        .expect_error(412, "PreconditionFailed");
    m.req("DELETE", &path)
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    assert_eq!(m.delete(&path, &etag2).status, 204);
    m.get(&path).expect_error(404, "NoSuchResource");
    assert_eq!(
        m.delete(&format!("/2020-05-31/public-key/{k0}"), k0_etag)
            .status,
        204
    );
}

#[test]
fn distribution_lifecycle_and_rules() {
    let m = mock();
    let (k1, _) = create_key(&m, "k1");
    let (g1, g1_etag) = create_group(&m, "g1", &[&k1]);

    let body = distribution_config("d-1", true, "bucket.s3.amazonaws.com", &[], &[&g1]);
    let r = m.post("/2020-05-31/distribution", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.xml("Id").unwrap();
    let etag1 = r.etag();
    let domain = r.xml("DomainName").unwrap();
    assert!(domain.ends_with(".cloudfront.net"));
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/2020-05-31/distribution/{id}", m.endpoint())
    );
    let text = r.text();
    assert!(text.contains(&format!(
        "<Distribution xmlns=\"{NS}\"><Id>{id}</Id><ARN>arn:aws:cloudfront::"
    )));
    assert!(text.contains("<Status>Deployed</Status>"));
    assert!(text.contains(&format!(
        "<ActiveTrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup><KeyGroupId>{g1}</KeyGroupId><KeyPairIds><Quantity>1</Quantity><Items><KeyPairId>{k1}</KeyPairId></Items></KeyPairIds></KeyGroup></Items></ActiveTrustedKeyGroups>"
    )), "{text}");

    // Same CallerReference: same config returns the distribution; another config is refused.
    let again = m.post("/2020-05-31/distribution", &body);
    assert_eq!(again.xml("Id").unwrap(), id);
    m.post(
        "/2020-05-31/distribution",
        &distribution_config("d-1", false, "bucket.s3.amazonaws.com", &[], &[]),
    )
    .expect_error(409, "DistributionAlreadyExists");

    // Get, GetConfig, List, ListDistributionsByKeyGroup.
    let r = m.get(&format!("/2020-05-31/distribution/{id}"));
    assert_eq!((r.status, r.etag()), (200, etag1.clone()));
    let r = m.get(&format!("/2020-05-31/distribution/{id}/config"));
    assert!(r.text().contains(&format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>d-1</CallerReference>"
    )));
    assert_eq!(r.etag(), etag1);
    let r = m.get("/2020-05-31/distribution");
    assert!(r.text().contains("<DistributionList xmlns="));
    assert!(r.text().contains("<Marker></Marker>"));
    assert!(r.text().contains("<IsTruncated>false</IsTruncated>"));
    assert!(
        r.text()
            .contains(&format!("<DistributionSummary><Id>{id}</Id>"))
    );
    let r = m.get(&format!("/2020-05-31/distributionsByKeyGroupId/{g1}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text()
            .contains(&format!("<DistributionIdList xmlns=\"{NS}\">"))
    );
    assert!(r.text().contains(&format!(
        "<Items><DistributionId>{id}</DistributionId></Items>"
    )));
    m.get("/2020-05-31/distributionsByKeyGroupId/nope")
        .expect_error(404, "NoSuchResource");
    m.get("/2020-05-31/distribution/ENOSUCH")
        .expect_error(404, "NoSuchDistribution");
    m.get("/2020-05-31/distribution/ENOSUCH/config")
        .expect_error(404, "NoSuchDistribution");

    // A trusted group cannot be deleted.
    m.delete(&format!("/2020-05-31/key-group/{g1}"), &g1_etag)
        .expect_error(409, "ResourceInUse");

    // Creation errors.
    let bad = |body: String, status: u16, code: &str| {
        m.post("/2020-05-31/distribution", &body)
            .expect_error(status, code);
    };
    bad(
        distribution_config("d-2", true, "o", &[], &["nope"]),
        400,
        "TrustedKeyGroupDoesNotExist",
    );
    bad(
        distribution_config("d-2", true, "o", &[&g1, &g1, &g1, &g1, &g1], &[]),
        400,
        "TooManyKeyGroupsAssociatedToDistribution",
    );
    bad(
        distribution_config("d-2", true, "o", &[], &[&g1]).replace(
            "<Quantity>1</Quantity><Items><Origin>",
            "<Quantity>2</Quantity><Items><Origin>",
        ),
        400,
        "InconsistentQuantities",
    );
    bad(
        distribution_config("d-2", true, "o", &[], &[&g1]).replace(
            "<TargetOriginId>o1</TargetOriginId>",
            "<TargetOriginId>zz</TargetOriginId>",
        ),
        404,
        "NoSuchOrigin",
    );
    bad(
        distribution_config("d-2", true, "o", &[], &[]).replace("<Comment>test</Comment>", ""),
        400,
        "InvalidArgument",
    );

    // Update: disable, with If-Match rules and immutable CallerReference.
    let path = format!("/2020-05-31/distribution/{id}/config");
    let disabled = distribution_config("d-1", false, "bucket.s3.amazonaws.com", &[], &[&g1]);
    m.req("PUT", &path)
        .body(disabled.clone())
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    m.put(&path, "EWRONG", &disabled)
        .expect_error(412, "PreconditionFailed");
    m.put(
        &path,
        &etag1,
        &distribution_config("d-other", false, "o", &[], &[]),
    )
    .expect_error(400, "IllegalUpdate");
    m.put(
        &path,
        &etag1,
        &distribution_config("d-1", false, "o", &[], &["nope"]),
    )
    .expect_error(400, "TrustedKeyGroupDoesNotExist");
    m.put("/2020-05-31/distribution/ENOSUCH/config", &etag1, &disabled)
        .expect_error(404, "NoSuchDistribution");

    // Delete an enabled distribution: refused.
    let del = format!("/2020-05-31/distribution/{id}");
    m.delete(&del, &etag1)
        .expect_error(409, "DistributionNotDisabled");
    let r = m.put(&path, &etag1, &disabled);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains(&format!("<Distribution xmlns=\"{NS}\">")));
    let etag2 = r.etag();
    assert_ne!(etag1, etag2);
    m.delete(&del, &etag1)
        .expect_error(412, "PreconditionFailed");
    m.req("DELETE", &del)
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    assert_eq!(m.delete(&del, &etag2).status, 204);
    m.get(&del).expect_error(404, "NoSuchDistribution");
    // Now the group is free.
    assert_eq!(
        m.delete(&format!("/2020-05-31/key-group/{g1}"), &g1_etag)
            .status,
        204
    );
}

#[test]
fn malformed_requests_get_cloudfront_errors() {
    let m = mock();
    for body in [
        "<PublicKeyConfig>",
        "not xml",
        "<a></b>",
        "<!DOCTYPE x [<!ENTITY e \"x\">]><PublicKeyConfig/>",
    ] {
        m.post("/2020-05-31/public-key", body)
            .expect_error(400, "MalformedXML");
    }
    m.post("/2020-05-31/public-key", "")
        .expect_error(400, "MissingBody");
    m.post("/2020-05-31/key-group", "<PublicKeyConfig/>")
        .expect_error(400, "MalformedXML");
    m.req("POST", "/2020-05-31/public-key")
        .body(vec![0xff, 0xfe, b'<'])
        .send()
        .expect_error(400, "MalformedXML");
    // Deep nesting does not overflow the stack.
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    m.post("/2020-05-31/distribution", &deep)
        .expect_error(400, "MalformedXML");
    // Oversize body.
    let big = "x".repeat(cfsign_mock::MAX_BODY_BYTES + 10);
    m.post("/2020-05-31/public-key", &big)
        .expect_error(413, "EntityTooLarge");
    // Unknown routes and methods.
    m.get("/2020-05-31/nothing-here")
        .expect_error(404, "UnknownOperation");
    m.get("/").expect_error(404, "UnknownOperation");
    m.req("PATCH", "/2020-05-31/public-key")
        .send()
        .expect_error(405, "MethodNotAllowed");
    m.req("DELETE", "/2020-05-31/key-group")
        .send()
        .expect_error(405, "MethodNotAllowed");
    m.req("POST", "/2020-05-31/distribution?WithTags")
        .body("<x/>")
        .send()
        .expect_error(400, "MalformedXML");
    // Still alive.
    assert_eq!(m.get("/2020-05-31/public-key").status, 200);
}

#[test]
fn concurrent_updates_with_the_same_etag_exactly_one_wins() {
    let m = mock();
    let (k, _) = create_key(&m, "k");
    let (gid, etag) = create_group(&m, "g", &[&k]);
    let path = format!("/2020-05-31/key-group/{gid}");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (m, path, etag, k) = (&m, &path, &etag, &k);
                s.spawn(move || {
                    m.put(path, etag, &key_group_config(&format!("g-{i}"), &[k]))
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        15,
        "{statuses:?}"
    );
}

#[test]
fn state_file_survives_restart_and_is_replaced_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let m = Mock::start(MockConfig::default().with_state_file(&state));
    let (k, etag) = create_key(&m, "persisted");
    m.stop();
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("cfsign-mock-state-v1") && text.contains(&k));
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    let m = Mock::start(MockConfig::default().with_state_file(&state));
    let r = m.get(&format!("/2020-05-31/public-key/{k}"));
    assert_eq!((r.status, r.etag()), (200, etag));
    m.stop();

    // A corrupt state file is refused with a clear error, not silently replaced.
    std::fs::write(&state, "{ not json").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(cfsign_mock::start(
            MockConfig::default().with_state_file(&state),
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid cfsign-mock state"), "{err}");
}

#[test]
fn timestamps_follow_the_configured_clock() {
    let check = |clock: Clock, expected: &dyn Fn(&str) -> bool| {
        let m = Mock::start(MockConfig::default().with_clock(clock));
        let (_, pem) = keypair(KeyKind::P256);
        let r = m.post(
            "/2020-05-31/public-key",
            &public_key_config("t1", "t1", &pem),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let created = r.xml("CreatedTime").unwrap();
        assert!(expected(&created), "{clock:?}: CreatedTime {created}");
        let k = r.xml("Id").unwrap();
        let r = m.post("/2020-05-31/key-group", &key_group_config("t1", &[&k]));
        assert_eq!(r.status, 201, "{}", r.text());
        let modified = r.xml("LastModifiedTime").unwrap();
        assert!(
            expected(&modified),
            "{clock:?}: LastModifiedTime {modified}"
        );
        let g = r.xml("Id").unwrap();
        let (g_id, g_etag) = (g.clone(), r.etag());
        let r = m.put(
            &format!("/2020-05-31/key-group/{g_id}"),
            &g_etag,
            &key_group_config("t2", &[&k]),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let modified = r.xml("LastModifiedTime").unwrap();
        assert!(
            expected(&modified),
            "{clock:?}: updated LastModifiedTime {modified}"
        );
        let body = distribution_config("t1", true, "bucket.s3.amazonaws.com", &[], &[&g]);
        let r = m.post("/2020-05-31/distribution", &body);
        assert_eq!(r.status, 201, "{}", r.text());
        let modified = r.xml("LastModifiedTime").unwrap();
        assert!(
            expected(&modified),
            "{clock:?}: distribution LastModifiedTime {modified}"
        );
        m.stop();
    };
    let fixed = UnixTime::from_secs(1_767_225_600).unwrap();
    check(Clock::Fixed(fixed), &|t| t == "2026-01-01T00:00:00.000Z");
    // Ten years back: any year before the system clock's, which the test cannot fix.
    let ten_years = 10 * 366 * 86_400;
    let this_year = time::OffsetDateTime::now_utc().year();
    check(Clock::Offset(-ten_years), &|t| {
        t[..4].parse::<i32>().unwrap() < this_year - 9
    });
}

/// A `<Tags>` document.
fn tags_xml(root: &str, tags: &[(&str, Option<&str>)]) -> String {
    let items: String = tags
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"),
            None => format!("<Tag><Key>{k}</Key></Tag>"),
        })
        .collect();
    format!("<{root} xmlns=\"{NS}\"><Items>{items}</Items></{root}>")
}

/// The query-escaped tagging path for an ARN.
fn tagging(arn: &str, operation: Option<&str>) -> String {
    let arn = arn.replace(':', "%3A").replace('/', "%2F");
    match operation {
        Some(op) => format!("/2020-05-31/tagging?Operation={op}&Resource={arn}"),
        None => format!("/2020-05-31/tagging?Resource={arn}"),
    }
}

#[test]
fn distributions_carry_tags() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let m = Mock::start(MockConfig::default().with_state_file(&state));
    // CreateDistributionWithTags answers like CreateDistribution.
    let config = distribution_config("tagged", true, "bucket.s3.amazonaws.com", &[], &[]);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DistributionConfigWithTags xmlns=\"{NS}\">{}{}</DistributionConfigWithTags>",
        config.replace(&format!(" xmlns=\"{NS}\""), ""),
        tags_xml(
            "Tags",
            &[
                ("team", Some("video")),
                ("env", Some("test")),
                ("bare", None)
            ]
        )
        .replace(&format!(" xmlns=\"{NS}\""), "")
    );
    let r = m.post("/2020-05-31/distribution?WithTags", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.xml("Id").unwrap();
    let etag = r.etag();
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/2020-05-31/distribution/{id}", m.endpoint())
    );
    assert!(r.text().contains(&format!("<Distribution xmlns=\"{NS}\">")));
    let arn = r.xml("ARN").unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:cloudfront::123456789012:distribution/{id}")
    );
    assert_eq!(m.get(&format!("/2020-05-31/distribution/{id}")).status, 200);

    // ListTagsForResource.
    let r = m.get(&tagging(&arn, None));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert!(r.text().contains(&format!(
        "<Tags xmlns=\"{NS}\"><Items><Tag><Key>team</Key><Value>video</Value></Tag><Tag><Key>env</Key><Value>test</Value></Tag><Tag><Key>bare</Key></Tag></Items></Tags>"
    )), "{}", r.text());

    // TagResource: replaces a value, adds a key; 204; the ETag does not change.
    let r = m.post(
        &tagging(&arn, Some("Tag")),
        &tags_xml("Tags", &[("env", Some("prod")), ("owner", Some("a@b.c"))]),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(
        m.get(&format!("/2020-05-31/distribution/{id}")).etag(),
        etag
    );
    // UntagResource: unknown keys are ignored.
    let r = m.post(
        &tagging(&arn, Some("Untag")),
        &format!("<TagKeys xmlns=\"{NS}\"><Items><Key>team</Key><Key>nope</Key></Items></TagKeys>"),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let listed = m.get(&tagging(&arn, None)).text();
    assert!(listed.contains(
        "<Items><Tag><Key>env</Key><Value>prod</Value></Tag><Tag><Key>bare</Key></Tag><Tag><Key>owner</Key><Value>a@b.c</Value></Tag></Items>"
    ), "{listed}");

    // Errors: unknown resources, bad ARNs, bad tags, bad operations.
    let unknown = "arn:aws:cloudfront::123456789012:distribution/ENOSUCH0000000";
    m.get(&tagging(unknown, None))
        .expect_error(404, "NoSuchResource");
    m.post(
        &tagging(unknown, Some("Tag")),
        &tags_xml("Tags", &[("a", None)]),
    )
    .expect_error(404, "NoSuchResource");
    m.post(
        &tagging(unknown, Some("Untag")),
        &format!("<TagKeys xmlns=\"{NS}\"><Items><Key>a</Key></Items></TagKeys>"),
    )
    .expect_error(404, "NoSuchResource");
    m.get("/2020-05-31/tagging?Resource=nonsense")
        .expect_error(400, "InvalidArgument");
    m.get("/2020-05-31/tagging")
        .expect_error(400, "InvalidArgument");
    for bad in [
        tags_xml("Tags", &[("a*b", None)]),
        tags_xml("Tags", &[("aws:reserved", None)]),
        tags_xml("Tags", &[("k", Some("v")), ("k", Some("w"))]),
        tags_xml("Tags", &[("", Some("v"))]),
        tags_xml("Tags", &[(&"k".repeat(129), None)]),
        tags_xml("Tags", &[("k", Some(&"v".repeat(257)))]),
    ] {
        m.post(&tagging(&arn, Some("Tag")), &bad)
            .expect_error(400, "InvalidTagging");
    }
    // The 50-tag quota counts the tags already there (3 now).
    let many: Vec<String> = (0..48).map(|i| format!("k{i}")).collect();
    let many: Vec<(&str, Option<&str>)> = many.iter().map(|k| (k.as_str(), None)).collect();
    m.post(&tagging(&arn, Some("Tag")), &tags_xml("Tags", &many))
        .expect_error(400, "InvalidTagging");
    let r = m.post(&tagging(&arn, Some("Tag")), &tags_xml("Tags", &many[..47]));
    assert_eq!(r.status, 204, "{}", r.text());
    m.post(&tagging(&arn, Some("Frob")), &tags_xml("Tags", &[]))
        .expect_error(400, "InvalidArgument");
    m.post(&tagging(&arn, Some("Tag")), "<Nope/>")
        .expect_error(400, "MalformedXML");
    m.req("PUT", &tagging(&arn, None))
        .body(tags_xml("Tags", &[]))
        .send()
        .expect_error(405, "MethodNotAllowed");
    // A bad tag in CreateDistributionWithTags creates nothing.
    let bad = body
        .replace(
            "<CallerReference>tagged</CallerReference>",
            "<CallerReference>t2</CallerReference>",
        )
        .replace("<Key>team</Key>", "<Key>te*am</Key>");
    m.post("/2020-05-31/distribution?WithTags", &bad)
        .expect_error(400, "InvalidTagging");
    m.post("/2020-05-31/distribution?WithTags", &config)
        .expect_error(400, "MalformedXML");
    let list = m.get("/2020-05-31/distribution");
    assert_eq!(list.xml("Quantity").unwrap(), "1", "{}", list.text());
    m.stop();

    // Tags persist in the state file and go with their distribution.
    let m = Mock::start(MockConfig::default().with_state_file(&state));
    let listed = m.get(&tagging(&arn, None)).text();
    assert!(
        listed.contains("<Key>owner</Key><Value>a@b.c</Value>"),
        "{listed}"
    );
    assert_eq!(listed.matches("<Tag>").count(), 50, "{listed}");
    let disabled = config.replace("<Enabled>true</Enabled>", "<Enabled>false</Enabled>");
    let r = m.put(
        &format!("/2020-05-31/distribution/{id}/config"),
        &etag,
        &disabled,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        m.get(&tagging(&arn, None))
            .text()
            .contains("<Key>owner</Key>")
    );
    let r = m.delete(&format!("/2020-05-31/distribution/{id}"), &r.etag());
    assert_eq!(r.status, 204);
    m.get(&tagging(&arn, None))
        .expect_error(404, "NoSuchResource");
}
