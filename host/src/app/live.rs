//! A component's live build: the one new requests instantiate, replaced in place
//! by `eventos up --watch`. A request takes the build that is live when it
//! starts and keeps it to the end, so a swap never cuts one off halfway.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use wasmtime_wasi_http::bindings::ProxyPre;

use crate::app::state::RequestState;

/// One build of a component, compiled and ready to instantiate.
pub struct Build {
    pub pre: ProxyPre<RequestState>,
    /// The content digest of the wasm it was loaded from (`sha256:<hex>`).
    pub id: String,
}

pub struct LiveBuild {
    current: RwLock<Arc<Build>>,
    history: Mutex<History>,
}

/// What the status page shows of a component's swaps.
#[derive(Default)]
struct History {
    swapped_at: Option<DateTime<Utc>>,
    /// The last build that failed since the last swap, and why.
    failed: Option<(DateTime<Utc>, String)>,
}

impl LiveBuild {
    pub fn new(build: Build) -> Self {
        Self { current: RwLock::new(Arc::new(build)), history: Mutex::default() }
    }

    /// The build a request starting now runs on.
    pub fn current(&self) -> Arc<Build> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Makes `build` the one new requests get; those in flight finish on theirs.
    pub fn swap(&self, build: Build) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(build);
        *self.history.lock().unwrap_or_else(PoisonError::into_inner) =
            History { swapped_at: Some(Utc::now()), failed: None };
    }

    /// A build that did not make it: the live one keeps serving.
    pub fn failed(&self, reason: String) {
        self.history.lock().unwrap_or_else(PoisonError::into_inner).failed = Some((Utc::now(), reason));
    }

    pub fn report(&self, component: &str) -> Value {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        let at = |time: &DateTime<Utc>| time.to_rfc3339_opts(SecondsFormat::Millis, true);
        json!({
            "component": component,
            "build": self.current().id,
            "swapped_at": history.swapped_at.as_ref().map(at),
            "failed_build": history.failed.as_ref().map(|(time, reason)| json!({"at": at(time), "reason": reason})),
        })
    }
}
