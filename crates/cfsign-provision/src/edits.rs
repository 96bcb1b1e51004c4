//! The edits a plan makes: a key group's keys (exactly these, add one, remove one, with
//! CloudFront's 5-key quota and its refusal of an empty group) and a behaviour's trusted groups.

use crate::Error;
use crate::api::GroupInfo;
use crate::refs::{KeyRef, Made};

/// CloudFront's quota of public keys per key group.
pub const MAX_KEYS_PER_GROUP: usize = 5;

/// A change of a key group's keys, applied to whatever the group holds when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyGroupEdit {
    /// Hold exactly these keys (any order).
    Set(Vec<String>),
    /// Hold this key as well.
    Add(KeyRef),
    /// No longer hold this key.
    Remove(String),
}

impl KeyGroupEdit {
    /// The keys of group `group` after the edit when it holds `current` now, or `None` when the
    /// edit changes nothing. A key the plan has not made yet stands as its placeholder label.
    pub(crate) fn apply(
        &self,
        group: &str,
        current: &[String],
        made: &Made,
    ) -> Result<Option<Vec<String>>, Error> {
        match self {
            KeyGroupEdit::Set(wanted) => Ok((!same_set(current, wanted)).then(|| wanted.clone())),
            KeyGroupEdit::Add(key) => {
                let id = key.label(made);
                if current.contains(&id) {
                    return Ok(None);
                }
                if current.len() >= MAX_KEYS_PER_GROUP {
                    return Err(Error::TooManyKeysInGroup {
                        detail: format!(
                            "key group `{group}` already holds {} keys ([{}])",
                            current.len(),
                            current.join(", ")
                        ),
                    });
                }
                let mut next = current.to_vec();
                next.push(id);
                Ok(Some(next))
            }
            KeyGroupEdit::Remove(id) => {
                if !current.contains(id) {
                    return Ok(None);
                }
                if current.len() == 1 {
                    return Err(Error::LastKeyInGroup {
                        id: id.clone(),
                        group: group.to_owned(),
                    });
                }
                Ok(Some(current.iter().filter(|k| *k != id).cloned().collect()))
            }
        }
    }

    /// The keys after the edit, for the report: `before` when it changes nothing or cannot be
    /// made.
    pub(crate) fn after(&self, before: &[String], made: &Made) -> Vec<String> {
        self.apply("", before, made)
            .ok()
            .flatten()
            .unwrap_or_else(|| before.to_vec())
    }

    /// The report's detail when the group is already as wanted.
    pub(crate) fn in_place(&self, group: &GroupInfo) -> String {
        let (name, id) = (&group.name, &group.id);
        match self {
            KeyGroupEdit::Set(wanted) => format!(
                "key group `{name}` ({id}) already holds exactly [{}]",
                wanted.join(", ")
            ),
            KeyGroupEdit::Add(key) => format!(
                "key group `{name}` ({id}) already holds {}",
                key.label(&Made::default())
            ),
            KeyGroupEdit::Remove(key) => format!("{key} is not in key group `{name}`"),
        }
    }
}

/// Whether a key group is added to or removed from the behaviours' trusted key groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrustEdit {
    /// Trust the group.
    Attach,
    /// Stop trusting the group.
    Detach,
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Applies `edit` to a group holding `current`: `Ok(None)` for no change, `Ok(Some(keys))`,
    /// or `Err(fragment of the message)`.
    fn check(edit: KeyGroupEdit, current: &[&str], expected: Result<Option<&[&str]>, &str>) {
        let made = Made {
            key_id: Some("KNEW".into()),
            group_id: None,
        };
        let got = edit.apply("g", &ids(current), &made);
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want.map(ids), "{edit:?} on {current:?}"),
            (Err(e), Err(fragment)) => {
                assert!(e.to_string().contains(fragment), "{edit:?}: {e}")
            }
            (got, want) => panic!("{edit:?} on {current:?}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn edits() {
        use KeyGroupEdit::{Add, Remove, Set};
        check(Set(ids(&["a", "b"])), &["b", "a"], Ok(None));
        check(Set(ids(&["a"])), &["a", "b"], Ok(Some(&["a"])));
        check(Add(KeyRef::Existing("a".into())), &["a"], Ok(None));
        check(
            Add(KeyRef::New("n".into())),
            &["a"],
            Ok(Some(&["a", "KNEW"])),
        );
        check(Add(KeyRef::New("n".into())), &["KNEW"], Ok(None));
        check(
            Add(KeyRef::Existing("f".into())),
            &["a", "b", "c", "d", "e"],
            Err("key group `g` already holds 5 keys ([a, b, c, d, e])"),
        );
        check(Remove("a".into()), &["a", "b"], Ok(Some(&["b"])));
        check(Remove("a".into()), &["b"], Ok(None));
        check(
            Remove("a".into()),
            &["a"],
            Err("would leave key group `g` empty"),
        );
        let s = |v: &[&str]| ids(v);
        assert!(same_set(&s(&["a", "b"]), &s(&["b", "a"])));
        assert!(!same_set(&s(&["a"]), &s(&["a", "b"])));
    }
}
