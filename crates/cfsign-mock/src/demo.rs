//! `--demo`: one distribution over the built-in sample origin, with a public path and a private
//! path restricted to a demo key group.

use std::fmt;
use std::path::{Path, PathBuf};

use cfsign::{KeyKind, PrivateKey};
use zeroize::Zeroizing;

use crate::api_error::ApiError;
use crate::config::MockConfig;
use crate::error::Error;
use crate::origin::DEMO_ORIGIN_DOMAIN;
use crate::shared::Shared;
use crate::xml::Element;

/// The CallerReference (and name stem) of the demo's resources.
const DEMO: &str = "cfsign-mock-demo";

/// What `--demo` created: a distribution whose `/private/*` paths need a URL or cookies signed
/// with the demo key, and whose other paths (`/public/hello.txt`, `/index.html`) are public.
pub struct Demo {
    key_pair_id: String,
    key_group_id: String,
    distribution_id: String,
    domain_name: String,
    private_key_pem: Zeroizing<String>,
    key_file: Option<PathBuf>,
}

impl fmt::Debug for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Demo")
            .field("key_pair_id", &self.key_pair_id)
            .field("key_group_id", &self.key_group_id)
            .field("distribution_id", &self.distribution_id)
            .field("domain_name", &self.domain_name)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// The demo public key's ID (the `Key-Pair-Id` to sign with).
    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    /// The demo key group's ID.
    pub fn key_group_id(&self) -> &str {
        &self.key_group_id
    }

    /// The demo distribution's ID.
    pub fn distribution_id(&self) -> &str {
        &self.distribution_id
    }

    /// The demo distribution's domain name, like `d1234abcd.cloudfront.net`.
    pub fn domain_name(&self) -> &str {
        &self.domain_name
    }

    /// The demo private key as PKCS#8 PEM (a throw-away key for local use only).
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// Where the private key was read from or written to, if anywhere.
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_deref()
    }
}

fn demo_error(e: ApiError) -> Error {
    Error::Demo(format!("{}: {}", e.code, e.message))
}

fn load_or_create_key(path: Option<&Path>) -> Result<PrivateKey, Error> {
    if let Some(path) = path
        && path.exists()
    {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "read the demo key",
            path: path.to_owned(),
            source,
        })?;
        return PrivateKey::from_pem(&text).map_err(|e| {
            Error::Demo(format!(
                "the demo key file `{}` is not usable: {e}",
                path.display()
            ))
        });
    }
    let key = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng())
        .map_err(|e| Error::Demo(format!("cannot generate a key: {e}")))?;
    if let Some(path) = path {
        write_private(path, key.to_pkcs8_pem().as_bytes()).map_err(|source| Error::Io {
            action: "write the demo key",
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates (or finds, when the state file already has them) the demo key, key group and
/// distribution.
pub(crate) fn seed(shared: &Shared, config: &MockConfig) -> Result<Demo, Error> {
    let key_file = config.demo_key_file.clone();
    let key = load_or_create_key(key_file.as_deref())?;
    let public_pem = key.public_key().to_pem();
    let (key_pair_id, key_group_id, distribution_id, domain_name) = shared
        .mutate(|store, now| {
            let key_name = format!("{DEMO}-key");
            let key_id = match store.public_keys.iter().find(|k| k.name == key_name) {
                Some(k) if k.encoded_key.trim() == public_pem.trim() => k.id.clone(),
                Some(k) => {
                    return Err(ApiError::invalid_argument(format!(
                        "the saved demo public key {} does not match the demo private key; delete the state file or restore the demo key file",
                        k.id
                    )));
                }
                None => {
                    let body = Element::node(
                        "PublicKeyConfig",
                        vec![
                            Element::text("CallerReference", format!("{DEMO}-key")),
                            Element::text("Name", key_name),
                            Element::text("EncodedKey", public_pem.clone()),
                            Element::text("Comment", "cfsign-mock demo key"),
                        ],
                    );
                    store.create_public_key(&body, now)?.id
                }
            };
            let group_name = format!("{DEMO}-group");
            let group_id = match store.key_groups.iter().find(|g| g.name == group_name) {
                Some(g) => g.id.clone(),
                None => {
                    let body = Element::node(
                        "KeyGroupConfig",
                        vec![
                            Element::text("Name", group_name),
                            Element::node("Items", vec![Element::text("PublicKey", key_id.clone())]),
                            Element::text("Comment", "cfsign-mock demo key group"),
                        ],
                    );
                    store.create_key_group(&body, now)?.id
                }
            };
            let existing = store
                .distributions
                .iter()
                .find(|d| d.config.child_text("CallerReference") == Some(DEMO));
            let (dist_id, domain) = match existing {
                Some(d) => (d.id.clone(), d.domain.clone()),
                None => {
                    let (rec, _) = store.create_distribution(&demo_distribution(&group_id), now)?;
                    (rec.id, rec.domain)
                }
            };
            Ok((key_id, group_id, dist_id, domain))
        })
        .map_err(demo_error)?;
    Ok(Demo {
        key_pair_id,
        key_group_id,
        distribution_id,
        domain_name,
        private_key_pem: key.to_pkcs8_pem(),
        key_file,
    })
}

fn behaviour(name: &str, path_pattern: Option<&str>, key_group: Option<&str>) -> Element {
    let mut children = Vec::new();
    if let Some(p) = path_pattern {
        children.push(Element::text("PathPattern", p));
    }
    children.push(Element::text("TargetOriginId", "sample"));
    children.push(Element::node(
        "TrustedSigners",
        vec![
            Element::text("Enabled", "false"),
            Element::text("Quantity", "0"),
        ],
    ));
    children.push(match key_group {
        Some(g) => Element::node(
            "TrustedKeyGroups",
            vec![
                Element::text("Enabled", "true"),
                Element::text("Quantity", "1"),
                Element::node("Items", vec![Element::text("KeyGroup", g)]),
            ],
        ),
        None => Element::node(
            "TrustedKeyGroups",
            vec![
                Element::text("Enabled", "false"),
                Element::text("Quantity", "0"),
            ],
        ),
    });
    children.push(Element::text("ViewerProtocolPolicy", "allow-all"));
    children.push(Element::text(
        "CachePolicyId",
        "658327ea-f89d-4fab-a63d-7e88639e58f6",
    ));
    Element::node(name, children)
}

fn demo_distribution(key_group_id: &str) -> Element {
    Element::node(
        "DistributionConfig",
        vec![
            Element::text("CallerReference", DEMO),
            Element::text("DefaultRootObject", "index.html"),
            Element::node(
                "Origins",
                vec![
                    Element::text("Quantity", "1"),
                    Element::node(
                        "Items",
                        vec![Element::node(
                            "Origin",
                            vec![
                                Element::text("Id", "sample"),
                                Element::text("DomainName", DEMO_ORIGIN_DOMAIN),
                                Element::text("OriginPath", ""),
                                Element::node(
                                    "S3OriginConfig",
                                    vec![Element::text("OriginAccessIdentity", "")],
                                ),
                            ],
                        )],
                    ),
                ],
            ),
            behaviour("DefaultCacheBehavior", None, None),
            Element::node(
                "CacheBehaviors",
                vec![
                    Element::text("Quantity", "1"),
                    Element::node(
                        "Items",
                        vec![behaviour(
                            "CacheBehavior",
                            Some("/private/*"),
                            Some(key_group_id),
                        )],
                    ),
                ],
            ),
            Element::text(
                "Comment",
                "cfsign-mock demo: /private/* needs a signed URL or cookies",
            ),
            Element::text("Enabled", "true"),
        ],
    )
}
