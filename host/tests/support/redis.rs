//! A Redis server of the test's own (Debian's `redis-server`, which `make setup`
//! installs) on a free loopback port, keeping nothing on disk and gone with the
//! test; and its commands spoken in RESP, so a test reads what a store holds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_address, listens};

pub struct RedisServer {
    pub address: String,
    child: Child,
}

impl RedisServer {
    pub fn start() -> Result<Self, String> {
        let address = free_address();
        let port = address.rsplit_once(':').map(|(_, port)| port.to_owned()).expect("a port");
        let mut child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1 -::1", "--save", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server ({e}); make setup installs it"))?;
        if !listens(&address, &mut child) {
            let _ = child.kill();
            return Err(format!("redis-server did not listen on {address}"));
        }
        Ok(Self { address, child })
    }

    pub fn port(&self) -> u16 {
        self.address.rsplit_once(':').and_then(|(_, port)| port.parse().ok()).expect("a port")
    }

    /// The reply to one command, flattened to its strings: a bulk string's lines, an array's items.
    pub fn command(&self, words: &[&str]) -> Vec<String> {
        let mut stream = TcpStream::connect(&self.address).expect("reach redis-server");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let mut request = format!("*{}\r\n", words.len());
        for word in words {
            request.push_str(&format!("${}\r\n{word}\r\n", word.len()));
        }
        stream.write_all(request.as_bytes()).expect("send a command");
        read_reply(&mut BufReader::new(stream))
    }
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> Vec<String> {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a reply");
    let (kind, rest) = line.trim_end().split_at(1);
    match kind {
        "$" if rest == "-1" => vec![],
        "$" => {
            let mut bulk = vec![0; rest.parse::<usize>().expect("a length") + 2];
            reader.read_exact(&mut bulk).expect("the bulk string");
            String::from_utf8_lossy(&bulk).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
        }
        "*" => (0..rest.parse::<usize>().expect("a count")).flat_map(|_| read_reply(reader)).collect(),
        _ => vec![rest.to_owned()],
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
