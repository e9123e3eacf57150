//! Spin capabilities this host does not provide: key-value stores, SQLite, MQTT
//! and Redis. A guest importing them still loads, and each `open` fails exactly
//! as Spin 3.6.3 fails it for a component without the permission: a store or
//! database not granted is `access-denied`, an address not allowed is refused.
//! Granting one (`key_value_stores`, `sqlite_databases`, a `redis://` or
//! `mqtt://` allowed host) is refused when the application loads, naming it.

use wasmtime::component::Resource;

use crate::capabilities::fermyon::spin2_0_0::{key_value, mqtt, redis, sqlite};
use crate::state::RequestState;

/// No resource of these kinds can exist: `open` never succeeds.
fn never<T>() -> wasmtime::Result<T> {
    Err(wasmtime::Error::msg("a resource this host never hands out"))
}

impl key_value::Host for RequestState {}

impl key_value::HostStore for RequestState {
    async fn open(&mut self, _label: String) -> wasmtime::Result<Result<Resource<key_value::Store>, key_value::Error>> {
        Ok(Err(key_value::Error::AccessDenied))
    }

    async fn get(
        &mut self,
        _: Resource<key_value::Store>,
        _: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, key_value::Error>> {
        never()
    }

    async fn set(
        &mut self,
        _: Resource<key_value::Store>,
        _: String,
        _: Vec<u8>,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        never()
    }

    async fn delete(
        &mut self,
        _: Resource<key_value::Store>,
        _: String,
    ) -> wasmtime::Result<Result<(), key_value::Error>> {
        never()
    }

    async fn exists(
        &mut self,
        _: Resource<key_value::Store>,
        _: String,
    ) -> wasmtime::Result<Result<bool, key_value::Error>> {
        never()
    }

    async fn get_keys(
        &mut self,
        _: Resource<key_value::Store>,
    ) -> wasmtime::Result<Result<Vec<String>, key_value::Error>> {
        never()
    }

    async fn drop(&mut self, _: Resource<key_value::Store>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl sqlite::Host for RequestState {}

impl sqlite::HostConnection for RequestState {
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

impl mqtt::Host for RequestState {}

impl mqtt::HostConnection for RequestState {
    async fn open(
        &mut self,
        address: String,
        _username: String,
        _password: String,
        _keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<mqtt::Connection>, mqtt::Error>> {
        if !self.component.allow.allows_url(&address, "mqtt") {
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

impl redis::Host for RequestState {}

impl redis::HostConnection for RequestState {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<redis::Connection>, redis::Error>> {
        if !self.component.allow.allows_url(&address, "redis") {
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
