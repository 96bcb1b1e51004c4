//! Test helpers: a mock on 127.0.0.1:0 in its own runtime, and a minimal raw HTTP/1.1 client
//! (so tests control the `Host` header exactly, without DNS for `*.localhost`).
#![allow(dead_code, unreachable_pub)] // Reason: each test binary uses a different subset.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::io::{Read, Write};
use std::net::TcpStream;

use cfsign_mock::{MockConfig, RunningMock};

pub const NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

pub struct Mock {
    pub mock: Option<RunningMock>,
    pub rt: tokio::runtime::Runtime,
}

impl Mock {
    pub fn start(config: MockConfig) -> Mock {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mock = rt.block_on(cfsign_mock::start(config)).unwrap();
        Mock {
            mock: Some(mock),
            rt,
        }
    }

    pub fn handle(&self) -> &RunningMock {
        self.mock.as_ref().unwrap()
    }

    pub fn port(&self) -> u16 {
        self.handle().port()
    }

    pub fn endpoint(&self) -> String {
        self.handle().endpoint()
    }

    pub fn req(&self, method: &str, path: &str) -> Req {
        Req {
            port: self.port(),
            method: method.to_owned(),
            path: path.to_owned(),
            host: format!("127.0.0.1:{}", self.port()),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path).send()
    }

    pub fn post(&self, path: &str, body: &str) -> Resp {
        self.req("POST", path).body(body).send()
    }

    pub fn put(&self, path: &str, etag: &str, body: &str) -> Resp {
        self.req("PUT", path)
            .header("If-Match", etag)
            .body(body)
            .send()
    }

    pub fn delete(&self, path: &str, etag: &str) -> Resp {
        self.req("DELETE", path).header("If-Match", etag).send()
    }

    /// Shuts down and waits.
    pub fn stop(mut self) {
        if let Some(m) = self.mock.take() {
            self.rt.block_on(m.shutdown());
        }
    }
}

pub struct Req {
    port: u16,
    method: String,
    path: String,
    host: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    pub fn host(mut self, host: &str) -> Req {
        self.host = host.to_owned();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self
    }

    pub fn send(self) -> Resp {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=00\r\n",
            self.method, self.path, self.host
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // Large bodies may be refused before they are read completely.
        let _ = stream.write_all(&self.body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        Resp::parse(&raw, self.method == "HEAD")
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    fn parse(raw: &[u8], head_only: bool) -> Resp {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
        let head = std::str::from_utf8(&raw[..split]).unwrap();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let rest = &raw[split + 4..];
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if head_only {
            Vec::new()
        } else if chunked {
            dechunk(rest)
        } else {
            rest.to_vec()
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("ETag header").to_owned()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<name>` element.
    pub fn xml(&self, name: &str) -> Option<String> {
        xml_value(&self.text(), name)
    }

    /// The error code of a control-plane error, checking the wrapped form.
    pub fn error_code(&self) -> String {
        let text = self.text();
        assert!(
            text.contains(&format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>")),
            "not a wrapped ErrorResponse: {text}"
        );
        assert!(text.contains("<RequestId>"), "{text}");
        assert_eq!(self.header("content-type"), Some("text/xml"));
        self.xml("Code").unwrap()
    }

    /// Asserts status and error code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.error_code(), code, "{}", self.text());
    }
}

pub fn xml_value(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{name}>"))? + start;
    Some(text[start..end].to_owned())
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(pos) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..pos]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[pos + 2..pos + 2 + size]);
        data = &data[pos + 2 + size + 2..];
    }
}

/// A fresh key's SPKI PEM with its private key.
pub fn keypair(kind: cfsign::KeyKind) -> (cfsign::PrivateKey, String) {
    let key = cfsign::PrivateKey::generate(kind, &mut rand::rng()).unwrap();
    let pem = key.public_key().to_pem();
    (key, pem)
}

pub fn public_key_config(caller_ref: &str, name: &str, pem: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><PublicKeyConfig xmlns=\"{NS}\"><CallerReference>{caller_ref}</CallerReference><Name>{name}</Name><EncodedKey>{pem}</EncodedKey><Comment>test key</Comment></PublicKeyConfig>"
    )
}

pub fn key_group_config(name: &str, keys: &[&str]) -> String {
    let items: String = keys
        .iter()
        .map(|k| format!("<PublicKey>{k}</PublicKey>"))
        .collect();
    format!(
        "<KeyGroupConfig xmlns=\"{NS}\"><Name>{name}</Name><Items>{items}</Items><Comment>group</Comment></KeyGroupConfig>"
    )
}

fn tkg(groups: &[&str]) -> String {
    if groups.is_empty() {
        return "<TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>".to_owned();
    }
    let items: String = groups
        .iter()
        .map(|g| format!("<KeyGroup>{g}</KeyGroup>"))
        .collect();
    format!(
        "<TrustedKeyGroups><Enabled>true</Enabled><Quantity>{}</Quantity><Items>{items}</Items></TrustedKeyGroups>",
        groups.len()
    )
}

/// A distribution config with origin `origin_domain`, a default behaviour trusting
/// `default_groups`, and a `/private/*` behaviour trusting `private_groups`.
pub fn distribution_config(
    caller_ref: &str,
    enabled: bool,
    origin_domain: &str,
    default_groups: &[&str],
    private_groups: &[&str],
) -> String {
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>{caller_ref}</CallerReference>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>{origin_domain}</DomainName><OriginPath></OriginPath>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>\
<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>o1</TargetOriginId>{}<ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></CacheBehavior></Items></CacheBehaviors>\
<Comment>test</Comment><Enabled>{enabled}</Enabled></DistributionConfig>",
        tkg(default_groups),
        tkg(private_groups)
    )
}
