//! The edge view: every distribution with its cache behaviours in CloudFront's order, origins
//! resolved, trusted keys and response headers policies parsed, rebuilt from the control-plane model after every change;
//! and the lookups a request needs (by host, ID or domain; the behaviour for a path).

use std::collections::HashMap;
use std::sync::Arc;

use cfsign::{KeyPairId, PublicKey, TrustedKeys};

use crate::edge::forwarding::Forwarding;
use crate::edge::grants::GrantCache;
use crate::model::{Store, behaviours, origins as config_origins, trusted_key_groups};
use crate::ops::headers_policy::HeadersPolicy;
use crate::origin::{OriginSource, Origins};

/// What the edge knows, rebuilt after every control-plane change so requests never parse PEM.
#[derive(Debug, Default)]
pub(crate) struct EdgeView {
    by_host: HashMap<String, Arc<EdgeDist>>,
    by_id: HashMap<String, Arc<EdgeDist>>,
}

/// A distribution as the edge sees it.
#[derive(Debug)]
pub(crate) struct EdgeDist {
    /// The distribution's ID.
    pub(crate) id: String,
    /// The distribution's domain name.
    pub(crate) domain: String,
    /// Whether the distribution is enabled.
    pub(crate) enabled: bool,
    /// The `DefaultRootObject` without a leading `/` (empty: none).
    pub(super) default_root_object: String,
    /// The ordered cache behaviours, then the default behaviour (pattern `None`) last.
    behaviours: Vec<EdgeBehaviour>,
}

/// A cache behaviour as the edge sees it.
#[derive(Debug)]
pub(super) struct EdgeBehaviour {
    /// The `PathPattern`; `None` for the default behaviour.
    pattern: Option<String>,
    /// Where the origin is read from, and its `OriginPath` (without a trailing `/`).
    pub(super) origin: (OriginSource, String),
    /// What the behaviour forwards to S3 and custom origins.
    pub(super) forwarding: Forwarding,
    /// `Some` when the behaviour is restricted (trusted key groups or legacy trusted signers).
    pub(super) trusted: Option<Restricted>,
    /// The response headers policy its `ResponseHeadersPolicyId` names, parsed once.
    pub(super) headers_policy: Option<Arc<HeadersPolicy>>,
    /// Whether `AllowedMethods` lists `OPTIONS` (the edge answers `OPTIONS` itself).
    pub(super) allows_options: bool,
}

/// A restricted behaviour: its trusted keys (parsed once) and the grants already decided.
#[derive(Debug)]
pub(super) struct Restricted {
    /// The keys of every trusted key group.
    pub(super) keys: TrustedKeys,
    /// The grants already decided.
    pub(super) grants: GrantCache,
}

impl EdgeView {
    /// Builds the view: behaviours in CloudFront order, origins resolved, trusted keys parsed.
    pub(crate) fn build(store: &Store, origins: &Origins) -> EdgeView {
        let mut parsed: HashMap<&str, Option<PublicKey>> = HashMap::new();
        for key in &store.public_keys {
            parsed.insert(key.id.as_str(), PublicKey::from_pem(&key.encoded_key).ok());
        }
        let mut view = EdgeView::default();
        for d in &store.distributions {
            let config = &d.config;
            let origin_of = |target: Option<&str>| -> (OriginSource, String) {
                let Some(origin) = config_origins(config)
                    .iter()
                    .find(|o| target.is_some() && o.child_text("Id") == target)
                else {
                    return (
                        OriginSource::Unavailable("The cache behaviour's origin does not exist."),
                        String::new(),
                    );
                };
                let origin_path = origin
                    .child_text("OriginPath")
                    .unwrap_or("")
                    .trim_end_matches('/');
                (origins.resolve(origin, store), origin_path.to_owned())
            };
            let mut list = Vec::new();
            let mut default = None;
            for b in behaviours(config) {
                let groups = trusted_key_groups(b);
                let signers_enabled = b
                    .path(&["TrustedSigners", "Enabled"])
                    .is_some_and(|e| e.text.trim() == "true");
                let trusted = if groups.is_empty() && !signers_enabled {
                    None
                } else {
                    // The edge verifies every request: OpenSSL where compiled in, chosen explicitly.
                    let mut keys = TrustedKeys::new().with_backend(cfsign::Backend::fastest());
                    for gid in &groups {
                        let Some(group) = store.key_groups.iter().find(|g| &g.id == gid) else {
                            continue;
                        };
                        for kid in &group.items {
                            if let (Ok(id), Some(Some(key))) =
                                (KeyPairId::new(kid), parsed.get(kid.as_str()))
                            {
                                keys.insert(id, key.clone());
                            }
                        }
                    }
                    Some(Restricted {
                        keys,
                        grants: GrantCache::default(),
                    })
                };
                let behaviour = EdgeBehaviour {
                    pattern: b.child_text("PathPattern").map(str::to_owned),
                    origin: origin_of(b.child_text("TargetOriginId").map(str::trim)),
                    forwarding: Forwarding::of(b),
                    trusted,
                    headers_policy: b
                        .child_text("ResponseHeadersPolicyId")
                        .and_then(|id| store.headers_policy(id.trim()))
                        .map(Arc::new),
                    allows_options: b
                        .path(&["AllowedMethods", "Items"])
                        .is_some_and(|i| i.children.iter().any(|m| m.text.trim() == "OPTIONS")),
                };
                if b.name == "DefaultCacheBehavior" {
                    default = Some(behaviour);
                } else {
                    list.push(behaviour);
                }
            }
            list.extend(default);
            let dist = Arc::new(EdgeDist {
                id: d.id.clone(),
                domain: d.domain.clone(),
                enabled: d.enabled(),
                default_root_object: config
                    .child_text("DefaultRootObject")
                    .unwrap_or("")
                    .trim_start_matches('/')
                    .to_owned(),
                behaviours: list,
            });
            view.by_host
                .insert(d.domain.to_ascii_lowercase(), Arc::clone(&dist));
            if let Some(items) = config.path(&["Aliases", "Items"]) {
                for alias in &items.children {
                    view.by_host
                        .insert(alias.text.trim().to_ascii_lowercase(), Arc::clone(&dist));
                }
            }
            view.by_id.insert(d.id.clone(), dist);
        }
        view
    }

    /// The distribution for a `Host` header value: its domain name or an alias, optionally
    /// followed by `.localhost`, with or without a port.
    pub(crate) fn for_host(&self, host: &str) -> Option<Arc<EdgeDist>> {
        let name = strip_port(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        let name = name.strip_suffix(".localhost").unwrap_or(name);
        self.by_host.get(name).cloned()
    }

    /// The distribution for an ID or a domain name.
    pub(crate) fn for_id_or_domain(&self, key: &str) -> Option<Arc<EdgeDist>> {
        self.by_id.get(key).cloned().or_else(|| self.for_host(key))
    }
}

impl EdgeBehaviour {
    /// The path pattern, `*` for the default behaviour.
    pub(super) fn pattern_or_default(&self) -> &str {
        self.pattern.as_deref().unwrap_or("*")
    }
}

impl EdgeDist {
    /// For the console's verify box: the cache behaviour's pattern for `path` (`*` for the
    /// default) and its trusted keys, `None` when it is not restricted.
    pub(crate) fn trust_for(&self, path: &str) -> Option<(&str, Option<&TrustedKeys>)> {
        self.behaviour_for(path)
            .map(|b| (b.pattern_or_default(), b.trusted.as_ref().map(|r| &r.keys)))
    }

    /// The cache behaviour for a path: the first ordered behaviour whose pattern matches, else
    /// the default behaviour.
    pub(super) fn behaviour_for(&self, path: &str) -> Option<&EdgeBehaviour> {
        self.behaviours
            .iter()
            .find(|b| b.pattern.as_deref().is_none_or(|p| path_matches(p, path)))
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// CloudFront's path-pattern match: case-sensitive, `*` any run of characters (including `/`),
/// `?` exactly one; a pattern without a leading `/` is treated as if it had one.
fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern).as_bytes();
    let path = path.strip_prefix('/').unwrap_or(path).as_bytes();
    // Iterative wildcard match with single-star backtracking: linear in practice, never exponential.
    let (mut p, mut s) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while s < path.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == path[s]) {
            p += 1;
            s += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = s;
            p += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            s = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let check = |pattern: &str, path: &str, expected: bool| {
            assert_eq!(path_matches(pattern, path), expected, "{pattern} vs {path}");
        };
        check("/private/*", "/private/a.txt", true);
        check("private/*", "/private/a/b.txt", true);
        check("/private/*", "/public/a.txt", false);
        check("*.jpg", "/a/b/c.jpg", true);
        check("/images/*.jpg", "/images/a.png", false);
        check("/a?c", "/abc", true);
        check("/a?c", "/ac", false);
        check("/Private/*", "/private/x", false);
        check("*", "/anything", true);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            strip_port("d1.cloudfront.net.localhost:4580"),
            "d1.cloudfront.net.localhost"
        );
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
