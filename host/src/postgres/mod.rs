//! `spin:postgres/postgres@4.0.0` for guests: pooled tokio-postgres connections,
//! reachable only at addresses the component's `allowed_outbound_hosts` lists.

mod columns;
mod errors;
mod params;
pub mod pool;

use std::str::FromStr;

use wasmtime::component::Resource;

use crate::capabilities::spin::postgres4_0_0::postgres::{self as wit, Connection, Error, ParameterValue, RowSet};
use crate::state::RequestState;

pub use errors::error_text;

impl wit::Host for RequestState {}

impl wit::HostConnection for RequestState {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let config = match tokio_postgres::Config::from_str(&address) {
            Ok(config) => config,
            Err(e) => return Ok(Err(Error::ConnectionFailed(e.to_string()))),
        };
        if let Err(denied) = check_allowed(self, &config) {
            return Ok(Err(Error::ConnectionFailed(denied)));
        }
        let database = config.get_dbname().unwrap_or("postgres").to_owned();
        let client = match self.component.pools.get(&address, config).await {
            Ok(client) => client,
            Err(e) => return Ok(Err(Error::ConnectionFailed(e))),
        };
        let rep = self.pg.insert(pool::GuestConnection::new(
            client,
            self.component.pools.query_timeout,
            database,
            self.trace.clone(),
        ));
        Ok(Ok(Resource::new_own(rep)))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let conn = self.pg.get_mut(connection.rep())?;
        Ok(conn.query(&statement, params).await)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let conn = self.pg.get_mut(connection.rep())?;
        Ok(conn.execute(&statement, params).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.pg.remove(connection.rep());
        Ok(())
    }
}

/// Every host the connection string names must be allowed, checked as Spin 3.6.3
/// checks them: `host:port` when the string gives that host a port, else `host`
/// (the well-known 5432 applies). Spin's quirk is kept: with several hosts and one
/// port, only the first host is checked with it.
fn check_allowed(state: &RequestState, config: &tokio_postgres::Config) -> Result<(), String> {
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let address = match host {
            tokio_postgres::config::Host::Tcp(name) => name,
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => return Err("Unix sockets are not supported on WebAssembly".into()),
        };
        let url = match ports.get(i) {
            Some(port) => format!("{address}:{port}"),
            None => address.clone(),
        };
        if !state.component.allow.allows_url(&url, "postgres") {
            return Err(format!("address postgres://{url} is not permitted"));
        }
    }
    Ok(())
}
