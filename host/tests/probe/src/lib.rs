//! A guest for host tests: each route exercises one host behaviour.
//!
//! - `/probe/echo`         the request's headers, as JSON
//! - `/probe/var?name=`    a Spin variable, or 404 with the host's error
//! - `/probe/pg?address=`  opens a Postgres connection: 200 `connected` or 502 with the error
//! - `/probe/pg-hold?address=&ms=` holds a Postgres connection that long (to exhaust a pool)
//! - `/probe/trap`         panics (the host must answer 500 and carry on)
//! - `/probe/spin`         loops forever (the host's deadline must end it)
//! - `/probe/get?url=`     an outbound GET, answering the peer's status and body
//! - `/probe/alloc?mb=`    allocates and touches that many MiB (the host's memory limit must stop it)
//! - `/probe/sleep?ms=`    holds its instance that long (to fill the host's instance cap), then logs it
//! - `/probe/big?kb=`      answers that many KiB of a known pattern (streamed after the response is set)
//! - `/probe/leak?address=&what=` leaves something on its connection: an open
//!   transaction (`tx`), a failed one (`failed`), a setting (`set`, `set_config`,
//!   `commented`), an advisory lock (`lock`), a temporary table (`temp`)
//! - `/probe/session?address=` reports the session state and transaction status it finds
//! - `/probe/pg-types?address=` binds and reads every common type (see `pg_types.rs`)
//! - `/probe/build`        its build stamp (see [`BUILD_STAMP`])

mod pg_types;

use spin_sdk::http::{Method, Request, Response, send};
use spin_sdk::{http_component, pg4, variables};

/// What `/probe/build` answers. The swap test makes builds of its own by writing
/// a number over the zeros in copies of this wasm: builds that differ only there.
static BUILD_STAMP: [u8; 32] = *b"eventos-probe-build:000000000000";

#[http_component]
async fn handle(request: Request) -> Response {
    let query = parse_query(request.query());
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    match request.path() {
        "/probe/echo" => {
            let headers: serde_json::Map<String, serde_json::Value> =
                request.headers().map(|(k, v)| (k.to_owned(), v.as_str().unwrap_or_default().into())).collect();
            text(200, serde_json::Value::Object(headers).to_string())
        }
        "/probe/var" => match variables::get(&param("name")) {
            Ok(value) => text(200, value),
            Err(e) => text(404, format!("{e:?}")),
        },
        "/probe/pg" => match pg4::Connection::open(&param("address")) {
            Ok(conn) => match conn.query("SELECT 1", &[]) {
                Ok(_) => text(200, "connected".into()),
                Err(e) => text(502, format!("{e:?}")),
            },
            Err(e) => text(502, format!("{e:?}")),
        },
        "/probe/pg-hold" => {
            let seconds = param("ms").parse::<f64>().unwrap_or(0.0) / 1000.0;
            let held = pg4::Connection::open(&param("address"))
                .and_then(|conn| conn.execute(&format!("SELECT pg_sleep({seconds})"), &[]));
            text(if held.is_ok() { 200 } else { 502 }, format!("{held:?}"))
        }
        "/probe/pg-types" => match pg_types::report(&param("address")) {
            Ok(report) => text(200, report),
            Err(e) => text(502, format!("{e:?}")),
        },
        // Read through an opaque reference: the stamp must stay in data, not be folded into code.
        "/probe/build" => text(200, String::from_utf8_lossy(std::hint::black_box(&BUILD_STAMP)).into_owned()),
        "/probe/trap" => panic!("the probe traps on purpose"),
        "/probe/spin" => spin_forever(),
        "/probe/get" => {
            let outbound = Request::builder().method(Method::Get).uri(param("url")).build();
            match send::<_, Response>(outbound).await {
                Ok(response) => text(*response.status(), String::from_utf8_lossy(response.body()).into_owned()),
                Err(e) => text(502, format!("{e:?}")),
            }
        }
        "/probe/alloc" => {
            let bytes = param("mb").parse::<usize>().unwrap_or(0) * 1024 * 1024;
            let block = vec![1u8; bytes];
            text(200, format!("allocated {}", std::hint::black_box(block).len()))
        }
        "/probe/sleep" => {
            let ms = param("ms").parse::<u64>().unwrap_or(0);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            eprintln!("probe: slept {ms} ms");
            text(200, "slept".into())
        }
        "/probe/big" => {
            let bytes = param("kb").parse::<usize>().unwrap_or(0) * 1024;
            text(200, pattern(bytes))
        }
        "/probe/leak" => {
            let leaked = pg4::Connection::open(&param("address")).and_then(|conn| match param("what").as_str() {
                "tx" => conn.execute("BEGIN", &[]).and_then(|_| conn.execute("SELECT txid_current()", &[])),
                "failed" => conn.execute("BEGIN", &[]).map(|_| {
                    let _ = conn.execute("SELECT 1/0", &[]);
                    0
                }),
                "set" => conn.execute("SET application_name = 'leaked'", &[]),
                "set_config" => conn.execute("SELECT set_config('application_name', 'leaked', false)", &[]),
                "commented" => conn.execute("/* why */ SET application_name = 'leaked'", &[]),
                "lock" => conn.execute("SELECT pg_advisory_lock(42)", &[]),
                "temp" => conn.execute("CREATE TEMP TABLE leaked (x int)", &[]),
                "select_into_temp" => conn.execute("SELECT 1 AS x INTO TEMP leaked", &[]),
                "savepoint" => ["BEGIN", "SAVEPOINT s", "SELECT txid_current()"]
                    .iter()
                    .try_fold(0, |_, sql| conn.execute(sql, &[])),
                "chain" => ["BEGIN", "SELECT txid_current()", "COMMIT AND CHAIN", "SELECT txid_current()"]
                    .iter()
                    .try_fold(0, |_, sql| conn.execute(sql, &[])),
                other => panic!("no such leak: {other}"),
            });
            text(if leaked.is_ok() { 200 } else { 502 }, format!("{leaked:?}"))
        }
        "/probe/session" => {
            let found = pg4::Connection::open(&param("address")).and_then(|conn| {
                conn.query(
                    "SELECT current_setting('application_name') AS name,
                            txid_current_if_assigned() IS NULL AS fresh_transaction,
                            (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())
                              + (SELECT count(*) FROM pg_class WHERE relname = 'leaked' AND relnamespace = pg_my_temp_schema()) AS held",
                    &[],
                )
            });
            match found {
                Ok(rows) => {
                    let row = rows.rows().next();
                    let name: String = row.as_ref().and_then(|r| r.get("name")).unwrap_or_default();
                    let fresh: bool = row.as_ref().and_then(|r| r.get("fresh_transaction")).unwrap_or(false);
                    let held: i64 = row.as_ref().and_then(|r| r.get("held")).unwrap_or(-1);
                    text(200, format!("name={name} fresh_transaction={fresh} held={held}"))
                }
                Err(e) => text(502, format!("{e:?}")),
            }
        }
        _ => text(404, "no such probe".into()),
    }
}

fn text(status: u16, body: String) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body).build()
}

/// `0123456789` repeated: a body whose every byte can be checked.
fn pattern(len: usize) -> String {
    (0..len).map(|i| char::from(b'0' + (i % 10) as u8)).collect()
}

#[allow(clippy::empty_loop)]
fn spin_forever() -> Response {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok()))
            .flatten();
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
