//! The state every connection shares, and the one place that wires the control plane to the
//! edge: a change runs on a copy of the store, is saved, and then replaces the store and the
//! edge view together.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::MockConfig;
use crate::edge::{EdgeOptions, EdgeView};
use crate::error::Error;
use crate::model::Store;
use crate::origin::Origins;
use crate::persist;
use crate::requests::RequestLog;

/// State shared by all connections.
pub(crate) struct Shared {
    store: Mutex<Store>,
    edge: RwLock<Arc<EdgeView>>,
    state_file: Option<PathBuf>,
    origins: Origins,
    /// The mock's clock: the edge's expiry checks and the control plane's timestamps.
    pub(crate) clock: Clock,
    /// How the edge decides.
    pub(crate) edge_options: EdgeOptions,
    /// Every edge request with its decision, newest kept.
    pub(crate) requests: RequestLog,
    /// How long a distribution reports `InProgress` after a change, in milliseconds.
    pub(crate) deployment_ms: u64,
    /// Whether `/_cfsign/` answers viewers that are not on loopback.
    pub(crate) console_remote: bool,
    /// The distribution (ID or domain name) served for requests no other route takes.
    pub(crate) default_distribution: Option<String>,
}

impl Shared {
    /// Loads the state file (if any) and builds the edge view.
    pub(crate) fn open(config: &MockConfig) -> Result<Shared, Error> {
        let store = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => Store::default(),
        };
        let origins = Origins::new(config.origin.clone(), config.origins.clone(), config.s3());
        let edge = EdgeView::build(&store, &origins);
        Ok(Shared {
            store: Mutex::new(store),
            edge: RwLock::new(Arc::new(edge)),
            state_file: config.state_file.clone(),
            origins,
            clock: config.clock,
            edge_options: EdgeOptions {
                grant_cache: config.grant_cache,
                strict: config.strict,
                explain: config.explain,
            },
            requests: RequestLog::new(config.request_log_entries),
            console_remote: config.console_remote,
            deployment_ms: config.deployment_secs.saturating_mul(1000),
            default_distribution: config.default_distribution.clone(),
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
    /// failed save leaves the state as it was. `f` gets the time of the change by the configured
    /// clock, in milliseconds since the Unix epoch.
    pub(crate) fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Store, u64) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = guard.clone();
        let out = f(&mut next, self.clock.now_ms())?;
        if let Some(path) = &self.state_file {
            persist::save(path, &next).map_err(|e| {
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
