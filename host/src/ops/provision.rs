//! PostgreSQL for `eventos up`: find a server (or start a private one), then give
//! each domain its own database and login role, reachable by that role alone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio_postgres::{Client, Config, NoTls};

use crate::app::manifest::Manifest;
use crate::ops::private_cluster;

/// Where a server usually answers on a developer machine.
const LOCAL_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// One domain's database, as its component will reach it.
#[derive(Debug, Clone)]
pub struct DomainDatabase {
    pub domain: String,
    pub database: String,
    pub url: String,
    /// `host:port`, for the component's `allowed_outbound_hosts`.
    pub address: String,
    pub migrations: PathBuf,
}

/// Components that keep data have `components/<id>/migrations/`.
pub fn domains_with_databases(manifest: &Manifest) -> Vec<(String, PathBuf)> {
    manifest
        .components
        .keys()
        .map(|id| (id.clone(), manifest.dir.join("components").join(id).join("migrations")))
        .filter(|(_, dir)| dir.is_dir())
        .collect()
}

/// An admin connection string: `EVENTOS_PG_ADMIN_URL`, else the local server, else a
/// private cluster under `target/`.
pub async fn admin_url(manifest: &Manifest) -> Result<String> {
    if let Ok(url) = std::env::var("EVENTOS_PG_ADMIN_URL") {
        connect_patiently(&url)
            .await
            .context("EVENTOS_PG_ADMIN_URL does not answer: fix it or unset it to use a local server")?;
        return Ok(url);
    }
    if connect(LOCAL_ADMIN_URL).await.is_ok() {
        return Ok(LOCAL_ADMIN_URL.to_owned());
    }
    tracing::info!("no PostgreSQL on 127.0.0.1:5432; starting a private cluster under target/");
    let url = private_cluster::start(&manifest.dir.join(private_cluster::DIR)).await?;
    connect(&url).await.context("the private cluster started but does not answer")?;
    Ok(url)
}

/// How long a named server may take to answer: a host restarted while its
/// PostgreSQL restarts too (a node reboot, a failover) waits instead of exiting.
const ADMIN_PATIENCE: Duration = Duration::from_secs(15);

async fn connect_patiently(url: &str) -> Result<Client> {
    let deadline = tokio::time::Instant::now() + ADMIN_PATIENCE;
    let mut said_so = false;
    loop {
        match connect(url).await {
            Ok(client) => return Ok(client),
            Err(error) if tokio::time::Instant::now() >= deadline || !is_unreachable(&error) => return Err(error),
            Err(_) if !said_so => {
                tracing::info!("waiting up to {}s for PostgreSQL to answer", ADMIN_PATIENCE.as_secs());
                said_so = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Refused, timed out or still starting up: worth another try. A bad URL or a
/// rejected login is not.
fn is_unreachable(error: &anyhow::Error) -> bool {
    let Some(error) = error.downcast_ref::<tokio_postgres::Error>() else { return false };
    if let Some(db) = error.as_db_error() {
        return db.code() == &tokio_postgres::error::SqlState::CANNOT_CONNECT_NOW;
    }
    // tokio-postgres tells its error kinds apart only by their text.
    let text = error.to_string();
    ["error connecting to server", "timeout waiting for server", "error communicating with the server"]
        .iter()
        .any(|kind| text.starts_with(kind))
        || error.is_closed()
}

pub async fn connect(url: &str) -> Result<Client> {
    let mut config: Config = url.parse().context("not a PostgreSQL connection string")?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Creates (or refreshes) `<prefix>_<domain>` databases and roles.
pub async fn provision(manifest: &Manifest, admin_url: &str, prefix: &str) -> Result<Vec<DomainDatabase>> {
    if !is_identifier(prefix) {
        bail!("--prefix `{prefix}` must be lower_snake_case (a-z, 0-9, _), starting with a letter");
    }
    let admin = connect(admin_url).await?;
    let config: Config = admin_url.parse()?;
    let address = server_address(&config);
    // All domains at once: a restart waits for one round of round trips, not four.
    let domains = domains_with_databases(manifest).into_iter().map(|(domain, migrations)| {
        let (admin, address) = (&admin, &address);
        async move {
            let name = format!("{prefix}_{domain}");
            let password = new_password();
            ensure_role(admin, &name, &password).await?;
            ensure_database(admin, &name).await?;
            Ok::<_, anyhow::Error>(DomainDatabase {
                url: format!("postgres://{name}:{password}@{address}/{name}?sslmode=disable"),
                address: address.clone(),
                domain,
                database: name,
                migrations,
            })
        }
    });
    futures_util::future::try_join_all(domains).await
}

/// The variables a manifest binds to each domain's database.
pub fn database_variables(databases: &[DomainDatabase]) -> HashMap<String, String> {
    databases
        .iter()
        .flat_map(|db| {
            [(format!("{}_db_url", db.domain), db.url.clone()), (format!("{}_db_host", db.domain), db.address.clone())]
        })
        .collect()
}

async fn ensure_role(admin: &Client, role: &str, password: &str) -> Result<()> {
    // Identifiers and the password are checked/generated here: [a-z0-9_] only,
    // so formatting them into DDL (which takes no parameters) is safe.
    let exists = admin.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role]).await?.is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    admin
        .batch_execute(&format!("{verb} ROLE {role} WITH LOGIN PASSWORD '{password}'"))
        .await
        .with_context(|| format!("cannot {verb} ROLE {role}"))?;
    Ok(())
}

async fn ensure_database(admin: &Client, name: &str) -> Result<()> {
    let exists = admin.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await?.is_some();
    if !exists {
        admin
            .batch_execute(&format!("CREATE DATABASE {name} OWNER {name}"))
            .await
            .with_context(|| format!("cannot create database {name}"))?;
    }
    // No other domain's role may even connect.
    admin
        .batch_execute(&format!(
            "REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {name}"
        ))
        .await?;
    Ok(())
}

/// Drops what `provision` made for `prefix`; used by tests and `eventos drop`.
pub async fn drop_all(manifest: &Manifest, admin_url: &str, prefix: &str) -> Result<()> {
    let admin = connect(admin_url).await?;
    for (domain, _) in domains_with_databases(manifest) {
        let name = format!("{prefix}_{domain}");
        if is_identifier(&name) {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
            admin.batch_execute(&format!("DROP ROLE IF EXISTS {name}")).await?;
        }
    }
    Ok(())
}

fn server_address(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn new_password() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub fn is_identifier(name: &str) -> bool {
    crate::capabilities::variables::is_variable_name(name) && name.len() <= 63
}

/// The default database prefix, and the one the README's commands use.
pub const DEFAULT_PREFIX: &str = "eventos";
