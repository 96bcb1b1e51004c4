//! The plan steps that create a key group or edit its keys, and finding a group by ID or name.

use crate::Error;
use crate::api::GroupInfo;
use crate::edits::KeyGroupEdit;
use crate::plan::{Change, Plan};
use crate::refs::{GroupRef, KeyRef, Made};

/// Finds a key group by ID, else by name.
pub(crate) fn find_group<'a>(groups: &'a [GroupInfo], id_or_name: &str) -> Option<&'a GroupInfo> {
    groups
        .iter()
        .find(|g| g.id == id_or_name)
        .or_else(|| groups.iter().find(|g| g.name == id_or_name))
}

/// Plans `edit` of an existing group: a step that is in place when the edit changes nothing.
pub(crate) fn plan_edit(
    plan: &mut Plan,
    action: &'static str,
    group: &GroupInfo,
    edit: KeyGroupEdit,
) -> Result<(), Error> {
    match edit.apply(&group.name, &group.key_ids, &Made::default())? {
        None => plan.in_place(action, edit.in_place(group)),
        Some(_) => plan.change(
            action,
            Change::UpdateKeyGroup {
                id: group.id.clone(),
                name: group.name.clone(),
                before: group.key_ids.clone(),
                edit,
            },
        ),
    }
    Ok(())
}

/// Plans the group named `name`: created with `keys` when there is none, else given `edit`.
pub(crate) fn plan_group(
    plan: &mut Plan,
    action: &'static str,
    groups: &[GroupInfo],
    name: &str,
    keys: Vec<KeyRef>,
    edit: KeyGroupEdit,
) -> Result<GroupRef, Error> {
    match groups.iter().find(|g| g.name == name) {
        None => {
            plan.change(
                action,
                Change::CreateKeyGroup {
                    name: name.to_owned(),
                    keys,
                },
            );
            Ok(GroupRef::New(name.to_owned()))
        }
        Some(group) => {
            plan_edit(plan, action, group, edit)?;
            Ok(GroupRef::Existing(group.id.clone()))
        }
    }
}
