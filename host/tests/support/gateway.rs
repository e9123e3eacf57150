//! What the cluster's Gateway and Services do for the node half: one address
//! for the whole application, each request sent to the container of the
//! component whose route matches its path (the most specific route, as Spin
//! and the HTTPRoutes route), one request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

const BAD_GATEWAY: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// The gateway's routes: a path prefix (a route without its `/...`) and the
/// address serving it, longest prefix first.
pub struct Gateway {
    pub address: String,
}

impl Gateway {
    pub fn start(mut routes: Vec<(String, String)>) -> Self {
        routes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the gateway");
        let address = listener.local_addr().expect("address").to_string();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let routes = routes.clone();
                std::thread::spawn(move || forward(client, &routes));
            }
        });
        Gateway { address }
    }
}

/// Reads the request head, sends it (asking the backend to close after
/// answering) and the rest of the connection to the route's backend, and the
/// backend's answer back.
fn forward(client: TcpStream, routes: &[(String, String)]) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut head = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        if line == "\r\n" || line == "\n" {
            head.extend_from_slice(b"connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let target = String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/");
    let Some((_, backend)) = routes.iter().find(|(prefix, _)| matches(prefix, path)) else { return };
    let Ok(mut server) = TcpStream::connect(backend) else {
        let _ = (&client).write_all(BAD_GATEWAY);
        return;
    };
    if server.write_all(&head).is_err() {
        return;
    }
    let mut upstream = server.try_clone().expect("clone");
    let buffered = reader.buffer().to_vec();
    let _ = upstream.write_all(&buffered);
    std::thread::spawn(move || {
        let mut rest = reader.into_inner();
        let _ = std::io::copy(&mut rest, &mut upstream);
    });
    let mut downstream = client.try_clone().expect("clone");
    let mut answer = [0u8; 16 * 1024];
    let mut answered = false;
    loop {
        match server.read(&mut answer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answered = true;
                if downstream.write_all(&answer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    if !answered {
        // The backend went away without a word (its pod was killed): say so, as a gateway does.
        let _ = downstream.write_all(BAD_GATEWAY);
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

/// `/api/users` matches `/api/users` and what is under it; `` (the `/...` route) matches every path.
fn matches(prefix: &str, path: &str) -> bool {
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}
