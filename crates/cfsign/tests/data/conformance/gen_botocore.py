#!/usr/bin/env python3
"""Conformance corpus from botocore's CloudFrontSigner (an independent oracle for cfsign).

    python3 crates/cfsign/tests/data/conformance/gen_botocore.py [--out PATH]

Prints the corpus as JSON on stdout, or writes it to PATH. Works offline and takes well under a second.
Exits non-zero with a message on stderr if botocore/cryptography are missing or a self-check fails.

What botocore can do, from its source (botocore/signers.py, CloudFrontSigner):
* signed URLs only (no cookies), canned (`date_less_than=`) or custom (`policy=` string, usually from
  `build_policy(resource, date_less_than, date_greater_than, ip_address)`);
* the hash and key type are whatever the `rsa_signer` callback does; botocore itself knows nothing of
  SHA-256, so for SHA-256 cases the callback hashes with SHA-256 and this script appends
  `&Hash-Algorithm=SHA256`, as CloudFront documents (the case's `signer` text says so).
Signatures come from the `cryptography` package: PKCS#1 v1.5 for RSA, DER ECDSA for P-256 (random, so
P-256 signatures change on every run; RSA ones do not).

Every output is self-checked before it is printed: the signature verifies against the public key,
the Policy parameter decodes to the recorded policy, and a canned policy rebuilt from the signed URL
(minus the signing parameters) equals the recorded one. The `expect` of each request is what CloudFront
decides according to the source quoted in its `why` (see README.md next to this file).
"""

import argparse
import base64
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.normpath(os.path.join(HERE, "..", "keys"))
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
D = "https://d111111abcdef8.cloudfront.net"
EXPIRES = 1767225600  # 2026-01-01T00:00:00Z
STARTS = 1767222000  # 2025-12-31T23:00:00Z
T_OK = EXPIRES - 600
IP_IN = "192.0.2.7"
IP_OUT = "198.51.100.9"
PUBLIC = {"rsa2048-pkcs1.pem": "rsa2048-pkcs1.pub.pem", "p256-pkcs8.pem": "p256.pub.pem"}
SIGNING_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")

try:
    import botocore
    import cryptography
    from botocore.signers import CloudFrontSigner
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(f"gen_botocore.py: needs botocore and cryptography ({e}); "
             "install them with: python3 -m pip install botocore cryptography")

# --- where each expectation comes from -------------------------------------------------------------
WHY = {
    "served_canned": "CloudFront Developer Guide, private-content-creating-signed-url-canned-policy: base URL + "
                     "Expires/Signature/Key-Pair-Id is served before Expires; this is botocore's own output, which "
                     "CloudFront serves (reference §1, §7)",
    "served_custom": "CloudFront Developer Guide, private-content-creating-signed-url-custom-policy: a request matching "
                     "Resource and all Conditions is served; this is botocore's own output (reference §2 evidence)",
    "last_second": "Condition DateLessThan (canned: Expires): access is allowed while now < the value; "
                   "expires-1 is the last second that is served",
    "expired": "CloudFront Developer Guide, private-content-signed-urls: expiration is checked when the request "
               "arrives and the condition is DateLessThan, so at and after the expiry second the request is "
               "denied (reference §7: AccessDenied)",
    "canned_changed": "reference §7: for a canned policy the edge rebuilds the policy from the request URL minus the "
                      "signing parameters, so any byte change in the URL ({what}) breaks the signature: AccessDenied",
    "missing": "reference §7 table (AWS knowledge-center article on 403s): no Key-Pair-Id query parameter or "
               "cookie: MissingKey",
    "invalid_key": "reference §7 table: a Key-Pair-Id that is not in the behaviour's trusted key groups gives "
                   "InvalidKey (Unknown Key); only K2JCJMDEHXQW5F is trusted for this corpus",
    "malformed_sig": "reference §7 table: a Signature that is not CloudFront base64 gives MalformedSignature "
                     "(Could not unencode Signature)",
    "bad_sig": "reference §7: a well-formed Signature that does not verify over the policy: AccessDenied",
    "hash_dropped": "reference §4 (CloudFront SHA-256 signed URLs, April 2026): without Hash-Algorithm the edge "
                    "verifies with SHA-1, so a SHA-256 signature fails: AccessDenied",
    "hash_added": "reference §4: Hash-Algorithm=SHA256 makes the edge verify with SHA-256, so a SHA-1 signature "
                  "fails: AccessDenied",
    "ip_in": "CloudFront Developer Guide, custom policy IpAddress (AWS:SourceIp): a client inside the CIDR is "
             "served",
    "ip_out": "CloudFront Developer Guide, custom policy IpAddress (AWS:SourceIp): a client outside the CIDR is "
              "denied: AccessDenied",
    "before_start": "CloudFront Developer Guide, custom policy DateGreaterThan: before that time users cannot "
                    "access the content: AccessDenied",
    "wildcard_in": "CloudFront Developer Guide, custom policy Resource: '*' matches zero or more characters (a "
                   "trailing '*' in the path also covers any query string)",
    "wildcard_out": "CloudFront Developer Guide, custom policy Resource: the URL does not match the Resource "
                    "pattern: AccessDenied",
    "exact_query": "reference §2: an unescaped Resource equal to the requested URL, query included, is served "
                   "(AWS-authored sample; every SDK writes it this way)",
    "query_pattern": "reference §2: AWS-authored sample: Resource https://<domain>/*?q1=123&q2=abc serves "
                     "/anything.html?q1=123&q2=abc",
    "query_pattern_out": "the request's query does not end in q1=123&q2=abc, so it cannot match the Resource "
                         "https://<domain>/*?q1=123&q2=abc however '?' is read: AccessDenied",
    "exact_query_out": "the request's query differs from the Resource's literal query (license=yes), so it cannot "
                       "match however the unescaped '?' is read: AccessDenied",
    "exact_out": "custom policy Resource is exactly another object's URL (no wildcard): AccessDenied",
}


def why(key, **kw):
    return WHY[key].format(**kw)


def req(url, at, expect, reason, ip=None):
    return {"url": url, "at": at, "client_ip": ip, "expect": expect, "why": reason}


# --- crypto ---------------------------------------------------------------------------------------
def read_key(name):
    with open(os.path.join(KEYS, name), "rb") as f:
        return f.read()


def cf_unb64(text):
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"), validate=True)


def hash_of(name):
    return hashes.SHA1() if name == "SHA1" else hashes.SHA256()


def make_signer(key_file, hash_name):
    key = serialization.load_pem_private_key(read_key(key_file), password=None)

    def sign(message):
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, padding.PKCS1v15(), hash_of(hash_name))
        return key.sign(message, ec.ECDSA(hash_of(hash_name)))

    return CloudFrontSigner(KEY_PAIR_ID, sign)


def verify(key_file, hash_name, message, signature):
    public = serialization.load_pem_public_key(read_key(PUBLIC[key_file]))
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, padding.PKCS1v15(), hash_of(hash_name))
        else:
            public.verify(signature, message, ec.ECDSA(hash_of(hash_name)))
    except InvalidSignature:
        return False
    return True


def utc(secs):
    return datetime.datetime.fromtimestamp(secs, tz=datetime.timezone.utc)


def iso(secs):
    return utc(secs).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- signed-URL surgery (to make the requests) ------------------------------------------------------
def split_signed(signed):
    """(base URL without signing parameters, signing parameter string) of a signed URL."""
    cut = min(i for i in (signed.find("?Expires="), signed.find("&Expires="), signed.find("?Policy="),
                          signed.find("&Policy=")) if i >= 0)
    return signed[:cut], signed[cut + 1:]


def join(base, params):
    return base + ("&" if "?" in base else "?") + params


def params_list(params):
    return [p.split("=", 1) for p in params.split("&")]


def set_param(signed, name, value):
    base, params = split_signed(signed)
    out = []
    for k, v in params_list(params):
        if k == name:
            if value is None:
                continue
            v = value
        out.append(f"{k}={v}")
    return join(base, "&".join(out))


def tamper_sig(sig):
    # Change one character inside the signature value (for DER ECDSA: inside r), keeping the alphabet.
    i = 20
    return sig[:i] + ("B" if sig[i] != "B" else "C") + sig[i + 1:]


def check(case):
    """Self-check of one case; raises AssertionError with the case name."""
    name = case["name"]
    base, params = split_signed(case["signed_url"])
    p = dict(params_list(params))
    assert set(p) <= set(SIGNING_PARAMS), (name, p)
    assert p["Key-Pair-Id"] == KEY_PAIR_ID, name
    assert ("Hash-Algorithm" in p) == (case["hash"] == "SHA256"), name
    if "Hash-Algorithm" in p:
        assert p["Hash-Algorithm"] == "SHA256", name
    policy = case["policy"].encode()
    if case["policy_kind"] == "canned":
        assert "Policy" not in p and p["Expires"] == str(EXPIRES), name
        rebuilt = json.dumps({"Statement": [{"Resource": base, "Condition": {
            "DateLessThan": {"AWS:EpochTime": EXPIRES}}}]}, separators=(",", ":"))
        assert rebuilt == case["policy"], (name, rebuilt)
    else:
        assert "Expires" not in p and cf_unb64(p["Policy"]) == policy, name
        json.loads(case["policy"])
    assert verify(case["key"], case["hash"], policy, cf_unb64(p["Signature"])), f"{name}: signature does not verify"
    assert not verify(case["key"], "SHA256" if case["hash"] == "SHA1" else "SHA1", policy,
                      cf_unb64(p["Signature"])), name
    for r in case["requests"]:
        assert STARTS - 60 <= r["at"] <= EXPIRES + 60, (name, r)


# --- cases ----------------------------------------------------------------------------------------
VARIANTS_ALL = [("rsa2048-pkcs1.pem", "SHA1"), ("rsa2048-pkcs1.pem", "SHA256"),
                ("p256-pkcs8.pem", "SHA1"), ("p256-pkcs8.pem", "SHA256")]
VARIANTS_TWO = [("rsa2048-pkcs1.pem", "SHA1"), ("p256-pkcs8.pem", "SHA256")]


def short(key_file, hash_name):
    return ("rsa" if key_file.startswith("rsa") else "p256") + "-" + hash_name.lower()


def sign_url(key_file, hash_name, url, policy=None):
    signer = make_signer(key_file, hash_name)
    if policy is None:
        policy = signer.build_policy(url, utc(EXPIRES))
        signed = signer.generate_presigned_url(url, date_less_than=utc(EXPIRES))
    else:
        signed = signer.generate_presigned_url(url, policy=policy)
    if hash_name == "SHA256":
        signed += "&Hash-Algorithm=SHA256"
    return policy, signed


def signer_text(hash_name, call):
    text = f"botocore {botocore.__version__} CloudFrontSigner({KEY_PAIR_ID!r}, rsa_signer).{call}"
    if hash_name == "SHA256":
        text += (f"; rsa_signer hashes with SHA-256 (cryptography {cryptography.__version__}) and gen_botocore.py "
                 "appends '&Hash-Algorithm=SHA256' (botocore knows only SHA-1)")
    else:
        text += f"; rsa_signer = cryptography {cryptography.__version__}, SHA-1"
    return text


def common_requests(case, signed, ip=None, tampers=False):
    """Expiry, hash and (optionally) parameter-tampering requests every URL case gets."""
    base, _ = split_signed(signed)
    served = "served_canned" if case["policy_kind"] == "canned" else "served_custom"
    out = [
        req(signed, T_OK, "granted", why(served), ip),
        req(signed, EXPIRES - 1, "granted", why("last_second"), ip),
        req(signed, EXPIRES, "AccessDenied", why("expired"), ip),
        req(signed, EXPIRES + 60, "AccessDenied", why("expired"), ip),
        req(base, T_OK, "MissingKey", why("missing"), ip),
    ]
    if case["hash"] == "SHA256":
        out.append(req(set_param(signed, "Hash-Algorithm", None), T_OK, "AccessDenied", why("hash_dropped"), ip))
    else:
        out.append(req(signed + "&Hash-Algorithm=SHA256", T_OK, "AccessDenied", why("hash_added"), ip))
    if tampers:
        sig = dict(params_list(split_signed(signed)[1]))["Signature"]
        out += [
            req(set_param(signed, "Key-Pair-Id", "K3UNKNOWNKEY00"), T_OK, "InvalidKey", why("invalid_key"), ip),
            req(set_param(signed, "Signature", "not!base64*"), T_OK, "MalformedSignature", why("malformed_sig"), ip),
            req(set_param(signed, "Signature", tamper_sig(sig)), T_OK, "AccessDenied", why("bad_sig"), ip),
        ]
    return out


def case(name, signer, kind, policy_kind, key_file, hash_name, url, policy, signed):
    return {"name": name, "signer": signer, "kind": kind, "policy_kind": policy_kind, "key": key_file,
            "hash": hash_name, "url": url, "policy": policy, "signed_url": signed, "cookies": None, "requests": []}


def canned_cases():
    out = []
    canned_call = f"generate_presigned_url(url, date_less_than={iso(EXPIRES)})"
    for key_file, hash_name in VARIANTS_ALL:
        v = short(key_file, hash_name)
        # canned, no query
        url = f"{D}/private/a.jpg"
        policy, signed = sign_url(key_file, hash_name, url)
        c = case(f"botocore-url-canned-{v}", signer_text(hash_name, canned_call), "url", "canned", key_file,
                 hash_name, url, policy, signed)
        _, params = split_signed(signed)
        c["requests"] = common_requests(c, signed, tampers=(v == "rsa-sha1" or v == "p256-sha256")) + [
            req(join(f"{D}/private/b.jpg", params), T_OK, "AccessDenied",
                why("canned_changed", what="another object, /private/b.jpg")),
            req(join(f"{D}/private/a.jpg?x=1", params), T_OK, "AccessDenied",
                why("canned_changed", what="an added query parameter x=1")),
            req(join(f"http://d111111abcdef8.cloudfront.net/private/a.jpg", params), T_OK, "AccessDenied",
                why("canned_changed", what="http instead of https")),
        ]
        out.append(c)
        # canned, with query
        url = f"{D}/private/a.jpg?size=large&license=yes"
        policy, signed = sign_url(key_file, hash_name, url)
        c = case(f"botocore-url-canned-query-{v}", signer_text(hash_name, canned_call), "url", "canned", key_file,
                 hash_name, url, policy, signed)
        _, params = split_signed(signed)
        c["requests"] = common_requests(c, signed) + [
            req(join(f"{D}/private/a.jpg?size=large&license=no", params), T_OK, "AccessDenied",
                why("canned_changed", what="license=no instead of license=yes")),
            req(join(f"{D}/private/a.jpg?license=yes&size=large", params), T_OK, "AccessDenied",
                why("canned_changed", what="the query parameters reordered")),
            req(join(f"{D}/private/a.jpg", params), T_OK, "AccessDenied",
                why("canned_changed", what="the caller's query string dropped")),
        ]
        out.append(c)
    for key_file, hash_name in VARIANTS_TWO:
        v = short(key_file, hash_name)
        url = f"{D}/private/my%20file.jpg?name=a+b"
        policy, signed = sign_url(key_file, hash_name, url)
        c = case(f"botocore-url-canned-pct-plus-{v}", signer_text(hash_name, canned_call), "url", "canned",
                 key_file, hash_name, url, policy, signed)
        _, params = split_signed(signed)
        c["requests"] = common_requests(c, signed) + [
            req(join(f"{D}/private/my%20file.jpg?name=a%20b", params), T_OK, "AccessDenied",
                why("canned_changed", what="'+' in the query sent as %20")),
            req(join(f"{D}/private/my+file.jpg?name=a+b", params), T_OK, "AccessDenied",
                why("canned_changed", what="%20 in the path sent as '+'")),
        ]
        out.append(c)
    return out


def custom_call(resource, greater, ip):
    args = [repr(resource), iso(EXPIRES)]
    if greater is not None:
        args.append(f"date_greater_than={iso(greater)}")
    if ip is not None:
        args.append(f"ip_address={ip!r}")
    return f"generate_presigned_url(url, policy=build_policy({', '.join(args)}))"


def custom(name, key_file, hash_name, url, resource, greater=None, ip=None):
    signer = make_signer(key_file, hash_name)
    policy = signer.build_policy(resource, utc(EXPIRES),
                                 date_greater_than=utc(greater) if greater is not None else None, ip_address=ip)
    policy, signed = sign_url(key_file, hash_name, url, policy=policy)
    return case(name, signer_text(hash_name, custom_call(resource, greater, ip)), "url", "custom", key_file,
                hash_name, url, policy, signed)


def custom_cases():
    out = []
    for key_file, hash_name in VARIANTS_ALL:
        v = short(key_file, hash_name)
        # Resource = the URL (what `aws cloudfront sign --ip-address` does), IP range + start time.
        url = f"{D}/private/a.jpg"
        c = custom(f"botocore-url-custom-ip-start-{v}", key_file, hash_name, url, url, STARTS, "192.0.2.0/24")
        s = c["signed_url"]
        _, params = split_signed(s)
        c["requests"] = common_requests(c, s, ip=IP_IN, tampers=(v == "rsa-sha1")) + [
            req(s, STARTS + 1, "granted", why("served_custom"), IP_IN),
            req(s, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
            req(s, STARTS - 60, "AccessDenied", why("before_start"), IP_IN),
            req(join(f"{D}/private/b.jpg", params), T_OK, "AccessDenied", why("exact_out"), IP_IN),
        ]
        out.append(c)
        # Wildcard resource, no other condition.
        c = custom(f"botocore-url-custom-wildcard-{v}", key_file, hash_name, url, f"{D}/private/*")
        s = c["signed_url"]
        _, params = split_signed(s)
        c["requests"] = common_requests(c, s) + [
            req(join(f"{D}/private/b.png", params), T_OK, "granted", why("wildcard_in")),
            req(join(f"{D}/private/sub/dir/c.m3u8", params), T_OK, "granted", why("wildcard_in")),
            req(join(f"{D}/private/b.png?any=1", params), T_OK, "granted", why("wildcard_in")),
            req(join(f"{D}/public/a.jpg", params), T_OK, "AccessDenied", why("wildcard_out")),
            req(join(f"{D}/private", params), T_OK, "AccessDenied", why("wildcard_out")),
            req(join(f"{D}/private/b.png", params), EXPIRES, "AccessDenied", why("expired")),
        ]
        out.append(c)
    for key_file, hash_name in VARIANTS_TWO:
        v = short(key_file, hash_name)
        # Resource = URL with a query string, unescaped '?', start time only.
        url = f"{D}/private/a.jpg?size=large&license=yes"
        c = custom(f"botocore-url-custom-query-start-{v}", key_file, hash_name, url, url, STARTS)
        s = c["signed_url"]
        _, params = split_signed(s)
        c["requests"] = common_requests(c, s) + [
            req(s, STARTS + 1, "granted", why("exact_query")),
            req(s, STARTS - 60, "AccessDenied", why("before_start")),
            req(join(f"{D}/private/a.jpg?size=large&license=no", params), T_OK, "AccessDenied",
                why("exact_query_out")),
            req(join(f"{D}/private/a.jpg", params), T_OK, "AccessDenied", why("exact_query_out")),
        ]
        out.append(c)
        # Resource = URL with a query string, single IP (botocore appends /32).
        c = custom(f"botocore-url-custom-query-ip32-{v}", key_file, hash_name, url, url, None, IP_IN)
        s = c["signed_url"]
        c["requests"] = common_requests(c, s, ip=IP_IN) + [
            req(s, T_OK, "AccessDenied", why("ip_out"), "192.0.2.8"),
            req(s, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
        ]
        out.append(c)
        # Query pattern resource (AWS-authored sample).
        url = f"{D}/anything.html?q1=123&q2=abc"
        c = custom(f"botocore-url-custom-query-pattern-{v}", key_file, hash_name, url, f"{D}/*?q1=123&q2=abc")
        s = c["signed_url"]
        _, params = split_signed(s)
        c["requests"] = common_requests(c, s) + [
            req(s, T_OK, "granted", why("query_pattern")),
            req(join(f"{D}/other/page.html?q1=123&q2=abc", params), T_OK, "granted", why("query_pattern")),
            req(join(f"{D}/anything.html?q1=123&q2=xyz", params), T_OK, "AccessDenied", why("query_pattern_out")),
            req(join(f"{D}/anything.html", params), T_OK, "AccessDenied", why("query_pattern_out")),
        ]
        out.append(c)
        # Percent-encoding and '+' with a custom policy (Resource = URL, IP range).
        url = f"{D}/private/my%20file.jpg?name=a+b"
        c = custom(f"botocore-url-custom-pct-plus-ip-{v}", key_file, hash_name, url, url, None, "192.0.2.0/24")
        s = c["signed_url"]
        _, params = split_signed(s)
        c["requests"] = common_requests(c, s, ip=IP_IN) + [
            req(s, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
            req(join(f"{D}/private/my%20file.jpg?name=a%20b", params), T_OK, "AccessDenied",
                "reference §8 (+ vs %20 is a top cause of 403s): the request URL (%20 for '+') differs from the "
                "Resource, which has no '*' (its only pattern character, the unescaped '?', stands where the "
                "query's '?' is): AccessDenied", IP_IN),
        ]
        out.append(c)
    return out


def build():
    cases = canned_cases() + custom_cases()
    names = set()
    for c in cases:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        check(c)
    return {
        "source": (f"crates/cfsign/tests/data/conformance/gen_botocore.py with botocore {botocore.__version__} "
                   f"(CloudFrontSigner), cryptography {cryptography.__version__} "
                   f"(OpenSSL {_openssl_version()})"),
        "key_pair_id": KEY_PAIR_ID,
        "cases": cases,
    }


def _openssl_version():
    try:
        from cryptography.hazmat.backends.openssl.backend import backend
        return backend.openssl_version_text().replace("OpenSSL ", "")
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", metavar="PATH", help="write the JSON here instead of stdout")
    args = parser.parse_args()
    try:
        corpus = build()
    except AssertionError as e:
        sys.exit(f"gen_botocore.py: self-check failed: {e!r}")
    except (OSError, ValueError) as e:
        sys.exit(f"gen_botocore.py: {e}")
    text = json.dumps(corpus, indent=1, ensure_ascii=True) + "\n"
    if args.out:
        try:
            with open(args.out, "w") as f:
                f.write(text)
        except OSError as e:
            sys.exit(f"gen_botocore.py: cannot write {args.out}: {e}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
