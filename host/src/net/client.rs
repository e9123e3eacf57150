//! One HTTP/1.1 connection to the host a request names, for the requests the
//! host sends itself (a guest's outbound call, an OTLP export): TCP within a
//! time, TLS with certificate verification for `https`, and the request turned
//! to origin form with its `Host`.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::Body;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::net::address::{Reach, reachable};

/// A plain or a TLS stream.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<S: AsyncRead + AsyncWrite + Send + Unpin> Stream for S {}

/// The connection's driver: whoever opened it spawns it.
pub type Driver<B> = Connection<TokioIo<Box<dyn Stream>>, B>;

/// Why no connection could be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The request names no host, or one that cannot be a `Host` header.
    #[error("the URL names no host")]
    BadUri,
    #[error("the connection was not made in time")]
    ConnectTimeout,
    #[error("the connection was refused")]
    Refused,
    /// Every address the name resolves to is inside the network, and the
    /// request may reach only public ones.
    #[error("every address of the host is inside the network")]
    Prohibited,
    #[error("the TLS handshake failed")]
    Tls,
    #[error("the HTTP handshake failed: {0}")]
    Handshake(hyper::Error),
}

/// Connects to the host `request` names (over TLS when `tls`) at an address
/// `reach` allows, and rewrites it to be sent on that connection: `Host` set
/// (without a default port), the URL reduced to its path and query. The name is
/// resolved once and the connection made to an address that was checked, so a
/// name that answers differently the second time cannot lead it inside.
pub async fn open<B>(
    request: &mut hyper::Request<B>,
    tls: bool,
    connect_timeout: Duration,
    reach: Reach,
) -> Result<(SendRequest<B>, Driver<B>), OpenError>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let host = request.uri().host().ok_or(OpenError::BadUri)?.to_owned();
    let default_port = if tls { 443 } else { 80 };
    let port = request.uri().port_u16().unwrap_or(default_port);
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let connecting = async {
        let resolved: Vec<SocketAddr> =
            tokio::net::lookup_host((bare_host, port)).await.map_err(|_| OpenError::Refused)?.collect();
        let addresses = reachable(resolved, reach).ok_or(OpenError::Prohibited)?;
        TcpStream::connect(addresses.as_slice()).await.map_err(|_| OpenError::Refused)
    };
    let stream = timeout(connect_timeout, connecting).await.map_err(|_| OpenError::ConnectTimeout)??;
    let authority = if port == default_port { host.clone() } else { format!("{host}:{port}") };
    let host_header = hyper::header::HeaderValue::from_str(&authority).map_err(|_| OpenError::BadUri)?;
    request.headers_mut().insert(hyper::header::HOST, host_header);
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = path.parse().map_err(|_| OpenError::BadUri)?;
    let stream: Box<dyn Stream> = if tls {
        Box::new(crate::net::tls::connect(bare_host, stream).await.map_err(|_| OpenError::Tls)?)
    } else {
        Box::new(stream)
    };
    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(OpenError::Handshake)
}
