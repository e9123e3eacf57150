//! The HTTP client OTLP exports go through: one request per batch, sent on the
//! host's tokio runtime whichever thread the SDK exports from, over the host's
//! own hyper (and TLS for `https`), bounded in time.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use tokio::time::timeout;

use crate::net::address::Reach;
use crate::net::client;

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

async fn post(request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
    let tls = request.uri().scheme_str() == Some("https");
    let mut request = request.map(Full::new);
    let (mut sender, connection) = client::open(&mut request, tls, EXPORT_TIMEOUT, Reach::Anywhere).await?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (head, body) = response.into_parts();
    Ok(Response::from_parts(head, body.collect().await?.to_bytes()))
}
