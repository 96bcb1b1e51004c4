//! Control-plane state (public keys, key groups, distributions), its rules and its persistence.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::edge::EdgeView;
use crate::origin::Origins;
use crate::tagging::{Tag, parse_tags};
use crate::xml::Element;
use crate::{Clock, Error, MockConfig};

/// Public keys per account (CloudFront's default quota).
pub(crate) const MAX_PUBLIC_KEYS: usize = 10;
/// Key groups per account (CloudFront's default quota).
pub(crate) const MAX_KEY_GROUPS: usize = 10;
/// Public keys per key group.
pub(crate) const MAX_KEYS_PER_GROUP: usize = 5;
/// Key groups per cache behaviour.
pub(crate) const MAX_GROUPS_PER_BEHAVIOUR: usize = 4;
/// The account ID in ARNs.
pub(crate) const ACCOUNT_ID: &str = "123456789012";

/// A CloudFront-style error reply: HTTP status, `<Code>` and `<Message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidArgument", message)
    }

    pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "MalformedXML", message)
    }

    fn no_such_public_key(id: &str) -> ApiError {
        ApiError::new(
            404,
            "NoSuchPublicKey",
            format!("The specified public key does not exist: {id}"),
        )
    }

    fn no_such_key_group(id: &str) -> ApiError {
        ApiError::new(
            404,
            "NoSuchResource",
            format!("The specified key group does not exist: {id}"),
        )
    }

    fn no_such_distribution(id: &str) -> ApiError {
        ApiError::new(
            404,
            "NoSuchDistribution",
            format!("The specified distribution does not exist: {id}"),
        )
    }
}

/// A saved public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublicKeyRec {
    pub(crate) id: String,
    pub(crate) etag: String,
    pub(crate) created_ms: u64,
    pub(crate) caller_reference: String,
    pub(crate) name: String,
    pub(crate) encoded_key: String,
    pub(crate) comment: Option<String>,
}

/// A saved key group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyGroupRec {
    pub(crate) id: String,
    pub(crate) etag: String,
    pub(crate) last_modified_ms: u64,
    pub(crate) name: String,
    pub(crate) items: Vec<String>,
    pub(crate) comment: Option<String>,
}

/// A saved distribution; `config` is the normalised `DistributionConfig` as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DistributionRec {
    pub(crate) id: String,
    pub(crate) etag: String,
    pub(crate) last_modified_ms: u64,
    pub(crate) domain: String,
    pub(crate) config: Element,
    /// Resource tags (`TagResource`, `CreateDistributionWithTags`); they are not part of the
    /// config, so changing them keeps the ETag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<Tag>,
}

impl DistributionRec {
    pub(crate) fn enabled(&self) -> bool {
        self.config.child_text("Enabled") == Some("true")
    }

    /// Every cache behaviour (default first, then the ordered ones).
    pub(crate) fn behaviours(&self) -> Vec<&Element> {
        behaviours(&self.config)
    }

    /// The key group IDs trusted anywhere in the distribution, without repeats, in order.
    pub(crate) fn key_group_ids(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for b in self.behaviours() {
            for id in trusted_key_groups(b) {
                if !seen.contains(&id) {
                    seen.push(id);
                }
            }
        }
        seen
    }
}

/// Everything the control plane stores.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    #[serde(default)]
    pub(crate) public_keys: Vec<PublicKeyRec>,
    #[serde(default)]
    pub(crate) key_groups: Vec<KeyGroupRec>,
    #[serde(default)]
    pub(crate) distributions: Vec<DistributionRec>,
}

/// The state file's format.
#[derive(Serialize, Deserialize)]
struct SavedState {
    format: String,
    #[serde(flatten)]
    store: Store,
}

const STATE_FORMAT: &str = "cfsign-mock-state-v1";

/// State shared by all connections.
pub(crate) struct Shared {
    store: Mutex<Store>,
    edge: RwLock<Arc<EdgeView>>,
    state_file: Option<PathBuf>,
    pub(crate) origins: Origins,
    pub(crate) clock: Clock,
    pub(crate) default_distribution: Option<String>,
    pub(crate) grant_cache: bool,
    /// Deny what only undocumented behaviour would serve.
    pub(crate) strict: bool,
}

impl Shared {
    /// Loads the state file (if any) and builds the edge view.
    pub(crate) fn open(config: &MockConfig) -> Result<Shared, Error> {
        let store = match &config.state_file {
            Some(path) => load(path)?,
            None => Store::default(),
        };
        let origins = Origins::new(config.origin.clone(), config.origins.clone());
        let edge = EdgeView::build(&store, &origins);
        Ok(Shared {
            store: Mutex::new(store),
            edge: RwLock::new(Arc::new(edge)),
            state_file: config.state_file.clone(),
            origins,
            clock: config.clock,
            default_distribution: config.default_distribution.clone(),
            grant_cache: config.grant_cache,
            strict: config.strict,
        })
    }

    /// The current edge view (cheap: an `Arc` clone).
    pub(crate) fn edge(&self) -> Arc<EdgeView> {
        match self.edge.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Runs a read-only operation.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let guard = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&guard)
    }

    /// Runs a change atomically: on a copy, then persisted, then swapped in. A failed check or a
    /// failed save leaves the state as it was.
    pub(crate) fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = guard.clone();
        let out = f(&mut next)?;
        if let Some(path) = &self.state_file {
            save(path, &next).map_err(|e| {
                tracing::error!("{e}");
                ApiError::new(
                    500,
                    "InternalError",
                    format!("could not save the state: {e}"),
                )
            })?;
        }
        let view = EdgeView::build(&next, &self.origins);
        *guard = next;
        match self.edge.write() {
            Ok(mut e) => *e = Arc::new(view),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(view),
        }
        Ok(out)
    }
}

fn load(path: &Path) -> Result<Store, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::default()),
        Err(source) => {
            return Err(Error::Io {
                action: "read the state file",
                path: path.to_owned(),
                source,
            });
        }
    };
    let saved: SavedState = serde_json::from_str(&text).map_err(|e| Error::State {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    if saved.format != STATE_FORMAT {
        return Err(Error::State {
            path: path.to_owned(),
            detail: format!("format `{}`, expected `{STATE_FORMAT}`", saved.format),
        });
    }
    Ok(saved.store)
}

/// Writes the state atomically: a temporary file in the same directory, fsync, rename, fsync
/// of the directory. A crash at any point leaves either the old or the new file.
fn save(path: &Path, store: &Store) -> Result<(), Error> {
    let saved = SavedState {
        format: STATE_FORMAT.to_owned(),
        store: store.clone(),
    };
    let io = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let json = serde_json::to_vec_pretty(&saved)
        .map_err(|e| io("serialise the state for", std::io::Error::other(e)))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        io("write the state file", source)
    })
}

// ----- IDs, ETags and times -----

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())]))
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A new ETag, like `E2QWRUHAPOMQZL`.
pub(crate) fn new_etag() -> String {
    format!("E{}", random_chars(13, UPPER))
}

fn new_public_key_id() -> String {
    format!("K{}", random_chars(13, UPPER))
}

fn new_distribution_id() -> String {
    format!("E{}", random_chars(13, UPPER))
}

fn new_key_group_id() -> String {
    let hex = random_chars(32, b"0123456789abcdef");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn new_domain() -> String {
    format!("d{}.cloudfront.net", random_chars(13, LOWER))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// An ISO 8601 timestamp with milliseconds, as CloudFront writes them.
pub(crate) fn iso8601(ms: u64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

// ----- If-Match -----

/// Checks `If-Match` against the current ETag: missing → 400, stale → 412.
pub(crate) fn check_if_match(if_match: Option<&str>, etag: &str) -> Result<(), ApiError> {
    match if_match.map(str::trim) {
        None | Some("") => Err(ApiError::new(
            400,
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource. Send the ETag from the last Get of this resource.",
        )),
        Some(given) if given.trim_matches('"') == etag => Ok(()),
        Some(given) => Err(ApiError::new(
            412,
            "PreconditionFailed",
            format!(
                "The precondition given in one or more of the request-header fields evaluated to false: If-Match `{given}` is not the current ETag; get the resource again and retry with its ETag."
            ),
        )),
    }
}

// ----- Validation helpers -----

fn required_text<'a>(e: &'a Element, name: &str) -> Result<&'a str, ApiError> {
    e.child_text(name).ok_or_else(|| {
        ApiError::invalid_argument(format!(
            "{} is missing the required element {name}.",
            e.name
        ))
    })
}

pub(crate) fn expect_root(e: &Element, name: &str) -> Result<(), ApiError> {
    if e.name == name {
        Ok(())
    } else {
        Err(ApiError::malformed(format!(
            "The request body must be a <{name}> document, not <{}>.",
            e.name
        )))
    }
}

/// CloudFront's naming rule (the core's [`cfsign::CloudFrontName`]), answered as CloudFront does.
fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    match cfsign::CloudFrontName::new(name) {
        Ok(_) => Ok(()),
        Err(_) => Err(ApiError::invalid_argument(format!(
            "The {kind} name `{name}` is not valid: use 1 to 128 letters, digits, hyphens and underscores."
        ))),
    }
}

fn check_comment(comment: Option<&str>) -> Result<(), ApiError> {
    match comment {
        Some(c) if c.chars().count() > 128 => Err(ApiError::invalid_argument(
            "The Comment is longer than 128 characters.",
        )),
        _ => Ok(()),
    }
}

fn parse_bool(e: &Element, name: &str) -> Result<bool, ApiError> {
    match required_text(e, name)?.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::invalid_argument(format!(
            "{}/{name} must be true or false, not `{other}`.",
            e.name
        ))),
    }
}

/// Every element with `Quantity` must have as many `Items` children.
fn check_quantities(e: &Element, path: &str) -> Result<(), ApiError> {
    let here = if path.is_empty() {
        e.name.clone()
    } else {
        format!("{path}/{}", e.name)
    };
    if let Some(q) = e.child_text("Quantity") {
        let quantity: usize = q.trim().parse().map_err(|_| {
            ApiError::invalid_argument(format!("{here}/Quantity `{q}` is not a number."))
        })?;
        let items = e.child("Items").map_or(0, |i| i.children.len());
        if quantity != items {
            return Err(ApiError::new(
                400,
                "InconsistentQuantities",
                format!(
                    "The value of Quantity and the size of Items don't match: {here} has Quantity {quantity} but {items} item(s)."
                ),
            ));
        }
    }
    for child in &e.children {
        check_quantities(child, &here)?;
    }
    Ok(())
}

/// The default behaviour then the ordered cache behaviours of a `DistributionConfig`.
pub(crate) fn behaviours(config: &Element) -> Vec<&Element> {
    let mut out = Vec::new();
    if let Some(d) = config.child("DefaultCacheBehavior") {
        out.push(d);
    }
    if let Some(items) = config.path(&["CacheBehaviors", "Items"]) {
        out.extend(items.children.iter().filter(|c| c.name == "CacheBehavior"));
    }
    out
}

/// The key group IDs a behaviour trusts (empty if TrustedKeyGroups is absent or disabled).
pub(crate) fn trusted_key_groups(behaviour: &Element) -> Vec<String> {
    let Some(tkg) = behaviour.child("TrustedKeyGroups") else {
        return Vec::new();
    };
    if tkg.child_text("Enabled").map(str::trim) != Some("true") {
        return Vec::new();
    }
    tkg.child("Items")
        .map(|items| {
            items
                .children
                .iter()
                .map(|c| c.text.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn disabled_list(name: &str) -> Element {
    Element::node(
        name,
        vec![
            Element::text("Enabled", "false"),
            Element::text("Quantity", "0"),
        ],
    )
}

fn zero(name: &str) -> Element {
    Element::node(name, vec![Element::text("Quantity", "0")])
}

/// Adds the elements CloudFront fills in when a config omits them.
fn normalise_distribution(config: &mut Element) {
    let fill = |b: &mut Element| {
        for name in ["TrustedSigners", "TrustedKeyGroups"] {
            if b.child(name).is_none() {
                b.children.push(disabled_list(name));
            }
        }
    };
    if let Some(b) = config.child_mut("DefaultCacheBehavior") {
        fill(b);
    }
    if let Some(items) = config
        .child_mut("CacheBehaviors")
        .and_then(|c| c.child_mut("Items"))
    {
        items.children.iter_mut().for_each(fill);
    }
    let defaults: Vec<(&str, Element)> = vec![
        ("Aliases", zero("Aliases")),
        ("DefaultRootObject", Element::text("DefaultRootObject", "")),
        ("OriginGroups", zero("OriginGroups")),
        ("CacheBehaviors", zero("CacheBehaviors")),
        ("CustomErrorResponses", zero("CustomErrorResponses")),
        (
            "Logging",
            Element::node(
                "Logging",
                vec![
                    Element::text("Enabled", "false"),
                    Element::text("IncludeCookies", "false"),
                    Element::text("Bucket", ""),
                    Element::text("Prefix", ""),
                ],
            ),
        ),
        ("PriceClass", Element::text("PriceClass", "PriceClass_All")),
        (
            "ViewerCertificate",
            Element::node(
                "ViewerCertificate",
                vec![
                    Element::text("CloudFrontDefaultCertificate", "true"),
                    Element::text("SSLSupportMethod", "vip"),
                    Element::text("MinimumProtocolVersion", "TLSv1"),
                    Element::text("CertificateSource", "cloudfront"),
                ],
            ),
        ),
        (
            "Restrictions",
            Element::node(
                "Restrictions",
                vec![Element::node(
                    "GeoRestriction",
                    vec![
                        Element::text("RestrictionType", "none"),
                        Element::text("Quantity", "0"),
                    ],
                )],
            ),
        ),
        ("WebACLId", Element::text("WebACLId", "")),
        ("HttpVersion", Element::text("HttpVersion", "http2")),
        ("IsIPV6Enabled", Element::text("IsIPV6Enabled", "true")),
        ("Staging", Element::text("Staging", "false")),
    ];
    for (name, element) in defaults {
        if config.child(name).is_none() {
            config.children.push(element);
        }
    }
}

// ----- Operations -----

impl Store {
    fn public_key(&self, id: &str) -> Result<&PublicKeyRec, ApiError> {
        self.public_keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| ApiError::no_such_public_key(id))
    }

    fn key_group(&self, id: &str) -> Result<&KeyGroupRec, ApiError> {
        self.key_groups
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| ApiError::no_such_key_group(id))
    }

    fn distribution(&self, id: &str) -> Result<&DistributionRec, ApiError> {
        self.distributions
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| ApiError::no_such_distribution(id))
    }

    // Public keys.

    pub(crate) fn create_public_key(&mut self, body: &Element) -> Result<PublicKeyRec, ApiError> {
        expect_root(body, "PublicKeyConfig")?;
        let caller_reference = required_text(body, "CallerReference")?.to_owned();
        let name = required_text(body, "Name")?.to_owned();
        let encoded_key = required_text(body, "EncodedKey")?.to_owned();
        let comment = body.child_text("Comment").map(str::to_owned);
        check_name("public key", &name)?;
        check_comment(comment.as_deref())?;
        check_encoded_key(&encoded_key)?;
        if let Some(existing) = self
            .public_keys
            .iter()
            .find(|k| k.caller_reference == caller_reference)
        {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!(
                    "The CallerReference `{caller_reference}` was already used for public key {}; use a new CallerReference.",
                    existing.id
                ),
            ));
        }
        if let Some(existing) = self.public_keys.iter().find(|k| k.name == name) {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!(
                    "A public key named `{name}` already exists ({}); choose another name.",
                    existing.id
                ),
            ));
        }
        if self.public_keys.len() >= MAX_PUBLIC_KEYS {
            return Err(ApiError::new(
                400,
                "TooManyPublicKeys",
                format!(
                    "The maximum number of public keys for this account has been reached ({MAX_PUBLIC_KEYS}); delete unused keys."
                ),
            ));
        }
        let rec = PublicKeyRec {
            id: new_public_key_id(),
            etag: new_etag(),
            created_ms: now_ms(),
            caller_reference,
            name,
            encoded_key,
            comment,
        };
        self.public_keys.push(rec.clone());
        Ok(rec)
    }

    pub(crate) fn get_public_key(&self, id: &str) -> Result<PublicKeyRec, ApiError> {
        self.public_key(id).cloned()
    }

    pub(crate) fn update_public_key(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
    ) -> Result<PublicKeyRec, ApiError> {
        let current = self.public_key(id)?;
        check_if_match(if_match, &current.etag)?;
        expect_root(body, "PublicKeyConfig")?;
        let caller_reference = required_text(body, "CallerReference")?;
        let name = required_text(body, "Name")?.to_owned();
        let encoded_key = required_text(body, "EncodedKey")?;
        let comment = body.child_text("Comment").map(str::to_owned);
        if caller_reference != current.caller_reference
            || normalise_pem(encoded_key) != normalise_pem(&current.encoded_key)
        {
            return Err(ApiError::new(
                400,
                "CannotChangeImmutablePublicKeyFields",
                "You can't change the value of a public key's CallerReference or EncodedKey; upload a new public key instead.",
            ));
        }
        check_name("public key", &name)?;
        check_comment(comment.as_deref())?;
        if self
            .public_keys
            .iter()
            .any(|k| k.name == name && k.id != id)
        {
            return Err(ApiError::new(
                409,
                "PublicKeyAlreadyExists",
                format!("A public key named `{name}` already exists; choose another name."),
            ));
        }
        let Some(rec) = self.public_keys.iter_mut().find(|k| k.id == id) else {
            return Err(ApiError::no_such_public_key(id));
        };
        rec.name = name;
        rec.comment = comment;
        rec.etag = new_etag();
        Ok(rec.clone())
    }

    pub(crate) fn delete_public_key(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.public_key(id)?;
        check_if_match(if_match, &current.etag)?;
        if let Some(group) = self
            .key_groups
            .iter()
            .find(|g| g.items.iter().any(|k| k == id))
        {
            return Err(ApiError::new(
                409,
                "PublicKeyInUse",
                format!(
                    "The specified public key is in use by key group {} (`{}`); remove it from the group first.",
                    group.id, group.name
                ),
            ));
        }
        self.public_keys.retain(|k| k.id != id);
        Ok(())
    }

    // Key groups.

    fn check_key_group_config(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<(String, Vec<String>, Option<String>), ApiError> {
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
        Ok((name, items, comment))
    }

    pub(crate) fn create_key_group(&mut self, body: &Element) -> Result<KeyGroupRec, ApiError> {
        let (name, items, comment) = self.check_key_group_config(body, None)?;
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
            last_modified_ms: now_ms(),
            name,
            items,
            comment,
        };
        self.key_groups.push(rec.clone());
        Ok(rec)
    }

    pub(crate) fn get_key_group(&self, id: &str) -> Result<KeyGroupRec, ApiError> {
        self.key_group(id).cloned()
    }

    pub(crate) fn update_key_group(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
    ) -> Result<KeyGroupRec, ApiError> {
        let current = self.key_group(id)?;
        check_if_match(if_match, &current.etag)?;
        let (name, items, comment) = self.check_key_group_config(body, Some(id))?;
        let Some(rec) = self.key_groups.iter_mut().find(|g| g.id == id) else {
            return Err(ApiError::no_such_key_group(id));
        };
        rec.name = name;
        rec.items = items;
        rec.comment = comment;
        rec.etag = new_etag();
        rec.last_modified_ms = now_ms();
        Ok(rec.clone())
    }

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

    // Distributions.

    fn check_distribution_config(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<Element, ApiError> {
        expect_root(body, "DistributionConfig")?;
        let mut config = body.clone();
        check_quantities(&config, "")?;
        let caller_reference = required_text(&config, "CallerReference")?;
        if caller_reference.is_empty() {
            return Err(ApiError::invalid_argument(
                "CallerReference must not be empty.",
            ));
        }
        required_text(&config, "Comment")?;
        parse_bool(&config, "Enabled")?;
        let origins = config.child("Origins").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfig is missing the required element Origins.",
            )
        })?;
        let origin_ids: Vec<&str> = origins
            .child("Items")
            .map(|i| {
                i.children
                    .iter()
                    .filter_map(|o| o.child_text("Id"))
                    .collect()
            })
            .unwrap_or_default();
        if origin_ids.is_empty() {
            return Err(ApiError::invalid_argument(
                "A distribution needs at least one origin in Origins/Items.",
            ));
        }
        for origin in origins
            .child("Items")
            .map(|i| i.children.as_slice())
            .unwrap_or_default()
        {
            required_text(origin, "DomainName")?;
        }
        if config.child("DefaultCacheBehavior").is_none() {
            return Err(ApiError::invalid_argument(
                "DistributionConfig is missing the required element DefaultCacheBehavior.",
            ));
        }
        for b in behaviours(&config) {
            if b.name == "CacheBehavior" {
                required_text(b, "PathPattern")?;
            }
            let target = required_text(b, "TargetOriginId")?;
            if !origin_ids.contains(&target) {
                return Err(ApiError::new(
                    404,
                    "NoSuchOrigin",
                    format!(
                        "The cache behaviour's TargetOriginId `{target}` is not the Id of any origin."
                    ),
                ));
            }
            required_text(b, "ViewerProtocolPolicy")?;
            if let Some(tkg) = b.child("TrustedKeyGroups") {
                let enabled = parse_bool(tkg, "Enabled")?;
                let groups = tkg
                    .child("Items")
                    .map(|i| i.children.as_slice())
                    .unwrap_or_default();
                if enabled && groups.is_empty() {
                    return Err(ApiError::invalid_argument(
                        "TrustedKeyGroups is enabled but lists no key group.",
                    ));
                }
                if groups.len() > MAX_GROUPS_PER_BEHAVIOUR {
                    return Err(ApiError::new(
                        400,
                        "TooManyKeyGroupsAssociatedToDistribution",
                        format!(
                            "A cache behaviour can trust at most {MAX_GROUPS_PER_BEHAVIOUR} key groups; this one lists {}.",
                            groups.len()
                        ),
                    ));
                }
                for g in groups {
                    let id = g.text.trim();
                    if self.key_group(id).is_err() {
                        return Err(ApiError::new(
                            400,
                            "TrustedKeyGroupDoesNotExist",
                            format!("One or more of your trusted key groups do not exist: {id}."),
                        ));
                    }
                }
            }
        }
        if let Some(items) = config.path(&["Aliases", "Items"]) {
            for alias in &items.children {
                let cname = alias.text.trim().to_ascii_lowercase();
                if let Some(other) = self.distributions.iter().find(|d| {
                    Some(d.id.as_str()) != except
                        && d.config.path(&["Aliases", "Items"]).is_some_and(|i| {
                            i.children
                                .iter()
                                .any(|a| a.text.trim().eq_ignore_ascii_case(&cname))
                        })
                }) {
                    return Err(ApiError::new(
                        409,
                        "CNAMEAlreadyExists",
                        format!(
                            "The alternate domain name `{cname}` is already used by distribution {}.",
                            other.id
                        ),
                    ));
                }
            }
        }
        normalise_distribution(&mut config);
        Ok(config)
    }

    /// Creates a distribution, or returns the existing one when the CallerReference and the
    /// config are the same (CloudFront's idempotency); `bool` says whether it is new.
    pub(crate) fn create_distribution(
        &mut self,
        body: &Element,
    ) -> Result<(DistributionRec, bool), ApiError> {
        let config = self.check_distribution_config(body, None)?;
        let caller_reference = config.child_text("CallerReference").unwrap_or_default();
        if let Some(existing) = self
            .distributions
            .iter()
            .find(|d| d.config.child_text("CallerReference") == Some(caller_reference))
        {
            if existing.config == config {
                return Ok((existing.clone(), false));
            }
            return Err(ApiError::new(
                409,
                "DistributionAlreadyExists",
                format!(
                    "The caller reference `{caller_reference}` was already used for distribution {} with a different configuration.",
                    existing.id
                ),
            ));
        }
        let rec = DistributionRec {
            id: new_distribution_id(),
            etag: new_etag(),
            last_modified_ms: now_ms(),
            domain: new_domain(),
            config,
            tags: Vec::new(),
        };
        self.distributions.push(rec.clone());
        Ok((rec, true))
    }

    /// `CreateDistributionWithTags`: a `DistributionConfigWithTags` body. The tags are checked
    /// first and set on a new distribution; an idempotent repeat returns the existing one as it is.
    pub(crate) fn create_distribution_with_tags(
        &mut self,
        body: &Element,
    ) -> Result<(DistributionRec, bool), ApiError> {
        expect_root(body, "DistributionConfigWithTags")?;
        let config = body.child("DistributionConfig").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfigWithTags is missing the required element DistributionConfig.",
            )
        })?;
        let tags = body.child("Tags").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfigWithTags is missing the required element Tags.",
            )
        })?;
        let tags = parse_tags(tags)?;
        let (rec, new) = self.create_distribution(config)?;
        if !new {
            return Ok((rec, false));
        }
        let Some(stored) = self.distributions.iter_mut().find(|d| d.id == rec.id) else {
            return Err(ApiError::no_such_distribution(&rec.id));
        };
        stored.tags = tags;
        Ok((stored.clone(), true))
    }

    pub(crate) fn get_distribution(&self, id: &str) -> Result<DistributionRec, ApiError> {
        self.distribution(id).cloned()
    }

    pub(crate) fn update_distribution(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
    ) -> Result<DistributionRec, ApiError> {
        let current = self.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        let config = self.check_distribution_config(body, Some(id))?;
        if config.child_text("CallerReference") != current.config.child_text("CallerReference") {
            return Err(ApiError::new(
                400,
                "IllegalUpdate",
                "The CallerReference of a distribution cannot be changed; send the one from GetDistributionConfig.",
            ));
        }
        let Some(rec) = self.distributions.iter_mut().find(|d| d.id == id) else {
            return Err(ApiError::no_such_distribution(id));
        };
        rec.config = config;
        rec.etag = new_etag();
        rec.last_modified_ms = now_ms();
        Ok(rec.clone())
    }

    pub(crate) fn delete_distribution(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        if current.enabled() {
            return Err(ApiError::new(
                409,
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled; update it with Enabled false first.",
            ));
        }
        self.distributions.retain(|d| d.id != id);
        Ok(())
    }

    pub(crate) fn distributions_by_key_group(&self, id: &str) -> Result<Vec<String>, ApiError> {
        self.key_group(id)?;
        Ok(self
            .distributions
            .iter()
            .filter(|d| d.key_group_ids().iter().any(|g| g == id))
            .map(|d| d.id.clone())
            .collect())
    }

    /// `ActiveTrustedKeyGroups` of a distribution: each trusted group with its key IDs.
    pub(crate) fn active_trusted_key_groups(&self, d: &DistributionRec) -> Element {
        let groups = d.key_group_ids();
        if groups.is_empty() {
            return disabled_list("ActiveTrustedKeyGroups");
        }
        let items: Vec<Element> = groups
            .iter()
            .map(|gid| {
                let keys: Vec<Element> = self
                    .key_groups
                    .iter()
                    .find(|g| &g.id == gid)
                    .map(|g| {
                        g.items
                            .iter()
                            .map(|k| Element::text("KeyPairId", k.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                Element::node(
                    "KeyGroup",
                    vec![
                        Element::text("KeyGroupId", gid.clone()),
                        Element::node(
                            "KeyPairIds",
                            vec![
                                Element::text("Quantity", keys.len().to_string()),
                                Element::node("Items", keys),
                            ],
                        ),
                    ],
                )
            })
            .collect();
        Element::node(
            "ActiveTrustedKeyGroups",
            vec![
                Element::text("Enabled", "true"),
                Element::text("Quantity", items.len().to_string()),
                Element::node("Items", items),
            ],
        )
    }
}

/// A PEM with whitespace removed, to compare keys regardless of line endings.
fn normalise_pem(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The key must be an SPKI PEM of an RSA-2048 or P-256 key.
fn check_encoded_key(pem: &str) -> Result<(), ApiError> {
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        let hint = if pem.contains("PRIVATE KEY") {
            "this is a private key; upload only the public key (`openssl pkey -pubout`)"
        } else if pem.contains("BEGIN RSA PUBLIC KEY") {
            "this is a PKCS#1 public key; CloudFront needs SPKI (`openssl rsa -RSAPublicKey_in -pubout`)"
        } else {
            "expected a PEM block starting with -----BEGIN PUBLIC KEY-----"
        };
        return Err(ApiError::invalid_argument(format!(
            "The EncodedKey is not a valid public key: {hint}."
        )));
    }
    let key = cfsign::PublicKey::from_pem(pem).map_err(|e| {
        ApiError::invalid_argument(format!("The EncodedKey is not a valid public key: {e}."))
    })?;
    key.check_accepted_by_key_groups().map_err(|e| {
        ApiError::invalid_argument(format!(
            "The EncodedKey is not accepted: {e}. CloudFront accepts RSA-2048 and ECDSA P-256 keys."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match() {
        assert_eq!(check_if_match(None, "E1").unwrap_err().status, 400);
        assert_eq!(
            check_if_match(Some(" "), "E1").unwrap_err().code,
            "InvalidIfMatchVersion"
        );
        assert_eq!(check_if_match(Some("E2"), "E1").unwrap_err().status, 412);
        assert!(check_if_match(Some("E1"), "E1").is_ok());
        assert!(check_if_match(Some("\"E1\""), "E1").is_ok());
    }

    #[test]
    fn ids_look_like_cloudfront() {
        let k = new_public_key_id();
        assert_eq!(k.len(), 14);
        assert!(k.parse::<cfsign::KeyPairId>().is_ok());
        assert_eq!(new_key_group_id().len(), 36);
        assert!(new_domain().ends_with(".cloudfront.net"));
        assert_eq!(iso8601(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }

    #[test]
    fn quantities_are_checked_everywhere() {
        let ok =
            crate::xml::parse("<A><B><Quantity>1</Quantity><Items><X/></Items></B></A>").unwrap();
        assert!(check_quantities(&ok, "").is_ok());
        let bad =
            crate::xml::parse("<A><B><C><Quantity>2</Quantity><Items><X/></Items></C></B></A>")
                .unwrap();
        let err = check_quantities(&bad, "").unwrap_err();
        assert_eq!(err.code, "InconsistentQuantities");
        assert!(err.message.contains("A/B/C"), "{}", err.message);
    }
}
