//! `migrate`, `drop` and `postgres`: the databases without serving, and the
//! provisioning `up` shares.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::AppArgs;
use crate::app::manifest::Manifest;
use crate::ops::{dev_auth, migrate, private_cluster, provision};

#[derive(Debug, Args)]
pub struct Migrate {
    #[command(flatten)]
    app: AppArgs,
    /// Print `export SPIN_VARIABLE_...` lines that point `spin up` at the
    /// databases just provisioned: eval "$(eventos migrate --print-env)"
    #[arg(long)]
    pub print_env: bool,
    /// Touch no database: write each domain's migration program, what the
    /// Kubernetes Job runs with psql, into DIR as <domain>.sql
    #[arg(long, value_name = "DIR", conflicts_with = "print_env")]
    job_sql: Option<PathBuf>,
}

impl Migrate {
    pub async fn run(self) -> Result<()> {
        let manifest = self.app.load()?;
        if let Some(dir) = &self.job_sql {
            return write_job_sql(&manifest, dir);
        }
        let admin_url = provision::admin_url(&manifest).await?;
        let provided = provision_and_migrate(&manifest, &admin_url, &self.app.prefix).await?;
        if self.print_env {
            print_spin_env(&provided);
        }
        Ok(())
    }
}

/// Each domain's migration program, as the Kubernetes Job runs it with psql.
fn write_job_sql(manifest: &Manifest, dir: &std::path::Path) -> Result<()> {
    for (domain, migrations) in provision::domains_with_databases(manifest) {
        let program = migrate::program_text(&domain, &migrate::read_migrations(&migrations)?)?;
        let file = dir.join(format!("{domain}.sql"));
        std::fs::write(&file, program).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(())
}

/// A database and role per domain under `prefix`, migrated: the variables that
/// reach them, with the development key's.
pub async fn provision_and_migrate(
    manifest: &Manifest,
    admin_url: &str,
    prefix: &str,
) -> Result<HashMap<String, String>> {
    let databases = provision::provision(manifest, admin_url, prefix).await?;
    let reports =
        futures_util::future::try_join_all(databases.iter().map(|db| migrate::migrate(&db.url, &db.migrations)));
    for (db, report) in databases.iter().zip(reports.await?) {
        tracing::info!(
            "{}: {} migration(s) applied, {} already applied",
            db.database,
            report.applied.len(),
            report.already_applied
        );
    }
    let mut provided = provision::database_variables(&databases);
    provided.extend(dev_auth::variables(&manifest.dir)?);
    Ok(provided)
}

/// The provisioned databases as Spin reads variables from the environment, for a shell's `eval`.
fn print_spin_env(values: &HashMap<String, String>) {
    let mut names: Vec<&String> = values.keys().collect();
    names.sort();
    for name in names {
        // Names are lower_snake_case; values are URLs, addresses and a JWKS: no single quote inside.
        println!("export SPIN_VARIABLE_{}='{}'", name.to_ascii_uppercase(), values[name]);
    }
}

#[derive(Debug, Args)]
pub struct Drop {
    #[command(flatten)]
    app: AppArgs,
}

impl Drop {
    pub async fn run(self) -> Result<()> {
        let manifest = self.app.load()?;
        let admin_url = provision::admin_url(&manifest).await?;
        provision::drop_all(&manifest, &admin_url, &self.app.prefix).await
    }
}

#[derive(Debug, Args)]
pub struct Postgres {
    #[command(flatten)]
    app: AppArgs,
}

impl Postgres {
    pub async fn run(self) -> Result<()> {
        let manifest = self.app.load()?;
        println!("{}", private_cluster::start(&manifest.dir.join(private_cluster::DIR)).await?);
        Ok(())
    }
}
