//! Where the Lambda entry point finds its configuration, since a function has no config file
//! of its own: TOML in an environment variable, in an SSM parameter, in a Secrets Manager secret,
//! or a file packaged with the function. Chosen by environment variables, exactly one of them.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::config::{Config, ConfigError, EnvLookup};

/// The variable holding the whole TOML configuration.
pub(crate) const TOML_VAR: &str = "CFSIGN_SERVER_CONFIG_TOML";
/// The variable naming an SSM parameter that holds the TOML.
pub(crate) const SSM_VAR: &str = "CFSIGN_SERVER_CONFIG_SSM_PARAMETER";
/// The variable naming a Secrets Manager secret that holds the TOML.
pub(crate) const SECRET_VAR: &str = "CFSIGN_SERVER_CONFIG_SECRET";
/// The variable naming a TOML file (e.g. one packaged next to `bootstrap`).
pub(crate) const FILE_VAR: &str = "CFSIGN_SERVER_CONFIG";

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigSource {
    /// The TOML itself, from [`TOML_VAR`] (fixed for the life of the function version).
    Env,
    /// An SSM parameter (`String` or `SecureString`) holding the TOML.
    Ssm(String),
    /// A Secrets Manager secret whose `SecretString` is the TOML.
    Secret(String),
    /// A file.
    File(PathBuf),
}

impl ConfigSource {
    /// The one source the environment names; none or several is an error saying which to set.
    pub(crate) fn from_env(env: EnvLookup<'_>) -> Result<ConfigSource, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut found = Vec::new();
        if get(TOML_VAR).is_some() {
            found.push((TOML_VAR, ConfigSource::Env));
        }
        if let Some(name) = get(SSM_VAR) {
            found.push((SSM_VAR, ConfigSource::Ssm(name.trim().to_owned())));
        }
        if let Some(id) = get(SECRET_VAR) {
            found.push((SECRET_VAR, ConfigSource::Secret(id.trim().to_owned())));
        }
        if let Some(path) = get(FILE_VAR) {
            found.push((FILE_VAR, ConfigSource::File(PathBuf::from(path))));
        }
        match found.len() {
            0 => Err(ConfigError::invalid(format!(
                "no configuration: set one of {TOML_VAR} (the TOML itself), {SSM_VAR} (an SSM \
                 parameter holding it), {SECRET_VAR} (a Secrets Manager secret holding it) or \
                 {FILE_VAR} (a file packaged with the function)"
            ))),
            1 => Ok(found.remove(0).1),
            _ => Err(ConfigError::invalid(format!(
                "several configuration sources are set ({}); set exactly one",
                found
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Whether reading the source again can give a different configuration (the environment
    /// of a running function never changes).
    pub(crate) fn can_change(&self) -> bool {
        !matches!(self, ConfigSource::Env)
    }

    /// Reads and parses the configuration, then applies the `CFSIGN_SERVER_*` overrides.
    /// Relative key paths are relative to the working directory (`/var/task` on Lambda).
    pub(crate) async fn load(
        &self,
        aws: Option<&cfsign_aws::Aws>,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Config, ConfigError> {
        let label = PathBuf::from(self.to_string());
        let text = match self {
            ConfigSource::Env => Zeroizing::new(env(TOML_VAR).unwrap_or_default()),
            ConfigSource::File(path) => {
                let mut config = Config::load(path, env)?;
                config.server.listen = "127.0.0.1:0".to_owned();
                return Ok(config);
            }
            ConfigSource::Ssm(name) => {
                fetch(aws, cfsign_aws::TextSource::ssm_parameter(name)).await?
            }
            ConfigSource::Secret(id) => fetch(aws, cfsign_aws::TextSource::secret(id)).await?,
        };
        let mut config = Config::from_toml(&text, &Path::new(".").join(&label))?;
        config.apply_env(env)?;
        Ok(config)
    }
}

/// The text of an AWS source; `aws` is `None` only for sources that need no AWS.
async fn fetch(
    aws: Option<&cfsign_aws::Aws>,
    source: Result<cfsign_aws::TextSource, cfsign_aws::Error>,
) -> Result<Zeroizing<String>, ConfigError> {
    let source = source.map_err(|e| ConfigError::invalid(e.to_string()))?;
    let Some(aws) = aws else {
        return Err(ConfigError::invalid(format!(
            "{source}: no AWS clients to read it with"
        )));
    };
    source
        .load(aws)
        .await
        .map_err(|e| ConfigError::invalid(format!("cannot read the configuration: {e}")))
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Env => write!(f, "${TOML_VAR}"),
            ConfigSource::Ssm(name) => write!(f, "SSM parameter {name}"),
            ConfigSource::Secret(id) => write!(f, "secret {id}"),
            ConfigSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn check(vars: &[(&str, &str)], expected: Result<ConfigSource, &str>) {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        let got = ConfigSource::from_env(&|name| map.get(name).map(|v| (*v).to_owned()));
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{vars:?}"),
            (Err(err), Err(needle)) => {
                assert!(err.to_string().contains(needle), "{vars:?}: {err}");
            }
            (got, want) => panic!("{vars:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn exactly_one_source() {
        check(&[(TOML_VAR, "[server]")], Ok(ConfigSource::Env));
        check(
            &[(SSM_VAR, " /cfsign/config ")],
            Ok(ConfigSource::Ssm("/cfsign/config".into())),
        );
        check(
            &[(SECRET_VAR, "cfsign")],
            Ok(ConfigSource::Secret("cfsign".into())),
        );
        check(
            &[(FILE_VAR, "server.toml")],
            Ok(ConfigSource::File("server.toml".into())),
        );
        check(
            &[],
            Err("no configuration: set one of CFSIGN_SERVER_CONFIG_TOML"),
        );
        check(&[(TOML_VAR, "  ")], Err("no configuration"));
        check(
            &[(TOML_VAR, "x"), (SECRET_VAR, "y")],
            Err(
                "several configuration sources are set (CFSIGN_SERVER_CONFIG_TOML, CFSIGN_SERVER_CONFIG_SECRET)",
            ),
        );
    }

    #[tokio::test]
    async fn toml_from_the_environment_with_overrides() {
        let vars: HashMap<&str, &str> = [
            (
                TOML_VAR,
                "[cache]\ncapacity = 7\n[[keys]]\nfrom_env = true\n",
            ),
            ("CFSIGN_SERVER_SIGNING_THREADS", "2"),
        ]
        .into_iter()
        .collect();
        let env = |name: &str| vars.get(name).map(|v| (*v).to_owned());
        let config = ConfigSource::Env.load(None, &env).await.unwrap();
        assert_eq!(config.cache.capacity, 7);
        assert_eq!(config.server.signing_threads.map(|n| n.get()), Some(2));
        let bad: HashMap<&str, &str> = [(TOML_VAR, "[cache]\ncapacity = \"x\"\n")]
            .into_iter()
            .collect();
        let err = ConfigSource::Env
            .load(None, &|name| bad.get(name).map(|v| (*v).to_owned()))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("$CFSIGN_SERVER_CONFIG_TOML"),
            "{err}"
        );
        let err = ConfigSource::Ssm("/p".into())
            .load(None, &env)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no AWS clients"), "{err}");
    }
}
