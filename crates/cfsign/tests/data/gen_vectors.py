#!/usr/bin/env python3
"""Generates cfsign's test vectors from independent implementations.

Run from anywhere:  python3 crates/cfsign/tests/data/gen_vectors.py

* keys/: fixed test keys made once with the OpenSSL CLI (kept if present, so vectors stay stable).
* botocore-canned.json, botocore-custom.json: policies, signatures and signed URLs from botocore's
  CloudFrontSigner, signing with the `cryptography` package (PKCS#1 v1.5 for RSA, DER ECDSA for P-256).
  botocore itself only knows SHA-1; for SHA-256 vectors the rsa_signer hashes with SHA-256 and
  `&Hash-Algorithm=SHA256` is appended, as CloudFront documents.
* openssl-vectors.json: `openssl dgst -sha1|-sha256 -sign` signatures over assorted messages.

Needs: python3, botocore, cryptography, openssl (1.1 or 3.x).
"""

import base64
import datetime
import json
import os
import subprocess
import tempfile

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
KEY_PAIR_ID = "K2JCJMDEHXQW5F"


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, input=stdin).stdout


def make_keys():
    os.makedirs(KEYS, exist_ok=True)

    def path(name):
        return os.path.join(KEYS, name)

    def once(name, *args):
        if not os.path.exists(path(name)):
            openssl(*args)

    # RSA-2048, PKCS#1 ("BEGIN RSA PRIVATE KEY").
    once("rsa2048-pkcs1.pem", "genrsa", "-traditional", "-out", path("rsa2048-pkcs1.pem"), "2048")
    # A second RSA-2048 key, PKCS#8 ("BEGIN PRIVATE KEY"), what OpenSSL 3 genrsa writes.
    once("rsa2048-pkcs8.pem", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
         "-out", path("rsa2048-pkcs8.pem"))
    # The PKCS#1 key in other encodings.
    once("rsa2048-pkcs1.der", "rsa", "-traditional", "-in", path("rsa2048-pkcs1.pem"), "-outform", "DER",
         "-out", path("rsa2048-pkcs1.der"))
    once("rsa2048-pkcs8.der", "pkcs8", "-topk8", "-nocrypt", "-in", path("rsa2048-pkcs1.pem"), "-outform", "DER",
         "-out", path("rsa2048-pkcs8.der"))
    once("rsa2048-pkcs1.pub.pem", "rsa", "-in", path("rsa2048-pkcs1.pem"), "-pubout", "-out",
         path("rsa2048-pkcs1.pub.pem"))
    once("rsa2048-pkcs1.rsapub.pem", "rsa", "-in", path("rsa2048-pkcs1.pem"), "-RSAPublicKey_out", "-out",
         path("rsa2048-pkcs1.rsapub.pem"))
    once("rsa2048-pkcs8.pub.pem", "pkey", "-in", path("rsa2048-pkcs8.pem"), "-pubout", "-out",
         path("rsa2048-pkcs8.pub.pem"))
    # P-256: SEC1 ("BEGIN EC PRIVATE KEY", with EC PARAMETERS block), PKCS#8, DER, public.
    once("p256-sec1.pem", "ecparam", "-name", "prime256v1", "-genkey", "-out", path("p256-sec1.pem"))
    once("p256-pkcs8.pem", "pkcs8", "-topk8", "-nocrypt", "-in", path("p256-sec1.pem"), "-out", path("p256-pkcs8.pem"))
    once("p256-sec1.der", "ec", "-in", path("p256-sec1.pem"), "-outform", "DER", "-out", path("p256-sec1.der"))
    once("p256.pub.pem", "ec", "-in", path("p256-sec1.pem"), "-pubout", "-out", path("p256.pub.pem"))
    # Keys that must be refused or flagged.
    once("rsa1024.pem", "genrsa", "-traditional", "-out", path("rsa1024.pem"), "1024")
    once("rsa1024.pub.pem", "rsa", "-in", path("rsa1024.pem"), "-pubout", "-out", path("rsa1024.pub.pem"))
    once("p384.pem", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", path("p384.pem"))
    once("p384-sec1.pem", "ec", "-in", path("p384.pem"), "-out", path("p384-sec1.pem"))
    once("p384.pub.pem", "pkey", "-in", path("p384.pem"), "-pubout", "-out", path("p384.pub.pem"))
    once("ed25519.pem", "genpkey", "-algorithm", "ED25519", "-out", path("ed25519.pem"))
    once("rsa2048-encrypted.pem", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256",
         "-pass", "pass:test-passphrase", "-out", path("rsa2048-encrypted.pem"))
    once("rsa2048-legacy-encrypted.pem", "rsa", "-traditional", "-in", path("rsa2048-pkcs1.pem"), "-aes256",
         "-passout", "pass:test-passphrase", "-out", path("rsa2048-legacy-encrypted.pem"))
    # Encrypted keys that load with the passphrase, and the plain keys they hold.
    once("rsa2048-encrypted.plain.pem", "pkey", "-in", path("rsa2048-encrypted.pem"), "-passin",
         "pass:test-passphrase", "-out", path("rsa2048-encrypted.plain.pem"))
    once("rsa2048-encrypted-sha1prf.pem", "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1",
         "-in", path("rsa2048-pkcs8.pem"), "-passout", "pass:test-passphrase", "-out",
         path("rsa2048-encrypted-sha1prf.pem"))
    once("p256-encrypted-scrypt.pem", "pkcs8", "-topk8", "-scrypt", "-in", path("p256-pkcs8.pem"), "-passout",
         "pass:test-passphrase", "-out", path("p256-encrypted-scrypt.pem"))
    once("p256-encrypted-des3.pem", "pkcs8", "-topk8", "-v2", "des3", "-in", path("p256-pkcs8.pem"), "-passout",
         "pass:test-passphrase", "-out", path("p256-encrypted-des3.pem"))
    once("p256-legacy-encrypted.pem", "ec", "-in", path("p256-sec1.pem"), "-aes128", "-passout",
         "pass:test-passphrase", "-out", path("p256-legacy-encrypted.pem"))


def load(name):
    with open(os.path.join(KEYS, name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def cf_b64(data):
    return base64.b64encode(data).replace(b"+", b"-").replace(b"=", b"_").replace(b"/", b"~").decode()


def make_signer(key, hash_name):
    algorithm = hashes.SHA1() if hash_name == "SHA1" else hashes.SHA256()

    def sign(message):
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, padding.PKCS1v15(), algorithm)
        return key.sign(message, ec.ECDSA(algorithm))

    return CloudFrontSigner(KEY_PAIR_ID, sign)


def utc(secs):
    return datetime.datetime.fromtimestamp(secs, tz=datetime.timezone.utc)


# (url, valid_for_signing): URLs that cfsign's sign_*_url must accept (and match byte for byte)
# or refuse (invalid URL characters); the policy and signature are compared either way.
URLS = [
    ("https://d111111abcdef8.cloudfront.net/private/image.jpg", True),
    ("https://d111111abcdef8.cloudfront.net/a%20b/%E6%BC%A2.jpg", True),
    ("https://d111111abcdef8.cloudfront.net/v.mp4?size=large&lang=en", True),
    ("http://example.com:8080/path/to/file.txt?x=1&y=%2F", True),
    ("https://d1.example.net/it's(here)!*~;,+$=@[]", True),
    ("https://d1.example.net", True),
    ("https://d1.example.net/ünïcödé/漢字/😀.png", False),
    ("https://d1.example.net/with space/file name.jpg", False),
    ('https://d1.example.net/quote"d.jpg', False),
    ("https://d1.example.net/back\\slash\\path", False),
    ("https://d1.example.net/tab\there\nnewline", False),
    ("https://d1.example.net/<angle>{brace}|pipe^caret`tick", False),
    ("https://d1.example.net/q?already=1&space=a b&é=ü", False),
]

CANNED_EXPIRIES = [1767225600, 0, 2147483647, 1700000000]

KEY_FILES = [("rsa2048-pkcs1.pem", "rsa"), ("rsa2048-pkcs8.pem", "rsa"), ("p256-pkcs8.pem", "p256")]


def canned_vectors():
    out = []
    for key_file, kind in KEY_FILES:
        key = load(key_file)
        for hash_name in ("SHA1", "SHA256"):
            signer = make_signer(key, hash_name)
            for i, (url, valid) in enumerate(URLS):
                expires = CANNED_EXPIRIES[i % len(CANNED_EXPIRIES)]
                policy = signer.build_policy(url, utc(expires))
                signed = signer.generate_presigned_url(url, date_less_than=utc(expires))
                if hash_name == "SHA256":
                    signed += "&Hash-Algorithm=SHA256"
                signature = signed.split("&Signature=")[1].split("&")[0]
                out.append({
                    "key": key_file, "key_kind": kind, "hash": hash_name, "url": url,
                    "url_valid": valid, "expires": expires, "policy": policy,
                    "signature": signature, "signed_url": signed,
                })
    return out


CUSTOM = [
    # (url, valid, resource, date_less_than, date_greater_than, ip)
    ("https://d1.example.net/hls/index.m3u8", True, "https://d1.example.net/hls/*", 1767225600, None, None),
    ("https://d1.example.net/a.jpg?v=2", True, "https://d1.example.net/a.jpg\\?v=2", 1767225600, 1767222000, None),
    ("https://d1.example.net/a.jpg", True, "https://d1.example.net/*", 1767225600, None, "10.0.0.0/8"),
    ("https://d1.example.net/a.jpg", True, "https://d1.example.net/*", 1767225600, 1700000000, "192.0.2.7"),
    ("https://d1.example.net/x/y?z=1", True, "http*://d1.example.net/x/*", 2147483647, 0, "0.0.0.0/0"),
    ("https://d1.example.net/x/y", True, "*", 1767225600, None, None),
    ("https://d1.example.net/ünïcödé/😀.png", False, "https://d1.example.net/ünïcödé/*", 1767225600, None, None),
    ("https://d1.example.net/a b", False, 'https://d1.example.net/"quoted"\\back slash*', 1767225600, 100, "203.0.113.0/24"),
]


def custom_vectors():
    out = []
    for key_file, kind in KEY_FILES:
        key = load(key_file)
        for hash_name in ("SHA1", "SHA256"):
            signer = make_signer(key, hash_name)
            for url, valid, resource, less, greater, ip in CUSTOM:
                policy = signer.build_policy(
                    resource, utc(less),
                    date_greater_than=utc(greater) if greater is not None else None,
                    ip_address=ip,
                )
                signed = signer.generate_presigned_url(url, policy=policy)
                if hash_name == "SHA256":
                    signed += "&Hash-Algorithm=SHA256"
                signature = signed.split("&Signature=")[1].split("&")[0]
                out.append({
                    "key": key_file, "key_kind": kind, "hash": hash_name, "url": url, "url_valid": valid,
                    "resource": resource, "date_less_than": less, "date_greater_than": greater,
                    "source_ip": ip, "policy": policy, "signature": signature, "signed_url": signed,
                })
    return out


MESSAGES = [
    b"",
    b"a",
    b'{"Statement":[{"Resource":"https://d1.example.net/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}',
    bytes(range(256)),
    "ünïcödé 漢字 😀".encode(),
    b"x" * 5000,
]


def openssl_vectors():
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for key_file, kind in KEY_FILES + [("rsa1024.pem", "rsa"), ("p256-sec1.pem", "p256")]:
            for hash_name in ("SHA1", "SHA256"):
                for i, message in enumerate(MESSAGES):
                    msg_path = os.path.join(tmp, "msg")
                    with open(msg_path, "wb") as f:
                        f.write(message)
                    sig = openssl("dgst", "-" + hash_name.lower(), "-sign", os.path.join(KEYS, key_file), msg_path)
                    out.append({
                        "key": key_file, "key_kind": kind, "hash": hash_name,
                        "message_hex": message.hex(), "signature_hex": sig.hex(),
                    })
    return out


def write(name, source, vectors):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"source": source, "key_pair_id": KEY_PAIR_ID, "vectors": vectors}, f, indent=1, ensure_ascii=True)
        f.write("\n")


def main():
    make_keys()
    import botocore
    import cryptography
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    boto = f"botocore {botocore.__version__} CloudFrontSigner + cryptography {cryptography.__version__} (gen_vectors.py)"
    write("botocore-canned.json", boto, canned_vectors())
    write("botocore-custom.json", boto, custom_vectors())
    write("openssl-vectors.json", f"{version}: openssl dgst -sign (gen_vectors.py)", openssl_vectors())


if __name__ == "__main__":
    main()
