//! `up`: build, provision, migrate and serve, until Ctrl-C (or, with
//! `--ephemeral`, until standard input closes); `--watch` swaps components in
//! as their sources change.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use tokio::net::TcpListener;

use super::AppArgs;
use super::databases::provision_and_migrate;
use crate::app::limits::Limits;
use crate::app::manifest::Manifest;
use crate::app::runtime_config;
use crate::app::variables;
use crate::app::{App, Compiled};
use crate::observe::logs;
use crate::observe::telemetry::Telemetry;
use crate::ops::{builder, provision, watch};
use crate::serve::{metrics_server, server};

#[derive(Debug, Args)]
pub struct Up {
    #[command(flatten)]
    pub app: AppArgs,
    /// Where to listen
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Set an application variable, over SPIN_VARIABLE_* (as `spin up`); repeatable
    #[arg(long = "variable", value_name = "KEY=VALUE", value_parser = key_value)]
    pub variables: Vec<(String, String)>,
    /// Define key-value stores, as `spin up --runtime-config-file` does:
    /// `[key_value_store.<label>]` tables, `type = "spin"` (in memory) or
    /// `type = "redis"` with a `url`
    #[arg(long, value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,
    /// Compile every component afresh, neither reading nor writing the cache
    #[arg(long)]
    pub disable_cache: bool,
    /// Skip the manifest's build commands
    #[arg(long)]
    pub no_build: bool,
    /// Stop when standard input closes and drop the databases on the way out
    #[arg(long)]
    pub ephemeral: bool,
    /// Rebuild a component when a file its build watches changes, and swap
    /// it in while serving (requests in flight finish on the old build)
    #[arg(long)]
    pub watch: bool,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

impl Up {
    pub async fn run(self) -> Result<()> {
        let started = Instant::now();
        let manifest = self.app.load()?;
        let stores = runtime_config::key_value_stores(self.runtime_config_file.as_deref())?;
        let telemetry = Telemetry::from_env(&manifest.name)?;
        logs::install(telemetry.as_ref())?;
        if !self.no_build {
            builder::build_all(&manifest)?;
        }
        // Compiling needs no database: it runs while the databases are provisioned.
        let limits = Limits::from_env();
        let compiling = {
            let (manifest, limits, cache) = (manifest.clone(), limits.clone(), !self.disable_cache);
            tokio::task::spawn_blocking(move || Compiled::load(&manifest, &limits, cache))
        };
        let admin_url = provision::admin_url(&manifest).await?;
        let values =
            self.variables(&manifest, provision_and_migrate(&manifest, &admin_url, &self.app.prefix).await?)?;
        let compiled = compiling.await.context("compiling the components")??;
        let summary = stores.summary();
        let app = App::new(compiled, &manifest, &values, stores, limits)?;
        let listener = TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("cannot listen on {}: is another server using it? try --listen", self.listen))?;
        let address = listener.local_addr()?;
        app.set_origin(address);
        if let Some(metrics) = metrics_listener().await? {
            tracing::info!("metrics for Prometheus on http://{}/metrics", metrics.local_addr()?);
            tokio::spawn(metrics_server::serve(app.clone(), metrics));
        }
        if self.watch {
            watch::start(app.clone(), manifest.clone(), !self.disable_cache)?;
        }
        announce(address, &manifest, &values, &summary, started);
        let stop_on_eof = self.ephemeral;
        server::serve(app.clone(), listener, async move {
            tokio::select! {
                () = shutdown_signal() => {},
                () = stdin_closed(), if stop_on_eof => {},
            }
        })
        .await?;
        if self.ephemeral {
            provision::drop_all(&manifest, &admin_url, &self.app.prefix).await?;
        }
        if let Some(telemetry) = &telemetry {
            telemetry.shutdown().await;
        }
        app.metrics.shutdown().await;
        tracing::info!("{}", app.instantiation.summary());
        tracing::info!("stopped");
        Ok(())
    }

    /// The application's variables: what was provisioned, then the environment
    /// (`SPIN_VARIABLE_*`), then `--variable`, each over the one before.
    fn variables(&self, manifest: &Manifest, mut provided: HashMap<String, String>) -> Result<HashMap<String, String>> {
        provided.insert("instance_name".into(), crate::app::instance_name());
        let mut values = variables::resolve_application(manifest, &provided, |name| std::env::var(name).ok())?;
        for (name, value) in &self.variables {
            if !manifest.variables.contains_key(name) {
                anyhow::bail!("--variable {name}: the manifest declares no variable `{name}`");
            }
            values.insert(name.clone(), value.clone());
        }
        Ok(values)
    }
}

/// `EVENTOS_METRICS_LISTEN`, bound: where Prometheus scrapes, apart from the
/// application's own listener; unset, no metrics are served.
async fn metrics_listener() -> Result<Option<TcpListener>> {
    let Ok(address) = std::env::var("EVENTOS_METRICS_LISTEN") else {
        return Ok(None);
    };
    let parsed: SocketAddr = address
        .parse()
        .with_context(|| format!("EVENTOS_METRICS_LISTEN={address}: not an address such as 127.0.0.1:9464"))?;
    let listener = TcpListener::bind(parsed).await.with_context(|| format!("cannot listen on {parsed} for metrics"))?;
    Ok(Some(listener))
}

/// The one line on stdout tests and scripts wait for, then a summary on stderr.
fn announce(
    address: SocketAddr,
    manifest: &Manifest,
    values: &HashMap<String, String>,
    stores: &[String],
    started: Instant,
) {
    println!("eventos: serving http://{address}");
    let _ = std::io::stdout().flush();
    tracing::info!("{} {} on http://{address}", manifest.name, manifest.version);
    for route in &manifest.routes {
        let path = route.route.as_deref().unwrap_or("(private)");
        tracing::info!("{path} -> {}", route.component);
    }
    for (name, decl) in &manifest.variables {
        let value = if decl.secret { "(secret)" } else { values.get(name).map_or("", String::as_str) };
        tracing::info!("variable {name} = {value}");
    }
    for store in stores {
        tracing::info!("key-value store {store}");
    }
    tracing::info!("ready in {} ms", started.elapsed().as_millis());
}

/// Resolves when standard input reaches its end: the parent process is gone.
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 256];
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down, letting in-flight requests finish");
}
