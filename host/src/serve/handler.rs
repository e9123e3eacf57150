//! Serving one request with one component: a fresh instance, a deadline, and a
//! 500 of our own when the guest traps instead of answering.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use anyhow::anyhow;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tracing::{Instrument, Span};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::body::HyperOutgoingBody;

use crate::app::App;
use crate::app::state::RequestState;
use crate::capabilities::chain::Depth;
use crate::capabilities::chain::{Chain, Unanswered};
use crate::observe::telemetry::spans::{self, Blame};

/// Runs `component` on `request` in a fresh instance, `depth` calls down a chain
/// (0: a client's request), counted under `route`.
pub async fn handle(
    app: Arc<App>,
    component: usize,
    route: &str,
    mut request: hyper::Request<HyperOutgoingBody>,
    depth: Depth,
) -> Result<hyper::Response<HyperOutgoingBody>, Unanswered> {
    let started = std::time::Instant::now();
    let id = &app.components[component].context.id;
    let span = spans::serve(&mut request, id, route);
    let answered = match app.admission.admit(depth).await {
        Some(permit) => {
            run_guest(app.clone(), component, request, depth, permit, span.clone()).await.map_err(|(blame, e)| {
                spans::blamed(&span, blame);
                Unanswered::Failed(blame, e)
            })
        }
        None => Err(Unanswered::Busy),
    };
    let status = match &answered {
        Ok(response) => response.status().as_u16(),
        Err(Unanswered::Busy) => 503,
        Err(Unanswered::Failed(..)) => 500,
    };
    spans::answered(&span, Some(status));
    app.metrics.record_request(id, route, status, started.elapsed());
    answered
}

async fn run_guest(
    app: Arc<App>,
    component: usize,
    request: hyper::Request<HyperOutgoingBody>,
    depth: Depth,
    permit: tokio::sync::OwnedSemaphorePermit,
    span: Span,
) -> Result<hyper::Response<HyperOutgoingBody>, (Blame, anyhow::Error)> {
    let deadline = app.limits.request_timeout;
    let loaded = &app.components[component];
    // The build live now serves this request to its end, whatever a swap does meanwhile.
    let pre = loaded.build.current().pre.clone();
    let chain: Arc<dyn Chain> = app.clone();
    let mut store = Store::new(&app.engine, RequestState::new(&loaded.context, chain, depth));
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |ctx| {
        if ctx.data().started.elapsed() > deadline {
            Err(wasmtime::Error::msg(format!("the request ran past its deadline of {deadline:?}")))
        } else {
            // Let other requests run on this thread between ticks.
            Ok(UpdateDeadline::Yield(1))
        }
    });
    let (sender, mut receiver) = tokio::sync::oneshot::channel();
    let hosts = |e: wasmtime::Error| (Blame::Host, anyhow::Error::from(e));
    let incoming = store.data_mut().new_incoming_request(Scheme::Http, request).map_err(hosts)?;
    let outparam = store.data_mut().new_response_outparam(sender).map_err(hosts)?;

    let mut guest = RunningGuest(Some(Box::pin(
        async move {
            // The slot is held until the instance is gone, body streaming included.
            let _permit = permit;
            let started = std::time::Instant::now();
            let id = &app.components[component].context.id;
            let instantiating = spans::instantiation(id);
            let proxy = pre.instantiate_async(&mut store).instrument(instantiating.clone()).await;
            let proxy = proxy.map_err(instantiation_failed);
            if let Err(e) = &proxy {
                spans::blamed(&instantiating, blame_of(e));
            }
            drop(instantiating);
            let proxy = proxy?;
            let took = started.elapsed();
            app.instantiation.record(took);
            app.metrics.record_instantiation(id, took);
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await
        }
        // The guest's statements and calls hang under the request's span.
        .instrument(span),
    )));
    // The guest runs on the caller's task: until it sets the response here, and
    // after that inside the response body, which it may still be writing.
    let (answered, finished) = tokio::select! {
        biased;
        finished = &mut guest => (receiver.await, Some(finished)),
        answered = &mut receiver => (answered, None),
    };
    let guests = |error: anyhow::Error| Err((Blame::Guest, error));
    match (answered, finished) {
        (Ok(Ok(response)), None) => Ok(response.map(|body| GuestDrivenBody { body, guest }.boxed_unsync())),
        (Ok(Ok(response)), Some(_)) => Ok(response),
        (Ok(Err(code)), _) => guests(anyhow!("the component answered with an error: {code:?}")),
        (Err(_), Some(Ok(()))) => guests(anyhow!("the component returned without setting a response")),
        (Err(_), Some(Err(failed))) if blame_of(&failed) == Blame::Host => Err((Blame::Host, anyhow!("{failed:#}"))),
        (Err(_), Some(Err(trap))) => guests(anyhow!("the component trapped: {trap:#}")),
        (Err(_), None) => guests(anyhow!("the component dropped its response unanswered")),
    }
}

/// Marks an error as the host's failure to make the instance.
#[derive(Debug, thiserror::Error)]
#[error("the host could not make the instance")]
struct NotInstantiated;

/// A failure to make the instance: the host's, unless the guest's own start trapped.
fn instantiation_failed(error: wasmtime::Error) -> wasmtime::Error {
    if error.is::<wasmtime::Trap>() { error } else { error.context(NotInstantiated) }
}

fn blame_of(error: &wasmtime::Error) -> Blame {
    if error.is::<NotInstantiated>() { Blame::Host } else { Blame::Guest }
}

/// A guest instance at work on one request, from instantiation to its return.
type Guest = Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send>>;

/// A guest, until it returns. Dropped before that (the client left, or read the
/// whole body while the guest goes on), it finishes on its own task within its
/// deadline, as on Spin: a guest is never cut off halfway through its work.
struct RunningGuest(Option<Guest>);

impl Future for RunningGuest {
    type Output = wasmtime::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(guest) = &mut self.0 else {
            return Poll::Ready(Ok(()));
        };
        let finished = ready!(guest.as_mut().poll(cx));
        self.0 = None;
        Poll::Ready(finished)
    }
}

impl Drop for RunningGuest {
    fn drop(&mut self) {
        if let Some(guest) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(guest);
        }
    }
}

/// A response body that drives its guest while relaying what the guest writes:
/// no task of its own, no wakeups between threads for every chunk.
struct GuestDrivenBody {
    body: HyperOutgoingBody,
    guest: RunningGuest,
}

impl Body for GuestDrivenBody {
    type Data = Bytes;
    type Error = ErrorCode;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, ErrorCode>>> {
        let this = &mut *self;
        // Its outcome after the response was set matters to no one; a trap shows as a cut-off body.
        let _ = Pin::new(&mut this.guest).poll(cx);
        Pin::new(&mut this.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_to_make_the_instance_is_blamed_on_the_host_and_any_other_on_the_guest() {
        let not_linked = instantiation_failed(wasmtime::Error::msg("import `spin:postgres` has the wrong type"));
        assert_eq!(blame_of(&not_linked), Blame::Host);
        let start_trapped = instantiation_failed(wasmtime::Error::from(wasmtime::Trap::StackOverflow));
        assert_eq!(blame_of(&start_trapped), Blame::Guest, "a start that traps is the guest's");
        assert_eq!(blame_of(&wasmtime::Error::from(wasmtime::Trap::UnreachableCodeReached)), Blame::Guest);
        assert_eq!(blame_of(&wasmtime::Error::msg("the request ran past its deadline of 30s")), Blame::Guest);
    }
}
