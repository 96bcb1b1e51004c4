//! Origin access controls in the control plane, over HTTP against an in-process mock: the
//! operations, their errors, and `OriginAccessControlId` on a distribution's origins.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign_mock::MockConfig;
use common::*;

const OAC: &str = "/2020-05-31/origin-access-control";

fn create_oac(m: &Mock, name: &str, origin_type: &str) -> (String, String) {
    let r = m.post(OAC, &oac_config(name, "always", origin_type));
    assert_eq!(r.status, 201, "{}", r.text());
    (r.xml("Id").unwrap(), r.etag())
}

#[test]
fn origin_access_control_lifecycle() {
    let m = Mock::start(MockConfig::default());
    let r = m.post(OAC, &oac_config("media-oac", "always", "s3"));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.xml("Id").unwrap();
    let etag = r.etag();
    assert_eq!(id.len(), 14, "{id}");
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}{OAC}/{id}", m.endpoint())
    );
    assert_eq!(
        r.text(),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OriginAccessControl xmlns=\"{NS}\"><Id>{id}</Id><OriginAccessControlConfig><Name>media-oac</Name><Description>for media-oac</Description><SigningProtocol>sigv4</SigningProtocol><SigningBehavior>always</SigningBehavior><OriginAccessControlOriginType>s3</OriginAccessControlOriginType></OriginAccessControlConfig></OriginAccessControl>"
        )
    );

    // Get and GetConfig carry the ETag.
    let r = m.get(&format!("{OAC}/{id}"));
    assert_eq!((r.status, r.etag()), (200, etag.clone()));
    assert_eq!(r.xml("Name").as_deref(), Some("media-oac"));
    let r = m.get(&format!("{OAC}/{id}/config"));
    assert_eq!(r.etag(), etag);
    assert!(
        r.text().contains(&format!(
            "<OriginAccessControlConfig xmlns=\"{NS}\"><Name>media-oac</Name>"
        )),
        "{}",
        r.text()
    );

    // Names are unique; quantities and enums are checked.
    m.post(OAC, &oac_config("media-oac", "never", "s3"))
        .expect_error(409, "OriginAccessControlAlreadyExists");
    m.post(OAC, &oac_config("x", "sometimes", "s3"))
        .expect_error(400, "InvalidArgument");
    m.post(OAC, &oac_config("x", "always", "ftp"))
        .expect_error(400, "InvalidArgument");
    m.post(
        OAC,
        &oac_config("x", "always", "s3").replace("sigv4", "sigv2"),
    )
    .expect_error(400, "InvalidArgument");
    m.post(OAC, &oac_config(&"n".repeat(65), "always", "s3"))
        .expect_error(400, "InvalidArgument");
    m.post(OAC, "<PublicKeyConfig/>")
        .expect_error(400, "MalformedXML");

    // Update: If-Match required and current; the new config is returned with a new ETag.
    m.req("PUT", &format!("{OAC}/{id}/config"))
        .body(oac_config("media-oac", "no-override", "s3"))
        .send()
        .expect_error(400, "InvalidIfMatchVersion");
    m.put(
        &format!("{OAC}/{id}/config"),
        "ESTALE",
        &oac_config("media-oac", "no-override", "s3"),
    )
    .expect_error(412, "PreconditionFailed");
    let r = m.put(
        &format!("{OAC}/{id}/config"),
        &etag,
        &oac_config("media-oac-2", "no-override", "s3"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(r.etag(), etag);
    assert_eq!(r.xml("SigningBehavior").as_deref(), Some("no-override"));
    let etag = r.etag();
    let (other, _) = create_oac(&m, "other", "s3");
    m.put(
        &format!("{OAC}/{other}/config"),
        &m.get(&format!("{OAC}/{other}")).etag(),
        &oac_config("media-oac-2", "always", "s3"),
    )
    .expect_error(409, "OriginAccessControlAlreadyExists");

    // List: summaries in creation order, paged by Marker.
    let r = m.get(&format!("{OAC}?MaxItems=1"));
    let text = r.text();
    assert!(
        text.starts_with(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OriginAccessControlList xmlns=\"{NS}\"><Marker></Marker><NextMarker>{id}</NextMarker><MaxItems>1</MaxItems><IsTruncated>true</IsTruncated><Quantity>1</Quantity><Items><OriginAccessControlSummary><Id>{id}</Id><Description>for media-oac-2</Description><Name>media-oac-2</Name>"
        )),
        "{text}"
    );
    let r = m.get(&format!("{OAC}?Marker={id}"));
    assert_eq!(r.xml("Id").as_deref(), Some(other.as_str()));
    assert_eq!(r.xml("IsTruncated").as_deref(), Some("false"));

    // Unknown IDs.
    m.get(&format!("{OAC}/ENOSUCH0000000"))
        .expect_error(404, "NoSuchOriginAccessControl");
    m.get(&format!("{OAC}/ENOSUCH0000000/config"))
        .expect_error(404, "NoSuchOriginAccessControl");
    m.delete(&format!("{OAC}/ENOSUCH0000000"), "E1")
        .expect_error(404, "NoSuchOriginAccessControl");

    // Delete.
    m.delete(&format!("{OAC}/{id}"), "ESTALE")
        .expect_error(412, "PreconditionFailed");
    let r = m.delete(&format!("{OAC}/{id}"), &etag);
    assert_eq!(r.status, 204, "{}", r.text());
    m.get(&format!("{OAC}/{id}"))
        .expect_error(404, "NoSuchOriginAccessControl");
}

#[test]
fn distributions_use_origin_access_controls() {
    let m = Mock::start(MockConfig::default());
    let (s3_oac, s3_etag) = create_oac(&m, "s3-oac", "s3");
    let (lambda_oac, _) = create_oac(&m, "lambda-oac", "lambda");
    let bucket = "media.s3.eu-west-1.amazonaws.com";
    let create = |caller_ref: &str, origin: &str| {
        m.post(
            "/2020-05-31/distribution",
            &distribution_with_origin(caller_ref, origin, &[]),
        )
    };

    // The control must exist, fit the origin, and not come with an OAI.
    create("d-1", &origin_xml(bucket, "", Some("ENOSUCH0000000"), None))
        .expect_error(400, "InvalidOriginAccessControl");
    create("d-1", &origin_xml(bucket, "", Some(&lambda_oac), None))
        .expect_error(400, "InvalidDomainNameForOriginAccessControl");
    create(
        "d-1",
        &origin_xml("app.example.com", "", Some(&s3_oac), Some(8080)),
    )
    .expect_error(400, "InvalidDomainNameForOriginAccessControl");
    create(
        "d-1",
        &origin_xml(bucket, "", Some(&s3_oac), None).replace(
            "<OriginAccessIdentity></OriginAccessIdentity>",
            "<OriginAccessIdentity>origin-access-identity/cloudfront/E1</OriginAccessIdentity>",
        ),
    )
    .expect_error(400, "IllegalOriginAccessConfiguration");
    for legacy in ["media.s3.amazonaws.com", "media.s3-eu-west-1.amazonaws.com"] {
        let r = create(legacy, &origin_xml(legacy, "", Some(&s3_oac), None));
        assert_eq!(r.status, 201, "{legacy}: {}", r.text());
        let id = r.xml("Id").unwrap();
        let etag = r.etag();
        let config =
            distribution_with_origin(legacy, &origin_xml(legacy, "", Some(&s3_oac), None), &[]);
        let disabled = config.replace(
            "<Enabled>true</Enabled></DistributionConfig>",
            "<Enabled>false</Enabled></DistributionConfig>",
        );
        let r = m.put(
            &format!("/2020-05-31/distribution/{id}/config"),
            &etag,
            &disabled,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let r = m.delete(&format!("/2020-05-31/distribution/{id}"), &r.etag());
        assert_eq!(r.status, 204, "{}", r.text());
    }

    // An origin's timeouts and ports are in CloudFront's ranges.
    let custom = origin_xml("app.example.com", "", None, Some(8080));
    for (from, to, code) in [
        (
            "<OriginReadTimeout>2<",
            "<OriginReadTimeout>121<",
            "InvalidOriginReadTimeout",
        ),
        (
            "<OriginReadTimeout>2<",
            "<OriginReadTimeout>0<",
            "InvalidOriginReadTimeout",
        ),
        (
            "<ConnectionTimeout>2<",
            "<ConnectionTimeout>11<",
            "InvalidArgument",
        ),
        ("<HTTPPort>8080<", "<HTTPPort>70000<", "InvalidArgument"),
        ("<HTTPPort>8080<", "<HTTPPort>http<", "InvalidArgument"),
    ] {
        create("d-1", &custom.replace(from, to)).expect_error(400, code);
    }

    let r = create("d-1", &origin_xml(bucket, "/media", Some(&s3_oac), None));
    assert_eq!(r.status, 201, "{}", r.text());
    let dist = r.xml("Id").unwrap();
    let dist_etag = r.etag();
    assert!(
        r.text().contains(&format!(
            "<OriginAccessControlId>{s3_oac}</OriginAccessControlId>"
        )),
        "{}",
        r.text()
    );

    // In use: it cannot be deleted nor change its origin type; other changes are fine.
    m.delete(&format!("{OAC}/{s3_oac}"), &s3_etag)
        .expect_error(409, "OriginAccessControlInUse");
    m.put(
        &format!("{OAC}/{s3_oac}/config"),
        &s3_etag,
        &oac_config("s3-oac", "always", "mediastore"),
    )
    .expect_error(400, "IllegalUpdate");
    let r = m.put(
        &format!("{OAC}/{s3_oac}/config"),
        &s3_etag,
        &oac_config("s3-oac", "no-override", "s3"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let s3_etag = r.etag();

    // Once no origin uses it, it can go.
    let r = m.put(
        &format!("/2020-05-31/distribution/{dist}/config"),
        &dist_etag,
        &distribution_with_origin("d-1", &origin_xml(bucket, "/media", None, None), &[]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = m.delete(&format!("{OAC}/{s3_oac}"), &s3_etag);
    assert_eq!(r.status, 204, "{}", r.text());
}

#[test]
fn origin_access_controls_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let m = Mock::start(MockConfig::default().with_state_file(&state));
    let (id, etag) = create_oac(&m, "kept", "s3");
    m.stop();
    let m = Mock::start(MockConfig::default().with_state_file(&state));
    let r = m.get(&format!("{OAC}/{id}"));
    assert_eq!((r.status, r.etag()), (200, etag));
    assert_eq!(r.xml("Name").as_deref(), Some("kept"));
}
