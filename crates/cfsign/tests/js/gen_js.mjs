#!/usr/bin/env node
// Conformance corpus from the official AWS JS v3 signer, @aws-sdk/cloudfront-signer (an independent oracle
// for cfsign).
//
//   npm ci --no-audit --no-fund --prefix crates/cfsign/tests/js      (once)
//   node crates/cfsign/tests/js/gen_js.mjs [--out PATH]
//
// Prints the corpus as JSON on stdout, or writes it to PATH. Works offline, takes well under a second.
// Exits non-zero with a message on stderr if the package is not installed or a self-check fails.
//
// What the signer does (read from its dist-cjs/index.js; see README.md in tests/data/conformance):
// * getSignedUrl and getSignedCookies; canned when only url + dateLessThan are given, custom when
//   dateGreaterThan or ipAddress is given (a '*' in url alone does NOT make it custom), or when `policy`
//   (a JSON string, signed byte for byte as given) is passed.
// * algorithm: "SHA1" (default) | "SHA256"; SHA256 adds Hash-Algorithm=SHA256 / CloudFront-Hash-Algorithm.
// * Signing is node:crypto createSign("RSA-SHA1" | "RSA-SHA256"), which signs with whatever key it is
//   given: P-256 keys produce DER ECDSA signatures (random, so they change on every run).
// * getSignedUrl re-encodes the URL before signing (path segments: encodeURIComponent(decodeURIComponent());
//   query: encodeURIComponent except '+' and %XX, which are kept, %xx upper-cased; empty pairs dropped,
//   a bare key gets '='); getSignedCookies signs the url as given.
//
// Every output is self-checked (node:crypto verify against the public key; decoded Policy = recorded
// policy; canned policy rebuilt from the signed URL = recorded policy) before it is printed.

import { createVerify, createPublicKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join as pjoin, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const KEYS = resolve(HERE, "..", "data", "keys");
const PKG_DIR = pjoin(HERE, "node_modules", "@aws-sdk", "cloudfront-signer");

function fail(message) {
  process.stderr.write(`gen_js.mjs: ${message}\n`);
  process.exit(1);
}

let signer;
let sdkVersion;
try {
  signer = await import("@aws-sdk/cloudfront-signer");
  sdkVersion = JSON.parse(readFileSync(pjoin(PKG_DIR, "package.json"), "utf8")).version;
} catch (e) {
  fail(
    `@aws-sdk/cloudfront-signer is not installed (${e.message.split("\n")[0]}); ` +
      "run: npm ci --no-audit --no-fund --prefix crates/cfsign/tests/js",
  );
}
const { getSignedUrl, getSignedCookies } = signer;
const PKG = `@aws-sdk/cloudfront-signer ${sdkVersion}`;

const KEY_PAIR_ID = "K2JCJMDEHXQW5F";
const D = "https://d111111abcdef8.cloudfront.net";
const EXPIRES = 1767225600; // 2026-01-01T00:00:00Z
const STARTS = 1767222000; // 2025-12-31T23:00:00Z
const T_OK = EXPIRES - 600;
const IP_IN = "192.0.2.7";
const IP_OUT = "198.51.100.9";
const PUBLIC = { "rsa2048-pkcs1.pem": "rsa2048-pkcs1.pub.pem", "p256-pkcs8.pem": "p256.pub.pem" };
const SIGNING_PARAMS = ["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"];
const iso = (secs) => new Date(secs * 1000).toISOString().replace(".000Z", "Z");

// --- where each expectation comes from ------------------------------------------------------------
const WHY = {
  served_canned:
    "CloudFront Developer Guide, private-content-creating-signed-url-canned-policy: base URL + " +
    "Expires/Signature/Key-Pair-Id is served before Expires; this is the AWS JS SDK's own output, which CloudFront " +
    "serves (reference §1, §7)",
  served_custom:
    "CloudFront Developer Guide, private-content-creating-signed-url-custom-policy: a request matching Resource " +
    "and all Conditions is served; this is the AWS JS SDK's own output (reference §2 evidence)",
  cookies_canned:
    "CloudFront Developer Guide, private-content-setting-signed-cookie-canned-policy: CloudFront-Expires/" +
    "-Signature/-Key-Pair-Id for the exact requested URL are honoured before the expiry; AWS JS SDK output",
  cookies_custom:
    "CloudFront Developer Guide, private-content-setting-signed-cookie-custom-policy: CloudFront-Policy/" +
    "-Signature/-Key-Pair-Id are honoured for URLs matching Resource and all Conditions; AWS JS SDK output",
  last_second:
    "Condition DateLessThan (canned: Expires): access is allowed while now < the value; expires-1 is the last " +
    "second that is served",
  expired:
    "CloudFront Developer Guide, private-content-signed-urls: expiration is checked when the request arrives and " +
    "the condition is DateLessThan, so at and after the expiry second the request is denied (reference §7: " +
    "AccessDenied)",
  canned_changed:
    "reference §7: for a canned policy the edge rebuilds the policy from the request URL minus the signing " +
    "parameters, so any byte change in the URL ({what}) breaks the signature: AccessDenied",
  canned_cookie_changed:
    "reference §7: canned cookies carry no Resource, so the edge rebuilds the policy from the request URL; " +
    "{what} gives different bytes and the signature fails: AccessDenied",
  canned_cookie_wildcard:
    "reference §6/§7: with a canned policy the edge rebuilds the Resource from the request URL " +
    "({what}), never the '*' pattern the SDK signed, so the signature fails: AccessDenied (a wildcard needs a " +
    "custom policy)",
  missing:
    "reference §7 table (AWS knowledge-center article on 403s): no Key-Pair-Id query parameter or cookie: " +
    "MissingKey",
  invalid_key:
    "reference §7 table: a Key-Pair-Id that is not in the behaviour's trusted key groups gives InvalidKey " +
    "(Unknown Key); only K2JCJMDEHXQW5F is trusted for this corpus",
  malformed_sig:
    "reference §7 table: a Signature that is not CloudFront base64 gives MalformedSignature (Could not unencode " +
    "Signature)",
  bad_sig: "reference §7: a well-formed Signature that does not verify over the policy: AccessDenied",
  hash_dropped:
    "reference §4 (CloudFront SHA-256 signed URLs, April 2026): without Hash-Algorithm the edge verifies with " +
    "SHA-1, so a SHA-256 signature fails: AccessDenied",
  hash_added:
    "reference §4: Hash-Algorithm=SHA256 makes the edge verify with SHA-256, so a SHA-1 signature fails: " +
    "AccessDenied",
  ip_in: "CloudFront Developer Guide, custom policy IpAddress (AWS:SourceIp): a client inside the CIDR is served",
  ip_out:
    "CloudFront Developer Guide, custom policy IpAddress (AWS:SourceIp): a client outside the CIDR is denied: " +
    "AccessDenied",
  before_start:
    "CloudFront Developer Guide, custom policy DateGreaterThan: before that time users cannot access the " +
    "content: AccessDenied",
  wildcard_in:
    "CloudFront Developer Guide, custom policy Resource: '*' matches zero or more characters (a trailing '*' in " +
    "the path also covers any query string)",
  wildcard_out:
    "CloudFront Developer Guide, custom policy Resource: the URL does not match the Resource pattern: " +
    "AccessDenied",
  star_only: "CloudFront Developer Guide, custom policy Resource: \"*\" alone matches every URL",
  exact_query:
    "reference §2: an unescaped Resource equal to the requested URL, query included, is served (AWS-authored " +
    "sample; every SDK writes it this way)",
  exact_query_out:
    "the request's query differs from the Resource's literal query (license=yes), so it cannot match however the " +
    "unescaped '?' is read: AccessDenied",
  exact_out: "custom policy Resource is exactly another object's URL (no wildcard): AccessDenied",
  query_pattern:
    "reference §2: AWS-authored sample: Resource https://<domain>/*?q1=123&q2=abc serves " +
    "/anything.html?q1=123&q2=abc",
  query_pattern_out:
    "the request's query does not end in q1=123&q2=abc, so it cannot match the Resource " +
    "https://<domain>/*?q1=123&q2=abc however '?' is read: AccessDenied",
};
const why = (key, kw = {}) => WHY[key].replace(/\{(\w+)\}/g, (_, k) => kw[k]);
const req = (url, at, expect, reason, ip = null) => ({ url, at, client_ip: ip, expect, why: reason });

// --- crypto ---------------------------------------------------------------------------------------
const readKey = (name) => readFileSync(pjoin(KEYS, name), "utf8");
const cfB64 = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/=/g, "_").replace(/\//g, "~");
function cfUnB64(text) {
  if (!/^[A-Za-z0-9~_-]*$/.test(text)) throw new Error(`not CloudFront base64: ${text}`);
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64");
}
function verify(keyFile, hash, message, signature) {
  const v = createVerify(hash === "SHA1" ? "SHA1" : "SHA256");
  v.update(Buffer.from(message, "utf8"));
  return v.verify(createPublicKey(readKey(PUBLIC[keyFile])), signature);
}

// --- signed-URL surgery ----------------------------------------------------------------------------
function splitSigned(signed) {
  const cuts = ["?Expires=", "&Expires=", "?Policy=", "&Policy="].map((m) => signed.indexOf(m)).filter((i) => i >= 0);
  const cut = Math.min(...cuts);
  return [signed.slice(0, cut), signed.slice(cut + 1)];
}
const joinUrl = (base, params) => base + (base.includes("?") ? "&" : "?") + params;
const paramsList = (params) => params.split("&").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]);
function setParam(signed, name, value) {
  const [base, params] = splitSigned(signed);
  const out = [];
  for (const [k, v] of paramsList(params)) {
    if (k === name) {
      if (value !== null) out.push(`${k}=${value}`);
    } else out.push(`${k}=${v}`);
  }
  return joinUrl(base, out.join("&"));
}
// Change one character inside the signature (for DER ECDSA: inside r), keeping the alphabet.
const tamperSig = (sig) => sig.slice(0, 20) + (sig[20] !== "B" ? "B" : "C") + sig.slice(21);
const cannedPolicy = (resource) =>
  JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }] });

function assert(cond, message) {
  if (!cond) throw new Error(`self-check failed: ${message}`);
}

function check(c) {
  const n = c.name;
  let p;
  let resourceForCanned;
  if (c.kind === "url") {
    const [base, params] = splitSigned(c.signed_url);
    p = Object.fromEntries(paramsList(params));
    assert(Object.keys(p).every((k) => SIGNING_PARAMS.includes(k)), `${n}: params ${Object.keys(p)}`);
    resourceForCanned = base;
  } else {
    p = {};
    for (const [k, v] of Object.entries(c.cookies)) {
      assert(k.startsWith("CloudFront-") && typeof v === "string", `${n}: cookie ${k}`);
      p[k.slice("CloudFront-".length)] = v;
    }
    assert(Object.keys(p).every((k) => SIGNING_PARAMS.includes(k)), `${n}: cookies ${Object.keys(p)}`);
    resourceForCanned = c.url;
  }
  assert(p["Key-Pair-Id"] === KEY_PAIR_ID, `${n}: key pair id`);
  assert(("Hash-Algorithm" in p) === (c.hash === "SHA256"), `${n}: Hash-Algorithm`);
  if (c.hash === "SHA256") assert(p["Hash-Algorithm"] === "SHA256", `${n}: Hash-Algorithm value`);
  if (c.policy_kind === "canned") {
    assert(!("Policy" in p) && p.Expires === String(EXPIRES), `${n}: canned parameters`);
    assert(cannedPolicy(resourceForCanned) === c.policy, `${n}: canned policy not rebuilt from the URL`);
  } else {
    assert(!("Expires" in p) && cfUnB64(p.Policy).toString("utf8") === c.policy, `${n}: Policy parameter`);
    JSON.parse(c.policy);
  }
  const sig = cfUnB64(p.Signature);
  assert(verify(c.key, c.hash, c.policy, sig), `${n}: signature does not verify`);
  assert(!verify(c.key, c.hash === "SHA1" ? "SHA256" : "SHA1", c.policy, sig), `${n}: verifies with the other hash`);
  for (const r of c.requests) assert(r.at >= STARTS - 60 && r.at <= EXPIRES + 60, `${n}: at ${r.at}`);
}

// --- cases -----------------------------------------------------------------------------------------
const VARIANTS_ALL = [
  ["rsa2048-pkcs1.pem", "SHA1"],
  ["rsa2048-pkcs1.pem", "SHA256"],
  ["p256-pkcs8.pem", "SHA1"],
  ["p256-pkcs8.pem", "SHA256"],
];
const VARIANTS_TWO = [
  ["rsa2048-pkcs1.pem", "SHA1"],
  ["p256-pkcs8.pem", "SHA256"],
];
const short = (keyFile, hash) => `${keyFile.startsWith("rsa") ? "rsa" : "p256"}-${hash.toLowerCase()}`;

function describe(fn, input) {
  const shown = Object.entries(input)
    .filter(([k]) => k !== "privateKey")
    .map(([k, v]) => `${k}: ${k === "policy" ? "<policy>" : JSON.stringify(v)}`)
    .join(", ");
  return `${PKG} ${fn}({${shown}, privateKey: <pem>})`;
}

function credentials(keyFile, hash) {
  return { keyPairId: KEY_PAIR_ID, privateKey: readKey(keyFile), algorithm: hash };
}

function urlCase(name, keyFile, hash, input, policy) {
  const full = { ...input, ...credentials(keyFile, hash) };
  const signed = getSignedUrl(full);
  const custom = "policy" in input || "dateGreaterThan" in input || "ipAddress" in input;
  const [base, params] = splitSigned(signed);
  if (policy === undefined) {
    // Custom: the Policy parameter is the oracle's exact bytes. Canned: the SDK does not expose the policy
    // string; this is the canned policy of the URL it returned, proven by the signature check in check().
    policy = custom ? cfUnB64(Object.fromEntries(paramsList(params)).Policy).toString("utf8") : cannedPolicy(base);
  }
  return {
    name,
    signer: describe("getSignedUrl", full),
    kind: "url",
    policy_kind: custom ? "custom" : "canned",
    key: keyFile,
    hash,
    // No url given (policy only): record the policy's first Resource, which is what the SDK used.
    url: input.url ?? JSON.parse(input.policy).Statement[0].Resource,
    policy,
    signed_url: signed,
    cookies: null,
    requests: [],
  };
}

function cookieCase(name, keyFile, hash, input) {
  const full = { ...input, ...credentials(keyFile, hash) };
  const returned = getSignedCookies(full);
  const cookies = Object.fromEntries(Object.entries(returned).map(([k, v]) => [k, String(v)]));
  const custom = "CloudFront-Policy" in cookies;
  const policy = custom ? cfUnB64(cookies["CloudFront-Policy"]).toString("utf8") : cannedPolicy(input.url);
  let signerText = describe("getSignedCookies", full);
  if (typeof returned["CloudFront-Expires"] === "number") {
    signerText += "; CloudFront-Expires is returned as a number and recorded here as its decimal string";
  }
  return {
    name,
    signer: signerText,
    kind: "cookies",
    policy_kind: custom ? "custom" : "canned",
    key: keyFile,
    hash,
    url: input.url ?? JSON.parse(input.policy).Statement[0].Resource,
    policy,
    signed_url: null,
    cookies,
    requests: [],
  };
}

function commonUrlRequests(c, ip = null, tampers = false) {
  const s = c.signed_url;
  const [base, params] = splitSigned(s);
  const served = c.policy_kind === "canned" ? "served_canned" : "served_custom";
  const out = [
    req(s, T_OK, "granted", why(served), ip),
    req(s, EXPIRES - 1, "granted", why("last_second"), ip),
    req(s, EXPIRES, "AccessDenied", why("expired"), ip),
    req(s, EXPIRES + 60, "AccessDenied", why("expired"), ip),
    req(base, T_OK, "MissingKey", why("missing"), ip),
  ];
  if (c.hash === "SHA256") out.push(req(setParam(s, "Hash-Algorithm", null), T_OK, "AccessDenied", why("hash_dropped"), ip));
  else out.push(req(`${s}&Hash-Algorithm=SHA256`, T_OK, "AccessDenied", why("hash_added"), ip));
  if (tampers) {
    const sig = Object.fromEntries(paramsList(params)).Signature;
    out.push(
      req(setParam(s, "Key-Pair-Id", "K3UNKNOWNKEY00"), T_OK, "InvalidKey", why("invalid_key"), ip),
      req(setParam(s, "Signature", "not!base64*"), T_OK, "MalformedSignature", why("malformed_sig"), ip),
      req(setParam(s, "Signature", tamperSig(sig)), T_OK, "AccessDenied", why("bad_sig"), ip),
    );
  }
  return out;
}

function commonCookieRequests(c, url, ip = null) {
  const served = c.policy_kind === "canned" ? "cookies_canned" : "cookies_custom";
  return [
    req(url, T_OK, "granted", why(served), ip),
    req(url, EXPIRES - 1, "granted", why("last_second"), ip),
    req(url, EXPIRES, "AccessDenied", why("expired"), ip),
    req(url, EXPIRES + 60, "AccessDenied", why("expired"), ip),
  ];
}

function urlCases() {
  const out = [];
  for (const [keyFile, hash] of VARIANTS_ALL) {
    const v = short(keyFile, hash);
    const tampers = v === "rsa-sha1" || v === "p256-sha256";
    // canned, no query
    let c = urlCase(`js-url-canned-${v}`, keyFile, hash, { url: `${D}/private/a.jpg`, dateLessThan: iso(EXPIRES) });
    let [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c, null, tampers),
      req(joinUrl(`${D}/private/b.jpg`, params), T_OK, "AccessDenied", why("canned_changed", { what: "another object, /private/b.jpg" })),
      req(joinUrl(`${D}/private/a.jpg?x=1`, params), T_OK, "AccessDenied", why("canned_changed", { what: "an added query parameter x=1" })),
    ];
    out.push(c);
    // canned, with query
    c = urlCase(`js-url-canned-query-${v}`, keyFile, hash, {
      url: `${D}/private/a.jpg?size=large&license=yes`,
      dateLessThan: iso(EXPIRES),
    });
    [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c),
      req(joinUrl(`${D}/private/a.jpg?size=large&license=no`, params), T_OK, "AccessDenied", why("canned_changed", { what: "license=no instead of license=yes" })),
      req(joinUrl(`${D}/private/a.jpg?license=yes&size=large`, params), T_OK, "AccessDenied", why("canned_changed", { what: "the query parameters reordered" })),
      req(joinUrl(`${D}/private/a.jpg`, params), T_OK, "AccessDenied", why("canned_changed", { what: "the caller's query string dropped" })),
    ];
    out.push(c);
    // custom: Resource = the URL, IP range + start time
    c = urlCase(`js-url-custom-ip-start-${v}`, keyFile, hash, {
      url: `${D}/private/a.jpg`,
      dateLessThan: iso(EXPIRES),
      dateGreaterThan: iso(STARTS),
      ipAddress: "192.0.2.0/24",
    });
    [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c, IP_IN, v === "rsa-sha1"),
      req(c.signed_url, STARTS + 1, "granted", why("served_custom"), IP_IN),
      req(c.signed_url, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
      req(c.signed_url, STARTS - 60, "AccessDenied", why("before_start"), IP_IN),
      req(joinUrl(`${D}/private/b.jpg`, params), T_OK, "AccessDenied", why("exact_out"), IP_IN),
    ];
    out.push(c);
  }
  for (const [keyFile, hash] of VARIANTS_TWO) {
    const v = short(keyFile, hash);
    // canned, percent-encoding and '+' (kept as is by the SDK's re-encoding)
    let c = urlCase(`js-url-canned-pct-plus-${v}`, keyFile, hash, {
      url: `${D}/private/my%20file.jpg?name=a+b`,
      dateLessThan: iso(EXPIRES),
    });
    let [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c),
      req(joinUrl(`${D}/private/my%20file.jpg?name=a%20b`, params), T_OK, "AccessDenied", why("canned_changed", { what: "'+' in the query sent as %20" })),
      req(joinUrl(`${D}/private/my+file.jpg?name=a+b`, params), T_OK, "AccessDenied", why("canned_changed", { what: "%20 in the path sent as '+'" })),
    ];
    out.push(c);
    // custom: Resource = URL with query, start time only
    const qurl = `${D}/private/a.jpg?size=large&license=yes`;
    c = urlCase(`js-url-custom-query-start-${v}`, keyFile, hash, { url: qurl, dateLessThan: iso(EXPIRES), dateGreaterThan: iso(STARTS) });
    [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c),
      req(c.signed_url, STARTS + 1, "granted", why("exact_query")),
      req(c.signed_url, STARTS - 60, "AccessDenied", why("before_start")),
      req(joinUrl(`${D}/private/a.jpg?size=large&license=no`, params), T_OK, "AccessDenied", why("exact_query_out")),
      req(joinUrl(`${D}/private/a.jpg`, params), T_OK, "AccessDenied", why("exact_query_out")),
    ];
    out.push(c);
    // custom: Resource = URL with query, single IP (the SDK appends /32)
    c = urlCase(`js-url-custom-query-ip32-${v}`, keyFile, hash, { url: qurl, dateLessThan: iso(EXPIRES), ipAddress: IP_IN });
    c.requests = [
      ...commonUrlRequests(c, IP_IN),
      req(c.signed_url, T_OK, "AccessDenied", why("ip_out"), "192.0.2.8"),
      req(c.signed_url, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
    ];
    out.push(c);
    // custom via a policy string: wildcard Resource, url given
    const wildcardPolicy = JSON.stringify({
      Statement: [{ Resource: `${D}/private/*`, Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }],
    });
    c = urlCase(`js-url-policy-wildcard-${v}`, keyFile, hash, { url: `${D}/private/a.jpg`, policy: wildcardPolicy });
    [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c),
      req(joinUrl(`${D}/private/b.png`, params), T_OK, "granted", why("wildcard_in")),
      req(joinUrl(`${D}/private/sub/dir/c.m3u8`, params), T_OK, "granted", why("wildcard_in")),
      req(joinUrl(`${D}/private/b.png?any=1`, params), T_OK, "granted", why("wildcard_in")),
      req(joinUrl(`${D}/public/a.jpg`, params), T_OK, "AccessDenied", why("wildcard_out")),
      req(joinUrl(`${D}/private/b.png`, params), EXPIRES, "AccessDenied", why("expired")),
    ];
    out.push(c);
    // custom via a policy string: the query pattern from the AWS sample, url given
    const patternPolicy = JSON.stringify({
      Statement: [{ Resource: `${D}/*?q1=123&q2=abc`, Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }],
    });
    c = urlCase(`js-url-policy-query-pattern-${v}`, keyFile, hash, { url: `${D}/anything.html?q1=123&q2=abc`, policy: patternPolicy });
    [, params] = splitSigned(c.signed_url);
    c.requests = [
      ...commonUrlRequests(c),
      req(c.signed_url, T_OK, "granted", why("query_pattern")),
      req(joinUrl(`${D}/other/page.html?q1=123&q2=abc`, params), T_OK, "granted", why("query_pattern")),
      req(joinUrl(`${D}/anything.html?q1=123&q2=xyz`, params), T_OK, "AccessDenied", why("query_pattern_out")),
      req(joinUrl(`${D}/anything.html`, params), T_OK, "AccessDenied", why("query_pattern_out")),
    ];
    out.push(c);
  }
  // The SDK re-encodes the URL it is given (here '+' in the path -> %2B, %2f -> %2F, bare 'flag' -> 'flag=')
  // and signs the re-encoded form: the returned URL is what must be requested.
  let c = urlCase("js-url-canned-reencoded-rsa-sha1", "rsa2048-pkcs1.pem", "SHA1", {
    url: `${D}/private/a+b(1).jpg?x=%2f&flag`,
    dateLessThan: iso(EXPIRES),
  });
  let [, params] = splitSigned(c.signed_url);
  c.requests = [
    ...commonUrlRequests(c),
    req(joinUrl(`${D}/private/a+b(1).jpg?x=%2f&flag`, params), T_OK, "AccessDenied",
      why("canned_changed", { what: "the caller's original spelling, not the SDK's re-encoded one" })),
  ];
  out.push(c);
  // Policy string without url: the SDK takes the URL from the policy's first Resource (a '*' pattern here),
  // so the returned "URL" is the pattern itself; the parameters work on any matching URL.
  c = urlCase("js-url-policy-only-wildcard-rsa-sha1", "rsa2048-pkcs1.pem", "SHA1", {
    policy: JSON.stringify({
      Statement: [{ Resource: `${D}/private/*`, Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }],
    }),
  });
  [, params] = splitSigned(c.signed_url);
  c.requests = [
    ...commonUrlRequests(c),
    req(joinUrl(`${D}/private/a.jpg`, params), T_OK, "granted", why("wildcard_in")),
    req(joinUrl(`${D}/private/a.jpg`, params), EXPIRES, "AccessDenied", why("expired")),
    req(joinUrl(`${D}/public/a.jpg`, params), T_OK, "AccessDenied", why("wildcard_out")),
  ];
  out.push(c);
  return out;
}

function cookieCases() {
  const out = [];
  for (const [keyFile, hash] of VARIANTS_ALL) {
    const v = short(keyFile, hash);
    // canned, exact URL
    const url = `${D}/private/a.jpg`;
    let c = cookieCase(`js-cookies-canned-${v}`, keyFile, hash, { url, dateLessThan: iso(EXPIRES) });
    c.requests = [
      ...commonCookieRequests(c, url),
      req(`${D}/private/b.jpg`, T_OK, "AccessDenied", why("canned_cookie_changed", { what: "another object, /private/b.jpg" })),
      req(`${D}/private/a.jpg?x=1`, T_OK, "AccessDenied", why("canned_cookie_changed", { what: "an added query parameter x=1" })),
    ];
    out.push(c);
    // custom via a policy string, wildcard
    const policy = JSON.stringify({
      Statement: [{ Resource: `${D}/private/*`, Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }],
    });
    c = cookieCase(`js-cookies-policy-wildcard-${v}`, keyFile, hash, { policy });
    c.requests = [
      ...commonCookieRequests(c, `${D}/private/a.jpg`),
      req(`${D}/private/hls/seg-00001.ts`, T_OK, "granted", why("wildcard_in")),
      req(`${D}/private/hls/index.m3u8?v=2`, T_OK, "granted", why("wildcard_in")),
      req(`${D}/public/a.jpg`, T_OK, "AccessDenied", why("wildcard_out")),
      req(`${D}/private/hls/seg-00001.ts`, EXPIRES, "AccessDenied", why("expired")),
    ];
    out.push(c);
  }
  for (const [keyFile, hash] of VARIANTS_TWO) {
    const v = short(keyFile, hash);
    // canned, exact URL with a query string (the SDK keeps it canned)
    const qurl = `${D}/private/a.jpg?size=large&license=yes`;
    let c = cookieCase(`js-cookies-canned-query-${v}`, keyFile, hash, { url: qurl, dateLessThan: iso(EXPIRES) });
    c.requests = [
      ...commonCookieRequests(c, qurl),
      req(`${D}/private/a.jpg?size=large&license=no`, T_OK, "AccessDenied", why("canned_cookie_changed", { what: "license=no instead of license=yes" })),
      req(`${D}/private/a.jpg`, T_OK, "AccessDenied", why("canned_cookie_changed", { what: "the query string dropped" })),
    ];
    out.push(c);
    // custom: wildcard url + dateGreaterThan (custom because of the start time)
    c = cookieCase(`js-cookies-custom-wildcard-start-${v}`, keyFile, hash, {
      url: `${D}/private/*`,
      dateLessThan: iso(EXPIRES),
      dateGreaterThan: iso(STARTS),
    });
    c.requests = [
      ...commonCookieRequests(c, `${D}/private/a.jpg`),
      req(`${D}/private/a.jpg`, STARTS + 1, "granted", why("cookies_custom")),
      req(`${D}/private/hls/seg-00002.ts`, T_OK, "granted", why("wildcard_in")),
      req(`${D}/private/a.jpg`, STARTS - 60, "AccessDenied", why("before_start")),
      req(`${D}/public/a.jpg`, T_OK, "AccessDenied", why("wildcard_out")),
    ];
    out.push(c);
    // custom: exact URL + IP range
    c = cookieCase(`js-cookies-custom-ip-${v}`, keyFile, hash, {
      url: `${D}/private/a.jpg`,
      dateLessThan: iso(EXPIRES),
      ipAddress: "192.0.2.0/24",
    });
    c.requests = [
      ...commonCookieRequests(c, `${D}/private/a.jpg`, IP_IN),
      req(`${D}/private/a.jpg`, T_OK, "AccessDenied", why("ip_out"), IP_OUT),
      req(`${D}/private/b.jpg`, T_OK, "AccessDenied", why("exact_out"), IP_IN),
    ];
    out.push(c);
    // custom: wildcard url + IP range + start time, percent-encoding and '+' in the resource
    c = cookieCase(`js-cookies-custom-wildcard-ip-start-${v}`, keyFile, hash, {
      url: `${D}/private/my%20dir/*`,
      dateLessThan: iso(EXPIRES),
      dateGreaterThan: iso(STARTS),
      ipAddress: IP_IN,
    });
    c.requests = [
      ...commonCookieRequests(c, `${D}/private/my%20dir/a+b.jpg`, IP_IN),
      req(`${D}/private/my%20dir/a+b.jpg`, T_OK, "AccessDenied", why("ip_out"), "192.0.2.8"),
      req(`${D}/private/my%20dir/a+b.jpg`, STARTS - 60, "AccessDenied", why("before_start"), IP_IN),
      req(`${D}/private/my+dir/a.jpg`, T_OK, "AccessDenied",
        "reference §8 (%20 vs '+' is a top cause of 403s): '/private/my+dir/' does not match the Resource prefix " +
          "'/private/my%20dir/': AccessDenied", IP_IN),
    ];
    out.push(c);
  }
  // Resource "*" (every URL), via a policy string.
  let c = cookieCase("js-cookies-policy-star-rsa-sha1", "rsa2048-pkcs1.pem", "SHA1", {
    policy: JSON.stringify({ Statement: [{ Resource: "*", Condition: { DateLessThan: { "AWS:EpochTime": EXPIRES } } }] }),
  });
  c.requests = [
    ...commonCookieRequests(c, `${D}/anything/at/all.mp4?x=1`),
    req(`${D}/a.jpg`, T_OK, "granted", why("star_only")),
    req(`${D}/a.jpg`, EXPIRES, "AccessDenied", why("expired")),
  ];
  out.push(c);
  // A trap in the SDK: a '*' url with only dateLessThan gives CANNED cookies over the literal pattern,
  // which CloudFront can never match (it rebuilds canned policies from the request URL).
  c = cookieCase("js-cookies-canned-wildcard-trap-rsa-sha1", "rsa2048-pkcs1.pem", "SHA1", {
    url: `${D}/private/*`,
    dateLessThan: iso(EXPIRES),
  });
  c.requests = [
    req(`${D}/private/*`, T_OK, "granted",
      "reference §7: the canned policy rebuilt from this request URL (path literally '/private/*') is exactly the " +
        "signed one; the only URL these cookies open"),
    req(`${D}/private/*`, EXPIRES, "AccessDenied", why("expired")),
    req(`${D}/private/*`, EXPIRES + 60, "AccessDenied", why("expired")),
    req(`${D}/private/a.jpg`, T_OK, "AccessDenied", why("canned_cookie_wildcard", { what: "/private/a.jpg" })),
    req(`${D}/private/hls/seg-00001.ts`, T_OK, "AccessDenied", why("canned_cookie_wildcard", { what: "/private/hls/seg-00001.ts" })),
  ];
  out.push(c);
  return out;
}

function build() {
  const cases = [...urlCases(), ...cookieCases()];
  const names = new Set();
  for (const c of cases) {
    assert(!names.has(c.name), `duplicate case name ${c.name}`);
    names.add(c.name);
    check(c);
  }
  return {
    source:
      `crates/cfsign/tests/js/gen_js.mjs with ${PKG} (getSignedUrl, getSignedCookies), ` +
      `node:crypto (Node ${process.version}, OpenSSL ${process.versions.openssl})`,
    key_pair_id: KEY_PAIR_ID,
    cases,
  };
}

function main() {
  const args = process.argv.slice(2);
  let out = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out" && i + 1 < args.length) out = args[++i];
    else if (args[i].startsWith("--out=")) out = args[i].slice("--out=".length);
    else if (args[i] === "-h" || args[i] === "--help") {
      process.stdout.write("usage: node gen_js.mjs [--out PATH]\n");
      return;
    } else fail(`unknown argument ${JSON.stringify(args[i])} (usage: node gen_js.mjs [--out PATH])`);
  }
  let corpus;
  try {
    corpus = build();
  } catch (e) {
    fail(e.message);
  }
  const text = JSON.stringify(corpus, null, 1) + "\n";
  if (out) {
    try {
      writeFileSync(out, text);
    } catch (e) {
      fail(`cannot write ${out}: ${e.message}`);
    }
  } else process.stdout.write(text);
}

main();
