//! Key groups: CreateKeyGroup, GetKeyGroup, UpdateKeyGroup and DeleteKeyGroup, with the checks of
//! a `KeyGroupConfig`.

use std::collections::BTreeSet;

use crate::api_error::ApiError;
use crate::ids::{new_etag, new_key_group_id};
use crate::model::{KeyGroupRec, Store};
use crate::ops::fields::{check_comment, check_name, expect_root, required_text};
use crate::ops::if_match::check_if_match;
use crate::xml::Element;

/// Key groups per account (CloudFront's default quota).
pub(crate) const MAX_KEY_GROUPS: usize = 10;
/// Public keys per key group.
pub(crate) const MAX_KEYS_PER_GROUP: usize = 5;

/// What a checked `KeyGroupConfig` holds.
struct KeyGroupConfig {
    name: String,
    items: Vec<String>,
    comment: Option<String>,
}

impl Store {
    /// `CreateKeyGroup`: a `KeyGroupConfig` body, created at `now_ms`.
    pub(crate) fn create_key_group(
        &mut self,
        body: &Element,
        now_ms: u64,
    ) -> Result<KeyGroupRec, ApiError> {
        let config = self.check_key_group_config(body, None)?;
        if self.key_groups.len() >= MAX_KEY_GROUPS {
            return Err(ApiError::new(
                400,
                "TooManyKeyGroups",
                format!(
                    "You have reached the maximum number of key groups for this account ({MAX_KEY_GROUPS})."
                ),
            ));
        }
        let rec = KeyGroupRec {
            id: new_key_group_id(),
            etag: new_etag(),
            last_modified_ms: now_ms,
            name: config.name,
            items: config.items,
            comment: config.comment,
        };
        self.key_groups.push(rec.clone());
        Ok(rec)
    }

    /// `GetKeyGroup` and `GetKeyGroupConfig`.
    pub(crate) fn get_key_group(&self, id: &str) -> Result<KeyGroupRec, ApiError> {
        self.key_group(id).cloned()
    }

    /// `UpdateKeyGroup`: replaces the whole config, modified at `now_ms`.
    pub(crate) fn update_key_group(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
        now_ms: u64,
    ) -> Result<KeyGroupRec, ApiError> {
        let current = self.key_group(id)?;
        check_if_match(if_match, &current.etag)?;
        let config = self.check_key_group_config(body, Some(id))?;
        let Some(rec) = self.key_groups.iter_mut().find(|g| g.id == id) else {
            return Err(no_such_key_group(id));
        };
        rec.name = config.name;
        rec.items = config.items;
        rec.comment = config.comment;
        rec.etag = new_etag();
        rec.last_modified_ms = now_ms;
        Ok(rec.clone())
    }

    /// `DeleteKeyGroup`: refused while a distribution trusts the group.
    pub(crate) fn delete_key_group(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.key_group(id)?;
        check_if_match(if_match, &current.etag)?;
        if let Some(d) = self
            .distributions
            .iter()
            .find(|d| d.key_group_ids().iter().any(|g| g == id))
        {
            return Err(ApiError::new(
                409,
                "ResourceInUse",
                format!(
                    "Cannot delete this resource because it is in use: distribution {} trusts this key group; remove it from the distribution's cache behaviours first.",
                    d.id
                ),
            ));
        }
        self.key_groups.retain(|g| g.id != id);
        Ok(())
    }

    /// The key group with this ID; an unknown ID is `NoSuchResource`.
    pub(super) fn key_group(&self, id: &str) -> Result<&KeyGroupRec, ApiError> {
        self.key_groups
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| no_such_key_group(id))
    }

    /// Checks a `KeyGroupConfig`; `except` is the group being updated (its own name is not taken).
    fn check_key_group_config(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<KeyGroupConfig, ApiError> {
        expect_root(body, "KeyGroupConfig")?;
        let name = required_text(body, "Name")?.to_owned();
        let comment = body.child_text("Comment").map(str::to_owned);
        check_name("key group", &name)?;
        check_comment(comment.as_deref())?;
        let items: Vec<String> = body
            .child("Items")
            .ok_or_else(|| {
                ApiError::invalid_argument("KeyGroupConfig is missing the required element Items.")
            })?
            .children
            .iter()
            .map(|c| c.text.trim().to_owned())
            .collect();
        if items.is_empty() {
            return Err(ApiError::invalid_argument(
                "A key group must contain at least one public key.",
            ));
        }
        if items.len() > MAX_KEYS_PER_GROUP {
            return Err(ApiError::new(
                400,
                "TooManyPublicKeysInKeyGroup",
                format!(
                    "The number of public keys in this key group ({}) is more than the maximum allowed ({MAX_KEYS_PER_GROUP}).",
                    items.len()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for item in &items {
            if !seen.insert(item) {
                return Err(ApiError::invalid_argument(format!(
                    "The public key {item} is listed twice in the key group."
                )));
            }
            if self.public_key(item).is_err() {
                return Err(ApiError::invalid_argument(format!(
                    "The public key {item} does not exist; create it with CreatePublicKey first."
                )));
            }
        }
        if let Some(existing) = self
            .key_groups
            .iter()
            .find(|g| g.name == name && Some(g.id.as_str()) != except)
        {
            return Err(ApiError::new(
                409,
                "KeyGroupAlreadyExists",
                format!(
                    "A key group named `{name}` already exists ({}); choose another name.",
                    existing.id
                ),
            ));
        }
        Ok(KeyGroupConfig {
            name,
            items,
            comment,
        })
    }
}

fn no_such_key_group(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchResource",
        format!("The specified key group does not exist: {id}"),
    )
}
