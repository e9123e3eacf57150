//! What a statement's span may say of it: the operation and the table, never
//! the text. The operation is the statement's first keyword, or for `WITH …` the
//! statement the common table expressions serve; the table is the first name
//! after FROM, INTO or UPDATE in that statement, else anywhere in it, a CTE's own
//! name aside. Only a bare identifier qualifies, so no literal or parameter shows.

use std::sync::Arc;

use crate::per_text::PerText;

const OPERATIONS: [&str; 5] = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"];
const BEFORE_A_TABLE: [&str; 3] = ["FROM", "INTO", "UPDATE"];

/// What a statement's span says of it.
pub struct Described {
    /// The span's name: `SELECT events`, or the operation alone.
    pub name: String,
    pub operation: String,
    pub table: Option<String>,
}

/// [`describe`], remembered per statement text, since every request runs the same few.
pub fn describe_cached(sql: &str) -> Arc<Described> {
    static DESCRIPTIONS: PerText<Arc<Described>> = PerText::new();
    DESCRIPTIONS.get(sql, |sql| {
        let (operation, table) = describe(sql);
        let name = table.as_ref().map_or_else(|| operation.clone(), |table| format!("{operation} {table}"));
        Arc::new(Described { name, operation, table })
    })
}

/// `("SELECT", Some("events"))` for `SELECT id FROM events WHERE …`.
pub fn describe(sql: &str) -> (String, Option<String>) {
    let words = words(sql);
    let Some((first, _)) = words.first() else { return ("statement".to_owned(), None) };
    let is = |word: &str, set: &[&str]| set.iter().any(|keyword| word.eq_ignore_ascii_case(keyword));
    let main = if first.eq_ignore_ascii_case("WITH") {
        words.iter().position(|(word, depth)| *depth == 0 && is(word, &OPERATIONS)).unwrap_or(0)
    } else {
        0
    };
    let operation = words[main].0.to_ascii_uppercase();
    // A CTE's name comes right before its `AS (`, at the top level.
    let ctes: Vec<&str> =
        words[..main].windows(2).filter(|w| w[0].1 == 0 && w[1].0.eq_ignore_ascii_case("AS")).map(|w| w[0].0).collect();
    let table_after = |from: usize, top_level_only: bool| {
        words[from..].windows(2).find_map(|w| {
            let ((keyword, depth), (name, _)) = (w[0], w[1]);
            let counts = is(keyword, &BEFORE_A_TABLE) && (!top_level_only || depth == 0);
            counts.then(|| identifier(name)).flatten().filter(|table| !ctes.contains(&table.as_str()))
        })
    };
    let table = table_after(main, true).or_else(|| table_after(0, false));
    (operation, table)
}

/// The statement's words with how deep in parentheses each is; comments
/// skipped, punctuation a separator.
fn words(sql: &str) -> Vec<(&str, usize)> {
    let mut words = Vec::new();
    let mut depth = 0usize;
    for line in sql.lines() {
        let code = line.split_once("--").map_or(line, |(code, _comment)| code);
        let mut start = None;
        for (i, c) in code.char_indices() {
            let separator = c.is_whitespace() || "(),;".contains(c);
            if separator {
                if let Some(s) = start.take() {
                    words.push((&code[s..i], depth));
                }
                match c {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            words.push((&code[s..], depth));
        }
    }
    words
}

/// A table name (possibly schema-qualified, possibly double-quoted), never a
/// keyword that opens a subquery.
fn identifier(word: &str) -> Option<String> {
    let name = word.replace('"', "");
    let is_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let is_keyword = ["SELECT", "LATERAL", "ONLY"].iter().any(|keyword| name.eq_ignore_ascii_case(keyword));
    (is_name && !is_keyword).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::{describe, describe_cached};

    #[test]
    fn the_operation_and_the_table_of_each_kind_of_statement() {
        let cases = [
            ("select id from events where id = $1 FOR UPDATE", "SELECT", Some("events")),
            (
                "INSERT INTO orders (id, buyer) VALUES ($1, $2) ON CONFLICT DO UPDATE SET x = 1",
                "INSERT",
                Some("orders"),
            ),
            ("UPDATE stock_buckets SET free = free - 1", "UPDATE", Some("stock_buckets")),
            ("DELETE FROM \"public\".\"users\" WHERE id = $1", "DELETE", Some("public.users")),
            ("SELECT count(*) FROM (SELECT 1 FROM tickets) t", "SELECT", Some("tickets")),
            ("BEGIN", "BEGIN", None),
            ("-- who asked\nSELECT now()", "SELECT", None),
        ];
        for (sql, operation, table) in cases {
            assert_eq!(describe(sql), (operation.to_owned(), table.map(str::to_owned)), "{sql}");
        }
    }

    #[test]
    fn a_with_statement_is_named_by_the_statement_its_ctes_serve() {
        let sale = "WITH stock AS (UPDATE ticket_stock SET n = n - $1 RETURNING id),
                    o AS (INSERT INTO orders (a) SELECT $2 FROM stock RETURNING id)
                    INSERT INTO tickets (code, order_id) SELECT code, o.id FROM o";
        assert_eq!(describe(sale), ("INSERT".to_owned(), Some("tickets".to_owned())));
        let read_back = "WITH t AS (INSERT INTO ticket_types (a) VALUES ($1) RETURNING *) SELECT t.id FROM t";
        assert_eq!(describe(read_back), ("SELECT".to_owned(), Some("ticket_types".to_owned())));
    }

    #[test]
    fn a_remembered_description_is_the_described_one() {
        let sql = "UPDATE ticket_stock SET sold = sold + $1 WHERE id = $2";
        for _ in 0..2 {
            let described = describe_cached(sql);
            assert_eq!((described.name.as_str(), described.operation.as_str()), ("UPDATE ticket_stock", "UPDATE"));
            assert_eq!(described.table.as_deref(), Some("ticket_stock"));
        }
        assert_eq!(describe_cached("BEGIN").name, "BEGIN", "no table: the operation alone");
    }

    #[test]
    fn no_literal_is_taken_for_a_table() {
        assert_eq!(describe("SELECT 1 FROM 'secret'"), ("SELECT".to_owned(), None));
        assert_eq!(describe("SELECT * FROM $1"), ("SELECT".to_owned(), None));
        assert_eq!(describe(""), ("statement".to_owned(), None));
    }
}
