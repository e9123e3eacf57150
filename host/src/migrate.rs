//! Forward-only SQL migrations with a checksummed ledger.
//!
//! `components/<domain>/migrations/NNNN_name.sql` are applied in order, each in
//! its own transaction together with its ledger row; a file changed after it was
//! applied is refused. The Kubernetes migration Job keeps the very same ledger.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, NoTls};

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: String,
    pub name: String,
    pub sql: String,
    pub checksum: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub applied: Vec<String>,
    pub already_applied: usize,
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS eventos_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Serialises concurrent migrators of one database (two hosts starting at once).
const LOCK_KEY: i64 = 0x0065_7665_6e74_6f73;

/// Reads `dir`, sorted by version; names must be `NNNN_lower_snake.sql`.
pub fn read_migrations(dir: &Path) -> Result<Vec<Migration>> {
    let mut migrations = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read migrations in {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "sql") {
            continue;
        }
        migrations.push(read_one(&path)?);
    }
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            bail!("two migrations in {} have version {}", dir.display(), pair[0].version);
        }
    }
    Ok(migrations)
}

fn read_one(path: &PathBuf) -> Result<Migration> {
    let file_name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let (version, name) = file_name.split_once('_').unwrap_or((file_name, ""));
    let well_named = version.len() == 4
        && version.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !well_named {
        bail!("{} must be named NNNN_lower_snake_name.sql", path.display());
    }
    let sql = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Migration { version: version.to_owned(), name: name.to_owned(), checksum: checksum(&sql), sql })
}

/// SHA-256 of the file's bytes, hex: what `sha256sum` prints, so a shell script can keep the same ledger.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Applies what is new in `dir` to the database at `url`.
pub async fn migrate(url: &str, dir: &Path) -> Result<Report> {
    let migrations = read_migrations(dir)?;
    let (mut client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("cannot connect to migrate {}", dir.display()))?;
    tokio::spawn(connection);
    client.batch_execute(LEDGER).await?;
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    let outcome = apply(&mut client, &migrations).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await?;
    outcome.with_context(|| format!("migrations in {}", dir.display()))
}

async fn apply(client: &mut Client, migrations: &[Migration]) -> Result<Report> {
    let rows = client.query("SELECT version, checksum FROM eventos_migrations", &[]).await?;
    let ledger: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for (version, _) in &ledger {
        if !migrations.iter().any(|m| &m.version == version) {
            bail!("migration {version} was applied but its file is gone; migrations are never deleted");
        }
    }
    let mut report = Report::default();
    for migration in migrations {
        match ledger.iter().find(|(version, _)| version == &migration.version) {
            Some((_, recorded)) if recorded == &migration.checksum => report.already_applied += 1,
            Some(_) => bail!(
                "migration {}_{} was changed after it was applied; add a new migration instead of editing it",
                migration.version,
                migration.name
            ),
            None => {
                let tx = client.transaction().await?;
                tx.batch_execute(&migration.sql)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", crate::postgres::error_text(&e)))
                    .with_context(|| format!("migration {}_{} failed", migration.version, migration.name))?;
                tx.execute(
                    "INSERT INTO eventos_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    &[&migration.version, &migration.name, &migration.checksum],
                )
                .await?;
                tx.commit().await?;
                report.applied.push(format!("{}_{}", migration.version, migration.name));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_sha256_hex() {
        assert_eq!(checksum(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn badly_named_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("eventos-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("1_first.sql"), "SELECT 1").expect("write");
        assert!(read_migrations(&dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
