//! `GET /_cfsign/state`: the control plane as the console shows it — distributions with their
//! behaviours in CloudFront's order, origins and trusted key groups; key groups; public keys.

use serde_json::{Value, json};

use crate::edge::rfc3339_ms;
use crate::model::{Store, behaviours, origins, trusted_key_groups};

/// The console's view of the store; `edge_port` builds each distribution's edge URL.
pub(super) fn state(store: &Store, edge_port: Option<u16>) -> Value {
    let distributions: Vec<Value> = store
        .distributions
        .iter()
        .map(|d| {
            let config = &d.config;
            let mut ordered = Vec::new();
            let mut default = None;
            for b in behaviours(config) {
                let groups = trusted_key_groups(b);
                let legacy = b
                    .path(&["TrustedSigners", "Enabled"])
                    .is_some_and(|e| e.text.trim() == "true");
                let target = b.child_text("TargetOriginId").unwrap_or("").trim();
                let entry = json!({
                    "path_pattern": b.child_text("PathPattern").unwrap_or("*"),
                    "default": b.name == "DefaultCacheBehavior",
                    "target_origin_id": target,
                    "restricted": !groups.is_empty() || legacy,
                    "trusted_key_groups": groups,
                    "legacy_trusted_signers": legacy,
                });
                if b.name == "DefaultCacheBehavior" {
                    default = Some(entry);
                } else {
                    ordered.push(entry);
                }
            }
            ordered.extend(default);
            let origin_list: Vec<Value> = origins(config)
                .iter()
                .map(|o| {
                    json!({
                        "id": o.child_text("Id").unwrap_or("").trim(),
                        "domain_name": o.child_text("DomainName").unwrap_or("").trim(),
                        "origin_path": o.child_text("OriginPath").unwrap_or("").trim(),
                    })
                })
                .collect();
            let aliases: Vec<&str> = config
                .path(&["Aliases", "Items"])
                .map(|i| i.children.iter().map(|a| a.text.trim()).collect())
                .unwrap_or_default();
            json!({
                "id": d.id,
                "domain_name": d.domain,
                "enabled": d.enabled(),
                "comment": config.child_text("Comment").unwrap_or(""),
                "aliases": aliases,
                "edge_url": edge_port.map(|p| format!("http://{}.localhost:{p}/", d.domain)),
                "last_modified": rfc3339_ms(d.last_modified_ms),
                "behaviors": ordered,
                "origins": origin_list,
            })
        })
        .collect();
    let key_groups: Vec<Value> = store
        .key_groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name,
                "public_keys": g.items,
                "comment": g.comment,
                "last_modified": rfc3339_ms(g.last_modified_ms),
            })
        })
        .collect();
    let public_keys: Vec<Value> = store
        .public_keys
        .iter()
        .map(|k| {
            let algorithm = cfsign::PublicKey::from_pem(&k.encoded_key).map_or_else(
                |e| format!("unreadable: {e}"),
                |p| p.algorithm().to_string(),
            );
            json!({
                "id": k.id,
                "name": k.name,
                "algorithm": algorithm,
                "comment": k.comment,
                "created": rfc3339_ms(k.created_ms),
            })
        })
        .collect();
    json!({
        "distributions": distributions,
        "key_groups": key_groups,
        "public_keys": public_keys,
    })
}
