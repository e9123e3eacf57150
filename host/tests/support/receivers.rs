//! Webhook receivers on this machine's loopback: one that checks every
//! signature and keeps what it is sent, and the hostile ones a platform must
//! shrug off (one that never answers, one that fails, one that answers late).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// What the receiver got: each message with a valid signature, in arrival order.
#[derive(Default)]
pub struct Inbox {
    pub messages: Vec<(String, Value)>,
    pub bad_signatures: usize,
    /// Deliveries attempted while the receiver was down.
    pub refused: usize,
}

/// A receiver that verifies each message under the secrets it knows.
pub struct Receiver {
    pub url: String,
    pub up: Arc<AtomicBool>,
    pub secrets: Arc<Mutex<Vec<String>>>,
    pub inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hooks/eventos", listener.local_addr().expect("address"));
        let receiver =
            Receiver { url, up: Arc::new(AtomicBool::new(true)), secrets: Arc::default(), inbox: Arc::default() };
        let (up, secrets, inbox) = (receiver.up.clone(), receiver.secrets.clone(), receiver.inbox.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (up, secrets, inbox) = (up.clone(), secrets.clone(), inbox.clone());
                std::thread::spawn(move || answer(stream, &up, &secrets, &inbox));
            }
        });
        receiver
    }

    /// Waits (a bounded while) until a message of `kind` about `subject` came in.
    pub fn wait_for(&self, kind: &str, subject: &str) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let inbox = self.inbox.lock().expect("inbox");
            if inbox.messages.iter().any(|(_, m)| m["type"] == kind && m["data"]["subject"] == subject) {
                return;
            }
            drop(inbox);
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {kind} about {subject} arrived without a dispatcher call");
    }

    /// The subjects of the messages of `kind` it took, once each.
    pub fn subjects(&self, kind: &str) -> std::collections::HashSet<String> {
        let inbox = self.inbox.lock().expect("inbox");
        inbox
            .messages
            .iter()
            .filter(|(_, m)| m["type"] == kind)
            .filter_map(|(_, m)| m["data"]["subject"].as_str().map(str::to_owned))
            .collect()
    }
}

/// The request's headers (lower-case names) and body.
fn read_request(stream: &TcpStream) -> (HashMap<String, String>, Vec<u8>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut headers = HashMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).ok();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok();
    (headers, body)
}

fn answer(mut stream: TcpStream, up: &AtomicBool, secrets: &Mutex<Vec<String>>, inbox: &Mutex<Inbox>) {
    let (headers, body) = read_request(&stream);
    let status = if !up.load(Ordering::SeqCst) {
        inbox.lock().expect("inbox").refused += 1;
        "503 Service Unavailable"
    } else if signed_by_one_of(&secrets.lock().expect("secrets"), &headers, &body) {
        let message = serde_json::from_slice(&body).expect("a JSON message");
        inbox.lock().expect("inbox").messages.push((headers["webhook-id"].clone(), message));
        "204 No Content"
    } else {
        inbox.lock().expect("inbox").bad_signatures += 1;
        "400 Bad Request"
    };
    let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// The Standard Webhooks check: `v1,` HMAC-SHA256 of `id.timestamp.body` under the secret's key.
fn signed_by_one_of(secrets: &[String], headers: &HashMap<String, String>, body: &[u8]) -> bool {
    let (Some(id), Some(timestamp), Some(signature)) =
        (headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature"))
    else {
        return false;
    };
    secrets.iter().any(|secret| {
        let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_")).expect("base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        signature.split(' ').any(|s| s == format!("v1,{}", STANDARD.encode(mac.clone().finalize().into_bytes())))
    })
}

/// How a hostile receiver treats a delivery.
#[derive(Debug, Clone, Copy)]
pub enum Hostility {
    /// Takes the connection and the request, and never answers.
    BlackHole,
    /// Answers 500 at once.
    Fails,
    /// Answers 200, after this long.
    Late(Duration),
}

/// A receiver that does the platform no good, counting the requests it got.
pub struct Hostile {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
}

impl Hostile {
    pub fn start(hostility: Hostility) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        std::thread::spawn(move || {
            // Held so that a black hole never closes what it took.
            let mut kept = Vec::new();
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                match hostility {
                    Hostility::BlackHole => kept.push(stream),
                    Hostility::Fails => {
                        std::thread::spawn(move || respond(stream, "500 Internal Server Error", Duration::ZERO));
                    }
                    Hostility::Late(after) => {
                        std::thread::spawn(move || respond(stream, "200 OK", after));
                    }
                }
            }
        });
        Hostile { url, requests }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn respond(mut stream: TcpStream, status: &str, after: Duration) {
    read_request(&stream);
    std::thread::sleep(after);
    let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// A loopback URL where nothing listens: connections to it are refused.
pub fn nobody_listening() -> String {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    format!("http://127.0.0.1:{port}/gone")
}
