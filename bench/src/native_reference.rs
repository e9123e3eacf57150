//! A plain hyper server that answers every request with the same bytes the host's
//! no-I/O route answers: the ceiling the host's overhead is measured against.
//!
//! usage: native-reference <listen address> <content-type> <body>

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, content_type, body] = args.as_slice() else {
        eprintln!("usage: native-reference <listen address> <content-type> <body>");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("native-reference: serving http://{}", listener.local_addr()?);
    let body = Bytes::from(body.clone());
    let content_type = header::HeaderValue::from_str(content_type).map_err(std::io::Error::other)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (body, content_type) = (body.clone(), content_type.clone());
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let mut response = Response::new(Full::new(body.clone()));
                response.headers_mut().insert(header::CONTENT_TYPE, content_type.clone());
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
