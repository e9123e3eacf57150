//! Signed tickets: codes a scanner checks with an event's public keys alone,
//! the keys' rotation and retirement, the revocation list as a delta, and the
//! QR symbol and PDF a buyer carries.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::support::people::Person;
use crate::support::world::{self, id};
use crate::support::{APP, Reply};

/// What an offline scanner at the door of `event` holding `keys` (the event's
/// published document) and the revoked codes makes of `signed`: the ticket code, or why not. Written
/// from the format's description in docs/signed-tickets.md, not from the platform's code.
fn scan_offline(
    signed: &str,
    (event, keys): &(Value, Value),
    revoked: &HashSet<String>,
) -> Result<String, &'static str> {
    let body = signed.strip_prefix("E1.").ok_or("not a signed code")?;
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| "not base64url")?;
    if bytes.len() != 105 {
        return Err("not 105 bytes");
    }
    let (claim, signature) = bytes.split_at(41);
    let key_id = i64::from(i32::from_be_bytes(claim[..4].try_into().expect("4 bytes")));
    let event_id = uuid::Uuid::from_slice(&claim[4..20]).expect("16 bytes").to_string();
    if event["id"] != event_id.as_str() {
        return Err("another event's ticket");
    }
    let key = keys["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["key_id"] == key_id && k["retired_at"].is_null()))
        .ok_or("no such key")?;
    let public: [u8; 32] = URL_SAFE_NO_PAD
        .decode(key["public_key"].as_str().expect("a key"))
        .expect("base64url")
        .try_into()
        .expect("32 bytes");
    let mut message = b"E1.".to_vec();
    message.extend_from_slice(claim);
    let signature = Signature::from_slice(signature).map_err(|_| "not a signature")?;
    VerifyingKey::from_bytes(&public).and_then(|key| key.verify_strict(&message, &signature)).map_err(|_| "forged")?;
    let code = crockford(&claim[36..]);
    if revoked.contains(&code) {
        return Err("revoked");
    }
    Ok(code)
}

/// 40 bits as `TKT-XXXX-XXXX`.
fn crockford(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bits = bytes.iter().fold(0u64, |bits, b| (bits << 8) | u64::from(*b));
    let chars: String = (0..8).rev().map(|i| DIGITS[((bits >> (i * 5)) & 31) as usize] as char).collect();
    format!("TKT-{}-{}", &chars[..4], &chars[4..])
}

/// A published event with one ticket type of `stock`.
fn on_sale(stock: i64) -> (Value, Value) {
    let event = world::published_event(&APP, 1000);
    let ticket_type = world::ticket_type(&APP, &event, stock);
    (event, ticket_type)
}

/// An event `organizer` made, approved, with one ticket type of `stock`.
fn organized_event(organizer: &Person, stock: i64) -> (Value, Value) {
    let made = organizer.client().post(
        "/api/events",
        &json!({"title": "Gig", "starts_at": "2027-06-01T19:00:00Z", "ends_at": "2027-06-01T23:00:00Z", "capacity": 100}),
    );
    made.assert_status(201);
    APP.post(&format!("/api/events/{}/moderation", id(&made.body)), &json!({"decision": "approve"})).assert_status(200);
    let ticket_type = world::ticket_type(&APP, &made.body, stock);
    (made.body, ticket_type)
}

fn buy(ticket_type: &Value, quantity: i64) -> Value {
    let buyer = world::user(&APP);
    let reply = APP.post(
        "/api/tickets/orders",
        &json!({"ticket_type_id": ticket_type["id"], "user_id": buyer["id"], "quantity": quantity}),
    );
    reply.assert_status(201);
    reply.body
}

fn codes(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["code"].as_str().expect("a code").to_owned())
        .collect()
}

fn signed(code: &str) -> String {
    let ticket = APP.get(&format!("/api/tickets/{code}"));
    ticket.assert_status(200);
    ticket.body["signed_code"].as_str().expect("a signed code").to_owned()
}

/// The door of `event` with its published keys.
fn door(event: &Value) -> (Value, Value) {
    let keys = APP.anonymous().get(&format!("/api/tickets/events/{}/signing-keys", id(event)));
    keys.assert_status(200);
    (event.clone(), keys.body)
}

fn revocations(event: &Value, query: &str) -> Reply {
    APP.get(&format!("/api/tickets/events/{}/revocations{query}", id(event)))
}

fn check_in(code: &str) -> Reply {
    APP.send("POST", &format!("/api/tickets/{code}/check-in"), &[], None)
}

/// `signed` with the character at `at` replaced by another base64url one.
fn one_character_changed(signed: &str, at: usize) -> String {
    let mut chars: Vec<char> = signed.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn a_signed_code_is_checked_with_the_published_key_alone() {
    let (event, ticket_type) = on_sale(10);
    let order = buy(&ticket_type, 2);
    let code = &codes(&order)[0];
    let signed = signed(code);
    assert!(signed.starts_with("E1.") && signed.len() == 143, "{signed}");
    let door = door(&event);
    let keys = &door.1;
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(1), "{keys}");
    assert_eq!((keys["keys"][0]["key_id"].as_i64(), keys["keys"][0]["algorithm"].as_str()), (Some(1), Some("Ed25519")));
    let none = HashSet::new();
    assert_eq!(scan_offline(&signed, &door, &none).as_deref(), Ok(code.as_str()));
    assert_eq!(signed, self::signed(code), "signing again gives the same code");
    for at in [3, 10, 50, 80, 120, 142] {
        assert!(scan_offline(&one_character_changed(&signed, at), &door, &none).is_err(), "changed at {at}");
    }
    APP.send("POST", &format!("/api/tickets/{}/check-in", one_character_changed(&signed, 130)), &[], None)
        .assert_problem(404, "code-not-genuine");
    let ticket = check_in(&signed);
    ticket.assert_status(200);
    assert_eq!(
        (ticket.body["code"].as_str(), ticket.body["status"].as_str()),
        (Some(code.as_str()), Some("checked_in"))
    );
    check_in(&signed).assert_problem(409, "already-checked-in");
}

#[test]
fn another_events_key_verifies_none_of_its_tickets() {
    let (event, ticket_type) = on_sale(10);
    let (_, other_type) = on_sale(10);
    let theirs = signed(&codes(&buy(&other_type, 1))[0]);
    let ours = signed(&codes(&buy(&ticket_type, 1))[0]);
    let none = HashSet::new();
    assert!(scan_offline(&theirs, &door(&event), &none).is_err());
    // The other event's ticket re-addressed to ours: our key never signed it.
    let mut forged = URL_SAFE_NO_PAD.decode(&theirs[3..]).expect("base64url");
    let ours_bytes = URL_SAFE_NO_PAD.decode(&ours[3..]).expect("base64url");
    forged[4..20].copy_from_slice(&ours_bytes[4..20]);
    let forged = format!("E1.{}", URL_SAFE_NO_PAD.encode(forged));
    assert_eq!(scan_offline(&forged, &door(&event), &none), Err("forged"));
    check_in(&forged).assert_problem(404, "code-not-genuine");
}

#[test]
fn cancelled_tickets_join_the_revocation_list_in_order() {
    let (event, ticket_type) = on_sale(20);
    let empty = revocations(&event, "");
    empty.assert_status(200);
    assert_eq!((empty.body["version"].as_i64(), empty.body["complete"].as_bool()), (Some(0), Some(true)));
    let orders: Vec<Value> = (0..6).map(|_| buy(&ticket_type, 2)).collect();
    let signed_first = signed(&codes(&orders[0])[0]);
    // Concurrent cancellations: each takes the next numbers, none twice, none skipped.
    std::thread::scope(|scope| {
        for order in &orders {
            scope.spawn(move || {
                APP.post(&format!("/api/tickets/orders/{}/cancel", id(order)), &json!({})).assert_status(200);
            });
        }
    });
    let all = revocations(&event, "");
    assert_eq!((all.body["version"].as_i64(), all.body["complete"].as_bool()), (Some(12), Some(true)), "{all:#?}");
    let versions: Vec<i64> =
        all.body["items"].as_array().expect("items").iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, (1..=12).collect::<Vec<_>>());
    let revoked: HashSet<String> =
        all.body["items"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect();
    let sold: HashSet<String> = orders.iter().flat_map(codes).collect();
    assert_eq!(revoked, sold);
    assert_eq!(scan_offline(&signed_first, &door(&event), &revoked), Err("revoked"));
    check_in(&signed_first).assert_problem(409, "ticket-void");

    let page = revocations(&event, "?since=4&limit=5");
    let page_versions: Vec<i64> =
        page.body["items"].as_array().unwrap().iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(
        (page_versions, page.body["version"].as_i64(), page.body["complete"].as_bool()),
        ((5..=9).collect(), Some(9), Some(false))
    );
    let rest = revocations(&event, "?since=9");
    assert_eq!((rest.body["items"].as_array().map(Vec::len), rest.body["complete"].as_bool()), (Some(3), Some(true)));
    for bad in ["?since=-1", "?since=x", "?limit=0", "?limit=5001", "?after=3"] {
        revocations(&event, bad).assert_problem(400, "malformed-request");
    }
}

#[test]
fn a_rotated_key_signs_from_then_on_and_a_retired_one_verifies_nothing() {
    let organizer = Person::new(&["organizer"]);
    let (event, ticket_type) = organized_event(&organizer, 10);
    let code = codes(&buy(&ticket_type, 1)).remove(0);
    let first = signed(&code);
    let keys_path = format!("/api/tickets/events/{}/signing-keys", id(&event));
    Person::new(&[]).client().send("POST", &keys_path, &[], None).assert_problem(403, "forbidden");
    let added = organizer.client().send("POST", &keys_path, &[], None);
    added.assert_status(201);
    assert_eq!(added.body["key_id"], 2);
    let second = signed(&code);
    assert_ne!(first, second);
    let both = door(&event);
    let none = HashSet::new();
    assert_eq!(scan_offline(&first, &both, &none).as_deref(), Ok(code.as_str()), "the older key still verifies");
    assert_eq!(scan_offline(&second, &both, &none).as_deref(), Ok(code.as_str()));

    let retired = organizer.client().send("POST", &format!("{keys_path}/1/retire"), &[], None);
    retired.assert_status(200);
    assert!(retired.body["retired_at"].is_string());
    organizer.client().send("POST", &format!("{keys_path}/9/retire"), &[], None).assert_problem(404, "not-found");
    let after = door(&event);
    assert_eq!(scan_offline(&first, &after, &none), Err("no such key"));
    check_in(&first).assert_problem(404, "code-not-genuine");
    check_in(&second).assert_status(200);
}

#[test]
fn the_door_list_is_for_staff_and_the_organizer() {
    let organizer = Person::new(&["organizer"]);
    let (event, _) = organized_event(&organizer, 5);
    let path = format!("/api/tickets/events/{}/revocations", id(&event));
    APP.anonymous().get(&path).assert_problem(401, "unauthenticated");
    Person::new(&[]).client().get(&path).assert_problem(403, "forbidden");
    Person::new(&["staff"]).client().get(&path).assert_status(200);
    organizer.client().get(&path).assert_status(200);
    APP.anonymous().get(&format!("/api/tickets/events/{}/signing-keys", id(&event))).assert_status(200);
}

#[test]
fn a_buyer_gets_a_qr_symbol_and_a_pdf_of_the_order() {
    let (_, ticket_type) = on_sale(10);
    let order = buy(&ticket_type, 3);
    let codes = codes(&order);
    let qr = APP.get(&format!("/api/tickets/{}/qr", codes[0]));
    qr.assert_status(200);
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    assert!(qr.text.starts_with("<svg") && qr.text.contains("h1v1h-1z"), "{}", qr.text);
    APP.post(&format!("/api/tickets/orders/{}/cancel", id(&order)), &json!({"tickets": [codes[1]]})).assert_status(200);
    let pdf = APP.get(&format!("/api/tickets/orders/{}/pdf", id(&order)));
    pdf.assert_status(200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let text = String::from_utf8_lossy(&pdf.bytes);
    assert!(text.starts_with("%PDF-") && text.contains("/Count 2"), "a page for each ticket that stands");
    assert!(text.contains(&codes[0]) && text.contains(&codes[2]) && !text.contains(&codes[1]));
    let stranger = Person::new(&[]);
    stranger.client().get(&format!("/api/tickets/orders/{}/pdf", id(&order))).assert_problem(403, "forbidden");
    stranger.client().get(&format!("/api/tickets/{}/qr", codes[0])).assert_problem(403, "forbidden");
}
