//! `spin:postgres/postgres@4.0.0` as Spin 3.6.3 serves it: the probe binds every
//! kind of parameter to every common column type and reads every common column
//! type, and the report must equal, line for line, the one real Spin 3.6.3 gave
//! (`fixtures/pg-types.txt`), on whichever runtime runs this test.

use crate::support::{Platform, admin_address, admin_url, encode, workspace};

#[test]
fn parameters_bind_and_columns_decode_exactly_as_on_spin() {
    let probe = Platform::start_with(
        &workspace().join("host/tests/fixtures/probe.toml"),
        "pgtypes",
        &[("SPIN_VARIABLE_PROBE_DB_HOST", &admin_address())],
    );
    let reply = probe.get(&format!("/probe/pg-types?address={}", encode(&admin_url())));
    reply.assert_status(200);
    let expected = include_str!("../fixtures/pg-types.txt");
    let different: Vec<String> = expected
        .lines()
        .zip(reply.text.lines())
        .filter(|(spin, here)| spin != here)
        .map(|(spin, here)| format!("Spin: {spin}\nhere: {here}"))
        .collect();
    assert!(different.is_empty(), "{} line(s) differ from Spin's:\n{}", different.len(), different.join("\n"));
    assert_eq!(reply.text.lines().count(), expected.lines().count(), "the report has as many lines as Spin's");
    assert!(expected.contains("as timestamptz: query-failed text"), "the table covers Spin's strictness");
}
