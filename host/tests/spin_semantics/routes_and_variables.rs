//! What Spin 3.6.3 itself does around a guest, held on both runtimes through the
//! probe guest: the routing headers it sets, its well-known paths, its bare 404,
//! and outbound HTTPS that verifies the server's certificate.

use std::process::{Child, Command, Stdio};

use crate::support::{Platform, encode, workspace};

fn probe() -> Platform {
    Platform::start_with(&workspace().join("host/tests/fixtures/probe.toml"), "semantics", &[])
}

#[test]
fn the_guest_sees_exactly_spins_routing_headers() {
    let probe = probe();
    let reply = probe.get("/probe/echo?x=1");
    reply.assert_status(200);
    let headers: serde_json::Value = serde_json::from_str(&reply.text).expect("json");
    assert_eq!(headers["spin-matched-route"], "/probe/...");
    assert_eq!(headers["spin-raw-component-route"], "/probe/...");
    assert_eq!(headers["spin-component-route"], "/probe");
    assert_eq!(headers["spin-path-info"], "/echo");
    assert_eq!(headers["spin-base-path"], "/");
    assert!(
        headers["spin-full-url"].as_str().is_some_and(|u| u.starts_with("http://") && u.ends_with("/probe/echo?x=1"))
    );
    assert!(headers["spin-client-addr"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")));
    let names: Vec<&String> = headers.as_object().expect("an object").keys().collect();
    assert!(!names.iter().any(|name| name.starts_with("x-spin-")), "no x- twins: {names:?}");
}

#[test]
fn spins_well_known_paths_answer_before_any_route() {
    let probe = probe();
    let health = probe.get("/.well-known/spin/health");
    assert_eq!((health.status, health.text.as_str()), (200, "OK"));
    let info = probe.get("/.well-known/spin/info");
    info.assert_status(200);
    assert_eq!((info.body["name"].as_str(), info.body["version"].as_str()), (Some("probe"), Some("0.1.0")));
    probe.get("/.well-known/spin/other").assert_bare(404);
    probe.get("/elsewhere").assert_bare(404);
}

#[test]
fn outbound_https_refuses_a_certificate_nobody_vouches_for() {
    let server = SelfSignedServer::start();
    let probe = probe();
    let reply = probe.get(&format!("/probe/get?url={}", encode(&format!("https://127.0.0.1:{}/", server.port))));
    reply.assert_status(502);
    assert!(reply.text.contains("TlsProtocolError"), "{}", reply.text);
}

/// An HTTPS server on a self-signed certificate (made with `openssl`).
struct SelfSignedServer {
    port: u16,
    child: Child,
}

impl SelfSignedServer {
    fn start() -> Self {
        let dir = workspace().join("target/test-logs/self-signed");
        std::fs::create_dir_all(&dir).expect("a folder for the certificate");
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
            .args(["-keyout", "key.pem", "-out", "cert.pem"])
            .current_dir(&dir)
            .output()
            .expect("run openssl");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let script = format!(
            "import http.server, ssl\n\
             server = http.server.HTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)\n\
             context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
             context.load_cert_chain('cert.pem', 'key.pem')\n\
             server.socket = context.wrap_socket(server.socket, server_side=True)\n\
             server.serve_forever()\n"
        );
        let child = Command::new("python3")
            .args(["-c", &script])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "the HTTPS server did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { port, child }
    }
}

impl Drop for SelfSignedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
