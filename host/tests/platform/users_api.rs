//! The Users section of the API, through the real host and component.

use crate::support::APP;
use serde_json::{Value, json};

fn unique_email(tag: &str) -> String {
    format!("{tag}.{}@example.com", crate::support::unique_prefix("u"))
}

fn create_user(name: &str) -> Value {
    let reply = APP.post("/api/users", &json!({"email": unique_email(name), "name": name}));
    reply.assert_status(201);
    reply.body
}

#[test]
fn creating_a_user_answers_201_with_its_location() {
    let email = unique_email("ada");
    let reply = APP.post("/api/users", &json!({"email": email.to_uppercase(), "name": "  Ada Lovelace "}));
    reply.assert_status(201);
    let id = reply.body["id"].as_str().expect("id");
    assert_eq!(reply.header("location"), Some(format!("/api/users/{id}").as_str()));
    assert_eq!(reply.body["email"], email.to_lowercase());
    assert_eq!(reply.body["name"], "Ada Lovelace");
    assert_eq!(reply.body["created_at"], reply.body["updated_at"]);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("application/json")));
}

#[test]
fn a_created_user_can_be_read_back() {
    let user = create_user("Grace");
    let reply = APP.get(&format!("/api/users/{}", user["id"].as_str().expect("id")));
    reply.assert_status(200);
    assert_eq!(reply.body, user);
}

#[test]
fn an_email_is_unique_whatever_its_case() {
    let email = unique_email("dup");
    APP.post("/api/users", &json!({"email": email, "name": "One"})).assert_status(201);
    let reply = APP.post("/api/users", &json!({"email": email.to_uppercase(), "name": "Two"}));
    reply.assert_problem(409, "duplicate-email");
    assert_eq!(reply.error_fields(), ["email"]);
}

#[test]
fn invalid_fields_are_all_reported_as_422() {
    let reply = APP.post("/api/users", &json!({"email": "not-an-email", "name": ""}));
    reply.assert_problem(422, "validation-failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "name"]);
}

#[test]
fn a_name_of_201_characters_is_rejected() {
    let reply = APP.post("/api/users", &json!({"email": unique_email("long"), "name": "n".repeat(201)}));
    reply.assert_problem(422, "validation-failed");
    assert_eq!(reply.error_fields(), ["name"]);
}

#[test]
fn an_unknown_user_is_404() {
    APP.get("/api/users/0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d").assert_problem(404, "not-found");
    APP.get("/api/users/not-a-uuid").assert_problem(404, "not-found");
}

#[test]
fn patching_changes_only_the_given_fields() {
    let user = create_user("Before");
    let path = format!("/api/users/{}", user["id"].as_str().expect("id"));
    let reply = APP.patch(&path, &json!({"name": "After"}));
    reply.assert_status(200);
    assert_eq!(reply.body["name"], "After");
    assert_eq!(reply.body["email"], user["email"]);
    assert_ne!(reply.body["updated_at"], user["updated_at"]);
    assert_eq!(APP.get(&path).body["name"], "After");
}

#[test]
fn patching_applies_the_same_rules_as_creating() {
    let user = create_user("Rules");
    let other = create_user("Other");
    let path = format!("/api/users/{}", user["id"].as_str().expect("id"));
    APP.patch(&path, &json!({"email": "broken"})).assert_problem(422, "validation-failed");
    APP.patch(&path, &json!({"name": null})).assert_problem(422, "validation-failed");
    APP.patch(&path, &json!({"email": other["email"]})).assert_problem(409, "duplicate-email");
    APP.patch(&path, &json!({"role": "admin"})).assert_problem(400, "malformed-request");
    APP.patch("/api/users/0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d", &json!({"name": "X"}))
        .assert_problem(404, "not-found");
}

#[test]
fn a_deleted_user_is_gone() {
    let user = create_user("Leaving");
    let path = format!("/api/users/{}", user["id"].as_str().expect("id"));
    let reply = APP.delete(&path);
    reply.assert_status(204);
    assert!(reply.text.is_empty());
    APP.get(&path).assert_problem(404, "not-found");
    APP.delete(&path).assert_problem(404, "not-found");
}

#[test]
fn the_list_filters_by_email() {
    let user = create_user("Findme");
    let email = user["email"].as_str().expect("email");
    let reply = APP.get(&format!("/api/users?email={}", email.to_uppercase().replace('@', "%40")));
    reply.assert_status(200);
    assert_eq!(reply.body["items"], json!([user]));
    assert_eq!(reply.body["next_cursor"], Value::Null);
}

#[test]
fn the_list_pages_through_every_user_in_creation_order() {
    let created: Vec<Value> = (0..5).map(|i| create_user(&format!("Pager{i}"))).collect();
    let mut seen = Vec::new();
    let mut path = "/api/users?limit=2".to_string();
    loop {
        let reply = APP.get(&path);
        reply.assert_status(200);
        let items = reply.body["items"].as_array().expect("items").clone();
        assert!(items.len() <= 2);
        seen.extend(items);
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let ids: Vec<&Value> = seen.iter().map(|u| &u["id"]).collect();
    let positions: Vec<usize> = created
        .iter()
        .map(|u| ids.iter().position(|id| **id == u["id"]).expect("every created user is listed"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "creation order: {positions:?}");
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no user is listed twice");
}

#[test]
fn list_parameters_are_checked() {
    APP.get("/api/users?limit=0").assert_problem(400, "malformed-request");
    APP.get("/api/users?limit=201").assert_problem(400, "malformed-request");
    APP.get("/api/users?limit=abc").assert_problem(400, "malformed-request");
    APP.get("/api/users?cursor=garbage").assert_problem(400, "malformed-request");
    APP.get("/api/users?sort=name").assert_problem(400, "malformed-request");
    APP.get("/api/users?email=nope").assert_problem(400, "malformed-request");
    APP.get("/api/users?limit=200").assert_status(200);
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let reply = APP.send("PUT", "/api/users", &[], None);
    reply.assert_problem(405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = APP.send("POST", "/api/users/0b6a3b4e-8f7e-4a8e-9d55-4f3c2a1b0c9d", &[], None);
    assert_eq!(reply.header("allow"), Some("GET, PATCH, DELETE"));
}

#[test]
fn health_reports_the_database() {
    let reply = APP.get("/api/users/health");
    reply.assert_status(200);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["component"], "users");
    assert_eq!(reply.body["version"], "0.1.0");
    assert!(reply.body["instance"].as_str().is_some_and(|i| !i.is_empty()));
    assert_eq!(reply.body["database"]["status"], "ok");
    assert!(reply.body["database"]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
}
