//! Who may do what: public reads, members acting for themselves, organizers
//! on their own events, moderators, staff and admins; every refusal a 401 or
//! 403 problem that changes nothing.

use crate::support::people::Person;
use crate::support::world::id;
use crate::support::{APP, Client, Reply, openapi_document, unique_prefix};
use serde_json::{Value, json};

fn forbidden(reply: Reply) {
    reply.assert_problem(403, "forbidden");
}

const WHEN: (&str, &str) = ("2027-06-01T19:00:00Z", "2027-06-01T23:00:00Z");

/// An event `organizer` made, awaiting review.
fn pending_event(organizer: &Person, title: &str) -> Value {
    let made = organizer
        .client()
        .post("/api/events", &json!({"title": title, "starts_at": WHEN.0, "ends_at": WHEN.1, "capacity": 100}));
    made.assert_status(201);
    made.body
}

/// A ticket type `organizer` adds to `event`, of `stock` tickets.
fn add_ticket_type(organizer: &Person, event: &Value, name: &str, stock: i64) -> Value {
    let ticket_type = organizer.client().post(
        "/api/tickets/types",
        &json!({"event_id": event["id"], "name": name, "price_cents": 1000, "currency": "EUR", "quantity": stock}),
    );
    ticket_type.assert_status(201);
    ticket_type.body
}

/// An event `organizer` made, approved by a moderator, with one ticket type of `stock`.
fn event_on_sale(organizer: &Person, stock: i64) -> (Value, Value) {
    let event = pending_event(organizer, "Gig");
    Person::new(&["moderator"])
        .client()
        .post(&format!("/api/events/{}/moderation", id(&event)), &json!({"decision": "approve"}))
        .assert_status(200);
    let ticket_type = add_ticket_type(organizer, &event, "GA", stock);
    (event, ticket_type)
}

fn available(ticket_type: &Value) -> i64 {
    APP.anonymous().get(&format!("/api/tickets/types/{}", id(ticket_type))).body["available"]
        .as_i64()
        .expect("available")
}

#[test]
fn without_a_token_only_public_reads_answer() {
    let organizer = Person::new(&["organizer"]);
    let (event, ticket_type) = event_on_sale(&organizer, 5);
    let anyone = APP.anonymous();
    for path in [
        format!("/api/events/{}", id(&event)),
        "/api/events".to_owned(),
        format!("/api/tickets/types/{}", id(&ticket_type)),
        format!("/api/tickets/types?event_id={}", id(&event)),
        format!("/api/participation/events/{}/summary", id(&event)),
        "/api/users/health".to_owned(),
        "/api/status".to_owned(),
    ] {
        anyone.get(&path).assert_status(200);
    }
    let some_id = "6f1c7f9e-1111-4c4c-8a8a-123456789abc";
    let refused = [
        anyone.get("/api/users"),
        anyone.get(&format!("/api/users/{some_id}")),
        anyone.post("/api/users", &json!({"email": "a@example.com", "name": "A"})),
        anyone.delete(&format!("/api/users/{some_id}")),
        anyone.post("/api/events", &json!({"title": "T"})),
        anyone.patch(&format!("/api/events/{}", id(&event)), &json!({"title": "Mine now"})),
        anyone.post(&format!("/api/events/{}/cancel", id(&event)), &json!({})),
        anyone.post(&format!("/api/events/{}/moderation", id(&event)), &json!({"decision": "reject"})),
        anyone.post("/api/participation/registrations", &json!({"event_id": event["id"]})),
        anyone.get("/api/participation/registrations"),
        anyone.post("/api/tickets/orders", &json!({"ticket_type_id": ticket_type["id"], "quantity": 1})),
        anyone.post("/api/tickets/types", &json!({"event_id": event["id"]})),
        anyone.get("/api/tickets/types"),
        anyone.get(&format!("/api/tickets/orders/{some_id}")),
        anyone.post("/api/tickets/ABCD-EFGH-JKLM/check-in", &json!({})),
    ];
    for reply in refused {
        reply.assert_problem(401, "unauthenticated");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    let unchanged = anyone.get(&format!("/api/events/{}", id(&event)));
    assert_eq!((unchanged.body["title"].as_str(), unchanged.body["status"].as_str()), (Some("Gig"), Some("published")));
    assert_eq!(available(&ticket_type), 5);
}

#[test]
fn an_event_awaiting_review_is_seen_by_its_organizer_and_moderators_only() {
    let organizer = Person::new(&["organizer"]);
    let event = pending_event(&organizer, "Draft");
    assert_eq!(event["organizer_id"].as_str(), Some(organizer.id().as_str()), "the caller organizes it");
    let path = format!("/api/events/{}", id(&event));
    organizer.client().get(&path).assert_status(200);
    Person::new(&["moderator"]).client().get(&path).assert_status(200);
    APP.anonymous().get(&path).assert_problem(404, "not-found");
    Person::new(&["organizer"]).client().get(&path).assert_problem(404, "not-found");
    let listed = |client: Client| {
        let reply = client.get(&format!("/api/events?organizer_id={}", event["organizer_id"].as_str().expect("id")));
        reply.assert_status(200);
        reply.body["items"].as_array().expect("items").len()
    };
    assert_eq!((listed(organizer.client()), listed(APP.anonymous())), (1, 0));
}

/// A ticket type is seen by whoever sees its event: of an event awaiting review,
/// by its organizer, moderators and admins; everyone else gets 404, on reads
/// and lists alike. Every event's types at once are for moderators and admins.
#[test]
fn ticket_types_of_an_event_awaiting_review_are_seen_by_whoever_sees_the_event() {
    let organizer = Person::new(&["organizer"]);
    let event = pending_event(&organizer, "Draft");
    let event_id = id(&event).to_owned();
    let ticket_type = add_ticket_type(&organizer, &event, "Early", 5);
    let (read, list) =
        (format!("/api/tickets/types/{}", id(&ticket_type)), format!("/api/tickets/types?event_id={event_id}"));
    let listed = |reply: Reply| {
        reply.assert_status(200);
        reply.body["items"].as_array().expect("items").len()
    };
    let moderator = Person::new(&["moderator"]);
    for client in [organizer.client(), moderator.client(), APP.with_token(crate::support::admin_token())] {
        client.get(&read).assert_status(200);
        assert_eq!(listed(client.get(&list)), 1);
    }
    let (member, other_organizer) = (Person::new(&[]), Person::new(&["organizer"]));
    for client in [APP.anonymous(), member.client(), other_organizer.client()] {
        client.get(&read).assert_problem(404, "not-found");
        client.get(&list).assert_problem(404, "not-found");
    }
    APP.anonymous().get("/api/tickets/types").assert_problem(401, "unauthenticated");
    forbidden(member.client().get("/api/tickets/types"));
    let every = moderator.client().get("/api/tickets/types?limit=100");
    every.assert_status(200);

    moderator
        .client()
        .post(&format!("/api/events/{event_id}/moderation"), &json!({"decision": "approve"}))
        .assert_status(200);
    APP.anonymous().get(&read).assert_status(200);
    assert_eq!(listed(APP.anonymous().get(&list)), 1, "published: anyone sees its ticket types");
}

/// Every GET route of `openapi.yaml`, asked about an event awaiting review by
/// those who may not see it (no token, a member, another organizer), with the
/// event's id, its organizer and its ticket type wherever the route takes one:
/// no answer names the event, its title, its ticket type or the type's name.
#[test]
fn no_get_route_leaks_an_event_awaiting_review() {
    let organizer = Person::new(&["organizer"]);
    let title = unique_prefix("hidden-title");
    let event = pending_event(&organizer, &title);
    let (event_id, organizer_id) = (id(&event).to_owned(), organizer.id());
    let type_name = unique_prefix("hidden-type");
    let type_id = id(&add_ticket_type(&organizer, &event, &type_name, 5)).to_owned();
    let secrets = [event_id.as_str(), title.as_str(), type_id.as_str(), type_name.as_str()];

    let document = openapi_document();
    let mut asked = 0;
    let (member, other_organizer) = (Person::new(&[]), Person::new(&["organizer"]));
    for (route, item) in document["paths"].as_object().expect("paths") {
        let Some(get) = item.get("get") else { continue };
        let path = route
            .replace("/tickets/types/{id}", &format!("/tickets/types/{type_id}"))
            .replace("{id}", &event_id)
            .replace("{code}", "TKT-AAAA-AAAA")
            .replace("{name}", "app.js");
        let names: Vec<&str> =
            get["parameters"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
        let query: Vec<String> = [("event_id", &event_id), ("organizer_id", &organizer_id)]
            .iter()
            .filter(|(name, _)| names.contains(name))
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let url = if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) };
        for client in [APP.anonymous(), member.client(), other_organizer.client()] {
            let reply = client.get(&url);
            for secret in secrets {
                assert!(!reply.text.contains(secret), "GET {url} ({}) leaks {secret:?}: {}", reply.status, reply.text);
            }
            asked += 1;
        }
    }
    assert!(asked >= 60, "every GET route was asked ({asked} requests)");
}

#[test]
fn roles_gate_what_members_may_not_do() {
    let member = Person::new(&[]);
    let organizer = Person::new(&["organizer"]);
    let (event, ticket_type) = event_on_sale(&organizer, 5);
    let client = member.client();
    forbidden(
        client.post("/api/events", &json!({"title": "Mine", "starts_at": WHEN.0, "ends_at": WHEN.1, "capacity": 5})),
    );
    forbidden(client.post(&format!("/api/events/{}/moderation", id(&event)), &json!({"decision": "approve"})));
    forbidden(client.post(
        "/api/tickets/types",
        &json!({"event_id": event["id"], "name": "Free", "price_cents": 0, "currency": "EUR", "quantity": 100}),
    ));
    forbidden(client.get("/api/users"));
    forbidden(client.post("/api/users", &json!({"email": format!("{}@example.com", unique_prefix("u")), "name": "U"})));
    forbidden(client.delete(&format!("/api/users/{}", organizer.id())));
    forbidden(client.get(&format!("/api/users/{}", organizer.id())));
    client.get(&format!("/api/users/{}", member.id())).assert_status(200);

    let order = client.post("/api/tickets/orders", &json!({"ticket_type_id": ticket_type["id"], "quantity": 1}));
    order.assert_status(201);
    let code = order.body["tickets"][0]["code"].as_str().expect("code");
    forbidden(client.post(&format!("/api/tickets/{code}/check-in"), &json!({})));
    forbidden(organizer.client().post(&format!("/api/tickets/{code}/check-in"), &json!({})));
    let staff = Person::new(&["staff"]);
    let scanned = staff.client().post(&format!("/api/tickets/{code}/check-in"), &json!({}));
    scanned.assert_status(200);
    assert_eq!(scanned.body["checked_in_by"].as_str(), Some(staff.id().as_str()), "recorded with who scanned");

    let counts = format!("/api/tickets/events/{}/check-ins", id(&event));
    forbidden(client.get(&counts));
    forbidden(Person::new(&["organizer"]).client().get(&counts));
    for reader in [&staff, &organizer] {
        let door = reader.client().get(&counts);
        door.assert_status(200);
        assert_eq!((door.body["issued"].as_i64(), door.body["checked_in"].as_i64()), (Some(1), Some(1)));
    }

    let types = APP.anonymous().get(&format!("/api/tickets/types?event_id={}", id(&event)));
    assert_eq!(types.body["items"].as_array().map(Vec::len), Some(1), "no ticket type was added");
    let moderated = APP.anonymous().get(&format!("/api/events/{}", id(&event)));
    assert_eq!(moderated.body["status"], "published");
    assert!(moderated.body["moderated_by"].is_string(), "recorded with who decided");
}

#[test]
fn an_organizer_changes_only_their_own_events() {
    let (owner, rival) = (Person::new(&["organizer"]), Person::new(&["organizer"]));
    let (event, _) = event_on_sale(&owner, 5);
    let path = format!("/api/events/{}", id(&event));
    forbidden(rival.client().patch(&path, &json!({"title": "Taken over"})));
    forbidden(rival.client().post(&format!("{path}/cancel"), &json!({})));
    forbidden(rival.client().post(
        "/api/tickets/types",
        &json!({"event_id": event["id"], "name": "Fake", "price_cents": 0, "currency": "EUR", "quantity": 9}),
    ));
    let unchanged = APP.anonymous().get(&path);
    assert_eq!((unchanged.body["title"].as_str(), unchanged.body["status"].as_str()), (Some("Gig"), Some("published")));
    let edited = owner.client().patch(&path, &json!({"title": "Gig, moved"}));
    edited.assert_status(200);
    owner.client().post(&format!("{path}/cancel"), &json!({})).assert_status(200);
    let named = rival.client().post(
        "/api/events",
        &json!({"title": "Theirs", "starts_at": WHEN.0, "ends_at": WHEN.1, "capacity": 5, "organizer_id": owner.id()}),
    );
    forbidden(named);
}

#[test]
fn members_buy_read_and_cancel_only_their_own_orders_and_tickets() {
    let organizer = Person::new(&["organizer"]);
    let (_, ticket_type) = event_on_sale(&organizer, 10);
    let (buyer, other) = (Person::new(&[]), Person::new(&[]));
    // The buyer was never made a user: the order asks nobody who they are.
    let order =
        buyer.client().post("/api/tickets/orders", &json!({"ticket_type_id": ticket_type["id"], "quantity": 2}));
    order.assert_status(201);
    let path = format!("/api/tickets/orders/{}", id(&order.body));
    let code = order.body["tickets"][0]["code"].as_str().expect("code");
    assert_eq!(order.body["user_id"].as_str(), Some(buyer.id().as_str()));

    forbidden(other.client().get(&path));
    forbidden(other.client().post(&format!("{path}/cancel"), &json!({})));
    forbidden(other.client().get(&format!("/api/tickets/{code}")));
    forbidden(Person::new(&["organizer"]).client().get(&path));
    let for_somebody_else = json!({"ticket_type_id": ticket_type["id"], "user_id": buyer.id(), "quantity": 1});
    forbidden(other.client().post("/api/tickets/orders", &for_somebody_else));
    assert_eq!(available(&ticket_type), 8, "no refused request took stock");
    assert_eq!(buyer.client().get(&path).body["status"], "confirmed");

    let listed = |client: Client, query: &str| {
        let reply = client.get(&format!("/api/tickets/orders{query}"));
        reply.assert_status(200);
        reply.body["items"].as_array().expect("items").iter().map(|o| o["id"].clone()).collect::<Vec<_>>()
    };
    let by_event = format!("?event_id={}", ticket_type["event_id"].as_str().expect("event id"));
    assert_eq!(listed(buyer.client(), ""), [order.body["id"].clone()], "a member lists their own orders");
    assert_eq!(listed(other.client(), &by_event), Vec::<Value>::new(), "and only theirs");
    assert_eq!(listed(organizer.client(), &by_event), [order.body["id"].clone()], "the organizer lists the event's");
    forbidden(other.client().get(&format!("/api/tickets/orders?user_id={}", buyer.id())));

    buyer.client().get(&format!("/api/tickets/{code}")).assert_status(200);
    organizer.client().get(&path).assert_status(200);
    buyer.client().post(&format!("{path}/cancel"), &json!({})).assert_status(200);
    assert_eq!(available(&ticket_type), 10);
    APP.post("/api/tickets/orders", &for_somebody_else).assert_status(201);
}

#[test]
fn members_hold_and_confirm_only_their_own_checkouts() {
    let organizer = Person::new(&["organizer"]);
    let (_, ticket_type) = event_on_sale(&organizer, 10);
    let (buyer, other) = (Person::new(&[]), Person::new(&[]));
    let lines = json!([{"ticket_type_id": ticket_type["id"], "quantity": 2}]);
    let held = buyer.client().post("/api/tickets/checkouts", &json!({"lines": lines}));
    held.assert_status(201);
    assert_eq!(held.body["user_id"].as_str(), Some(buyer.id().as_str()));
    let path = format!("/api/tickets/checkouts/{}", id(&held.body));
    forbidden(other.client().get(&path));
    forbidden(other.client().post(&format!("{path}/confirm"), &json!({})));
    forbidden(other.client().post(&format!("{path}/cancel"), &json!({})));
    forbidden(other.client().post("/api/tickets/checkouts", &json!({"lines": lines, "user_id": buyer.id()})));
    APP.anonymous().post("/api/tickets/checkouts", &json!({"lines": lines})).assert_problem(401, "unauthenticated");
    assert_eq!(available(&ticket_type), 8, "no refused request held stock");
    let order = buyer.client().post(&format!("{path}/confirm"), &json!({}));
    order.assert_status(201);
    // The payment is the operator's integration's to move: an admin's, not the buyer's nor the organizer's.
    let payment = format!("/api/tickets/orders/{}/payment", id(&order.body));
    forbidden(buyer.client().post(&payment, &json!({"payment": "paid"})));
    forbidden(organizer.client().post(&payment, &json!({"payment": "paid"})));
    APP.post(&payment, &json!({"payment": "paid"})).assert_status(200);
}

#[test]
fn vouchers_are_made_and_read_by_their_events_organizer_only() {
    let organizer = Person::new(&["organizer"]);
    let (event, _) = event_on_sale(&organizer, 10);
    let body = json!({"event_id": event["id"], "code": "FRIENDS", "percent_off": 10, "max_uses": 5});
    forbidden(Person::new(&[]).client().post("/api/tickets/vouchers", &body));
    forbidden(Person::new(&["organizer"]).client().post("/api/tickets/vouchers", &body));
    let made = organizer.client().post("/api/tickets/vouchers", &body);
    made.assert_status(201);
    let path = format!("/api/tickets/vouchers/{}", id(&made.body));
    let listing = format!("/api/tickets/vouchers?event_id={}", id(&event));
    organizer.client().get(&path).assert_status(200);
    assert_eq!(organizer.client().get(&listing).body["items"], json!([made.body]));
    for stranger in [Person::new(&[]), Person::new(&["organizer"]), Person::new(&["moderator"])] {
        forbidden(stranger.client().get(&path));
        forbidden(stranger.client().get(&listing));
    }
    forbidden(organizer.client().get("/api/tickets/vouchers"));
    APP.get("/api/tickets/vouchers").assert_status(200);
}

/// The entries of `domain`'s audit log for `event` that `client` reads, as (kind, actor).
fn audit(client: Client, domain: &str, event: &Value) -> Vec<(String, String)> {
    let reply = client.get(&format!("/api/{domain}/audit?event_id={}", id(event)));
    reply.assert_status(200);
    let items = reply.body["items"].as_array().expect("items").iter();
    items
        .map(|e| (e["kind"].as_str().expect("kind").to_owned(), e["actor"].as_str().expect("actor").to_owned()))
        .collect()
}

#[test]
fn the_audit_log_names_who_moderated_refunded_and_checked_in_for_admins_and_the_organizer() {
    let (organizer, moderator, staff, buyer) =
        (Person::new(&["organizer"]), Person::new(&["moderator"]), Person::new(&["staff"]), Person::new(&[]));
    let event = pending_event(&organizer, "Audited");
    let moderation = format!("/api/events/{}/moderation", id(&event));
    moderator.client().post(&moderation, &json!({"decision": "approve"})).assert_status(200);
    let ticket_type = add_ticket_type(&organizer, &event, "GA", 10);
    let order =
        buyer.client().post("/api/tickets/orders", &json!({"ticket_type_id": ticket_type["id"], "quantity": 2}));
    order.assert_status(201);
    let order_path = format!("/api/tickets/orders/{}", id(&order.body));
    APP.post(&format!("{order_path}/payment"), &json!({"payment": "paid"})).assert_status(200);
    let [first, second] = [0, 1].map(|i| order.body["tickets"][i]["code"].as_str().expect("code").to_owned());
    staff.client().post(&format!("/api/tickets/{first}/check-in"), &json!({})).assert_status(200);
    buyer.client().post(&format!("{order_path}/cancel"), &json!({"tickets": [second]})).assert_status(200);

    let events_log = audit(organizer.client(), "events", &event);
    assert_eq!(events_log, [("event.approved".to_owned(), moderator.id())]);
    let tickets_log = audit(organizer.client(), "tickets", &event);
    let admin_id = APP.get("/api/users/me").body["id"].as_str().expect("admin id").to_owned();
    assert_eq!(
        tickets_log,
        [
            ("order.confirmed".to_owned(), buyer.id()),
            ("order.paid".to_owned(), admin_id),
            ("ticket.checked_in".to_owned(), staff.id()),
            ("order.tickets_cancelled".to_owned(), buyer.id()),
        ]
    );
    assert_eq!(
        audit(APP.with_token(crate::support::admin_token()), "tickets", &event),
        tickets_log,
        "admins read it too"
    );
    for stranger in [Person::new(&["organizer"]), buyer, staff, moderator] {
        for domain in ["events", "tickets"] {
            forbidden(stranger.client().get(&format!("/api/{domain}/audit?event_id={}", id(&event))));
        }
    }
    forbidden(organizer.client().get("/api/tickets/audit"));
    APP.get("/api/tickets/audit").assert_status(200);
}

/// Every entry of the users domain's audit log about `subjects`, as (kind, subject, actor), paging through.
fn users_audit(client: Client, subjects: &[&str]) -> Vec<(String, String, String)> {
    let (mut entries, mut cursor) = (Vec::new(), String::new());
    loop {
        let reply = client.get(&format!("/api/users/audit?limit=100{cursor}"));
        reply.assert_status(200);
        for e in reply.body["items"].as_array().expect("items") {
            let text = |field: &str| e[field].as_str().expect(field).to_owned();
            if subjects.contains(&e["subject"].as_str().expect("subject")) {
                entries.push((text("kind"), text("subject"), text("actor")));
            }
        }
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return entries,
        }
    }
}

#[test]
fn what_admins_do_to_other_peoples_accounts_is_in_the_users_audit_log_for_admins() {
    let member = Person::new(&[]);
    let member_id = member.id();
    let admin_id = APP.get("/api/users/me").body["id"].as_str().expect("admin id").to_owned();
    // Members changing themselves is nobody's role at work: not audited.
    member.client().patch(&format!("/api/users/{member_id}"), &json!({"name": "Myself"})).assert_status(200);
    APP.patch(&format!("/api/users/{member_id}"), &json!({"name": "Renamed"})).assert_status(200);
    let made =
        APP.post("/api/users", &json!({"email": format!("{}@example.com", unique_prefix("made")), "name": "Made"}));
    made.assert_status(201);
    let made_id = id(&made.body).to_owned();
    APP.delete(&format!("/api/users/{made_id}")).assert_status(204);

    let entry = |kind: &str, subject: &str| (kind.to_owned(), subject.to_owned(), admin_id.clone());
    assert_eq!(
        users_audit(APP.with_token(crate::support::admin_token()), &[&member_id, &made_id]),
        [entry("user.updated", &member_id), entry("user.created", &made_id), entry("user.deleted", &made_id)]
    );
    for stranger in [member, Person::new(&["organizer"]), Person::new(&["moderator"])] {
        forbidden(stranger.client().get("/api/users/audit"));
    }
}

#[test]
fn webhooks_are_registered_by_the_events_organizer_and_delivered_by_admins() {
    let organizer = Person::new(&["organizer"]);
    let (event, _) = event_on_sale(&organizer, 10);
    let for_event = json!({"url": "https://hooks.example.com/eventos", "event_id": event["id"]});
    let for_all = json!({"url": "https://hooks.example.com/eventos"});
    for domain in ["events", "tickets"] {
        let path = format!("/api/{domain}/webhooks");
        let made = organizer.client().post(&path, &for_event);
        made.assert_status(201);
        assert!(made.body["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
        let listed = organizer.client().get(&format!("{path}?event_id={}", id(&event)));
        assert_eq!(listed.body["items"][0]["id"], made.body["id"]);
        assert!(listed.body["items"][0].get("secret").is_none(), "a secret is shown once");
        forbidden(organizer.client().post(&path, &for_all));
        forbidden(Person::new(&["organizer"]).client().post(&path, &for_event));
        forbidden(Person::new(&[]).client().get(&format!("{path}?event_id={}", id(&event))));
        forbidden(organizer.client().post(&format!("{path}/deliver"), &json!({})));
        APP.anonymous().post(&path, &for_event).assert_problem(401, "unauthenticated");
        APP.post(&path, &for_all).assert_status(201);
    }
}

#[test]
fn members_register_read_and_cancel_only_themselves() {
    let organizer = Person::new(&["organizer"]);
    let (event, _) = event_on_sale(&organizer, 1);
    let (member, other) = (Person::new(&[]), Person::new(&[]));
    let registered = member.client().post("/api/participation/registrations", &json!({"event_id": event["id"]}));
    registered.assert_status(201);
    assert_eq!(registered.body["user_id"].as_str(), Some(member.id().as_str()));
    let path = format!("/api/participation/registrations/{}", id(&registered.body));

    forbidden(other.client().get(&path));
    forbidden(other.client().delete(&path));
    forbidden(
        other
            .client()
            .post("/api/participation/registrations", &json!({"event_id": event["id"], "user_id": member.id()})),
    );
    forbidden(other.client().get(&format!("/api/participation/registrations?user_id={}", member.id())));
    let summary = APP.anonymous().get(&format!("/api/participation/events/{}/summary", id(&event)));
    assert_eq!(summary.body["confirmed"], 1, "no refused request registered anybody");

    let listed = |client: Client| {
        let reply = client.get(&format!("/api/participation/registrations?event_id={}", id(&event)));
        reply.assert_status(200);
        reply.body["items"].as_array().expect("items").len()
    };
    assert_eq!((listed(other.client()), listed(member.client()), listed(organizer.client())), (0, 1, 1));
    organizer.client().get(&path).assert_status(200);
    forbidden(organizer.client().delete(&path));
    member.client().delete(&path).assert_status(200);
}
