//! `spin:postgres/postgres@4.0.0` for guests: pooled tokio-postgres connections,
//! reachable only at addresses the component's `allowed_outbound_hosts` lists.

mod columns;
mod connection;
mod errors;
mod params;
pub mod pool;
mod session;

use std::str::FromStr;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::capabilities::allow::AllowList;
use crate::capabilities::bindings::spin::postgres4_0_0::postgres::{
    self as wit, Connection, Error, ParameterValue, RowSet,
};

use connection::GuestConnection;
pub use errors::error_text;

/// One request's share of Postgres: the application's pools, the addresses its
/// component may reach, and the connections the guest holds open.
pub struct PgState {
    pools: Arc<pool::Pools>,
    allow: Arc<AllowList>,
    /// The guest's open connections, by its handles to them.
    connections: ResourceTable,
}

impl PgState {
    pub fn new(pools: Arc<pool::Pools>, allow: Arc<AllowList>) -> Self {
        Self { pools, allow, connections: ResourceTable::new() }
    }
}

struct HasPg;

impl HasData for HasPg {
    type Data<'a> = &'a mut PgState;
}

/// Links `spin:postgres/postgres@4.0.0`, served from the state `get` finds.
pub fn link<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut PgState) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasPg>(linker, get)
}

impl wit::Host for PgState {}

impl wit::HostConnection for PgState {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let config = match tokio_postgres::Config::from_str(&address) {
            Ok(config) => config,
            Err(e) => return Ok(Err(Error::ConnectionFailed(e.to_string()))),
        };
        if let Err(denied) = check_allowed(&self.allow, &config) {
            return Ok(Err(Error::ConnectionFailed(denied)));
        }
        let database = config.get_dbname().unwrap_or("postgres").to_owned();
        let client = match self.pools.get(&address, config).await {
            Ok(client) => client,
            Err(e) => return Ok(Err(Error::ConnectionFailed(e))),
        };
        let opened = GuestConnection::new(client, self.pools.query_timeout, database);
        Ok(Ok(Resource::new_own(self.connections.push(opened)?.rep())))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let conn = self.connections.get_mut(&held(&connection))?;
        Ok(conn.query(&statement, params).await)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let conn = self.connections.get_mut(&held(&connection))?;
        Ok(conn.execute(&statement, params).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        // Dropping it returns the client to its pool (reset first if it was used).
        self.connections.delete(Resource::<GuestConnection>::new_own(connection.rep()))?;
        Ok(())
    }
}

/// The guest's handle to a connection, as the handle of the table entry it names.
fn held(connection: &Resource<Connection>) -> Resource<GuestConnection> {
    Resource::new_borrow(connection.rep())
}

/// Every host the connection string names must be allowed, checked as Spin 3.6.3
/// checks them: `host:port` when the string gives that host a port, else `host`
/// (the well-known 5432 applies). Spin's quirk is kept: with several hosts and one
/// port, only the first host is checked with it.
fn check_allowed(allow: &AllowList, config: &tokio_postgres::Config) -> Result<(), String> {
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
        if !allow.allows_url(&url, "postgres") {
            return Err(format!("address postgres://{url} is not permitted"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(allowed: &[&str], address: &str) -> Result<(), String> {
        let entries: Vec<String> = allowed.iter().map(|e| e.to_string()).collect();
        let allow = AllowList::parse(&entries, &[]).expect("a valid list");
        check_allowed(&allow, &tokio_postgres::Config::from_str(address).expect("a connection string"))
    }

    #[test]
    fn a_listed_host_and_port_may_be_opened_and_no_other() {
        let allowed = ["postgres://db.internal:5433"];
        assert_eq!(checked(&allowed, "postgres://app@db.internal:5433/tickets"), Ok(()));
        assert_eq!(checked(&allowed, "host=db.internal port=5433 dbname=tickets"), Ok(()));
        let other_port = checked(&allowed, "postgres://db.internal:5432/tickets");
        assert_eq!(other_port, Err("address postgres://db.internal:5432 is not permitted".into()));
        assert!(checked(&allowed, "postgres://elsewhere:5433/tickets").is_err());
        assert!(checked(&[], "postgres://db.internal:5433/tickets").is_err(), "nothing listed, nothing opened");
    }

    #[test]
    fn without_a_port_the_well_known_one_is_checked() {
        assert_eq!(checked(&["postgres://db.internal"], "postgres://db.internal/tickets"), Ok(()));
        assert_eq!(checked(&["postgres://db.internal:5432"], "host=db.internal"), Ok(()));
        assert!(checked(&["postgres://db.internal:5433"], "host=db.internal").is_err());
    }

    #[test]
    fn every_host_of_a_list_is_checked() {
        let both = ["postgres://a.internal:5432", "postgres://b.internal:5432"];
        assert_eq!(checked(&both, "host=a.internal,b.internal port=5432,5432"), Ok(()));
        assert!(checked(&both[..1], "host=a.internal,b.internal port=5432,5432").is_err());
        // Spin's quirk: one port for two hosts checks the first host with it, the second without.
        assert_eq!(
            checked(&["postgres://a.internal:5433", "postgres://b.internal"], "host=a.internal,b.internal port=5433"),
            Ok(())
        );
    }

    #[test]
    fn a_unix_socket_is_refused_whatever_is_allowed() {
        let refused = checked(&["postgres://*:*"], "host=/var/run/postgresql dbname=tickets");
        assert_eq!(refused, Err("Unix sockets are not supported on WebAssembly".into()));
    }
}
