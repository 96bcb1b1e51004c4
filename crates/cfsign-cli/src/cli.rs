//! The command line: clap definitions, help texts and examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Quick start:
  cfsign keygen --out private_key.pem        # upload the printed public key to CloudFront
  cfsign sign https://d111111abcdef8.cloudfront.net/a.jpg --key-pair-id K2JCJMDEHXQW5F \\
      --private-key private_key.pem --expires-in 1h
  cfsign verify \"$URL\" --trusted-key K2JCJMDEHXQW5F=public_key.pem

Exit codes:
  0  success (for `verify`: CloudFront would serve the request)
  1  `verify`: CloudFront would answer 403; bulk `sign`: some lines failed;
     `inspect`: parts are missing or undecodable;
     `stream manifest --require-all`: some URIs would be left unsigned
  2  usage or input error (bad flag, key, URL or time)

Environment:
  AWS_CLOUDFRONT_KEY_ID          key pair ID when --key-pair-id is not given
  AWS_CLOUDFRONT_KEY             private key PEM text (or a file path) when --private-key is not given
  AWS_CLOUDFRONT_KEY_PASSPHRASE  passphrase of an encrypted key when --passphrase-file is not given";

/// Sign, verify and inspect Amazon CloudFront signed URLs and signed cookies.
#[derive(Debug, Parser)]
#[command(name = "cfsign", version, about, after_help = EXIT_CODES, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate a key pair for CloudFront (replaces `openssl genrsa` + `openssl rsa -pubout`).
    #[command(after_help = "\
Examples:
  cfsign keygen --out private_key.pem
  cfsign keygen --algorithm p256 --out cf.pem --public-out cf.pub.pem

The private key is written with mode 0600. The public key PEM is printed on stdout, ready to
paste into CloudFront's \"Create public key\" (or to pass to `cfsign-provision upload-key`).")]
    Keygen(KeygenArgs),

    /// Print the public key (SPKI PEM) of a private key.
    #[command(after_help = "\
Examples:
  cfsign pubkey private_key.pem > public_key.pem
  cfsign pubkey --private-key private_key.pem > public_key.pem
  AWS_CLOUDFRONT_KEY=\"$(cat private_key.pem)\" cfsign pubkey")]
    Pubkey(PubkeyArgs),

    /// Sign a URL (or many, from stdin) for CloudFront; also a drop-in for `aws cloudfront sign`.
    #[command(after_help = "\
Examples:
  cfsign sign https://d111111abcdef8.cloudfront.net/a.jpg --key-pair-id K2JCJMDEHXQW5F \\
      --private-key private_key.pem --expires-in 1h
  cfsign sign https://d111111abcdef8.cloudfront.net/hls/index.m3u8 \\
      --resource 'https://d111111abcdef8.cloudfront.net/hls/*' \\
      --expires-at 2026-12-01T00:00:00Z --ip 203.0.113.0/24 --format json
  # The flags of `aws cloudfront sign` work too, with the same output byte for byte
  # (no trailing newline):
  cfsign sign --url https://d111111abcdef8.cloudfront.net/a.jpg --key-pair-id K2JCJMDEHXQW5F \\
      --private-key file://private_key.pem --date-less-than 2026-12-01
  # Bulk: one URL (or JSON object) per line on stdin, one signed URL per line out,
  # in input order, on all cores:
  cfsign sign - --expires-in 1h < urls.txt > signed.txt
  echo '{\"url\":\"https://d1.example.net/a.jpg\",\"expires_in\":\"10m\",\"ip\":\"192.0.2.1\"}' \\
      | cfsign sign -
  # A policy document you wrote, signed byte for byte (botocore's policy=, the JS policy option):
  cfsign sign https://d111111abcdef8.cloudfront.net/hls/a.ts --policy policy.json

Bulk JSON lines take the fields url (required), expires_in, expires_at, starts_at, ip and
resource, which override the flags for that line. Blank lines and lines starting with # are
skipped. A bad line is reported on stderr with its line number and produces no output; the other
lines are still signed, and the exit code is 1. Use --format json to see which URL each output
line belongs to.")]
    Sign(SignArgs),

    /// Create signed cookies for a resource (an exact URL, or a pattern with * wildcards).
    #[command(after_help = "\
Examples:
  cfsign cookies 'https://media.example.com/videos/*' --expires-in 2h --domain media.example.com
  cfsign cookies 'https://media.example.com/videos/*' --expires-in 2h --format header   # for curl -H
  cfsign cookies https://media.example.com/a.mp4 --expires-in 10m --format json

A resource with *, or any of --starts-at/--ip/--custom, gets a custom policy (as the aws CLI
and the JS signer decide); otherwise, even with a query string, a canned policy (which covers only
that URL). --policy FILE signs a policy document you wrote, byte for byte.")]
    Cookies(CookiesArgs),

    /// Private HLS/DASH streams: sign a manifest's URIs for the stream's prefix, or print its cookies.
    #[command(after_help = "\
Examples:
  # Every URI of the playlist gets one signature for https://media.example.com/videos/123/*:
  cfsign stream manifest index.m3u8 --url https://media.example.com/videos/123/index.m3u8 \\
      --expires-in 2h -o index.signed.m3u8
  curl -s \"$ORIGIN/videos/123/manifest.mpd\" | cfsign stream manifest - \\
      --url https://media.example.com/videos/123/manifest.mpd --expires-in 2h
  # Cookies for the prefix, in the form each player needs:
  cfsign stream cookies https://media.example.com/videos/123/ --expires-in 2h --domain example.com
  ffmpeg -headers \"$(cfsign stream cookies https://media.example.com/videos/123/ --expires-in 2h \\
      --format ffmpeg)\" -i https://media.example.com/videos/123/index.m3u8 -c copy out.mp4

One custom policy covers the stream's prefix (the manifest's directory by default, or --prefix),
so one signature serves every playlist, key and segment. URIs outside the prefix are left alone
and listed on stderr (--require-all makes that an error).")]
    #[command(subcommand)]
    Stream(StreamCommand),

    /// Decide whether CloudFront would serve a signed URL (or cookies), and explain a 403.
    #[command(after_help = "\
Examples:
  cfsign verify \"$SIGNED_URL\" --trusted-key K2JCJMDEHXQW5F=public_key.pem
  cfsign verify https://media.example.com/videos/a.mp4 --cookie \"$COOKIE_HEADER\" \\
      --trusted-key K2JCJMDEHXQW5F=public_key.pem --client-ip 203.0.113.9 \\
      --at 2026-12-01T00:00:00Z --json

Exit code 0: CloudFront would serve the request; 1: it would answer 403 (the code and the
reason are printed); 2: usage or input error. Where the decision relies on behaviour CloudFront
does not document (standard base64, `sha256` in lower case, the DateGreaterThan second, ...), a
`note: undocumented:` line says so; --strict denies such requests. Without --trusted-key, the key in
AWS_CLOUDFRONT_KEY_ID / AWS_CLOUDFRONT_KEY is trusted.")]
    Verify(VerifyArgs),

    /// Decode a signed URL or a Cookie header: key, times, policy (nothing is verified).
    #[command(after_help = "\
Examples:
  cfsign inspect \"$SIGNED_URL\"
  cfsign inspect 'CloudFront-Policy=eyJTdGF0...; CloudFront-Signature=...; CloudFront-Key-Pair-Id=K2J...'
  cfsign inspect \"$SIGNED_URL\" --json")]
    Inspect(InspectArgs),

    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  cfsign completions bash > /etc/bash_completion.d/cfsign
  cfsign completions zsh > \"${fpath[1]}/_cfsign\"
  cfsign completions fish > ~/.config/fish/completions/cfsign.fish")]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Key algorithm: rsa2048 (the usual) or p256 (smaller signatures, shorter URLs).
    #[arg(long, value_enum, default_value_t = Algorithm::Rsa2048)]
    pub(crate) algorithm: Algorithm,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long, short, value_name = "PATH")]
    pub(crate) out: PathBuf,
    /// Also write the public key PEM to this file.
    #[arg(long, value_name = "PATH")]
    pub(crate) public_out: Option<PathBuf>,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Key algorithms `keygen` makes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Algorithm {
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// ECDSA on NIST P-256.
    P256,
}

#[derive(Debug, Args)]
pub(crate) struct PubkeyArgs {
    /// The private key file (the same as --private-key FILE).
    #[arg(value_name = "FILE", conflicts_with = "private_key")]
    pub(crate) file: Option<String>,
    /// The private key: a file path, file://PATH, or the PEM text [default: $AWS_CLOUDFRONT_KEY].
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) private_key: Option<String>,
    /// A file holding the passphrase of an encrypted private key; one trailing newline is removed
    /// [default: $AWS_CLOUDFRONT_KEY_PASSPHRASE].
    #[arg(long, value_name = "PATH")]
    pub(crate) passphrase_file: Option<PathBuf>,
}

/// The signing key and its ID.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// The CloudFront key pair ID (public key ID) [default: $AWS_CLOUDFRONT_KEY_ID].
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub(crate) key_pair_id: Option<String>,
    /// The private key: a file path, file://PATH, or the PEM text [default: $AWS_CLOUDFRONT_KEY].
    #[arg(long, value_name = "PATH|file://PATH|PEM", allow_hyphen_values = true)]
    pub(crate) private_key: Option<String>,
    /// A file holding the passphrase of an encrypted private key (PKCS#8 `ENCRYPTED PRIVATE KEY`,
    /// or OpenSSL's legacy `Proc-Type: 4,ENCRYPTED`); one trailing newline is removed
    /// [default: $AWS_CLOUDFRONT_KEY_PASSPHRASE]. No flag takes the passphrase itself: command
    /// lines are visible to other users.
    #[arg(long, value_name = "PATH")]
    pub(crate) passphrase_file: Option<PathBuf>,
    /// Hash under the signature: sha1 (CloudFront's default) or sha256.
    #[arg(long, value_enum, default_value_t = Hash::Sha1)]
    pub(crate) hash: Hash,
}

/// Hash algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Hash {
    /// SHA-1.
    Sha1,
    /// SHA-256 (adds Hash-Algorithm=SHA256).
    Sha256,
}

/// When access starts and ends, and from where.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct PolicyArgs {
    /// Expire this long from now: 90s, 30m, 1h, 1h30m, 7d.
    #[arg(long, value_name = "DURATION", conflicts_with = "expires_at")]
    pub(crate) expires_in: Option<String>,
    /// Expire at this time: Unix seconds, RFC 3339 / ISO 8601 date-time (UTC if no offset) or a date.
    #[arg(long, value_name = "TIME", visible_alias = "date-less-than")]
    pub(crate) expires_at: Option<String>,
    /// Access starts at this time (makes the policy custom).
    #[arg(long, value_name = "TIME", visible_alias = "date-greater-than")]
    pub(crate) starts_at: Option<String>,
    /// Only clients from this IPv4 address or CIDR block (makes the policy custom).
    #[arg(long, value_name = "CIDR", visible_alias = "ip-address")]
    pub(crate) ip: Option<String>,
    /// Sign even if the expiry is already past (to test 403 handling).
    #[arg(long)]
    pub(crate) allow_expired: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The URL to sign, exactly as clients will request it; `-` reads URLs from stdin (bulk mode).
    #[arg(value_name = "URL", conflicts_with = "url")]
    pub(crate) target: Option<String>,
    /// The URL to sign (the `aws cloudfront sign` form: the output then has no trailing newline, as there).
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    /// The policy's resource pattern with * and ? wildcards (makes the policy custom) [default: the URL].
    #[arg(long, value_name = "PATTERN")]
    pub(crate) resource: Option<String>,
    /// Sign this policy document byte for byte (a file, or `-` for stdin) instead of building one
    /// from the flags; it must parse as a CloudFront policy and its resource must cover the URL.
    #[arg(
        long = "policy",
        value_name = "FILE|-",
        conflicts_with_all = ["resource", "expires_in", "expires_at", "starts_at", "ip"]
    )]
    pub(crate) policy_file: Option<String>,
    /// Output: the signed URL, or a JSON object with the URL, expiry and policy kind.
    #[arg(long, value_enum, default_value_t = SignFormat::Url)]
    pub(crate) format: SignFormat,
    /// Bulk mode: signing threads [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
}

/// Output formats of `sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignFormat {
    /// The signed URL.
    Url,
    /// A JSON object per URL.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CookiesArgs {
    /// The resource: an exact URL (canned policy) or a pattern such as https://media.example.com/videos/*.
    #[arg(value_name = "RESOURCE", required_unless_present = "policy_file")]
    pub(crate) resource: Option<String>,
    /// Sign this policy document byte for byte (a file, or `-` for stdin) instead of building one
    /// from the flags; it must parse as a CloudFront policy.
    #[arg(
        long = "policy",
        value_name = "FILE|-",
        conflicts_with_all = ["resource", "expires_in", "expires_at", "starts_at", "ip", "custom"]
    )]
    pub(crate) policy_file: Option<String>,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    /// Use a custom policy even for an exact URL.
    #[arg(long)]
    pub(crate) custom: bool,
    #[command(flatten)]
    pub(crate) attributes: CookieAttributeArgs,
    /// Output: Set-Cookie headers (one per line), one Cookie request header, or JSON.
    #[arg(long, value_enum, default_value_t = CookieFormat::SetCookie)]
    pub(crate) format: CookieFormat,
}

/// The attributes of `Set-Cookie` headers.
#[derive(Debug, Args)]
pub(crate) struct CookieAttributeArgs {
    /// The cookies' Domain attribute (your alternate domain name, e.g. media.example.com, or a
    /// parent domain your site shares with it, e.g. example.com).
    #[arg(long, value_name = "DOMAIN")]
    pub(crate) domain: Option<String>,
    /// The cookies' Path attribute [default: `cookies`: /; `stream cookies`: the prefix's path].
    #[arg(long, value_name = "PATH")]
    pub(crate) path: Option<String>,
    /// The cookies' SameSite attribute [default: `cookies`: none written; `stream cookies`: lax].
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) same_site: Option<SameSiteArg>,
    /// Leave out the Secure attribute, so browsers also send the cookies over plain http (local tests only).
    #[arg(long)]
    pub(crate) insecure_no_secure: bool,
    /// Leave out the HttpOnly attribute, so page scripts can read the cookies.
    #[arg(long)]
    pub(crate) no_http_only: bool,
}

/// `SameSite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SameSiteArg {
    /// Only requests from the same site.
    Strict,
    /// Same-site requests and top-level navigations.
    Lax,
    /// Every request, cross-site too (needs Secure; blocked by browsers that block third-party cookies).
    None,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StreamCommand {
    /// Append the signing parameters of one custom policy to every URI of an HLS playlist or
    /// DASH MPD, and write the manifest.
    Manifest(StreamManifestArgs),
    /// Print the signed cookies for a stream's prefix: Set-Cookie headers, a Cookie header, the
    /// ffmpeg -headers value, or JSON with all of them.
    Cookies(StreamCookiesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StreamManifestArgs {
    /// The manifest file (.m3u8 or .mpd), or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub(crate) input: String,
    /// The URL the manifest is served from: relative URIs in it resolve against it.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// The stream's prefix: a URL ending in `/` (`*` is added) or a pattern ending in `*`
    /// [default: the directory of --url].
    #[arg(long, value_name = "URL|PATTERN")]
    pub(crate) prefix: Option<String>,
    /// Write the manifest here instead of stdout.
    #[arg(long, short, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// Fail (exit 1, nothing written) if any URI is left unsigned.
    #[arg(long)]
    pub(crate) require_all: bool,
    /// Write every URI as the absolute URL it resolves to (against --url), so the manifest can be
    /// served from another place, such as your app's own URL.
    #[arg(long)]
    pub(crate) absolute_uris: bool,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub(crate) struct StreamCookiesArgs {
    /// The stream's prefix: a URL ending in `/` (`*` is added) or a pattern ending in `*`.
    #[arg(value_name = "PREFIX")]
    pub(crate) prefix: String,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) attributes: CookieAttributeArgs,
    /// Output: Set-Cookie headers, one Cookie header (native players, curl -H), ffmpeg's
    /// -headers value (with CRLF), or JSON with every form.
    #[arg(long, value_enum, default_value_t = StreamCookieFormat::SetCookie)]
    pub(crate) format: StreamCookieFormat,
}

/// Output formats of `stream cookies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StreamCookieFormat {
    /// `Set-Cookie:` response headers, one per line.
    SetCookie,
    /// One `Cookie:` request header.
    Header,
    /// ffmpeg's `-headers` value: `Cookie: …` and CRLF.
    Ffmpeg,
    /// A JSON object with every form.
    Json,
}

/// Output formats of `cookies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CookieFormat {
    /// `Set-Cookie:` response headers, one per line.
    SetCookie,
    /// One `Cookie:` request header (for curl -H).
    Header,
    /// A JSON object.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The request URL: a signed URL, or the plain URL when the signature is in --cookie.
    #[arg(value_name = "URL")]
    pub(crate) url: String,
    /// A key the cache behaviour trusts: KEY_PAIR_ID=PUBLIC_KEY_PEM_PATH (repeatable).
    #[arg(long, value_name = "ID=PEM_PATH")]
    pub(crate) trusted_key: Vec<String>,
    /// The request's Cookie header (with or without `Cookie:`).
    #[arg(long, value_name = "HEADER")]
    pub(crate) cookie: Option<String>,
    /// Decide as if the request arrived at this time [default: now].
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
    /// The client's IP address (needed when the policy restricts the source IP).
    #[arg(long, value_name = "IP")]
    pub(crate) client_ip: Option<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Only what CloudFront documents: deny a request that would be served only by relying on
    /// undocumented behaviour (such as `Hash-Algorithm=sha256` in lower case).
    #[arg(long)]
    pub(crate) strict: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// A signed URL, or a Cookie header with CloudFront-* cookies.
    #[arg(value_name = "URL|COOKIE_HEADER")]
    pub(crate) input: String,
    /// Print the parts as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
