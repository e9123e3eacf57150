//! The part of the OCI distribution API a push needs: blobs (checked, then
//! uploaded in one request) and the manifest. HTTPS with verified certificates;
//! plain HTTP only with `--insecure`, as `spin registry push -k`. A registry that
//! answers 401 gets the credentials of `EVENTOS_REGISTRY_USERNAME` and
//! `EVENTOS_REGISTRY_PASSWORD`: directly (Basic) or for a token (Bearer), as the
//! registry's `WWW-Authenticate` asks.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use url::Url;

use crate::net::address::Reach;
use crate::net::client;

/// How long a registry may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Registry {
    base: Url,
    repository: String,
    credentials: Option<(String, String)>,
    /// The `Authorization` value that last worked.
    authorization: Option<String>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Registry {
    pub fn new(registry: &str, repository: &str, insecure: bool) -> Result<Self> {
        let scheme = if insecure { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{registry}/"))
            .with_context(|| format!("`{registry}` is not an address"))?;
        let credentials = match (std::env::var("EVENTOS_REGISTRY_USERNAME"), std::env::var("EVENTOS_REGISTRY_PASSWORD"))
        {
            (Ok(user), Ok(password)) => Some((user, password)),
            _ => None,
        };
        Ok(Self { base, repository: repository.to_owned(), credentials, authorization: None })
    }

    /// Uploads `content` unless the registry already holds a blob of that digest.
    pub async fn push_blob(&mut self, digest: &str, content: &Bytes) -> Result<()> {
        let blob = format!("v2/{}/blobs/{digest}", self.repository);
        if self.request(Method::HEAD, &blob, None, Bytes::new()).await?.status == StatusCode::OK {
            return Ok(());
        }
        let start =
            self.request(Method::POST, &format!("v2/{}/blobs/uploads/", self.repository), None, Bytes::new()).await?;
        expect(&start, StatusCode::ACCEPTED, "start an upload")?;
        let location = start
            .headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .context("the registry gave no upload location")?;
        let mut upload = self.base.join(location)?;
        upload.query_pairs_mut().append_pair("digest", digest);
        let done =
            self.request(Method::PUT, upload.as_str(), Some("application/octet-stream"), content.clone()).await?;
        expect(&done, StatusCode::CREATED, "upload a blob")
    }

    /// Stores the manifest under `tag`; returns the digest the registry names it by.
    pub async fn push_manifest(&mut self, tag: &str, media_type: &str, manifest: Bytes) -> Result<Option<String>> {
        let path = format!("v2/{}/manifests/{tag}", self.repository);
        let done = self.request(Method::PUT, &path, Some(media_type), manifest).await?;
        expect(&done, StatusCode::CREATED, "store the manifest")?;
        Ok(done.headers.get("docker-content-digest").and_then(|d| d.to_str().ok()).map(str::to_owned))
    }

    /// One request to `target` (a path under the registry, or an absolute URL it
    /// gave), authorizing and retrying once when the registry asks for it.
    async fn request(
        &mut self,
        method: Method,
        target: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Response> {
        let url = self.base.join(target)?;
        let response = send(&url, method.clone(), content_type, self.authorization.as_deref(), body.clone()).await?;
        if response.status != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge =
            response.headers.get(header::WWW_AUTHENTICATE).and_then(|c| c.to_str().ok()).unwrap_or_default();
        self.authorization = Some(self.authorize(challenge).await?);
        send(&url, method, content_type, self.authorization.as_deref(), body).await
    }

    async fn authorize(&self, challenge: &str) -> Result<String> {
        let basic = self.credentials.as_ref().map(|(user, password)| {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
        });
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.context(
                "the registry wants credentials: set EVENTOS_REGISTRY_USERNAME and EVENTOS_REGISTRY_PASSWORD",
            );
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            bail!("the registry refused the request (401) without a challenge this client answers: `{challenge}`");
        }
        let param = |name: &str| {
            params.split(',').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_owned())
            })
        };
        let mut realm = Url::parse(&param("realm").context("a Bearer challenge without a realm")?)?;
        for name in ["service", "scope"] {
            if let Some(value) = param(name) {
                realm.query_pairs_mut().append_pair(name, &value);
            }
        }
        let answer = send(&realm, Method::GET, None, basic.as_deref(), Bytes::new()).await?;
        expect(&answer, StatusCode::OK, "get a token")?;
        let token: serde_json::Value = serde_json::from_slice(&answer.body).context("the token answer is not JSON")?;
        let token =
            token["token"].as_str().or(token["access_token"].as_str()).context("the token answer holds no token")?;
        Ok(format!("Bearer {token}"))
    }
}

fn expect(response: &Response, status: StatusCode, what: &str) -> Result<()> {
    if response.status == status {
        return Ok(());
    }
    let detail = String::from_utf8_lossy(&response.body[..response.body.len().min(500)]).into_owned();
    bail!("the registry did not {what}: {} {detail}", response.status)
}

/// One HTTP/1.1 exchange on its own connection (a push makes a dozen).
async fn send(
    url: &Url,
    method: Method,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: Bytes,
) -> Result<Response> {
    let mut request = Request::builder()
        .method(method)
        .uri(url.as_str())
        .header(header::ACCEPT, "application/vnd.oci.image.manifest.v1+json, application/json")
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let mut request = request.body(Full::new(body))?;
    let (mut sender, connection) =
        client::open(&mut request, url.scheme() == "https", CONNECT_TIMEOUT, Reach::Anywhere)
            .await
            .with_context(|| format!("cannot reach the registry at {}", &url[..url::Position::AfterPort]))?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response { status: parts.status, headers: parts.headers, body })
}
