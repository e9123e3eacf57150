//! The Participation section of the API: capacity, waitlist, cancellation and
//! promotion, through the real host, with events and users asked over HTTP.

use crate::support::world::{self, id};
use crate::support::{APP, Reply};
use serde_json::{Value, json};

fn register(event: &Value, user: &Value) -> Reply {
    APP.post("/api/participation/registrations", &json!({"event_id": event["id"], "user_id": user["id"]}))
}

fn registered(event: &Value) -> Value {
    let reply = register(event, &world::user(&APP));
    reply.assert_status(201);
    reply.body
}

fn summary(event: &Value) -> Value {
    let reply = APP.get(&format!("/api/participation/events/{}/summary", id(event)));
    reply.assert_status(200);
    reply.body
}

fn cancel(registration: &Value) -> Reply {
    APP.delete(&format!("/api/participation/registrations/{}", id(registration)))
}

fn status_of(registration: &Value) -> Value {
    APP.get(&format!("/api/participation/registrations/{}", id(registration))).body
}

/// After a change of an event: where the components share a key-value store,
/// the change forgot what participation remembered of the event, and the next
/// request hears of it at once; on the node each keeps its own, and the change
/// reaches participation once the second it may remember the event for is over
/// (`known_event_seconds`).
fn once_the_change_reaches_participation() {
    if crate::support::on_node() {
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
}

/// Participation takes an event as the events component described it for a
/// second: a burst of registrations asks events about once a second, not once
/// a registration.
#[test]
fn a_burst_of_registrations_asks_events_about_once_a_second() {
    let event = world::published_event(&APP, 100);
    let asked = || world::times_events_was_asked_about(&APP, &event);
    let before = asked();
    let started = std::time::Instant::now();
    for _ in 0..10 {
        registered(&event);
    }
    let seconds = started.elapsed().as_secs() as usize;
    // The log is written as requests end: give the last one a moment.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let asked_during = asked() - before;
    assert!(asked_during >= 1, "the first registration must ask events about the event");
    assert!(asked_during <= seconds + 2, "events was asked {asked_during} times for 10 registrations in {seconds} s");
}

#[test]
fn registrations_are_confirmed_up_to_capacity_then_waitlisted_in_order() {
    let event = world::published_event(&APP, 2);
    let first = registered(&event);
    let second = registered(&event);
    let third = registered(&event);
    let fourth = registered(&event);
    assert_eq!((first["status"].as_str(), first["position"].clone()), (Some("confirmed"), Value::Null));
    assert_eq!(second["status"], "confirmed");
    assert_eq!((third["status"].as_str(), third["position"].as_i64()), (Some("waitlisted"), Some(1)));
    assert_eq!((fourth["status"].as_str(), fourth["position"].as_i64()), (Some("waitlisted"), Some(2)));
    assert_eq!(summary(&event), json!({"event_id": event["id"], "capacity": 2, "confirmed": 2, "waitlisted": 2}));
}

#[test]
fn a_registration_answers_201_with_its_location_and_reads_back() {
    let event = world::published_event(&APP, 5);
    let user = world::user(&APP);
    let reply = register(&event, &user);
    reply.assert_status(201);
    let path = format!("/api/participation/registrations/{}", id(&reply.body));
    assert_eq!(reply.header("location"), Some(path.as_str()));
    assert_eq!(reply.body["event_id"], event["id"]);
    assert_eq!(reply.body["user_id"], user["id"]);
    assert_eq!(APP.get(&path).body, reply.body);
}

#[test]
fn cancelling_a_confirmed_registration_promotes_the_earliest_waitlisted() {
    let event = world::published_event(&APP, 1);
    let confirmed = registered(&event);
    let waiting_first = registered(&event);
    let waiting_second = registered(&event);
    let reply = cancel(&confirmed);
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "cancelled");
    assert_eq!(reply.body["position"], Value::Null);
    assert_eq!(status_of(&waiting_first)["status"], "confirmed");
    let still_waiting = status_of(&waiting_second);
    assert_eq!((still_waiting["status"].as_str(), still_waiting["position"].as_i64()), (Some("waitlisted"), Some(1)));
    assert_eq!(summary(&event)["confirmed"], 1);
}

#[test]
fn cancelling_a_waitlisted_registration_moves_the_queue_up() {
    let event = world::published_event(&APP, 1);
    registered(&event);
    let first = registered(&event);
    let second = registered(&event);
    cancel(&first).assert_status(200);
    assert_eq!(status_of(&second)["position"], 1);
    assert_eq!(summary(&event)["waitlisted"], 1);
}

#[test]
fn cancelling_twice_is_409() {
    let event = world::published_event(&APP, 3);
    let registration = registered(&event);
    cancel(&registration).assert_status(200);
    cancel(&registration).assert_problem(409, "already-cancelled");
}

#[test]
fn a_user_holds_one_live_registration_per_event() {
    let event = world::published_event(&APP, 3);
    let user = world::user(&APP);
    let first = register(&event, &user);
    first.assert_status(201);
    register(&event, &user).assert_problem(409, "already-registered");
    cancel(&first.body).assert_status(200);
    register(&event, &user).assert_status(201);
}

#[test]
fn an_unknown_event_or_user_is_422() {
    let event = world::published_event(&APP, 3);
    let user = world::user(&APP);
    let ghost = json!({"id": "6f1c7f9e-1111-4c4c-8a8a-123456789abc"});
    register(&ghost, &user).assert_problem(422, "event-not-found");
    register(&event, &ghost).assert_problem(422, "user-not-found");
}

#[test]
fn a_user_deleted_a_moment_after_being_named_is_not_found_the_next_time() {
    let (first, second) = (world::published_event(&APP, 3), world::published_event(&APP, 3));
    let user = world::user(&APP);
    // The admin names the user: participation learns they exist...
    register(&first, &user).assert_status(201);
    APP.delete(&format!("/api/users/{}", id(&user))).assert_status(204);
    if crate::support::on_node() {
        // A cluster's components keep a key-value store each, which the users
        // component's forgetting does not reach: there a user deleted less than
        // `KNOWN_USER_SECONDS` ago may still be named, as by a request that raced it.
        return;
    }
    // ...and forgets it once they are deleted, without waiting for the memory to lapse.
    register(&second, &user).assert_problem(422, "user-not-found");
}

#[test]
fn only_published_events_take_registrations() {
    let user = world::user(&APP);
    let pending = world::event(&APP, 3);
    register(&pending, &user).assert_problem(409, "event-not-open");
    let cancelled = world::published_event(&APP, 3);
    // Remembered as open a moment before it is cancelled.
    register(&cancelled, &world::user(&APP)).assert_status(201);
    APP.send("POST", &format!("/api/events/{}/cancel", id(&cancelled)), &[], None).assert_status(200);
    once_the_change_reaches_participation();
    register(&cancelled, &user).assert_problem(409, "event-not-open");
}

#[test]
fn raising_the_capacity_lets_the_waitlist_in_first() {
    let event = world::published_event(&APP, 1);
    registered(&event);
    let waiting = registered(&event);
    APP.patch(&format!("/api/events/{}", id(&event)), &json!({"capacity": 2})).assert_status(200);
    once_the_change_reaches_participation();
    let newcomer = registered(&event);
    assert_eq!(status_of(&waiting)["status"], "confirmed");
    assert_eq!(newcomer["status"], "waitlisted");
}

#[test]
fn lowering_the_capacity_cancels_nobody() {
    let event = world::published_event(&APP, 2);
    let a = registered(&event);
    let b = registered(&event);
    APP.patch(&format!("/api/events/{}", id(&event)), &json!({"capacity": 1})).assert_status(200);
    once_the_change_reaches_participation();
    assert_eq!(status_of(&a)["status"], "confirmed");
    assert_eq!(status_of(&b)["status"], "confirmed");
    assert_eq!(registered(&event)["status"], "waitlisted");
    cancel(&a).assert_status(200);
    assert_eq!(summary(&event)["confirmed"], 1, "no promotion while over the lowered capacity");
}

#[test]
fn concurrent_registrations_never_exceed_capacity() {
    let event = world::published_event(&APP, 3);
    let users: Vec<Value> = (0..24).map(|_| world::user(&APP)).collect();
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = users.iter().map(|user| scope.spawn(|| register(&event, user))).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert!(replies.iter().all(|r| r.status == 201), "{replies:#?}");
    let confirmed = replies.iter().filter(|r| r.body["status"] == "confirmed").count();
    let mut positions: Vec<i64> = replies.iter().filter_map(|r| r.body["position"].as_i64()).collect();
    positions.sort();
    assert_eq!(confirmed, 3);
    assert_eq!(positions, (1..=21).collect::<Vec<_>>(), "the waitlist is 1..=21 without gaps or repeats");
    assert_eq!(summary(&event), json!({"event_id": event["id"], "capacity": 3, "confirmed": 3, "waitlisted": 21}));
}

#[test]
fn concurrent_cancellations_promote_each_waitlisted_once() {
    let event = world::published_event(&APP, 4);
    let confirmed: Vec<Value> = (0..4).map(|_| registered(&event)).collect();
    let waiting: Vec<Value> = (0..6).map(|_| registered(&event)).collect();
    std::thread::scope(|scope| {
        for registration in &confirmed {
            scope.spawn(|| {
                cancel(registration).assert_status(200);
            });
        }
    });
    let statuses: Vec<String> =
        waiting.iter().map(|w| status_of(w)["status"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(statuses[..4], ["confirmed"; 4], "the four earliest are promoted");
    assert_eq!(statuses[4..], ["waitlisted"; 2]);
    assert_eq!(summary(&event)["confirmed"], 4);
}

#[test]
fn the_list_filters_and_pages() {
    let event = world::published_event(&APP, 1);
    let all: Vec<Value> = (0..5).map(|_| registered(&event)).collect();
    let mut seen = Vec::new();
    let mut path = format!("/api/participation/registrations?event_id={}&limit=2", id(&event));
    loop {
        let reply = APP.get(&path);
        reply.assert_status(200);
        seen.extend(reply.body["items"].as_array().expect("items").iter().map(|r| r["id"].clone()));
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/participation/registrations?event_id={}&limit=2&cursor={cursor}", id(&event))
            }
            None => break,
        }
    }
    assert_eq!(seen, all.iter().map(|r| r["id"].clone()).collect::<Vec<_>>());
    let waitlisted = APP.get(&format!("/api/participation/registrations?event_id={}&status=waitlisted", id(&event)));
    assert_eq!(waitlisted.body["items"].as_array().map(Vec::len), Some(4));
    let mine =
        APP.get(&format!("/api/participation/registrations?user_id={}", all[0]["user_id"].as_str().expect("user")));
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn bad_input_is_a_clear_4xx() {
    APP.post("/api/participation/registrations", &json!({"event_id": "x", "user_id": "y"}))
        .assert_problem(422, "validation-failed");
    APP.post("/api/participation/registrations", &json!({"user_id": "6f1c7f9e-1111-4c4c-8a8a-123456789abc"}))
        .assert_problem(422, "validation-failed");
    APP.post("/api/participation/registrations", &json!({"event": 1})).assert_problem(400, "malformed-request");
    APP.get("/api/participation/registrations/nope").assert_problem(404, "not-found");
    APP.get("/api/participation/registrations/6f1c7f9e-1111-4c4c-8a8a-123456789abc").assert_problem(404, "not-found");
    APP.delete("/api/participation/registrations/6f1c7f9e-1111-4c4c-8a8a-123456789abc")
        .assert_problem(404, "not-found");
    APP.get("/api/participation/registrations?status=maybe").assert_problem(400, "malformed-request");
    APP.get("/api/participation/registrations?event_id=nope").assert_problem(400, "malformed-request");
    APP.get("/api/participation/events/6f1c7f9e-1111-4c4c-8a8a-123456789abc/summary").assert_problem(404, "not-found");
    APP.send("PUT", "/api/participation/registrations", &[], None).assert_problem(405, "method-not-allowed");
}

#[test]
fn health_reports_the_database() {
    let reply = APP.get("/api/participation/health");
    reply.assert_status(200);
    assert_eq!(reply.body["component"], "participation");
    assert_eq!(reply.body["database"]["status"], "ok");
}
