//! The control-plane operations on a [`Store`](crate::model::Store), one module per resource
//! family, each with the checks of the documents it takes. They never do I/O: the caller runs
//! them on a copy of the store and saves it (see `shared.rs`).

pub(crate) mod distribution_config;
pub(crate) mod distributions;
pub(crate) mod fields;
pub(crate) mod headers_policy;
pub(crate) mod if_match;
pub(crate) mod key_groups;
pub(crate) mod managed_policies;
pub(crate) mod origin_access_controls;
pub(crate) mod public_keys;
pub(crate) mod response_headers_policies;
pub(crate) mod tagging;
