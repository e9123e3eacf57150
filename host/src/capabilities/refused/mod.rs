//! Spin capabilities this host does not provide: SQLite, MQTT and Redis. A
//! guest importing them still loads, and each `open` fails exactly as Spin 3.6.3
//! fails it for a component without the permission: a database not granted is
//! `access-denied`, an address not allowed is refused. Granting one
//! (`sqlite_databases`, a `redis://` or `mqtt://` allowed host) is refused when
//! the application loads, naming it.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource};

use crate::capabilities::allow::AllowList;
use crate::capabilities::bindings::fermyon::spin2_0_0::{mqtt, redis, sqlite};

/// Links the three interfaces, present only to refuse, as Spin refuses a
/// component without the permission.
pub fn link<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut RefusedState) -> wasmtime::Result<()> {
    sqlite::add_to_linker::<T, HasRefused>(linker, get)?;
    mqtt::add_to_linker::<T, HasRefused>(linker, get)?;
    redis::add_to_linker::<T, HasRefused>(linker, get)
}

/// One request's share of the refused capabilities: the addresses its component
/// may reach, to refuse an address as Spin does before anything else.
pub struct RefusedState {
    allow: Arc<AllowList>,
}

impl RefusedState {
    pub fn new(allow: Arc<AllowList>) -> Self {
        Self { allow }
    }
}

struct HasRefused;

impl HasData for HasRefused {
    type Data<'a> = &'a mut RefusedState;
}

/// No resource of these kinds can exist: `open` never succeeds.
fn never<T>() -> wasmtime::Result<T> {
    Err(wasmtime::Error::msg("a resource this host never hands out"))
}

impl sqlite::Host for RefusedState {}

impl sqlite::HostConnection for RefusedState {
    async fn open(
        &mut self,
        _database: String,
    ) -> wasmtime::Result<Result<Resource<sqlite::Connection>, sqlite::Error>> {
        Ok(Err(sqlite::Error::AccessDenied))
    }

    async fn execute(
        &mut self,
        _: Resource<sqlite::Connection>,
        _: String,
        _: Vec<sqlite::Value>,
    ) -> wasmtime::Result<Result<sqlite::QueryResult, sqlite::Error>> {
        never()
    }

    async fn drop(&mut self, _: Resource<sqlite::Connection>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl mqtt::Host for RefusedState {}

impl mqtt::HostConnection for RefusedState {
    async fn open(
        &mut self,
        address: String,
        _username: String,
        _password: String,
        _keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<mqtt::Connection>, mqtt::Error>> {
        if !self.allow.allows_url(&address, "mqtt") {
            return Ok(Err(mqtt::Error::ConnectionFailed(format!("address {address} is not permitted"))));
        }
        Ok(Err(mqtt::Error::Other("outbound MQTT is a Spin capability this host does not provide".into())))
    }

    async fn publish(
        &mut self,
        _: Resource<mqtt::Connection>,
        _: String,
        _: Vec<u8>,
        _: mqtt::Qos,
    ) -> wasmtime::Result<Result<(), mqtt::Error>> {
        never()
    }

    async fn drop(&mut self, _: Resource<mqtt::Connection>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl redis::Host for RefusedState {}

impl redis::HostConnection for RefusedState {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<redis::Connection>, redis::Error>> {
        if !self.allow.allows_url(&address, "redis") {
            return Ok(Err(redis::Error::InvalidAddress));
        }
        Ok(Err(redis::Error::Other("outbound Redis is a Spin capability this host does not provide".into())))
    }

    async fn publish(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
        _: Vec<u8>,
    ) -> wasmtime::Result<Result<(), redis::Error>> {
        never()
    }

    async fn get(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, redis::Error>> {
        never()
    }

    async fn set(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
        _: Vec<u8>,
    ) -> wasmtime::Result<Result<(), redis::Error>> {
        never()
    }

    async fn incr(&mut self, _: Resource<redis::Connection>, _: String) -> wasmtime::Result<Result<i64, redis::Error>> {
        never()
    }

    async fn del(
        &mut self,
        _: Resource<redis::Connection>,
        _: Vec<String>,
    ) -> wasmtime::Result<Result<u32, redis::Error>> {
        never()
    }

    async fn sadd(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
        _: Vec<String>,
    ) -> wasmtime::Result<Result<u32, redis::Error>> {
        never()
    }

    async fn smembers(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
    ) -> wasmtime::Result<Result<Vec<String>, redis::Error>> {
        never()
    }

    async fn srem(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
        _: Vec<String>,
    ) -> wasmtime::Result<Result<u32, redis::Error>> {
        never()
    }

    async fn execute(
        &mut self,
        _: Resource<redis::Connection>,
        _: String,
        _: Vec<redis::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<redis::RedisResult>, redis::Error>> {
        never()
    }

    async fn drop(&mut self, _: Resource<redis::Connection>) -> wasmtime::Result<()> {
        Ok(())
    }
}
