//! What a guest's statements may leave on its session for the next request to
//! find, read from their text: a pooled connection is reset only when they may
//! have left something, since the reset is a round trip of its own (about a
//! tenth of a member's order in host CPU, and a tenth of its throughput).
//!
//! Reading is conservative: whatever is not known to leave nothing is taken to
//! leave something. Known to leave nothing are the data statements (`SELECT`,
//! `INSERT`, `UPDATE`, `DELETE`, `WITH`, `VALUES`, `TABLE`, `MERGE`) that name
//! no session setting, session-level advisory lock, temporary table or dblink,
//! a transaction's `BEGIN` and its plain `COMMIT` or `ROLLBACK`, which leave
//! nothing once both have run, and savepoints, which end with their block. What
//! a function changes from inside is not seen: a database's functions are its
//! own component's.

use crate::per_text::PerText;

/// What one statement does to the session, as far as its text tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing that outlives it.
    Nothing,
    /// Opens a transaction block, which must be closed before the connection is handed on.
    OpensBlock,
    /// Closes the open transaction block, and nothing else.
    ClosesBlock,
    /// Possibly a setting, a lock, a cursor, a listener or a temporary object.
    MayLeaveSomething,
}

/// Words in a data statement that may leave session state behind: settings,
/// session-level advisory locks (`pg_advisory_xact_lock` is released at commit
/// and does not match), connections to elsewhere.
const SESSION_CALLS: [&str; 3] = ["set_config", "advisory_lock", "dblink"];
/// Whole words in a data statement that create a temporary table (`SELECT … INTO TEMP`).
const TEMPORARY: [&str; 2] = ["temp", "temporary"];

/// The statements that only read and write rows.
const DATA: [&str; 8] = ["select", "insert", "update", "delete", "with", "values", "table", "merge"];

/// [`effect`], worked out once per text.
pub fn effect_cached(sql: &str) -> Effect {
    static EFFECTS: PerText<Effect> = PerText::new();
    EFFECTS.get(sql, effect)
}

/// Reads `sql`, one statement, for what it may leave on the session.
pub fn effect(sql: &str) -> Effect {
    let text = sql.to_ascii_lowercase();
    let statement: Vec<&str> = uncommented(&text).into_iter().flat_map(words).collect();
    match statement.as_slice() {
        [first, ..] if DATA.contains(first) => {
            // The whole text, comments too: a quoted `--` or `/*` hides nothing.
            let leaves = SESSION_CALLS.iter().any(|call| text.contains(call))
                || words(&text).any(|word| TEMPORARY.contains(&word));
            if leaves { Effect::MayLeaveSomething } else { Effect::Nothing }
        }
        ["begin", ..] | ["start", "transaction", ..] => Effect::OpensBlock,
        // A savepoint lives inside its block and ends with it (outside one, it fails).
        ["savepoint" | "release", ..] => Effect::Nothing,
        ["rollback", rest @ ..] if rest.contains(&"to") => Effect::Nothing,
        // `COMMIT AND CHAIN`, `COMMIT PREPARED` and the like keep a block open
        // or act on another: only the plain forms close.
        ["commit" | "rollback" | "end" | "abort"]
        | ["commit" | "rollback" | "end" | "abort", "work" | "transaction"] => Effect::ClosesBlock,
        _ => Effect::MayLeaveSomething,
    }
}

/// Whether `sql` is a `BEGIN` with nothing that could make it fail on a
/// session in no block: `BEGIN`, `BEGIN WORK`, `BEGIN TRANSACTION` or `START TRANSACTION`.
pub fn is_plain_begin(sql: &str) -> bool {
    let text = sql.trim().trim_end_matches(';').to_ascii_lowercase();
    let statement: Vec<&str> = text.split_ascii_whitespace().collect();
    matches!(statement.as_slice(), ["begin"] | ["begin", "work" | "transaction"] | ["start", "transaction"])
}

/// Runs of letters, digits and `_`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| !word.is_empty())
}

/// The parts of `text` outside `-- line` and `/* block */` comments (which nest in PostgreSQL).
fn uncommented(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (bytes, mut at, mut start, mut depth) = (text.as_bytes(), 0, 0, 0usize);
    while at < bytes.len() {
        let pair = (bytes[at], bytes.get(at + 1).copied());
        match pair {
            (b'/', Some(b'*')) => {
                if depth == 0 {
                    parts.push(&text[start..at]);
                }
                depth += 1;
                at += 2;
            }
            (b'*', Some(b'/')) if depth > 0 => {
                depth -= 1;
                at += 2;
                start = at;
            }
            (b'-', Some(b'-')) if depth == 0 => {
                parts.push(&text[start..at]);
                at = text[at..].find('\n').map_or(bytes.len(), |end| at + end);
                start = at;
            }
            _ => at += 1,
        }
    }
    if depth == 0 {
        parts.push(&text[start..]);
    }
    parts
}

/// A connection's session as its guest's statements left it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// A statement may have left something, or one failed (its block may be aborted).
    may_hold: bool,
    /// A transaction block is open.
    in_block: bool,
}

impl Session {
    /// Notes a statement that ran, and whether it succeeded.
    pub fn ran(&mut self, sql: &str, succeeded: bool) {
        match effect_cached(sql) {
            Effect::Nothing => {}
            Effect::OpensBlock => self.in_block = true,
            Effect::ClosesBlock => self.in_block = false,
            Effect::MayLeaveSomething => self.may_hold = true,
        }
        self.may_hold |= !succeeded;
    }

    /// The block the last statement opened was never opened on the server.
    pub fn never_began(&mut self) {
        self.in_block = false;
    }

    /// Whether the connection must be reset before another request may have it.
    pub fn needs_reset(&self) -> bool {
        self.may_hold || self.in_block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_statements_leave_nothing() {
        for sql in [
            "SELECT id FROM events WHERE id = $1",
            "  select pg_advisory_xact_lock(hashtextextended($1::text, 0))",
            "WITH stock AS (UPDATE ticket_stock SET sold = sold + 1 RETURNING 1) SELECT count(*) FROM stock",
            "INSERT INTO journal (kind) VALUES ($1)",
            "UPDATE registrations SET status = $2 WHERE id = $1",
            "DELETE FROM holds WHERE expires_at < now()",
            "/* a comment */ SELECT 1",
            "-- a line\nSELECT 'attempts', 'template'",
            "SAVEPOINT take_stock",
            "ROLLBACK TO SAVEPOINT take_stock",
            "rollback work to s",
            "RELEASE SAVEPOINT take_stock",
        ] {
            assert_eq!(effect(sql), Effect::Nothing, "{sql}");
        }
    }

    #[test]
    fn anything_that_may_outlive_the_statement_is_seen() {
        for sql in [
            "SET application_name = 'x'",
            "/* why */ SET application_name = 'x'",
            "/* nested /* comment */ still */ SET search_path = x",
            "-- SELECT\nSET x = 1",
            "SELECT set_config('application_name', 'x', false)",
            "SELECT pg_catalog.set_config('a.b', 'x', false)",
            "SELECT pg_advisory_lock(42)",
            "SELECT pg_try_advisory_lock_shared(42)",
            "SELECT 1 AS x INTO TEMP leaked",
            "SELECT 1 AS x INTO TEMPORARY TABLE leaked",
            "SELECT '/*' AS x INTO TEMP leaked",
            "CREATE TEMP TABLE leaked (x int)",
            "LISTEN channel",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "PREPARE p AS SELECT 1",
            "COMMIT AND CHAIN",
            "ROLLBACK AND CHAIN",
            "COMMIT PREPARED 'x'",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CALL procedure()",
            "",
            "/* only a comment */",
        ] {
            assert_eq!(effect(sql), Effect::MayLeaveSomething, "{sql}");
        }
    }

    #[test]
    fn a_block_is_opened_and_closed_by_its_plain_statements() {
        for sql in ["BEGIN", "begin isolation level serializable", "START TRANSACTION", "BEGIN WORK"] {
            assert_eq!(effect(sql), Effect::OpensBlock, "{sql}");
        }
        for sql in ["COMMIT", "ROLLBACK", "commit work", "END TRANSACTION", "ABORT"] {
            assert_eq!(effect(sql), Effect::ClosesBlock, "{sql}");
        }
    }

    #[test]
    fn only_a_begin_that_cannot_fail_on_its_own_is_plain() {
        for sql in ["BEGIN", "begin;", " BEGIN WORK ", "Begin Transaction", "START TRANSACTION"] {
            assert!(is_plain_begin(sql), "{sql}");
        }
        for sql in ["BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN; SELECT 1", "START", "COMMIT", "/* x */ BEGIN"] {
            assert!(!is_plain_begin(sql), "{sql}");
        }
    }

    #[test]
    fn a_session_needs_a_reset_when_a_block_stays_open_or_anything_may_be_left() {
        let ran = |statements: &[(&str, bool)]| {
            let mut session = Session::default();
            for (sql, succeeded) in statements {
                session.ran(sql, *succeeded);
            }
            session.needs_reset()
        };
        assert!(!ran(&[("SELECT 1", true)]));
        assert!(!ran(&[("BEGIN", true), ("UPDATE t SET x = 1", true), ("COMMIT", true)]));
        assert!(ran(&[("BEGIN", true), ("SELECT txid_current()", true)]), "an open block");
        assert!(ran(&[("BEGIN", true), ("SELECT 1/0", false), ("COMMIT", true)]), "a statement failed");
        assert!(ran(&[("SELECT 1", true), ("SET x = 1", true), ("SELECT 2", true)]), "a setting");
    }
}
