//! Forward-only SQL migrations with a checksummed ledger.
//!
//! `components/<domain>/migrations/NNNN_name.sql` are applied in order, each in
//! its own transaction together with its ledger row; a file changed after it was
//! applied is refused. There is one runner: the domain's migration *program*, SQL
//! statements rendered here from the files. `eventos migrate` sends them one by
//! one; the Kubernetes Job runs the very same text with `psql -f` (written by
//! `eventos migrate --job-sql`), so the ledger, the lock and the checks are
//! written once, in this file.

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

/// Serialises concurrent migrators of one database (two hosts starting at once,
/// a Job beside a host): every step of the program takes it first.
const LOCK_KEY: i64 = 0x0065_7665_6e74_6f73;

/// The dollar-quote tags the program wraps code and migrations in; a migration
/// holding one is refused rather than cut short.
const CODE_TAG: &str = "$eventos$";
const FILE_TAG: &str = "$eventos_migration$";

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

/// The statements that migrate a database to `migrations`, each its own
/// transaction: create the ledger, refuse a database that holds a migration
/// whose file is gone, then per file apply it with its ledger row, skip it when
/// applied with the same checksum, or stop when its checksum differs.
pub fn program(migrations: &[Migration]) -> Result<Vec<String>> {
    let versions: Vec<String> = migrations.iter().map(|m| format!("'{}'", m.version)).collect();
    let mut statements = vec![
        locked(
            "",
            "CREATE TABLE IF NOT EXISTS eventos_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  );",
        ),
        locked(
            "gone text;",
            &format!(
                "SELECT string_agg(version, ', ') INTO gone FROM eventos_migrations
    WHERE version <> ALL (ARRAY[{}]::text[]);
  IF gone IS NOT NULL THEN
    RAISE EXCEPTION 'migration % was applied but its file is gone; migrations are never deleted', gone;
  END IF;",
                versions.join(", ")
            ),
        ),
    ];
    for migration in migrations {
        statements.push(apply_one(migration)?);
    }
    Ok(statements)
}

fn apply_one(migration: &Migration) -> Result<String> {
    let Migration { version, name, sql, checksum } = migration;
    if sql.contains(CODE_TAG) || sql.contains(FILE_TAG) {
        bail!("migration {version}_{name} holds {CODE_TAG} or {FILE_TAG}, which the migration program quotes with");
    }
    Ok(locked(
        "recorded text;",
        &format!(
            "SELECT checksum INTO recorded FROM eventos_migrations WHERE version = '{version}';
  IF recorded IS NULL THEN
    EXECUTE {FILE_TAG}{sql}{FILE_TAG};
    INSERT INTO eventos_migrations (version, name, checksum) VALUES ('{version}', '{name}', '{checksum}');
    RAISE NOTICE 'migrate: applied {version}_{name}';
  ELSIF recorded <> '{checksum}' THEN
    RAISE EXCEPTION 'migration {version}_{name} was changed after it was applied; add a new migration instead of editing it';
  END IF;"
        ),
    ))
}

/// One step of the program: `body` run under the migration lock, in its own transaction.
fn locked(declare: &str, body: &str) -> String {
    let declare = if declare.is_empty() { String::new() } else { format!("DECLARE\n  {declare}\n") };
    format!("DO {CODE_TAG}\n{declare}BEGIN\n  PERFORM pg_advisory_xact_lock({LOCK_KEY});\n  {body}\nEND\n{CODE_TAG}")
}

/// The program as one file, for `psql -f`.
pub fn program_text(domain: &str, migrations: &[Migration]) -> Result<String> {
    let newest = migrations.last().map_or("none", |m| m.version.as_str());
    let header = format!(
        "-- The migration program of the {domain} domain (newest migration: {newest}), rendered by\n\
         -- `eventos migrate --job-sql` from components/{domain}/migrations/: do not edit.\n\
         -- Run with: psql -X -q -v ON_ERROR_STOP=1 -d <database URL> -f {domain}.sql\n\n"
    );
    Ok(format!("{header}{};\n", program(migrations)?.join(";\n\n")))
}

/// Applies what is new in `dir` to the database at `url`, by running the program.
pub async fn migrate(url: &str, dir: &Path) -> Result<Report> {
    let migrations = read_migrations(dir)?;
    let program = program(&migrations)?;
    let client = connect(url).await.with_context(|| format!("cannot connect to migrate {}", dir.display()))?;
    let before = ledger(&client).await?;
    for statement in &program {
        client
            .batch_execute(statement)
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::capabilities::postgres::error_text(&e)))
            .with_context(|| format!("migrations in {}", dir.display()))?;
    }
    let after = ledger(&client).await?;
    let applied = migrations
        .iter()
        .filter(|m| after.contains(&m.version) && !before.contains(&m.version))
        .map(|m| format!("{}_{}", m.version, m.name))
        .collect();
    Ok(Report { applied, already_applied: before.len() })
}

async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The versions the ledger holds; none before it exists.
async fn ledger(client: &Client) -> Result<Vec<String>> {
    let rows = client.query("SELECT version FROM eventos_migrations", &[]).await;
    match rows {
        Ok(rows) => Ok(rows.iter().map(|row| row.get(0)).collect()),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_sha256_hex() {
        assert_eq!(checksum(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn a_migration_holding_the_programs_quotes_is_refused() {
        for sql in ["SELECT $eventos$x$eventos$", "SELECT $eventos_migration$x$eventos_migration$"] {
            let migration =
                Migration { version: "0001".into(), name: "x".into(), checksum: checksum(sql), sql: sql.into() };
            assert!(program(&[migration]).is_err(), "{sql}");
        }
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
