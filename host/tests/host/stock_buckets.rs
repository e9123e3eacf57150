//! The tickets domain's migration from eight stock buckets per type to sixteen:
//! every type keeps its quantity and what it sold, split again as new types are.

use crate::serving::demo_with_migrations;
use crate::support::{admin_query, run_eventos, unique_prefix, workspace};

const SIXTEEN_BUCKETS: &str = "0013_sixteen_stock_buckets.sql";

/// Each type's stock as eight buckets may hold it after sales and cancellations:
/// (quantity, sold) per bucket.
const BEFORE: [(&str, &[(i32, i32)]); 3] = [
    ("a", &[(125, 125), (125, 0), (125, 60), (125, 125), (125, 3), (125, 0), (125, 0), (125, 7)]),
    ("b", &[(2, 0), (2, 2), (1, 1), (1, 0), (1, 0), (1, 0), (1, 1), (1, 0)]),
    ("c", &[(1, 1), (1, 1), (1, 1)]),
];

#[test]
fn sixteen_buckets_keep_each_types_quantity_and_sold_filling_buckets_in_order() {
    let tickets = workspace().join("components/tickets/migrations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&tickets)
        .expect("the tickets migrations")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.as_str() < SIXTEEN_BUCKETS)
        .map(|name| (name.clone(), std::fs::read_to_string(tickets.join(&name)).expect("sql")))
        .collect();
    files.sort();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(name, sql)| (name.as_str(), sql.as_str())).collect();
    let dir = demo_with_migrations("buckets", &borrowed);
    let manifest = dir.join("spin.toml");
    let manifest = manifest.to_str().expect("utf-8 path");
    let prefix = unique_prefix("buckets");
    let database = format!("{prefix}_demo");
    let migrate = || {
        let out = run_eventos(&["migrate", "--manifest", manifest, "--prefix", &prefix]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };

    migrate();
    for (name, buckets) in BEFORE {
        let quantity: i32 = buckets.iter().map(|(quantity, _)| quantity).sum();
        let rows: Vec<String> = (buckets.iter().enumerate())
            .map(|(bucket, (quantity, sold))| format!("((SELECT id FROM t), {bucket}, {quantity}, {sold})"))
            .collect();
        let sql = format!(
            "WITH t AS (INSERT INTO ticket_types (event_id, name, price_cents, currency, quantity)
                        VALUES (gen_random_uuid(), '{name}', 100, 'EUR', {quantity}) RETURNING id)
             INSERT INTO ticket_stock (ticket_type_id, bucket, quantity, sold) VALUES {}",
            rows.join(", ")
        );
        admin_query(&database, &sql).expect("stock in eight buckets");
    }
    std::fs::copy(tickets.join(SIXTEEN_BUCKETS), dir.join("components/demo/migrations").join(SIXTEEN_BUCKETS))
        .expect("the migration under test");
    migrate();

    let stock = |name: &str| {
        let sql = format!(
            "SELECT s.bucket || ':' || s.quantity || '/' || s.sold FROM ticket_stock s
             JOIN ticket_types t ON t.id = s.ticket_type_id WHERE t.name = '{name}' ORDER BY s.bucket"
        );
        admin_query(&database, &sql).expect("stock").join(" ")
    };
    // 1000 over sixteen: eight of 63 and eight of 62; the 320 sold fill 63 × 5 + 5.
    let a = "0:63/63 1:63/63 2:63/63 3:63/63 4:63/63 5:63/5 6:63/0 7:63/0 \
             8:62/0 9:62/0 10:62/0 11:62/0 12:62/0 13:62/0 14:62/0 15:62/0";
    assert_eq!(stock("a"), a);
    assert_eq!(stock("b"), "0:1/1 1:1/1 2:1/1 3:1/1 4:1/0 5:1/0 6:1/0 7:1/0 8:1/0 9:1/0");
    assert_eq!(stock("c"), "0:1/1 1:1/1 2:1/1");
    let out_of_range = admin_query(
        &database,
        "INSERT INTO ticket_stock (ticket_type_id, bucket, quantity) SELECT id, 16, 0 FROM ticket_types WHERE name = 'c'",
    );
    assert!(out_of_range.is_err_and(|e| e.contains("23514")), "a seventeenth bucket is refused");

    let dropped = run_eventos(&["drop", "--manifest", manifest, "--prefix", &prefix]);
    assert!(dropped.status.success());
    std::fs::remove_dir_all(&dir).ok();
}
