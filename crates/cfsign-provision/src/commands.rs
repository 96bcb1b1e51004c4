//! The mutating commands as plans: each reads what it needs and returns the [`Plan`] of its
//! changes (`upload-key`, `key-group ensure`, `attach`, `detach`, `setup`, `rotate`,
//! `rotate --retire`); and the one-call forms that plan and apply.

use cfsign::PublicKey;

use crate::edits::{KeyGroupEdit, MAX_KEYS_PER_GROUP, TrustEdit};
use crate::groups::{find_group, plan_edit, plan_group};
use crate::keys::{plan_key_pair, plan_public_key, valid_key_id};
use crate::name::check_name;
use crate::options::{Behaviors, KeySource, RotateOptions, SetupOptions, private_key_file};
use crate::plan::{Change, FollowUp, Plan};
use crate::refs::{GroupRef, KeyRef, Made};
use crate::report::Report;
use crate::trusted::plan_trust;
use crate::{Error, Provisioner};

impl Provisioner {
    /// Plans `upload-key`: upload a public key under `name`, or reuse the key already uploaded
    /// under that name when it holds the same key material.
    pub async fn plan_upload_key(&self, name: &str, public_key: &PublicKey) -> Result<Plan, Error> {
        check_name(name, "--name")?;
        public_key
            .check_accepted_by_key_groups()
            .map_err(|e| Error::key("public key", e))?;
        let keys = self.list_public_keys().await?;
        let mut plan = Plan::new("upload-key");
        plan.key = Some(plan_public_key(&mut plan, &keys, name, public_key)?);
        Ok(plan)
    }

    /// Plans `key-group ensure`: create the key group `name` with exactly these keys, or update
    /// it to exactly these keys.
    pub async fn plan_ensure_key_group(
        &self,
        name: &str,
        key_ids: &[String],
    ) -> Result<Plan, Error> {
        check_name(name, "--name")?;
        let mut wanted: Vec<String> = Vec::new();
        for id in key_ids {
            let id = valid_key_id(id)?;
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        if wanted.is_empty() {
            return Err(Error::Usage(
                "a key group needs at least one public key; pass --key-id ID (from `upload-key`)"
                    .to_owned(),
            ));
        }
        if wanted.len() > MAX_KEYS_PER_GROUP {
            return Err(Error::TooManyKeysInGroup {
                detail: format!("{} keys were given", wanted.len()),
            });
        }
        let keys = self.list_public_keys().await?;
        if let Some(missing) = wanted.iter().find(|id| !keys.iter().any(|k| &k.id == *id)) {
            return Err(Error::UnknownPublicKey {
                id: missing.clone(),
            });
        }
        let groups = self.list_key_groups().await?;
        let mut plan = Plan::new("key-group ensure");
        let create_with = wanted.iter().cloned().map(KeyRef::Existing).collect();
        plan.group = Some(plan_group(
            &mut plan,
            "ensure key group",
            &groups,
            name,
            create_with,
            KeyGroupEdit::Set(wanted),
        )?);
        Ok(plan)
    }

    /// Plans `attach`: add the key group (name or ID) to the chosen behaviours' trusted key
    /// groups.
    pub async fn plan_attach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
    ) -> Result<Plan, Error> {
        let groups = self.list_key_groups().await?;
        let Some(group) = find_group(&groups, key_group) else {
            return Err(Error::UnknownKeyGroup {
                name: key_group.to_owned(),
            });
        };
        let group = GroupRef::Existing(group.id.clone());
        self.plan_trust_command(distribution_id, group, behaviors, TrustEdit::Attach)
            .await
    }

    /// Plans `detach`: remove the key group (name or ID) from the chosen behaviours.
    pub async fn plan_detach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
    ) -> Result<Plan, Error> {
        // A group that no longer exists can still be named by ID on a behaviour.
        let groups = self.list_key_groups().await?;
        let group_id = find_group(&groups, key_group).map_or(key_group, |g| &g.id);
        let group = GroupRef::Existing(group_id.to_owned());
        self.plan_trust_command(distribution_id, group, behaviors, TrustEdit::Detach)
            .await
    }

    async fn plan_trust_command(
        &self,
        distribution_id: &str,
        group: GroupRef,
        behaviors: &Behaviors,
        edit: TrustEdit,
    ) -> Result<Plan, Error> {
        let (command, action) = match edit {
            TrustEdit::Attach => ("attach", "attach key group"),
            TrustEdit::Detach => ("detach", "detach key group"),
        };
        let distribution = self.get_distribution_config(distribution_id).await?;
        let mut plan = Plan::new(command);
        plan.report.distribution_id = Some(distribution_id.to_owned());
        plan_trust(
            &mut plan,
            action,
            distribution,
            behaviors,
            group.clone(),
            edit,
        )?;
        plan.group = Some(group);
        Ok(plan)
    }

    /// Plans `setup`: generate (or take) a key, upload it, make sure the key group holds it,
    /// attach the group to the chosen behaviours. Everything is read first, so a wrong
    /// distribution, path pattern or quota fails before anything is written.
    pub async fn plan_setup(&self, options: &SetupOptions) -> Result<Plan, Error> {
        let distribution_id = options.distribution_id.as_str();
        let group_name = options
            .key_group_name
            .clone()
            .unwrap_or_else(|| format!("cfsign-{distribution_id}"));
        check_name(&group_name, "--key-group-name")?;
        let key_name = options
            .key_name
            .clone()
            .unwrap_or_else(|| format!("{group_name}-key"));
        check_name(&key_name, "--key-name")?;
        let distribution = self.get_distribution_config(distribution_id).await?;
        let keys = self.list_public_keys().await?;
        let groups = self.list_key_groups().await?;
        let mut plan = Plan::new("setup");
        plan.report.distribution_id = Some(distribution_id.to_owned());
        let public_key = plan_key_pair(&mut plan, &keys, &key_name, &options.key)?;
        let key = plan_public_key(&mut plan, &keys, &key_name, &public_key)?;
        let group = plan_group(
            &mut plan,
            "ensure key group",
            &groups,
            &group_name,
            vec![key.clone()],
            KeyGroupEdit::Add(key.clone()),
        )?;
        plan_trust(
            &mut plan,
            "attach key group",
            distribution,
            &options.behaviors,
            group.clone(),
            TrustEdit::Attach,
        )?;
        plan.key = Some(key);
        plan.group = Some(group);
        plan.follow_up = FollowUp::Setup;
        Ok(plan)
    }

    /// Plans `rotate`: a new key added to the group beside the old ones, and the next steps.
    pub async fn plan_rotate(&self, options: &RotateOptions) -> Result<Plan, Error> {
        let groups = self.list_key_groups().await?;
        let Some(group) = find_group(&groups, &options.key_group) else {
            return Err(Error::UnknownKeyGroup {
                name: options.key_group.clone(),
            });
        };
        let key_name = match &options.key_name {
            Some(name) => name.clone(),
            None => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                format!("{}-{secs}", group.name)
            }
        };
        check_name(&key_name, "--key-name")?;
        let keys = self.list_public_keys().await?;
        let mut plan = Plan::new("rotate");
        plan.resume = match &options.key {
            KeySource::Generate {
                private_key_out, ..
            } => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --private-key-out {}",
                options.key_group,
                private_key_file(private_key_out.as_deref(), &key_name).display()
            ),
            KeySource::PublicKeyFile(path) => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --public-key {}",
                options.key_group,
                path.display()
            ),
            KeySource::Secret { name, .. } => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --store-secret {name}",
                options.key_group,
            ),
            KeySource::Kms { key_id, .. } => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --kms-key-id {key_id}",
                options.key_group,
            ),
        };
        let public_key = plan_key_pair(&mut plan, &keys, &key_name, &options.key)?;
        let key = plan_public_key(&mut plan, &keys, &key_name, &public_key)?;
        plan_edit(
            &mut plan,
            "add key to group",
            group,
            KeyGroupEdit::Add(key.clone()),
        )?;
        let nothing_made = Made::default();
        let new_id = key.id(&nothing_made);
        plan.follow_up = FollowUp::Rotate {
            key_group: options.key_group.clone(),
            old_keys: group
                .key_ids
                .iter()
                .filter(|k| Some(k.as_str()) != new_id)
                .cloned()
                .collect(),
        };
        plan.key = Some(key);
        plan.group = Some(GroupRef::Existing(group.id.clone()));
        Ok(plan)
    }

    /// Plans `rotate --retire`: remove the key from the group, then delete it. Deleting is
    /// refused while another group holds the key; the plan then removes it from this group and
    /// stops, naming the other groups.
    pub async fn plan_retire(&self, key_group: &str, old_key_id: &str) -> Result<Plan, Error> {
        const DELETE: &str = "delete public key";
        let old_id = valid_key_id(old_key_id)?;
        let groups = self.list_key_groups().await?;
        let Some(group) = find_group(&groups, key_group) else {
            return Err(Error::UnknownKeyGroup {
                name: key_group.to_owned(),
            });
        };
        let keys = self.list_public_keys().await?;
        let mut plan = Plan::new("rotate --retire");
        plan.group = Some(GroupRef::Existing(group.id.clone()));
        plan_edit(
            &mut plan,
            "remove key from group",
            group,
            KeyGroupEdit::Remove(old_id.clone()),
        )?;
        let holders: Vec<String> = groups
            .iter()
            .filter(|g| g.id != group.id && g.key_ids.contains(&old_id))
            .map(|g| format!("`{}` ({})", g.name, g.id))
            .collect();
        if !holders.is_empty() {
            let error = Error::KeyInUse {
                id: old_id.clone(),
                groups: holders.join(", "),
            };
            plan.blocked(DELETE, error);
        } else if keys.iter().any(|k| k.id == old_id) {
            plan.change(DELETE, Change::DeletePublicKey { id: old_id.clone() });
        } else {
            plan.in_place(DELETE, format!("public key {old_id} does not exist"));
        }
        plan.follow_up = FollowUp::Retire { key_id: old_id };
        Ok(plan)
    }

    /// `upload-key`, planned and applied; see [`Provisioner::plan_upload_key`].
    pub async fn upload_key(&self, name: &str, public_key: &PublicKey) -> Result<Report, Error> {
        self.apply(self.plan_upload_key(name, public_key).await?)
            .await
    }

    /// `key-group ensure`, planned and applied; see [`Provisioner::plan_ensure_key_group`].
    pub async fn ensure_key_group(&self, name: &str, key_ids: &[String]) -> Result<Report, Error> {
        self.apply(self.plan_ensure_key_group(name, key_ids).await?)
            .await
    }

    /// `attach`, planned and applied; see [`Provisioner::plan_attach`].
    pub async fn attach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
    ) -> Result<Report, Error> {
        self.apply(
            self.plan_attach(distribution_id, key_group, behaviors)
                .await?,
        )
        .await
    }

    /// `detach`, planned and applied; see [`Provisioner::plan_detach`].
    pub async fn detach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
    ) -> Result<Report, Error> {
        self.apply(
            self.plan_detach(distribution_id, key_group, behaviors)
                .await?,
        )
        .await
    }

    /// `setup`, planned and applied; see [`Provisioner::plan_setup`]. Running it again changes
    /// nothing.
    pub async fn setup(&self, options: &SetupOptions) -> Result<Report, Error> {
        self.apply(self.plan_setup(options).await?).await
    }

    /// `rotate`, planned and applied; see [`Provisioner::plan_rotate`].
    pub async fn rotate(&self, options: &RotateOptions) -> Result<Report, Error> {
        self.apply(self.plan_rotate(options).await?).await
    }

    /// `rotate --retire`, planned and applied; see [`Provisioner::plan_retire`].
    pub async fn retire(&self, key_group: &str, old_key_id: &str) -> Result<Report, Error> {
        self.apply(self.plan_retire(key_group, old_key_id).await?)
            .await
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudfront::config::BehaviorVersion;

    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Library callers spawn commands on multi-threaded runtimes: every future must be `Send`.
    #[test]
    fn command_futures_are_send() {
        let config = aws_sdk_cloudfront::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let p = Provisioner::from_client(aws_sdk_cloudfront::Client::from_conf(config), "nowhere");
        let key = cfsign::PrivateKey::generate(cfsign::KeyKind::P256, &mut rand::rng())
            .unwrap()
            .public_key();
        let ids = ["K1".to_owned()];
        let setup = SetupOptions::new("D");
        let rotate = RotateOptions::new("G");
        assert_send(&p.upload_key("n", &key));
        assert_send(&p.ensure_key_group("n", &ids));
        assert_send(&p.attach("D", "G", &Behaviors::Default));
        assert_send(&p.detach("D", "G", &Behaviors::Default));
        assert_send(&p.setup(&setup));
        assert_send(&p.rotate(&rotate));
        assert_send(&p.retire("G", "K1"));
        assert_send(&p.status("D"));
    }
}
