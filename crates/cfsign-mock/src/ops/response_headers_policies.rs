//! Response headers policies: CreateResponseHeadersPolicy, GetResponseHeadersPolicy(Config),
//! UpdateResponseHeadersPolicy, DeleteResponseHeadersPolicy and ListResponseHeadersPolicies, the
//! managed policies beside the custom ones.

use crate::api_error::ApiError;
use crate::ids::{new_etag, new_response_headers_policy_id};
use crate::model::{ResponseHeadersPolicyRec, Store};
use crate::ops::headers_policy::HeadersPolicy;
use crate::ops::if_match::check_if_match;
use crate::ops::managed_policies::{
    MANAGED_ETAG, MANAGED_LAST_MODIFIED_MS, managed_policies, managed_policy,
};
use crate::xml::Element;

/// Custom response headers policies per account (CloudFront's default quota).
pub(crate) const MAX_RESPONSE_HEADERS_POLICIES: usize = 20;

/// Whether a policy is AWS-managed or the account's own (`ResponseHeadersPolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyType {
    /// One of CloudFront's managed policies.
    Managed,
    /// Created in this account.
    Custom,
}

impl PolicyType {
    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PolicyType::Managed => "managed",
            PolicyType::Custom => "custom",
        }
    }

    /// Parses the `Type` query parameter of `ListResponseHeadersPolicies`.
    pub(crate) fn parse(text: &str) -> Result<PolicyType, ApiError> {
        match text {
            "managed" => Ok(PolicyType::Managed),
            "custom" => Ok(PolicyType::Custom),
            other => Err(ApiError::invalid_argument(format!(
                "Type `{other}` must be managed or custom."
            ))),
        }
    }
}

/// A policy as the API shows it, managed or custom.
#[derive(Debug, Clone)]
pub(crate) struct PolicyView {
    /// Managed or custom.
    pub(crate) kind: PolicyType,
    /// The ID.
    pub(crate) id: String,
    /// The ETag.
    pub(crate) etag: String,
    /// `LastModifiedTime`, in milliseconds since the Unix epoch.
    pub(crate) last_modified_ms: u64,
    /// The `ResponseHeadersPolicyConfig`.
    pub(crate) config: Element,
}

impl From<&ResponseHeadersPolicyRec> for PolicyView {
    fn from(rec: &ResponseHeadersPolicyRec) -> PolicyView {
        PolicyView {
            kind: PolicyType::Custom,
            id: rec.id.clone(),
            etag: rec.etag.clone(),
            last_modified_ms: rec.last_modified_ms,
            config: rec.config.clone(),
        }
    }
}

fn managed_view(id: &str, config: Element) -> PolicyView {
    PolicyView {
        kind: PolicyType::Managed,
        id: id.to_owned(),
        etag: MANAGED_ETAG.to_owned(),
        last_modified_ms: MANAGED_LAST_MODIFIED_MS,
        config,
    }
}

impl Store {
    /// `CreateResponseHeadersPolicy`: a `ResponseHeadersPolicyConfig` body, created at `now_ms`.
    pub(crate) fn create_response_headers_policy(
        &mut self,
        body: &Element,
        now_ms: u64,
    ) -> Result<PolicyView, ApiError> {
        let policy = self.check_response_headers_policy(body, None)?;
        if self.response_headers_policies.len() >= MAX_RESPONSE_HEADERS_POLICIES {
            return Err(ApiError::new(
                400,
                "TooManyResponseHeadersPolicies",
                format!(
                    "You have reached the maximum number of response headers policies for this account ({MAX_RESPONSE_HEADERS_POLICIES})."
                ),
            ));
        }
        let rec = ResponseHeadersPolicyRec {
            id: new_response_headers_policy_id(),
            etag: new_etag(),
            last_modified_ms: now_ms,
            name: policy.name,
            config: body.clone(),
        };
        self.response_headers_policies.push(rec.clone());
        Ok(PolicyView::from(&rec))
    }

    /// `GetResponseHeadersPolicy` and `GetResponseHeadersPolicyConfig`: managed or custom.
    pub(crate) fn get_response_headers_policy(&self, id: &str) -> Result<PolicyView, ApiError> {
        if let Some(m) = managed_policy(id) {
            return Ok(managed_view(m.id, m.config));
        }
        self.response_headers_policies
            .iter()
            .find(|p| p.id == id)
            .map(PolicyView::from)
            .ok_or_else(|| no_such_policy(id))
    }

    /// `UpdateResponseHeadersPolicy`: replaces the whole config; managed policies are refused.
    pub(crate) fn update_response_headers_policy(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
        now_ms: u64,
    ) -> Result<PolicyView, ApiError> {
        let current = self.get_response_headers_policy(id)?;
        if current.kind == PolicyType::Managed {
            return Err(ApiError::new(
                400,
                "IllegalUpdate",
                format!(
                    "The response headers policy {id} is managed by AWS and cannot be changed; create a custom policy instead."
                ),
            ));
        }
        check_if_match(if_match, &current.etag)?;
        let policy = self.check_response_headers_policy(body, Some(id))?;
        let Some(rec) = self
            .response_headers_policies
            .iter_mut()
            .find(|p| p.id == id)
        else {
            return Err(no_such_policy(id));
        };
        rec.name = policy.name;
        rec.config = body.clone();
        rec.etag = new_etag();
        rec.last_modified_ms = now_ms;
        Ok(PolicyView::from(&*rec))
    }

    /// `DeleteResponseHeadersPolicy`: refused for managed policies and while a cache behaviour
    /// uses the policy.
    pub(crate) fn delete_response_headers_policy(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.get_response_headers_policy(id)?;
        if current.kind == PolicyType::Managed {
            return Err(ApiError::new(
                400,
                "IllegalDelete",
                format!(
                    "The response headers policy {id} is managed by AWS and cannot be deleted."
                ),
            ));
        }
        check_if_match(if_match, &current.etag)?;
        if let Some(d) = self
            .distributions
            .iter()
            .find(|d| d.uses_response_headers_policy(id))
        {
            return Err(ApiError::new(
                409,
                "ResponseHeadersPolicyInUse",
                format!(
                    "Cannot delete the response headers policy because it is attached to one or more cache behaviors: distribution {} uses it; detach it first.",
                    d.id
                ),
            ));
        }
        self.response_headers_policies.retain(|p| p.id != id);
        Ok(())
    }

    /// `ListResponseHeadersPolicies`: managed then custom, or only the `Type` asked for.
    pub(crate) fn list_response_headers_policies(
        &self,
        kind: Option<PolicyType>,
    ) -> Vec<PolicyView> {
        let mut out = Vec::new();
        if kind != Some(PolicyType::Custom) {
            out.extend(
                managed_policies()
                    .into_iter()
                    .map(|m| managed_view(m.id, m.config)),
            );
        }
        if kind != Some(PolicyType::Managed) {
            out.extend(self.response_headers_policies.iter().map(PolicyView::from));
        }
        out
    }

    /// The parsed policy a cache behaviour's `ResponseHeadersPolicyId` names.
    pub(crate) fn headers_policy(&self, id: &str) -> Option<HeadersPolicy> {
        let view = self.get_response_headers_policy(id).ok()?;
        HeadersPolicy::parse(&view.config).ok()
    }

    /// Checks a `ResponseHeadersPolicyConfig`; `except` is the policy being updated (its own name
    /// is not taken).
    fn check_response_headers_policy(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<HeadersPolicy, ApiError> {
        let policy = HeadersPolicy::parse(body)?;
        let taken = self
            .list_response_headers_policies(None)
            .into_iter()
            .find(|p| {
                Some(p.id.as_str()) != except
                    && p.config.child_text("Name").map(str::trim) == Some(policy.name.as_str())
            });
        if let Some(other) = taken {
            return Err(ApiError::new(
                409,
                "ResponseHeadersPolicyAlreadyExists",
                format!(
                    "A response headers policy named `{}` already exists ({}); choose another name.",
                    policy.name, other.id
                ),
            ));
        }
        Ok(policy)
    }
}

/// `NoSuchResponseHeadersPolicy` for an unknown ID.
pub(crate) fn no_such_policy(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchResponseHeadersPolicy",
        format!("The response headers policy does not exist: {id}"),
    )
}
