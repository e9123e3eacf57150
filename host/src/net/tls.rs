//! TLS for what guests reach outside: HTTPS and PostgreSQL, with certificates
//! verified against the system's trust store, as Spin does (a server whose
//! certificate does not verify is refused, never trusted blindly).

use std::sync::OnceLock;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_native_tls::{TlsConnector, TlsStream};

/// One connector for the process: loading the trust store costs milliseconds.
fn connector() -> Result<&'static native_tls::TlsConnector, native_tls::Error> {
    static CONNECTOR: OnceLock<native_tls::TlsConnector> = OnceLock::new();
    if let Some(connector) = CONNECTOR.get() {
        return Ok(connector);
    }
    let built = native_tls::TlsConnector::builder().request_alpns(&["http/1.1"]).build()?;
    Ok(CONNECTOR.get_or_init(|| built))
}

/// A TLS session with `host` over `stream`, its certificate verified.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    host: &str,
    stream: S,
) -> Result<TlsStream<S>, native_tls::Error> {
    TlsConnector::from(connector()?.clone()).connect(host, stream).await
}

/// PostgreSQL's TLS, used unless the connection string says `sslmode=disable`.
pub fn postgres() -> Result<postgres_native_tls::MakeTlsConnector, native_tls::Error> {
    Ok(postgres_native_tls::MakeTlsConnector::new(native_tls::TlsConnector::builder().build()?))
}
