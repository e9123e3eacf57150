//! The journal and the webhook tables are one design every domain shares, kept
//! once in `components/common/schema/` (`journal.sql`, `webhooks.sql`). Each
//! domain's migrations, applied for real, must make what that source makes:
//! the same columns (types, nullability, defaults), indexes and checks,
//! whatever order or spelling its migrations used. Users keep the journal
//! without webhooks and without the per-event index (nothing of users belongs
//! to an event).

use std::path::PathBuf;

use crate::support::{admin_query, unique_prefix, workspace};

const JOURNAL: &[&str] = &["journal"];
const WEBHOOKS: &[&str] = &["journal", "webhook_endpoints", "webhook_deliveries", "webhook_attempts"];

/// A database of its own, dropped when the test ends, however it ends.
struct Scratch(String);

impl Scratch {
    fn new(tag: &str) -> Self {
        let name = unique_prefix(tag);
        admin_query("postgres", &format!("CREATE DATABASE {name}")).expect("create a scratch database");
        Scratch(name)
    }

    fn run(&self, sql: &str) {
        if let Err(e) = admin_query(&self.0, sql) {
            panic!("{}: {e}\n{sql}", self.0);
        }
    }

    /// The tables as the catalog describes them: one line per column, index
    /// (its name left out) and check, sorted.
    fn shape(&self, tables: &[&str]) -> Vec<String> {
        let list = tables.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default)
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ({list})
             UNION ALL
             SELECT 'index ' || regexp_replace(pg_get_indexdef(i.indexrelid), 'INDEX \\S+ ON', 'INDEX ON')
               FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname IN ({list})
             UNION ALL
             SELECT format('check %s %s', conrelid::regclass, pg_get_constraintdef(oid))
               FROM pg_constraint WHERE contype IN ('c', 'f') AND conrelid::regclass::text IN ({list})
             ORDER BY 1"
        );
        admin_query(&self.0, &sql).expect("the catalog")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = admin_query("postgres", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A domain's database as its own migrations leave it.
fn migrated(domain: &str) -> Scratch {
    let dir = workspace().join("components").join(domain).join("migrations");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("migrations").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let database = Scratch::new(&format!("schema_{domain}"));
    for file in files {
        database.run(&read(file));
    }
    database
}

/// What the shared source makes: the journal, then the webhooks if asked.
fn from_source(with_webhooks: bool, then: &str) -> Scratch {
    let schema = workspace().join("components/common/schema");
    let database = Scratch::new("schema_source");
    database.run(&read(schema.join("journal.sql")));
    if with_webhooks {
        database.run(&read(schema.join("webhooks.sql")));
    }
    database.run(then);
    database
}

#[test]
fn every_domain_keeps_the_journal_and_webhooks_the_shared_source_makes() {
    let source = from_source(true, "SELECT 1").shape(WEBHOOKS);
    assert!(source.iter().any(|l| l.starts_with("column webhook_deliveries.next_attempt_at")), "{source:#?}");
    for domain in ["events", "participation", "tickets"] {
        assert_eq!(migrated(domain).shape(WEBHOOKS), source, "{domain} drifted from components/common/schema/");
    }
}

#[test]
fn the_users_journal_is_the_shared_one_without_webhooks_or_events() {
    let source = from_source(false, "DROP INDEX journal_event_created_at_id").shape(JOURNAL);
    assert!(source.iter().any(|l| l.starts_with("column journal.actor")), "{source:#?}");
    assert_eq!(migrated("users").shape(JOURNAL), source, "users drifted from components/common/schema/journal.sql");
}

#[test]
fn a_drifted_table_is_told_apart() {
    let source = from_source(true, "SELECT 1");
    let drifted = from_source(true, "ALTER TABLE webhook_endpoints ALTER COLUMN url DROP NOT NULL");
    assert_ne!(source.shape(WEBHOOKS), drifted.shape(WEBHOOKS));
    let reindexed =
        from_source(true, "DROP INDEX journal_seq; ALTER TABLE journal ADD CONSTRAINT journal_seq UNIQUE (seq)");
    assert_eq!(source.shape(WEBHOOKS), reindexed.shape(WEBHOOKS), "a unique constraint is a unique index");
}
