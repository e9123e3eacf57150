//! A connection a guest opened, from its pool to its return: statements with
//! their timeout, spans and failure count, and the reset before another request
//! may have it when its statements may have left anything.

use std::time::Duration;

use deadpool_postgres::Object;
use futures_util::TryStreamExt;
use prometheus_client::metrics::counter::Counter;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, SimpleQueryMessage};

use super::columns::row_set;
use super::errors::{self, query_failed};
use super::params::{Param, bind_all};
use super::session::{Session, is_plain_begin};
use crate::capabilities::bindings::spin::postgres4_0_0::postgres::{Error, ParameterValue, QueryError, RowSet};
use crate::observe::telemetry::spans;

/// Undoes whatever a guest left on its session: settings (SET or set_config),
/// cursors, LISTEN, advisory locks, temporary tables.
macro_rules! reset_session {
    () => {
        "RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP"
    };
}
/// Run on a connection whose guest may have left something on it, before
/// another request may have it, in one round trip: the reset, after a first
/// column that says whether a transaction block was left open (inside one, the
/// block began before this statement did).
const PROBE_AND_RESET: &str = concat!("SELECT now() <> statement_timestamp(); ", reset_session!());
/// For a connection left in a transaction block (open or failed), where the reset
/// above would be rolled back with it.
const ROLLBACK_AND_RESET: &str = concat!("ROLLBACK; ", reset_session!());

/// A connection a guest opened; it goes back to its pool when the guest drops it
/// or the request ends, reset first if the guest's statements may have left
/// anything on it (see `session`).
pub struct GuestConnection {
    client: Option<Object>,
    /// Counts this database's failed statements.
    failures: Counter,
    /// What the guest's statements may have left on the session.
    session: Session,
    /// A plain `BEGIN` the guest ran, not sent yet: it goes out with the next
    /// statement, in the same round trip.
    deferred_begin: Option<String>,
    query_timeout: Duration,
    /// The database's name, for the spans of its statements.
    database: String,
}

impl GuestConnection {
    pub fn new((client, failures): (Object, Counter), query_timeout: Duration, database: String) -> Self {
        Self {
            client: Some(client),
            failures,
            session: Session::default(),
            deferred_begin: None,
            query_timeout,
            database,
        }
    }

    pub async fn query(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        let span = spans::statement(&self.database, sql);
        let outcome = self.run_query(sql, params).await;
        self.finish(sql, &span, outcome.as_ref().err());
        outcome
    }

    pub async fn execute(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        let span = spans::statement(&self.database, sql);
        let outcome = if self.defers(sql, &params) { Ok(0) } else { self.run_execute(sql, params).await };
        self.finish(sql, &span, outcome.as_ref().err());
        outcome
    }

    /// Whether `sql` is a plain `BEGIN` on a session in no block, which then
    /// waits to go out with the next statement: a transaction's first round
    /// trip did nothing but open it. Such a `BEGIN` fails only with its
    /// connection, and then the next statement fails too.
    fn defers(&mut self, sql: &str, params: &[ParameterValue]) -> bool {
        let defers = params.is_empty()
            && self.client.is_some()
            && self.deferred_begin.is_none()
            && !self.session.needs_reset()
            && is_plain_begin(sql);
        if defers {
            self.deferred_begin = Some(sql.to_owned());
        }
        defers
    }

    /// Notes what the statement may have left on the session; counts one that
    /// failed, and marks its span with whose doing it was.
    fn finish(&mut self, sql: &str, span: &tracing::Span, failed: Option<&Error>) {
        self.session.ran(sql, failed.is_none());
        if let Some(error) = failed {
            self.failures.inc();
            spans::blamed(span, errors::blame(error));
        }
    }

    /// As on Spin: parameters that cannot be converted are a bad parameter, a
    /// statement refused before it runs is the server's structured error, and one
    /// that fails while its rows stream back (a constraint, a deadlock) is text.
    async fn run_query(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        let client = self.client.as_ref().ok_or_else(closed)?;
        let values = bind_all(&params).map_err(|e| Error::BadParameter(format!("{e:?}")))?;
        let begin = self.deferred_begin.take();
        let run = async {
            let statement = client.prepare_cached(sql).await.map_err(|e| query_failed(&e))?;
            let stream = client
                .query_raw(&statement, values.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)))
                .await
                .map_err(|e| query_failed(&e))?;
            let as_text = |e: anyhow::Error| Error::QueryFailed(QueryError::Text(format!("{e:?}")));
            let rows: Vec<Row> = stream.try_collect().await.map_err(|e| as_text(e.into()))?;
            row_set(&rows).map_err(as_text)
        };
        let run = after_begin(client, begin, run);
        match tokio::time::timeout(self.query_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Parameters that cannot be converted are a failed value conversion, as on Spin.
    async fn run_execute(&mut self, sql: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        let client = self.client.as_ref().ok_or_else(closed)?;
        let values = bind_all(&params).map_err(|e| Error::ValueConversionFailed(format!("{e:?}")))?;
        let begin = self.deferred_begin.take();
        let run = async {
            let statement = client.prepare_cached(sql).await.map_err(|e| query_failed(&e))?;
            client.execute(&statement, &as_refs(&values)).await.map_err(|e| query_failed(&e))
        };
        let run = after_begin(client, begin, run);
        match tokio::time::timeout(self.query_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out()),
        }
    }

    /// A statement that timed out leaves the connection in an unknown state: it is
    /// detached from the pool, and the guest sees the failure as a lost connection.
    fn timed_out(&mut self) -> Error {
        if let Some(client) = self.client.take() {
            let _ = Object::take(client);
        }
        let why = format!("the database did not answer within {:?}", self.query_timeout);
        Error::QueryFailed(QueryError::Text(why))
    }
}

/// `statement`, after the deferred `begin` if there is one, both sent at once:
/// the `BEGIN` is sent when first polled, so it reaches the server first.
async fn after_begin<T>(
    client: &Object,
    begin: Option<String>,
    statement: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let Some(begin) = begin else { return statement.await };
    let (begun, outcome) = futures_util::join!(client.batch_execute(&begin), statement);
    begun.map_err(|e| query_failed(&e))?;
    outcome
}

fn as_refs(values: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}

fn closed() -> Error {
    Error::ConnectionFailed("the connection is closed".into())
}

impl Drop for GuestConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if self.deferred_begin.take().is_some() {
            // The block it opens was never opened on the server.
            self.session.never_began();
        }
        if !self.session.needs_reset() {
            return;
        }
        // Resetting needs a round trip; do it off the request path. If it fails the
        // connection is detached from the pool rather than handed to someone else.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if reset(&client).await.is_err() {
                    let _ = Object::take(client);
                }
            });
        } else {
            let _ = Object::take(client);
        }
    }
}

/// Leaves the session as a new connection's: one round trip unless the guest
/// left a transaction block open or failed, then two more.
async fn reset(client: &Object) -> Result<(), tokio_postgres::Error> {
    if let Ok(answers) = client.simple_query(PROBE_AND_RESET).await {
        let in_block = answers.iter().find_map(|answer| match answer {
            SimpleQueryMessage::Row(row) => row.get(0).map(|value| value == "t"),
            _ => None,
        });
        if in_block == Some(false) {
            return Ok(());
        }
    }
    client.batch_execute(ROLLBACK_AND_RESET).await
}
