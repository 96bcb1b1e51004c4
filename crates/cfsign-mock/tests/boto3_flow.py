"""boto3 against cfsign-mock: every public-key, key-group and distribution operation, and the
modeled errors. Run by tests/boto3.rs with the endpoint URL as the only argument."""

import datetime
import sys

import boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

endpoint = sys.argv[1]
cf = boto3.client(
    "cloudfront",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)


def pem(kind):
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def expect_error(code, status, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"{fn.__name__}: expected {(code, status)}, got {got}: {e}"
        assert isinstance(e, getattr(cf.exceptions, code, ClientError)), type(e)
        return e
    raise AssertionError(f"{fn.__name__} should fail with {code}")


# Public keys.
rsa_pem = pem("rsa")
r = cf.create_public_key(
    PublicKeyConfig={"CallerReference": "ref-1", "Name": "boto-key", "EncodedKey": rsa_pem, "Comment": "c"}
)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
key_id = r["PublicKey"]["Id"]
assert r["Location"].endswith(f"/2020-05-31/public-key/{key_id}"), r["Location"]
assert isinstance(r["PublicKey"]["CreatedTime"], datetime.datetime)
etag = r["ETag"]
r = cf.get_public_key(Id=key_id)
assert r["ETag"] == etag and r["PublicKey"]["PublicKeyConfig"]["Name"] == "boto-key"
r = cf.get_public_key_config(Id=key_id)
assert r["PublicKeyConfig"]["EncodedKey"].strip() == rsa_pem.strip()
r = cf.update_public_key(
    Id=key_id,
    IfMatch=etag,
    PublicKeyConfig={"CallerReference": "ref-1", "Name": "boto-key-2", "EncodedKey": rsa_pem, "Comment": "c2"},
)
assert r["ETag"] != etag and r["PublicKey"]["PublicKeyConfig"]["Name"] == "boto-key-2"
key_etag = r["ETag"]
expect_error(
    "PreconditionFailed", 412, cf.update_public_key, Id=key_id, IfMatch=etag,
    PublicKeyConfig={"CallerReference": "ref-1", "Name": "x", "EncodedKey": rsa_pem},
)
expect_error(
    "InvalidIfMatchVersion", 400, cf.update_public_key, Id=key_id,
    PublicKeyConfig={"CallerReference": "ref-1", "Name": "x", "EncodedKey": rsa_pem},
)
expect_error("NoSuchPublicKey", 404, cf.get_public_key, Id="KNOSUCH0000000")
expect_error(
    "InvalidArgument", 400, cf.create_public_key,
    PublicKeyConfig={"CallerReference": "bad", "Name": "bad", "EncodedKey": "not a key"},
)
expect_error(
    "PublicKeyAlreadyExists", 409, cf.create_public_key,
    PublicKeyConfig={"CallerReference": "ref-1", "Name": "other", "EncodedKey": rsa_pem},
)
ec_ids = []
for i in range(5):
    ec_ids.append(
        cf.create_public_key(
            PublicKeyConfig={"CallerReference": f"ec-{i}", "Name": f"ec-{i}", "EncodedKey": pem("ec")}
        )["PublicKey"]["Id"]
    )
r = cf.list_public_keys(MaxItems="3")
assert r["PublicKeyList"]["Quantity"] == 3 and "NextMarker" in r["PublicKeyList"], r["PublicKeyList"]
r = cf.list_public_keys()
assert r["PublicKeyList"]["Quantity"] == 6
assert {k["Id"] for k in r["PublicKeyList"]["Items"]} == {key_id, *ec_ids}

# Key groups.
r = cf.create_key_group(KeyGroupConfig={"Name": "boto-group", "Items": [key_id], "Comment": "g"})
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
group_id = r["KeyGroup"]["Id"]
group_etag = r["ETag"]
assert r["Location"].endswith(f"/2020-05-31/key-group/{group_id}")
assert cf.get_key_group(Id=group_id)["KeyGroup"]["KeyGroupConfig"]["Items"] == [key_id]
assert cf.get_key_group_config(Id=group_id)["KeyGroupConfig"]["Name"] == "boto-group"
expect_error(
    "TooManyPublicKeysInKeyGroup", 400, cf.update_key_group, Id=group_id, IfMatch=group_etag,
    KeyGroupConfig={"Name": "boto-group", "Items": [key_id, *ec_ids]},
)
r = cf.update_key_group(Id=group_id, IfMatch=group_etag, KeyGroupConfig={"Name": "boto-group", "Items": [key_id, ec_ids[0]]})
assert r["ETag"] != group_etag
group_etag = r["ETag"]
expect_error("KeyGroupAlreadyExists", 409, cf.create_key_group, KeyGroupConfig={"Name": "boto-group", "Items": [key_id]})
expect_error("NoSuchResource", 404, cf.get_key_group, Id="nope")
r = cf.list_key_groups()
assert r["KeyGroupList"]["Quantity"] == 1
assert r["KeyGroupList"]["Items"][0]["KeyGroup"]["Id"] == group_id
expect_error("PublicKeyInUse", 409, cf.delete_public_key, Id=key_id, IfMatch=key_etag)


# Distributions.
def behaviour(groups, pattern=None):
    b = {
        "TargetOriginId": "o1",
        "ViewerProtocolPolicy": "redirect-to-https",
        "TrustedKeyGroups": {"Enabled": bool(groups), "Quantity": len(groups), **({"Items": groups} if groups else {})},
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    }
    if pattern:
        b["PathPattern"] = pattern
    return b


def dist_config(enabled, groups, caller="boto-dist"):
    return {
        "CallerReference": caller,
        "Aliases": {"Quantity": 0},
        "Origins": {
            "Quantity": 1,
            "Items": [{"Id": "o1", "DomainName": "bucket.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}],
        },
        "DefaultCacheBehavior": behaviour([]),
        "CacheBehaviors": {"Quantity": 1, "Items": [behaviour(groups, "/private/*")]},
        "Comment": "boto3 & <friends>",
        "Enabled": enabled,
    }


r = cf.create_distribution(DistributionConfig=dist_config(True, [group_id]))
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
dist = r["Distribution"]
dist_id = dist["Id"]
dist_etag = r["ETag"]
assert dist["DomainName"].endswith(".cloudfront.net") and dist["Status"] == "Deployed"
assert dist["DistributionConfig"]["Comment"] == "boto3 & <friends>"
atkg = dist["ActiveTrustedKeyGroups"]
assert atkg["Enabled"] and atkg["Quantity"] == 1, atkg
assert atkg["Items"][0]["KeyGroupId"] == group_id
assert sorted(atkg["Items"][0]["KeyPairIds"]["Items"]) == sorted([key_id, ec_ids[0]])
r = cf.get_distribution(Id=dist_id)
assert r["ETag"] == dist_etag
assert isinstance(r["Distribution"]["LastModifiedTime"], datetime.datetime)
cb = r["Distribution"]["DistributionConfig"]["CacheBehaviors"]["Items"][0]
assert cb["TrustedKeyGroups"] == {"Enabled": True, "Quantity": 1, "Items": [group_id]}, cb
r = cf.get_distribution_config(Id=dist_id)
assert r["ETag"] == dist_etag and r["DistributionConfig"]["CallerReference"] == "boto-dist"
r = cf.list_distributions()
items = r["DistributionList"]["Items"]
assert [d["Id"] for d in items] == [dist_id] and items[0]["ETag"] == dist_etag
assert r["DistributionList"]["IsTruncated"] is False
pages = list(cf.get_paginator("list_distributions").paginate())
assert sum(p["DistributionList"]["Quantity"] for p in pages) == 1
r = cf.list_distributions_by_key_group(KeyGroupId=group_id)
assert r["DistributionIdList"]["Items"] == [dist_id], r
expect_error("NoSuchResource", 404, cf.list_distributions_by_key_group, KeyGroupId="nope")
expect_error("NoSuchDistribution", 404, cf.get_distribution, Id="ENOSUCH")
expect_error("TrustedKeyGroupDoesNotExist", 400, cf.create_distribution, DistributionConfig=dist_config(True, ["nope"], "x"))
expect_error(
    "TooManyKeyGroupsAssociatedToDistribution", 400, cf.create_distribution,
    DistributionConfig=dist_config(True, [group_id] * 5, "y"),
)
bad = dist_config(True, [group_id], "z")
bad["Origins"]["Quantity"] = 2
expect_error("InconsistentQuantities", 400, cf.create_distribution, DistributionConfig=bad)
expect_error("ResourceInUse", 409, cf.delete_key_group, Id=group_id, IfMatch=group_etag)
expect_error("DistributionNotDisabled", 409, cf.delete_distribution, Id=dist_id, IfMatch=dist_etag)
expect_error("InvalidIfMatchVersion", 400, cf.delete_distribution, Id=dist_id)
r = cf.update_distribution(Id=dist_id, IfMatch=dist_etag, DistributionConfig=dist_config(False, [group_id]))
assert r["ETag"] != dist_etag and r["Distribution"]["DistributionConfig"]["Enabled"] is False
expect_error("PreconditionFailed", 412, cf.delete_distribution, Id=dist_id, IfMatch=dist_etag)
dist_etag = r["ETag"]
r = cf.delete_distribution(Id=dist_id, IfMatch=dist_etag)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204

# Tags: CreateDistributionWithTags, ListTagsForResource, TagResource, UntagResource.
r = cf.create_distribution_with_tags(
    DistributionConfigWithTags={
        "DistributionConfig": dist_config(True, [], "boto-tagged"),
        "Tags": {"Items": [{"Key": "team", "Value": "video"}, {"Key": "env", "Value": "test"}]},
    }
)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
tagged = r["Distribution"]
tagged_etag = r["ETag"]
assert r["Location"].endswith(f"/2020-05-31/distribution/{tagged['Id']}"), r["Location"]
assert tagged["DistributionConfig"]["CallerReference"] == "boto-tagged"
arn = tagged["ARN"]
assert arn == f"arn:aws:cloudfront::123456789012:distribution/{tagged['Id']}", arn
r = cf.list_tags_for_resource(Resource=arn)
assert r["Tags"]["Items"] == [{"Key": "team", "Value": "video"}, {"Key": "env", "Value": "test"}], r
r = cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "env", "Value": "prod"}, {"Key": "cost centre", "Value": "a/b=c+d@e"}]})
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
r = cf.untag_resource(Resource=arn, TagKeys={"Items": ["team", "absent"]})
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
r = cf.list_tags_for_resource(Resource=arn)
assert r["Tags"]["Items"] == [{"Key": "env", "Value": "prod"}, {"Key": "cost centre", "Value": "a/b=c+d@e"}], r
cf.untag_resource(Resource=arn, TagKeys={"Items": ["env", "cost centre"]})
assert cf.list_tags_for_resource(Resource=arn)["Tags"].get("Items", []) == []
assert cf.get_distribution(Id=tagged["Id"])["ETag"] == tagged_etag, "tags are not part of the config"
unknown = "arn:aws:cloudfront::123456789012:distribution/ENOSUCH0000000"
expect_error("NoSuchResource", 404, cf.list_tags_for_resource, Resource=unknown)
expect_error("NoSuchResource", 404, cf.tag_resource, Resource=unknown, Tags={"Items": [{"Key": "a", "Value": "b"}]})
expect_error("NoSuchResource", 404, cf.untag_resource, Resource=unknown, TagKeys={"Items": ["a"]})
expect_error("InvalidTagging", 400, cf.tag_resource, Resource=arn, Tags={"Items": [{"Key": "a*b", "Value": "v"}]})
expect_error("InvalidTagging", 400, cf.tag_resource, Resource=arn, Tags={"Items": [{"Key": "aws:x", "Value": "v"}]})
expect_error(
    "InvalidTagging", 400, cf.tag_resource, Resource=arn,
    Tags={"Items": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]},
)
expect_error(
    "InvalidTagging", 400, cf.create_distribution_with_tags,
    DistributionConfigWithTags={
        "DistributionConfig": dist_config(True, [], "boto-tagged-2"),
        "Tags": {"Items": [{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "w"}]},
    },
)
expect_error(
    "TrustedKeyGroupDoesNotExist", 400, cf.create_distribution_with_tags,
    DistributionConfigWithTags={"DistributionConfig": dist_config(True, ["nope"], "boto-tagged-3"), "Tags": {}},
)
r = cf.update_distribution(Id=tagged["Id"], IfMatch=tagged_etag, DistributionConfig=dist_config(False, [], "boto-tagged"))
cf.delete_distribution(Id=tagged["Id"], IfMatch=r["ETag"])
expect_error("NoSuchResource", 404, cf.list_tags_for_resource, Resource=arn)

# Origin access controls, and a distribution whose S3 origin uses one.
oac_cfg = {
    "Name": "boto-oac", "Description": "media bucket", "SigningProtocol": "sigv4",
    "SigningBehavior": "always", "OriginAccessControlOriginType": "s3",
}
r = cf.create_origin_access_control(OriginAccessControlConfig=oac_cfg)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
oac_id = r["OriginAccessControl"]["Id"]
oac_etag = r["ETag"]
assert r["Location"].endswith(f"/2020-05-31/origin-access-control/{oac_id}"), r["Location"]
assert r["OriginAccessControl"]["OriginAccessControlConfig"] == oac_cfg, r
r = cf.get_origin_access_control(Id=oac_id)
assert r["ETag"] == oac_etag and r["OriginAccessControl"]["OriginAccessControlConfig"]["Name"] == "boto-oac"
r = cf.get_origin_access_control_config(Id=oac_id)
assert r["ETag"] == oac_etag and r["OriginAccessControlConfig"] == oac_cfg
expect_error("OriginAccessControlAlreadyExists", 409, cf.create_origin_access_control, OriginAccessControlConfig=oac_cfg)
expect_error("NoSuchOriginAccessControl", 404, cf.get_origin_access_control, Id="ENOSUCH0000000")
expect_error(
    "InvalidArgument", 400, cf.create_origin_access_control,
    OriginAccessControlConfig={**oac_cfg, "Name": "other", "SigningBehavior": "sometimes"},
)
no_desc = {k: v for k, v in oac_cfg.items() if k != "Description"}
r = cf.update_origin_access_control(
    Id=oac_id, IfMatch=oac_etag, OriginAccessControlConfig={**no_desc, "SigningBehavior": "no-override"}
)
assert r["ETag"] != oac_etag
assert r["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"] == "no-override"
expect_error(
    "PreconditionFailed", 412, cf.update_origin_access_control, Id=oac_id, IfMatch=oac_etag,
    OriginAccessControlConfig=oac_cfg,
)
oac_etag = r["ETag"]
r = cf.list_origin_access_controls()
summaries = r["OriginAccessControlList"]["Items"]
assert [o["Id"] for o in summaries] == [oac_id] and summaries[0]["Description"] == "", summaries
assert r["OriginAccessControlList"]["IsTruncated"] is False
s3_config = dist_config(True, [group_id], "boto-s3")
s3_config["Origins"]["Items"][0].update(
    {"DomainName": "media.s3.eu-west-1.amazonaws.com", "OriginAccessControlId": oac_id}
)
bad = dist_config(True, [group_id], "boto-s3-bad")
bad["Origins"]["Items"][0]["OriginAccessControlId"] = "ENOSUCH0000000"
expect_error("InvalidOriginAccessControl", 400, cf.create_distribution, DistributionConfig=bad)
r = cf.create_distribution(DistributionConfig=s3_config)
s3_dist = r["Distribution"]
assert s3_dist["DistributionConfig"]["Origins"]["Items"][0]["OriginAccessControlId"] == oac_id
expect_error("OriginAccessControlInUse", 409, cf.delete_origin_access_control, Id=oac_id, IfMatch=oac_etag)
r = cf.update_distribution(Id=s3_dist["Id"], IfMatch=r["ETag"], DistributionConfig={**s3_config, "Enabled": False})
cf.delete_distribution(Id=s3_dist["Id"], IfMatch=r["ETag"])
r = cf.delete_origin_access_control(Id=oac_id, IfMatch=oac_etag)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
assert cf.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 0

# Response headers policies: managed ones by their real IDs, a custom CORS policy with
# credentials, attached to a behaviour, in use, then detached and deleted.
managed = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
managed_names = {m["ResponseHeadersPolicy"]["Id"]: m["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"] for m in managed}
assert managed_names["5cc3b908-e619-4b99-88e5-2cf7f45965bd"] == "Managed-CORS-With-Preflight", managed_names
assert managed_names["e61eb60c-9c35-4d20-a928-2b84e02af89c"] == "Managed-CORS-and-SecurityHeadersPolicy"
assert all(m["Type"] == "managed" for m in managed)
r = cf.get_response_headers_policy(Id="5cc3b908-e619-4b99-88e5-2cf7f45965bd")
cors = r["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["CorsConfig"]
assert cors["AccessControlAllowOrigins"]["Items"] == ["*"] and cors["AccessControlAllowCredentials"] is False, cors
expect_error("IllegalDelete", 400, cf.delete_response_headers_policy, Id="5cc3b908-e619-4b99-88e5-2cf7f45965bd", IfMatch=r["ETag"])
rhp_config = {
    "Name": "player-cors",
    "Comment": "the player page, with cookies",
    "CorsConfig": {
        "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["https://app.example.com"]},
        "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["Range"]},
        "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        "AccessControlAllowCredentials": True,
        "AccessControlExposeHeaders": {"Quantity": 1, "Items": ["Content-Range"]},
        "AccessControlMaxAgeSec": 600,
        "OriginOverride": True,
    },
    "SecurityHeadersConfig": {
        "ContentTypeOptions": {"Override": True},
        "StrictTransportSecurity": {"Override": False, "AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True},
    },
}
r = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=rhp_config)
assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
rhp_id, rhp_etag = r["ResponseHeadersPolicy"]["Id"], r["ETag"]
assert isinstance(r["ResponseHeadersPolicy"]["LastModifiedTime"], datetime.datetime)
expect_error("ResponseHeadersPolicyAlreadyExists", 409, cf.create_response_headers_policy, ResponseHeadersPolicyConfig=rhp_config)
bad_rhp = {**rhp_config, "Name": "star", "CorsConfig": {**rhp_config["CorsConfig"], "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]}}}
expect_error("InvalidArgument", 400, cf.create_response_headers_policy, ResponseHeadersPolicyConfig=bad_rhp)
r = cf.get_response_headers_policy_config(Id=rhp_id)
assert r["ETag"] == rhp_etag and r["ResponseHeadersPolicyConfig"]["CorsConfig"]["AccessControlMaxAgeSec"] == 600
expect_error("PreconditionFailed", 412, cf.update_response_headers_policy, Id=rhp_id, IfMatch="ESTALE", ResponseHeadersPolicyConfig=rhp_config)
r = cf.update_response_headers_policy(Id=rhp_id, IfMatch=rhp_etag, ResponseHeadersPolicyConfig={**rhp_config, "Comment": "v2"})
rhp_etag = r["ETag"]
assert r["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Comment"] == "v2"
custom = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]
assert [p["ResponseHeadersPolicy"]["Id"] for p in custom["Items"]] == [rhp_id], custom
rhp_dist_config = dist_config(True, [group_id], "boto-rhp")
rhp_dist_config["CacheBehaviors"]["Items"][0]["ResponseHeadersPolicyId"] = rhp_id
missing = dist_config(True, [group_id], "boto-rhp-missing")
missing["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] = "00000000-0000-4000-a000-000000000000"
expect_error("NoSuchResponseHeadersPolicy", 404, cf.create_distribution, DistributionConfig=missing)
r = cf.create_distribution(DistributionConfig=rhp_dist_config)
rhp_dist = r["Distribution"]
assert rhp_dist["DistributionConfig"]["CacheBehaviors"]["Items"][0]["ResponseHeadersPolicyId"] == rhp_id
expect_error("ResponseHeadersPolicyInUse", 409, cf.delete_response_headers_policy, Id=rhp_id, IfMatch=rhp_etag)
r = cf.update_distribution(Id=rhp_dist["Id"], IfMatch=r["ETag"], DistributionConfig=dist_config(False, [group_id], "boto-rhp"))
cf.delete_distribution(Id=rhp_dist["Id"], IfMatch=r["ETag"])
assert cf.delete_response_headers_policy(Id=rhp_id, IfMatch=rhp_etag)["ResponseMetadata"]["HTTPStatusCode"] == 204
expect_error("NoSuchResponseHeadersPolicy", 404, cf.get_response_headers_policy, Id=rhp_id)

# Clean up: groups, then keys.
assert cf.delete_key_group(Id=group_id, IfMatch=group_etag)["ResponseMetadata"]["HTTPStatusCode"] == 204
assert cf.list_key_groups()["KeyGroupList"]["Quantity"] == 0
cf.delete_public_key(Id=key_id, IfMatch=key_etag)
for kid in ec_ids:
    cf.delete_public_key(Id=kid, IfMatch=cf.get_public_key(Id=kid)["ETag"])
assert cf.list_public_keys()["PublicKeyList"]["Quantity"] == 0
assert cf.list_distributions()["DistributionList"]["Quantity"] == 0
print("boto3 flow: OK")
