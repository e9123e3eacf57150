//! Who may start an instance, and how long they may wait for one.
//!
//! Requests from clients wait (up to `instance_wait`) for one of
//! `max_instances` slots. A chained call (a guest calling another component)
//! never takes one of those: its caller already holds a slot and waits for the
//! callee, so callers competing with their own callees for one pool would starve
//! each other under load. Chained calls draw from a reserve of their own; a call
//! made directly by a client's request may wait for it, and a call made by a
//! chained call takes a free reserve slot or is refused at once. So whoever
//! waits, waits only for instances that themselves wait for nothing: every chain
//! of calls finishes, and no caller is starved by its own callees.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::limits::Limits;
use crate::capabilities::chain::Depth;
use crate::observe::metrics::instruments::InstanceSource;

pub struct Admission {
    clients: Arc<Semaphore>,
    chained: Arc<Semaphore>,
    /// The slots of each pool, to tell how many are taken.
    capacity: (usize, usize),
    wait: Duration,
}

impl Admission {
    pub fn new(limits: &Limits) -> Self {
        let capacity = (limits.max_instances.max(1) as usize, limits.max_chained_instances.max(1) as usize);
        Self {
            clients: Arc::new(Semaphore::new(capacity.0)),
            chained: Arc::new(Semaphore::new(capacity.1)),
            capacity,
            wait: limits.instance_wait,
        }
    }

    /// A slot for an instance at `depth`, held until the permit drops; `None` when
    /// none came free in time (the caller owes a 503).
    pub async fn admit(&self, depth: Depth) -> Option<OwnedSemaphorePermit> {
        let waited = |pool: &Arc<Semaphore>| tokio::time::timeout(self.wait, pool.clone().acquire_owned());
        match depth {
            0 => waited(&self.clients).await.ok()?.ok(),
            1 => waited(&self.chained).await.ok()?.ok(),
            _ => self.chained.clone().try_acquire_owned().ok(),
        }
    }
}

impl InstanceSource for Admission {
    /// Clients' and chained instances running now, and the cap on clients'.
    fn instances(&self) -> (usize, usize) {
        let taken = |pool: &Semaphore, slots: usize| slots.saturating_sub(pool.available_permits());
        (taken(&self.clients, self.capacity.0) + taken(&self.chained, self.capacity.1), self.capacity.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(clients: u32, chained: u32, wait: Duration) -> Admission {
        let mut limits = Limits::from_env();
        (limits.max_instances, limits.max_chained_instances, limits.instance_wait) = (clients, chained, wait);
        Admission::new(&limits)
    }

    #[tokio::test]
    async fn a_caller_holding_the_last_client_slot_still_reaches_its_callee() {
        let admission = admission(1, 1, Duration::from_millis(50));
        let caller = admission.admit(0).await.expect("the client's slot");
        let callee = admission.admit(1).await.expect("the callee's slot, from the reserve");
        assert!(admission.admit(0).await.is_none(), "another client waits, then gets a 503");
        assert_eq!(admission.instances(), (2, 1));
        drop((caller, callee));
        assert_eq!(admission.instances(), (0, 1));
        assert!(admission.admit(0).await.is_some());
    }

    #[tokio::test]
    async fn a_call_made_by_a_chained_call_never_waits() {
        // Were it to wait, it would wait an hour: the test would never end.
        let admission = admission(1, 1, Duration::from_secs(3600));
        let _callee = admission.admit(1).await.expect("a reserve slot");
        assert!(admission.admit(2).await.is_none(), "no free reserve slot: refused at once");
    }
}
