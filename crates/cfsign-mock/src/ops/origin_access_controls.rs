//! Origin access controls: CreateOriginAccessControl, GetOriginAccessControl(Config),
//! UpdateOriginAccessControl and DeleteOriginAccessControl, with the checks of an
//! `OriginAccessControlConfig`; and the checks of an origin's `OriginAccessControlId` in a
//! distribution config.

use crate::api_error::ApiError;
use crate::ids::{new_etag, new_origin_access_control_id};
use crate::model::{OacOriginType, OriginAccessControlRec, SigningBehavior, Store};
use crate::ops::fields::{expect_root, required_text};
use crate::ops::if_match::check_if_match;
use crate::origin_domain::OriginDomain;
use crate::xml::Element;

/// Origin access controls per account (CloudFront's default quota).
pub(crate) const MAX_ORIGIN_ACCESS_CONTROLS: usize = 100;
/// The longest `Name`, in characters ("You can specify up to 64 characters").
const MAX_NAME_CHARS: usize = 64;
/// The longest `Description`, in characters (CloudFront's console limit; the API reference gives
/// none).
const MAX_DESCRIPTION_CHARS: usize = 256;

/// What a checked `OriginAccessControlConfig` holds.
struct OacConfig {
    name: String,
    description: Option<String>,
    signing_behavior: SigningBehavior,
    origin_type: OacOriginType,
}

impl Store {
    /// `CreateOriginAccessControl`: an `OriginAccessControlConfig` body.
    pub(crate) fn create_origin_access_control(
        &mut self,
        body: &Element,
    ) -> Result<OriginAccessControlRec, ApiError> {
        let config = self.check_oac_config(body, None)?;
        if self.origin_access_controls.len() >= MAX_ORIGIN_ACCESS_CONTROLS {
            return Err(ApiError::new(
                400,
                "TooManyOriginAccessControls",
                format!(
                    "The number of origin access controls in your account exceeds the maximum allowed ({MAX_ORIGIN_ACCESS_CONTROLS}); delete unused ones."
                ),
            ));
        }
        let rec = OriginAccessControlRec {
            id: new_origin_access_control_id(),
            etag: new_etag(),
            name: config.name,
            description: config.description,
            signing_behavior: config.signing_behavior,
            origin_type: config.origin_type,
        };
        self.origin_access_controls.push(rec.clone());
        Ok(rec)
    }

    /// `GetOriginAccessControl` and `GetOriginAccessControlConfig`.
    pub(crate) fn get_origin_access_control(
        &self,
        id: &str,
    ) -> Result<OriginAccessControlRec, ApiError> {
        self.origin_access_control(id).cloned()
    }

    /// `UpdateOriginAccessControl`: replaces the whole config. The origin type of a control that a
    /// distribution uses cannot change (`IllegalUpdate`): its origins would no longer fit.
    pub(crate) fn update_origin_access_control(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
    ) -> Result<OriginAccessControlRec, ApiError> {
        let current = self.origin_access_control(id)?;
        check_if_match(if_match, &current.etag)?;
        let config = self.check_oac_config(body, Some(id))?;
        if config.origin_type != current.origin_type
            && let Some(d) = self
                .distributions
                .iter()
                .find(|d| d.uses_origin_access_control(id))
        {
            return Err(ApiError::new(
                400,
                "IllegalUpdate",
                format!(
                    "The origin type of origin access control {id} cannot change from {} to {} while distribution {} uses it.",
                    current.origin_type.as_str(),
                    config.origin_type.as_str(),
                    d.id
                ),
            ));
        }
        let Some(rec) = self.origin_access_controls.iter_mut().find(|o| o.id == id) else {
            return Err(no_such_origin_access_control(id));
        };
        rec.name = config.name;
        rec.description = config.description;
        rec.signing_behavior = config.signing_behavior;
        rec.origin_type = config.origin_type;
        rec.etag = new_etag();
        Ok(rec.clone())
    }

    /// `DeleteOriginAccessControl`: refused while a distribution's origin uses it.
    pub(crate) fn delete_origin_access_control(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.origin_access_control(id)?;
        check_if_match(if_match, &current.etag)?;
        if let Some(d) = self
            .distributions
            .iter()
            .find(|d| d.uses_origin_access_control(id))
        {
            return Err(ApiError::new(
                409,
                "OriginAccessControlInUse",
                format!(
                    "Cannot delete the origin access control because it's in use by distribution {}; remove OriginAccessControlId from its origins first.",
                    d.id
                ),
            ));
        }
        self.origin_access_controls.retain(|o| o.id != id);
        Ok(())
    }

    /// The origin access control with this ID; an unknown ID is `NoSuchOriginAccessControl`.
    pub(crate) fn origin_access_control(
        &self,
        id: &str,
    ) -> Result<&OriginAccessControlRec, ApiError> {
        self.origin_access_controls
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| no_such_origin_access_control(id))
    }

    /// An origin of a distribution config: its `OriginAccessControlId` (if any) must name an
    /// existing control whose origin type fits the origin's domain, and an origin cannot have both
    /// an origin access control and an origin access identity.
    pub(super) fn check_origin_access(&self, origin: &Element) -> Result<(), ApiError> {
        let Some(oac_id) = origin
            .child_text("OriginAccessControlId")
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Ok(());
        };
        let domain = origin.child_text("DomainName").unwrap_or_default().trim();
        let Ok(oac) = self.origin_access_control(oac_id) else {
            return Err(ApiError::new(
                400,
                "InvalidOriginAccessControl",
                format!(
                    "The origin access control {oac_id} of origin `{domain}` does not exist; create it with CreateOriginAccessControl first."
                ),
            ));
        };
        let oai = origin
            .path(&["S3OriginConfig", "OriginAccessIdentity"])
            .map_or("", |e| e.text.trim());
        if !oai.is_empty() {
            return Err(ApiError::new(
                400,
                "IllegalOriginAccessConfiguration",
                format!(
                    "An origin cannot contain both an origin access control (OAC) and an origin access identity (OAI): origin `{domain}` has OriginAccessControlId {oac_id} and OriginAccessIdentity `{oai}`; set OriginAccessIdentity to an empty string."
                ),
            ));
        }
        let fits = OriginDomain::parse(domain).oac_type();
        if fits != Some(oac.origin_type) {
            let expected = fits.map_or_else(
                || {
                    "none: it is a custom origin, which origin access control cannot sign for"
                        .to_owned()
                },
                |t| format!("`{}`", t.as_str()),
            );
            return Err(ApiError::new(
                400,
                "InvalidDomainNameForOriginAccessControl",
                format!(
                    "Origin access control {oac_id} is for `{}` origins, but origin `{domain}` needs origin type {expected}.",
                    oac.origin_type.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Checks an `OriginAccessControlConfig`; `except` is the control being updated (its own name
    /// is not taken).
    fn check_oac_config(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<OacConfig, ApiError> {
        expect_root(body, "OriginAccessControlConfig")?;
        let name = required_text(body, "Name")?.to_owned();
        if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(ApiError::invalid_argument(format!(
                "The origin access control name `{name}` is not valid: use 1 to {MAX_NAME_CHARS} characters."
            )));
        }
        let description = body.child_text("Description").map(str::to_owned);
        if description
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            return Err(ApiError::invalid_argument(format!(
                "The Description is longer than {MAX_DESCRIPTION_CHARS} characters."
            )));
        }
        let protocol = required_text(body, "SigningProtocol")?.trim();
        if protocol != "sigv4" {
            return Err(ApiError::invalid_argument(format!(
                "SigningProtocol `{protocol}` is not valid: the only valid value is sigv4."
            )));
        }
        let behavior = required_text(body, "SigningBehavior")?.trim();
        let signing_behavior = SigningBehavior::parse(behavior).ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "SigningBehavior `{behavior}` is not valid: use always, never or no-override."
            ))
        })?;
        let kind = required_text(body, "OriginAccessControlOriginType")?.trim();
        let origin_type = OacOriginType::parse(kind).ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "OriginAccessControlOriginType `{kind}` is not valid: use s3, mediastore, mediapackagev2 or lambda."
            ))
        })?;
        if let Some(existing) = self
            .origin_access_controls
            .iter()
            .find(|o| o.name == name && Some(o.id.as_str()) != except)
        {
            return Err(ApiError::new(
                409,
                "OriginAccessControlAlreadyExists",
                format!(
                    "An origin access control named `{name}` already exists ({}); choose another name.",
                    existing.id
                ),
            ));
        }
        Ok(OacConfig {
            name,
            description,
            signing_behavior,
            origin_type,
        })
    }
}

fn no_such_origin_access_control(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchOriginAccessControl",
        format!("The origin access control does not exist: {id}"),
    )
}
