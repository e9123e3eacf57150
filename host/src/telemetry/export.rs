//! The HTTP client OTLP exports go through: one request per batch, sent on the
//! host's tokio runtime whichever thread the SDK exports from, over the host's
//! own hyper (and TLS for `https`), bounded in time.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The most one export may take, connection included: a collector that hangs
/// costs a batch, never a request.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct HyperClient {
    runtime: tokio::runtime::Handle,
}

impl HyperClient {
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Self { runtime }
    }
}

#[async_trait::async_trait]
impl HttpClient for HyperClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // The timer, too, must be made on the runtime: the SDK exports from a thread of its own.
        let sent = self.runtime.spawn(async move { timeout(EXPORT_TIMEOUT, post(request)).await });
        match sent.await? {
            Ok(answered) => answered,
            Err(_) => Err(format!("the OTLP endpoint did not answer within {EXPORT_TIMEOUT:?}").into()),
        }
    }
}

async fn post(mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
    let uri = request.uri().clone();
    let host = uri.host().ok_or("the OTLP endpoint names no host")?.to_owned();
    let tls = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let bare_host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let stream = TcpStream::connect((bare_host.as_str(), port)).await?;
    let authority = uri.authority().map_or(host, |authority| authority.as_str().to_owned());
    request.headers_mut().insert(hyper::header::HOST, authority.parse()?);
    *request.uri_mut() = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
    if tls {
        exchange(crate::tls::connect(&bare_host, stream).await?, request).await
    } else {
        exchange(stream, request).await
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
    stream: S,
    request: Request<Bytes>,
) -> Result<Response<Bytes>, HttpError> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request.map(Full::new)).await?;
    let (head, body) = response.into_parts();
    Ok(Response::from_parts(head, body.collect().await?.to_bytes()))
}
