//! The waiting room of an on-sale: ten thousand visitors, some before the
//! on-sale and most after, none admitted out of order, admissions at the set
//! rate, a draw anyone can recompute, and a pass nobody else can use.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::people::crowd;
use crate::support::world::{self, id};
use crate::support::{APP, Reply, admin_query, workspace};

const RATE_PER_MINUTE: i64 = 6000;
const EARLY_SHARE: usize = 10;
const JOINING_THREADS: usize = 8;

fn visitors() -> usize {
    std::env::var("EVENTOS_ROOM_VISITORS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000)
}

fn room_path(event: &Value) -> String {
    format!("/api/tickets/events/{}/waiting-room", id(event))
}

fn rfc3339_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Every token joins the room, spread over a few threads; each answer in token order.
fn join_all(event: &Value, tokens: &[String]) -> Vec<Value> {
    let path = format!("{}/visitors", room_path(event));
    let chunk = tokens.len().div_ceil(JOINING_THREADS).max(1);
    thread::scope(|scope| {
        let workers: Vec<_> = tokens
            .chunks(chunk)
            .map(|tokens| {
                let path = &path;
                scope.spawn(move || {
                    tokens
                        .iter()
                        .map(|token| {
                            let joined = APP.with_token(token).send("POST", path, &[], None);
                            assert!(matches!(joined.status, 200 | 201), "{joined:#?}");
                            joined.body
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a joining thread")).collect()
    })
}

fn place(event: &Value, token: &str) -> Value {
    let me = APP.with_token(token).get(&format!("{}/visitors/me", room_path(event)));
    me.assert_status(200);
    me.body
}

fn buy(ticket_type: &Value, token: &str, quantity: i64, pass: Option<&str>) -> Reply {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(pass) = pass {
        headers.push(("waiting-room-pass", pass));
    }
    let body = json!({"ticket_type_id": ticket_type["id"], "quantity": quantity}).to_string().into_bytes();
    APP.with_token(token).send("POST", "/api/tickets/orders", &headers, Some(body))
}

/// The room's places as the database holds them, by position: (position, early, admit_at in µs, joined_at in µs).
fn places_in_the_database(event: &Value) -> Vec<(i64, bool, i64, i64)> {
    let sql = format!(
        "SELECT position || ',' || early || ',' || (extract(epoch FROM admit_at) * 1000000)::bigint
                || ',' || (extract(epoch FROM joined_at) * 1000000)::bigint
         FROM room_visitors WHERE event_id = '{}' ORDER BY position",
        id(event)
    );
    let rows = admin_query(&format!("{}_tickets", APP.prefix), &sql).expect("the room's places");
    rows.iter()
        .map(|row| {
            let fields: Vec<&str> = row.split(',').collect();
            (fields[0].parse().unwrap(), fields[1] == "true", fields[2].parse().unwrap(), fields[3].parse().unwrap())
        })
        .collect()
}

#[test]
fn ten_thousand_visitors_are_admitted_in_order_at_the_rate_and_the_draw_is_recomputed() {
    let total = visitors();
    let event = world::published_event(&APP, 100_000);
    let ticket_type = world::ticket_type(&APP, &event, 1000);
    let settings = |on_sale: String| json!({"on_sale_at": on_sale, "admissions_per_minute": RATE_PER_MINUTE, "per_buyer_limit": 2, "pass_seconds": 600});
    let made = APP.json("PUT", &room_path(&event), &settings(rfc3339_in(3600)));
    made.assert_status(201);
    let commitment = made.body["seed_sha256"].as_str().expect("a commitment").to_owned();
    assert!(made.body["seed"].is_null(), "the seed stays secret until the draw");

    let tokens = crowd(total);
    let (early_tokens, late_tokens) = tokens.split_at(total / EARLY_SHARE);
    let early = join_all(&event, early_tokens);
    assert!(early.iter().all(|p| p["early"] == true && p["position"].is_null() && p["status"] == "waiting"));
    let draw_path = format!("{}/draw", room_path(&event));
    APP.anonymous().get(&draw_path).assert_problem(409, "waiting-room-not-drawn");
    buy(&ticket_type, &early_tokens[0], 1, None).assert_problem(403, "waiting-room-pass-required");

    // The on-sale two seconds from now, then everyone else, some twice (a retry, another tab).
    APP.json("PUT", &room_path(&event), &settings(rfc3339_in(2))).assert_status(200);
    thread::sleep(Duration::from_millis(2500));
    let late = join_all(&event, late_tokens);
    let retried = join_all(&event, &late_tokens[..late_tokens.len().min(200)]);
    assert_eq!(
        retried.iter().map(|p| &p["visitor_id"]).collect::<Vec<_>>(),
        late[..retried.len()].iter().map(|p| &p["visitor_id"]).collect::<Vec<_>>(),
        "joining again finds the same place"
    );
    assert!(late.iter().all(|p| p["early"] == false && p["position"].as_i64() > Some(early.len() as i64)));

    // The draw: the seed hashes to the commitment, and the shipped verifier recomputes the order.
    let drawn = APP.anonymous().get(&draw_path);
    drawn.assert_status(200);
    assert_eq!(drawn.body["seed_sha256"], commitment.as_str());
    let verifier = Command::new("python3")
        .arg(workspace().join("scripts/verify-draw.py"))
        .args([
            &APP.base,
            id(&event),
            "--commitment",
            &commitment,
            "--visitor",
            early[0]["visitor_id"].as_str().unwrap(),
        ])
        .output()
        .expect("run the verifier");
    let said = String::from_utf8_lossy(&verifier.stdout);
    assert!(verifier.status.success(), "{said}{}", String::from_utf8_lossy(&verifier.stderr));
    assert!(said.contains(&format!("the draw holds: {} early visitors", early.len())), "{said}");
    let first_early = place(&event, &early_tokens[0]);
    let drawn_order: Vec<&str> =
        drawn.body["visitors"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let expected_place =
        drawn_order.iter().position(|v| *v == first_early["visitor_id"].as_str().unwrap()).unwrap() + 1;
    assert_eq!(first_early["position"].as_i64(), Some(expected_place as i64));

    // In the database: one place each, 1..N, early ones first, admissions in place order at the rate.
    let places = places_in_the_database(&event);
    assert_eq!(places.len(), total);
    assert!(places.iter().enumerate().all(|(i, p)| p.0 == i as i64 + 1), "positions are 1..N without gaps");
    assert!(places[..early.len()].iter().all(|p| p.1) && places[early.len()..].iter().all(|p| !p.1));
    let spacing_us = 60_000_000 / RATE_PER_MINUTE;
    assert!(
        places.windows(2).all(|w| w[1].2 - w[0].2 >= spacing_us - 1),
        "never two admissions closer than the rate allows"
    );
    assert!(places[early.len()..].windows(2).all(|w| w[1].3 >= w[0].3), "late visitors in the order they came");
    let span_s = (places[total - 1].2 - places[0].2) as f64 / 1e6;
    let measured = (total - 1) as f64 * 60.0 / span_s;
    assert!(
        (measured - RATE_PER_MINUTE as f64).abs() <= RATE_PER_MINUTE as f64 * 0.05,
        "{measured:.0} admissions a minute"
    );

    // Admission in practice: the first place holds a pass and buys within its limit; the last waits.
    let drawn_first = early.iter().position(|p| p["visitor_id"] == drawn_order[0]).expect("drawn among the early");
    let first_token = &early_tokens[drawn_first];
    let first = wait_until_admitted(&event, first_token);
    let pass = first["pass"].as_str().expect("a pass").to_owned();
    let last = place(&event, late_tokens.last().unwrap());
    assert_eq!((last["status"].as_str(), last["pass"].as_str()), (Some("waiting"), None));
    assert!(last["wait_seconds"].as_i64() > Some(10), "{last}");
    let stranger = late_tokens.last().unwrap();
    let refused = buy(&ticket_type, stranger, 1, Some(&pass));
    refused.assert_problem(403, "waiting-room-pass-refused");
    assert_eq!(refused.body["reason"], "not-yours");
    let forged = format!("{}{}", &pass[..pass.len() - 2], if pass.ends_with("AA") { "BB" } else { "AA" });
    assert_eq!(buy(&ticket_type, first_token, 1, Some(&forged)).body["reason"], "forged");
    buy(&ticket_type, first_token, 2, Some(&pass)).assert_status(201);
    buy(&ticket_type, first_token, 1, Some(&pass)).assert_problem(409, "buyer-limit-reached");

    APP.post(&format!("{}/close", room_path(&event)), &json!({})).assert_status(200);
    buy(&ticket_type, stranger, 1, None).assert_status(201);
}

fn wait_until_admitted(event: &Value, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let place = place(event, token);
        if place["status"] == "admitted" {
            return place;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never admitted: {place}");
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_room_is_its_organizers_to_run_and_a_drawn_on_sale_stays_put() {
    let event = world::published_event(&APP, 100);
    let path = room_path(&event);
    APP.anonymous().get(&path).assert_problem(404, "not-found");
    let body = json!({"on_sale_at": rfc3339_in(1), "admissions_per_minute": 60});
    let member = crate::support::people::Person::new(&[]);
    member.client().json("PUT", &path, &body).assert_problem(403, "forbidden");
    crate::support::people::Person::new(&["organizer"])
        .client()
        .json("PUT", &path, &body)
        .assert_problem(403, "forbidden");
    let invalid = APP.json("PUT", &path, &json!({"admissions_per_minute": 0, "pass_seconds": 5}));
    invalid.assert_problem(422, "validation-failed");
    assert_eq!(invalid.error_fields(), ["on_sale_at", "admissions_per_minute", "pass_seconds"]);
    let made = APP.json("PUT", &path, &body);
    made.assert_status(201);
    assert_eq!((made.body["per_buyer_limit"].as_i64(), made.body["pass_seconds"].as_i64()), (Some(4), Some(600)));
    thread::sleep(Duration::from_millis(1200));
    let joined = member.client().send("POST", &format!("{path}/visitors"), &[], None);
    joined.assert_status(201);
    assert_eq!((joined.body["early"].as_bool(), joined.body["position"].as_i64()), (Some(false), Some(1)));
    let drawn = APP.anonymous().get(&path);
    assert!(drawn.body["seed"].is_string() && drawn.body["drawn_at"].is_string(), "{:#?}", drawn.body);
    APP.json("PUT", &path, &json!({"on_sale_at": rfc3339_in(600), "admissions_per_minute": 60}))
        .assert_problem(409, "waiting-room-drawn");
    let mut same = body.clone();
    same["on_sale_at"] = drawn.body["on_sale_at"].clone();
    same["admissions_per_minute"] = json!(120);
    APP.json("PUT", &path, &same).assert_status(200);
    APP.post(&format!("{path}/close"), &json!({})).assert_status(200);
    crate::support::people::Person::new(&[])
        .client()
        .send("POST", &format!("{path}/visitors"), &[], None)
        .assert_problem(409, "waiting-room-closed");
}

/// A member's order of a type sold a moment ago skips reading the type (one
/// round trip), but only while the type still reads as it did: a room opened in
/// between holds the next order at the door as if the type had been read.
#[test]
fn a_room_opened_a_moment_after_a_sale_holds_the_next_order_at_the_door() {
    let event = world::published_event(&APP, 100);
    let ticket_type = world::ticket_type(&APP, &event, 50);
    let buyer = crate::support::people::Person::new(&[]);
    buy(&ticket_type, &buyer.token, 1, None).assert_status(201);
    buy(&ticket_type, &buyer.token, 1, None).assert_status(201);
    let room = json!({"on_sale_at": rfc3339_in(3600), "admissions_per_minute": 60});
    APP.json("PUT", &room_path(&event), &room).assert_status(201);
    buy(&ticket_type, &buyer.token, 1, None).assert_problem(403, "waiting-room-pass-required");
    world::assert_stock_adds_up(&APP, &ticket_type);
}
