//! Resource tags: `TagResource`, `UntagResource` and `ListTagsForResource` on distribution ARNs,
//! and the `<Tags>` documents they and `CreateDistributionWithTags` take, with CloudFront's rules
//! for keys, values and ARNs.

use crate::api_error::ApiError;
use crate::model::{Store, Tag};
use crate::xml::Element;

/// The account ID in ARNs.
pub(crate) const ACCOUNT_ID: &str = "123456789012";
/// The most tags one distribution can carry (CloudFront's quota).
pub(crate) const MAX_TAGS: usize = 50;
/// The longest tag key, in characters.
const MAX_KEY_CHARS: usize = 128;
/// The longest tag value, in characters.
const MAX_VALUE_CHARS: usize = 256;

fn invalid_tagging(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidTagging", message)
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, the model's pattern for keys and values.
fn allowed_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn check_text(what: &str, text: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(invalid_tagging(format!(
            "The tag {what} `{text}` has {chars} characters; it must have {min} to {max}."
        )));
    }
    if let Some(bad) = text.chars().find(|&c| !allowed_char(c)) {
        return Err(invalid_tagging(format!(
            "The tag {what} `{text}` contains `{bad}`; use letters, digits, spaces and _ . : / = + - @ only."
        )));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), ApiError> {
    check_text("key", key, 1, MAX_KEY_CHARS)?;
    if key
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
    {
        return Err(invalid_tagging(format!(
            "The tag key `{key}` starts with `aws:`, which is reserved for AWS; choose another key."
        )));
    }
    Ok(())
}

/// The tags of a `<Tags>` element (`Items/Tag{Key,Value}`), checked, without repeated keys.
pub(crate) fn parse_tags(tags: &Element) -> Result<Vec<Tag>, ApiError> {
    let items = tags.child("Items").map(|i| i.children.as_slice());
    let mut out: Vec<Tag> = Vec::new();
    for item in items.unwrap_or_default() {
        if item.name != "Tag" {
            return Err(ApiError::malformed(format!(
                "Tags/Items may contain only <Tag> elements, not <{}>.",
                item.name
            )));
        }
        let key = item
            .child_text("Key")
            .ok_or_else(|| invalid_tagging("A tag has no Key; every Tag needs a Key."))?;
        check_key(key)?;
        let value = item.child_text("Value");
        if let Some(v) = value {
            check_text("value", v, 0, MAX_VALUE_CHARS)?;
        }
        if out.iter().any(|t| t.key == key) {
            return Err(invalid_tagging(format!(
                "The tag key `{key}` is given more than once; each key may appear once."
            )));
        }
        out.push(Tag {
            key: key.to_owned(),
            value: value.map(str::to_owned),
        });
    }
    if out.len() > MAX_TAGS {
        return Err(invalid_tagging(format!(
            "{} tags were given; a resource can have at most {MAX_TAGS}.",
            out.len()
        )));
    }
    Ok(out)
}

/// The keys of a `<TagKeys>` element (`Items/Key`).
pub(crate) fn parse_tag_keys(keys: &Element) -> Result<Vec<String>, ApiError> {
    let items = keys.child("Items").map(|i| i.children.as_slice());
    let mut out = Vec::new();
    for item in items.unwrap_or_default() {
        if item.name != "Key" {
            return Err(ApiError::malformed(format!(
                "TagKeys/Items may contain only <Key> elements, not <{}>.",
                item.name
            )));
        }
        check_text("key", &item.text, 1, MAX_KEY_CHARS)?;
        out.push(item.text.clone());
    }
    Ok(out)
}

/// The `<Tags>` document `ListTagsForResource` answers.
pub(crate) fn tags_element(tags: &[Tag]) -> Element {
    let items = tags
        .iter()
        .map(|t| {
            let mut children = vec![Element::text("Key", t.key.clone())];
            if let Some(v) = &t.value {
                children.push(Element::text("Value", v.clone()));
            }
            Element::node("Tag", children)
        })
        .collect();
    Element::node("Tags", vec![Element::node("Items", items)])
}

/// The ARN of a distribution.
pub(crate) fn distribution_arn(id: &str) -> String {
    format!("arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{id}")
}

impl Store {
    /// The index of the distribution an ARN names: a malformed ARN is `InvalidArgument`, an ARN
    /// of anything else (another account, another resource type, an unknown ID) `NoSuchResource`.
    fn tagged_distribution(&self, arn: Option<&str>) -> Result<usize, ApiError> {
        let arn = arn.filter(|a| !a.is_empty()).ok_or_else(|| {
            ApiError::invalid_argument(
                "The Resource query parameter is missing; give the ARN of a distribution.",
            )
        })?;
        let rest = arn
            .strip_prefix("arn:aws:cloudfront::")
            .or_else(|| arn.strip_prefix("arn:aws-cn:cloudfront::"));
        let Some((account, resource)) = rest.and_then(|r| r.split_once(':')) else {
            return Err(ApiError::invalid_argument(format!(
                "The Resource `{arn}` is not a CloudFront ARN like arn:aws:cloudfront::{ACCOUNT_ID}:distribution/EDFDVBD6EXAMPLE."
            )));
        };
        if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid_argument(format!(
                "The Resource `{arn}` does not have a numeric account ID."
            )));
        }
        let found = (account == ACCOUNT_ID)
            .then(|| resource.strip_prefix("distribution/"))
            .flatten()
            .and_then(|id| self.distributions.iter().position(|d| d.id == id));
        found.ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchResource",
                format!(
                    "The specified resource does not exist: {arn}. cfsign-mock tags distributions of account {ACCOUNT_ID}; take the ARN from GetDistribution."
                ),
            )
        })
    }

    /// `ListTagsForResource`.
    pub(crate) fn list_tags(&self, arn: Option<&str>) -> Result<Vec<Tag>, ApiError> {
        let i = self.tagged_distribution(arn)?;
        Ok(self.distributions[i].tags.clone())
    }

    /// `TagResource`: adds the tags, replacing the values of keys already present.
    pub(crate) fn tag_resource(
        &mut self,
        arn: Option<&str>,
        tags: &Element,
    ) -> Result<(), ApiError> {
        let i = self.tagged_distribution(arn)?;
        let new = parse_tags(tags)?;
        let current = &mut self.distributions[i].tags;
        let mut merged = current.clone();
        for tag in new {
            match merged.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => merged.push(tag),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(invalid_tagging(format!(
                "The distribution would have {} tags; a resource can have at most {MAX_TAGS}. Remove some with UntagResource first.",
                merged.len()
            )));
        }
        *current = merged;
        Ok(())
    }

    /// `UntagResource`: removes the keys; keys that are not present are ignored.
    pub(crate) fn untag_resource(
        &mut self,
        arn: Option<&str>,
        keys: &Element,
    ) -> Result<(), ApiError> {
        let i = self.tagged_distribution(arn)?;
        let keys = parse_tag_keys(keys)?;
        self.distributions[i]
            .tags
            .retain(|t| !keys.contains(&t.key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(xml: &str) -> Result<Vec<Tag>, ApiError> {
        parse_tags(&crate::xml::parse(xml).unwrap())
    }

    #[test]
    fn keys_and_values_follow_the_model() {
        let ok = tags(
            "<Tags><Items><Tag><Key>team name</Key><Value>a_b.c:d/e=f+g-h@i é 1</Value></Tag><Tag><Key>k</Key></Tag></Items></Tags>",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].value.as_deref(), Some("a_b.c:d/e=f+g-h@i é 1"));
        assert_eq!(ok[1].value, None);
        assert!(tags("<Tags/>").unwrap().is_empty());
        // A multi-byte character across the `aws:` prefix check.
        assert_eq!(
            tags("<Tags><Items><Tag><Key>aaaé</Key></Tag></Items></Tags>").unwrap()[0].key,
            "aaaé"
        );
        let check = |xml: &str| {
            let e = tags(xml).unwrap_err();
            assert_eq!((e.status, e.code), (400, "InvalidTagging"), "{xml}");
        };
        check("<Tags><Items><Tag><Key></Key></Tag></Items></Tags>");
        check("<Tags><Items><Tag><Value>v</Value></Tag></Items></Tags>");
        check("<Tags><Items><Tag><Key>a*b</Key></Tag></Items></Tags>");
        check("<Tags><Items><Tag><Key>k</Key><Value>tab\there</Value></Tag></Items></Tags>");
        check("<Tags><Items><Tag><Key>AWS:x</Key></Tag></Items></Tags>");
        check("<Tags><Items><Tag><Key>k</Key></Tag><Tag><Key>k</Key></Tag></Items></Tags>");
        let long = "k".repeat(129);
        check(&format!(
            "<Tags><Items><Tag><Key>{long}</Key></Tag></Items></Tags>"
        ));
        let long = "v".repeat(257);
        check(&format!(
            "<Tags><Items><Tag><Key>k</Key><Value>{long}</Value></Tag></Items></Tags>"
        ));
        let many: String = (0..=MAX_TAGS)
            .map(|i| format!("<Tag><Key>k{i}</Key></Tag>"))
            .collect();
        check(&format!("<Tags><Items>{many}</Items></Tags>"));
    }

    proptest::proptest! {
        #[test]
        fn tag_checks_never_panic(key in "[aws:AWSé1 _𝒜]{0,8}|\\PC{0,140}", value in "\\PC{0,10}") {
            let doc = crate::xml::Element::node(
                "Tags",
                vec![crate::xml::Element::node(
                    "Items",
                    vec![crate::xml::Element::node(
                        "Tag",
                        vec![
                            crate::xml::Element::text("Key", key.clone()),
                            crate::xml::Element::text("Value", value),
                        ],
                    )],
                )],
            );
            let _ = parse_tags(&doc);
            let keys = crate::xml::Element::node(
                "TagKeys",
                vec![crate::xml::Element::node("Items", vec![crate::xml::Element::text("Key", key)])],
            );
            let _ = parse_tag_keys(&keys);
        }
    }

    #[test]
    fn arns_name_distributions_of_the_account() {
        let store = Store::default();
        let check = |arn: Option<&str>, code: &str| {
            assert_eq!(store.list_tags(arn).unwrap_err().code, code, "{arn:?}");
        };
        check(None, "InvalidArgument");
        check(Some("not-an-arn"), "InvalidArgument");
        check(
            Some("arn:aws:cloudfront::abc:distribution/E1"),
            "InvalidArgument",
        );
        check(
            Some("arn:aws:cloudfront::123456789012:distribution/E1"),
            "NoSuchResource",
        );
        check(
            Some("arn:aws:cloudfront::999999999999:distribution/E1"),
            "NoSuchResource",
        );
        check(
            Some("arn:aws:cloudfront::123456789012:key-group/E1"),
            "NoSuchResource",
        );
    }
}
