//! References a plan makes to keys and groups that exist or that it creates, and the IDs a run
//! has made so far.

/// The IDs of what a run of a plan has created so far.
#[derive(Debug, Default)]
pub(crate) struct Made {
    /// The public key created by the plan.
    pub(crate) key_id: Option<String>,
    /// The key group created by the plan.
    pub(crate) group_id: Option<String>,
}

/// A public key a plan refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key that exists, by ID.
    Existing(String),
    /// The key the plan creates, by name.
    New(String),
}

impl KeyRef {
    /// The key's ID; for a new key, once it is made.
    pub(crate) fn id<'a>(&'a self, made: &'a Made) -> Option<&'a str> {
        match self {
            KeyRef::Existing(id) => Some(id),
            KeyRef::New(_) => made.key_id.as_deref(),
        }
    }

    /// The ID, or `(new key NAME)` before the key is made.
    pub(crate) fn label(&self, made: &Made) -> String {
        match self {
            KeyRef::Existing(id) => id.clone(),
            KeyRef::New(name) => new_label(made.key_id.as_deref(), "key", name),
        }
    }
}

/// A key group a plan refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupRef {
    /// A group that exists, by ID.
    Existing(String),
    /// The group the plan creates, by name.
    New(String),
}

impl GroupRef {
    /// The group's ID; for a new group, once it is made.
    pub(crate) fn id<'a>(&'a self, made: &'a Made) -> Option<&'a str> {
        match self {
            GroupRef::Existing(id) => Some(id),
            GroupRef::New(_) => made.group_id.as_deref(),
        }
    }

    /// The ID, or `(new key group NAME)` before the group is made.
    pub(crate) fn label(&self, made: &Made) -> String {
        match self {
            GroupRef::Existing(id) => id.clone(),
            GroupRef::New(name) => new_label(made.group_id.as_deref(), "key group", name),
        }
    }
}

/// A new resource's ID once it is made, else `(new WHAT NAME)`.
fn new_label(made_id: Option<&str>, what: &str, name: &str) -> String {
    made_id.map_or_else(|| format!("(new {what} {name})"), str::to_owned)
}
