//! The AWS Lambda entry point (feature `lambda`, binary `cfsign-server-lambda`): the same router
//! as the server ([`app`]) behind function URLs and API Gateway (REST and HTTP APIs), through the
//! official `lambda_http` runtime, which turns each event into an HTTP request and the response
//! back into the event's answer (base64 bodies, multi-value headers, `Set-Cookie` as the v2
//! `cookies` array).
//!
//! What differs from the long-running server, deliberately:
//! - The configuration comes from the environment, an SSM parameter or a Secrets Manager secret
//!   ([`source`]), read once per cold start and again every `[aws] refresh_secs` (with the keys
//!   held in AWS): there is no SIGHUP and no file to watch.
//! - Lambda owns the connections: no listener, connection cap, head timeout or drain. Without an
//!   extension a function gets no SIGTERM; each invocation finishes before the sandbox is frozen,
//!   so there is nothing in flight to drain when it is shut down.
//! - `/metrics` still answers (for this one sandbox); the counters also go to CloudWatch as
//!   embedded-metric-format lines on stdout ([`emf`]).
//! - The signers follow the function's memory, as its vCPUs do ([`sizing`]).

mod emf;
mod sizing;
mod source;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use self::source::ConfigSource;
use crate::app::app;
use crate::config::{Config, KeyConfig, process_env};
use crate::state::AppState;

/// The variable setting how often an EMF line may be written (a duration: `60s`, `5m`; `0`
/// writes one after every response). Default 60 s.
const EMF_INTERVAL_VAR: &str = "CFSIGN_SERVER_EMF_INTERVAL";

/// Runs the function until Lambda ends the sandbox: reads the configuration (see the module
/// documentation for the variables), builds the state, then answers events with [`app`].
/// Errors before the first event (a missing or invalid configuration, an unreadable key) end the
/// process, which Lambda reports as an init error with the message logged.
pub async fn run_lambda() -> anyhow::Result<()> {
    let started = Instant::now();
    let source = ConfigSource::from_env(&process_env)?;
    let source_aws = match source {
        ConfigSource::Ssm(_) | ConfigSource::Secret(_) => {
            Some(cfsign_aws::Aws::from_env(&crate::aws_keys::settings(&Default::default())).await)
        }
        ConfigSource::Env | ConfigSource::File(_) => None,
    };
    let mut config = source
        .load(source_aws.as_ref(), &process_env)
        .await
        .with_context(|| format!("cannot configure from {source}"))?;
    crate::run::init_tracing(config.server.log_format);
    let memory_mb = process_env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|m| m.parse().ok());
    if config.server.signing_threads.is_none()
        && let Some(memory_mb) = memory_mb
    {
        config.server.signing_threads = Some(sizing::vcpus(memory_mb));
    }
    let state = if config.keys.iter().any(KeyConfig::in_aws) {
        let aws = cfsign_aws::Aws::from_env(&crate::aws_keys::settings(&config.aws)).await;
        AppState::from_config_with_aws(&config, &process_env, aws).await?
    } else {
        AppState::from_config(&config, &process_env)?
    };
    spawn_refresher(state.clone(), source.clone(), source_aws, &config);
    let function =
        process_env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "cfsign-server".to_owned());
    let interval = match process_env(EMF_INTERVAL_VAR).filter(|v| !v.trim().is_empty()) {
        Some(v) => Duration::from_secs(
            cfsign::parse_duration(&v).map_err(|e| anyhow::anyhow!("{EMF_INTERVAL_VAR}: {e}"))?,
        ),
        None => Duration::from_secs(60),
    };
    let emitter = Arc::new(emf::Emitter::new(
        Arc::clone(&state.shared.metrics),
        function,
        interval,
    ));
    let router = app(state.clone()).layer(axum::middleware::from_fn_with_state(
        emitter,
        emf::emit_after,
    ));
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        config = %source,
        active_key = %state.active_key_id(),
        signing_threads = config.server.signing_threads.map_or(0, |n| n.get()),
        "cfsign-server-lambda initialised"
    );
    lambda_http::run(router)
        .await
        .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))
}

/// Every `[aws] refresh_secs` (of the first configuration), reads the configuration again (when
/// its source can change) and the keys held in AWS, and reloads; a failure keeps the current
/// configuration and is logged and counted in `cfsign_reload_failures_total`. Nothing to do
/// when neither can change. The task only runs while the sandbox is thawed, so after a long
/// freeze the first invocation triggers the refresh, and is served meanwhile with what it has.
fn spawn_refresher(
    state: AppState,
    source: ConfigSource,
    source_aws: Option<cfsign_aws::Aws>,
    config: &Config,
) {
    let aws_keys = config.keys.iter().any(KeyConfig::in_aws);
    if config.aws.refresh_secs == 0 || !(source.can_change() || aws_keys) {
        return;
    }
    let period = Duration::from_secs(config.aws.refresh_secs);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            refresh(&state, &source, source_aws.as_ref()).await;
        }
    });
}

/// One refresh: the configuration, then its keys held in AWS, then the reload.
async fn refresh(state: &AppState, source: &ConfigSource, source_aws: Option<&cfsign_aws::Aws>) {
    let config = match source.load(source_aws, &process_env).await {
        Ok(config) => config,
        Err(err) => {
            state.reload_refused();
            tracing::warn!(config = %source, error = %err, "refresh failed; keeping the current configuration");
            return;
        }
    };
    if config.keys.iter().any(KeyConfig::in_aws) {
        let aws = match state.shared.aws.get() {
            Some(aws) => aws.clone(),
            None => {
                let aws = cfsign_aws::Aws::from_env(&crate::aws_keys::settings(&config.aws)).await;
                let _ = state.shared.aws.set(aws.clone());
                aws
            }
        };
        crate::aws_keys::refresh(&state.shared.remote, &aws, &config, state.now()).await;
    }
    if let Err(err) = state.reload(&config, &process_env) {
        tracing::warn!(config = %source, error = %err, "refresh rejected; keeping the current configuration");
    }
}
