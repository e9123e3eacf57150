//! The platform with its `default` key-value store on Redis, as a runtime
//! config file puts it (`eventos up --runtime-config-file`): what the
//! components remember lands on the server, and a server that never answers
//! costs a request a moment, never the request.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::support::redis::RedisServer;
use crate::support::{Platform, dev_token, unique_prefix, workspace};

fn runtime_config(tag: &str, address: &str) -> PathBuf {
    let file = workspace().join("target").join(format!("{}.runtime-config.toml", unique_prefix(tag)));
    let text = format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://{address}\"\n");
    std::fs::write(&file, text).expect("write the runtime config");
    file
}

fn member_token() -> String {
    let subject = unique_prefix("member");
    dev_token(&subject, &["--email", &format!("{subject}@example.com")])
}

#[test]
fn the_tokens_the_components_verified_are_remembered_on_redis() {
    let redis = RedisServer::start().expect("a Redis server of the test's own");
    let app = Platform::start_with_runtime_config("kv_redis", &runtime_config("kv_redis", &redis.address));
    let token = member_token();
    for _ in 0..2 {
        app.with_token(&token).get("/api/users/me").assert_status(200);
    }
    assert!(app.log_text().contains(&format!("key-value store default: Redis at {}", redis.address)));
    let remembered = redis.command(&["KEYS", "verified-token/*"]);
    assert!(!remembered.is_empty(), "no verified token on Redis:\n{}", app.log_text());
}

#[test]
fn a_store_that_never_answers_slows_a_request_a_moment_and_stops_none() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = silent.local_addr().expect("an address").to_string();
    // Connections are taken and held open, and never answered.
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    let holder = held.clone();
    std::thread::spawn(move || {
        for connection in silent.incoming().flatten() {
            holder.lock().expect("held").push(connection);
        }
    });
    let app = Platform::start_with_runtime_config("kv_silent", &runtime_config("kv_silent", &address));
    let token = member_token();
    for _ in 0..3 {
        app.with_token(&token).get("/api/users/me").assert_status(200);
    }
    assert!(!held.lock().expect("held").is_empty(), "the platform never reached for its store");
}
