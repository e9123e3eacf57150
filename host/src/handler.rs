//! Serving one request with one component: a fresh instance, a deadline, and a
//! 500 of our own when the guest traps instead of answering.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::bindings::http::types::Scheme;
use wasmtime_wasi_http::body::HyperOutgoingBody;

use crate::app::App;
use crate::state::RequestState;

/// Why a request got no answer from its guest.
#[derive(Debug)]
pub enum Unanswered {
    /// Every instance slot stayed taken for `instance_wait`: the caller owes a 503.
    Busy,
    /// The guest trapped, ran past its deadline or set no response: a 500.
    Failed(anyhow::Error),
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unanswered::Busy => f.write_str("every instance slot is taken"),
            Unanswered::Failed(error) => write!(f, "{error:#}"),
        }
    }
}

/// Runs `component` on `request` in a fresh instance.
pub async fn handle(
    app: Arc<App>,
    component: usize,
    request: hyper::Request<HyperOutgoingBody>,
) -> Result<hyper::Response<HyperOutgoingBody>, Unanswered> {
    let permit = tokio::time::timeout(app.limits.instance_wait, app.instances.clone().acquire_owned())
        .await
        .map_err(|_| Unanswered::Busy)?
        .map_err(|_| Unanswered::Busy)?;
    run_guest(app, component, request, permit).await.map_err(Unanswered::Failed)
}

async fn run_guest(
    app: Arc<App>,
    component: usize,
    request: hyper::Request<HyperOutgoingBody>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<hyper::Response<HyperOutgoingBody>> {
    let deadline = app.limits.request_timeout;
    let pre = app.components[component].pre.clone();
    let mut store = Store::new(&app.engine, RequestState::new(app.clone(), component));
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |ctx| {
        if ctx.data().started.elapsed() > deadline {
            Err(wasmtime::Error::msg(format!("the request ran past its deadline of {deadline:?}")))
        } else {
            // Let other requests run on this thread between ticks.
            Ok(UpdateDeadline::Yield(1))
        }
    });
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let incoming = store.data_mut().new_incoming_request(Scheme::Http, request)?;
    let outparam = store.data_mut().new_response_outparam(sender)?;

    // The guest may go on streaming the body after it set the response, so it runs on its own task.
    let guest = tokio::spawn(async move {
        // The slot is held until the instance is gone, body streaming included.
        let _permit = permit;
        let started = std::time::Instant::now();
        let proxy = pre.instantiate_async(&mut store).await?;
        store.data().app.instantiation.record(started.elapsed());
        proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await
    });
    match receiver.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(anyhow!("the component answered with an error: {code:?}")),
        Err(_) => match guest.await {
            Ok(Ok(())) => Err(anyhow!("the component returned without setting a response")),
            Ok(Err(trap)) => Err(anyhow!("the component trapped: {trap:#}")),
            Err(join) => Err(anyhow!("the component's task failed: {join}")),
        },
    }
}
