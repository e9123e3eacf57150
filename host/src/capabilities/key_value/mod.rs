//! `fermyon:spin/key-value@2.0.0` for guests, as Spin serves it: a component
//! opens only the stores its `key_value_stores` names (any other label is
//! `access-denied`), and every label it names must be a store the application
//! defines, or it does not load. `default` is defined, in this process's
//! memory, shared by every instance of every component that names it; a
//! runtime config file may put it, or other labels, on a Redis server
//! (`stores`).

mod memory;
mod redis_server;
mod stores;

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource};

use crate::capabilities::bindings::fermyon::spin2_0_0::key_value::{self as wit, Error};
pub use stores::{Store, Stores};

/// Stores one request may hold open at once (Spin's table holds as many).
const OPEN_STORES: usize = 256;

/// One request's share: the labels its component may open, and what it opened.
pub struct KeyValueState {
    allowed: Arc<HashSet<String>>,
    stores: Arc<Stores>,
    open: Vec<Option<Arc<Store>>>,
}

impl KeyValueState {
    pub fn new(allowed: Arc<HashSet<String>>, stores: Arc<Stores>) -> Self {
        Self { allowed, stores, open: Vec::new() }
    }

    fn store(&self, store: &Resource<wit::Store>) -> wasmtime::Result<Arc<Store>> {
        let found = self.open.get(store.rep() as usize).and_then(Option::as_ref);
        found.cloned().ok_or_else(|| wasmtime::Error::msg("a key-value store this request did not open"))
    }
}

struct HasKeyValue;

impl HasData for HasKeyValue {
    type Data<'a> = &'a mut KeyValueState;
}

/// Links `fermyon:spin/key-value@2.0.0`, served from the state `get` finds.
pub fn link<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut KeyValueState) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasKeyValue>(linker, get)
}

impl wit::Host for KeyValueState {}

impl wit::HostStore for KeyValueState {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<wit::Store>, Error>> {
        if !self.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(store) = self.stores.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        let slot = match self.open.iter().position(Option::is_none) {
            Some(free) => free,
            None if self.open.len() < OPEN_STORES => {
                self.open.push(None);
                self.open.len() - 1
            }
            None => return Ok(Err(Error::StoreTableFull)),
        };
        if let Err(failing) = store.check() {
            return Ok(Err(failing));
        }
        self.open[slot] = Some(store);
        Ok(Ok(Resource::new_own(slot as u32)))
    }

    async fn get(
        &mut self,
        store: Resource<wit::Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.store(&store)?.get(&key).await)
    }

    async fn set(
        &mut self,
        store: Resource<wit::Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.store(&store)?.set(key, value).await)
    }

    async fn delete(&mut self, store: Resource<wit::Store>, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.store(&store)?.delete(&key).await)
    }

    async fn exists(&mut self, store: Resource<wit::Store>, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self.store(&store)?.exists(&key).await)
    }

    async fn get_keys(&mut self, store: Resource<wit::Store>) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.store(&store)?.keys().await)
    }

    async fn drop(&mut self, store: Resource<wit::Store>) -> wasmtime::Result<()> {
        if let Some(slot) = self.open.get_mut(store.rep() as usize) {
            *slot = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::stores::DEFAULT_STORE;
    use super::*;
    use wit::HostStore;

    fn state(allowed: &[&str], stores: &Arc<Stores>) -> KeyValueState {
        KeyValueState::new(Arc::new(allowed.iter().map(|l| l.to_string()).collect()), stores.clone())
    }

    fn opened(state: &mut KeyValueState, label: &str) -> Result<Resource<wit::Store>, Error> {
        run(state.open(label.into())).expect("no trap")
    }

    /// A store in memory never waits: its calls run to completion at once.
    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("a runtime").block_on(future)
    }

    #[test]
    fn a_component_opens_only_the_stores_it_names() {
        let stores = Arc::new(Stores::in_memory());
        assert!(matches!(opened(&mut state(&[], &stores), DEFAULT_STORE), Err(Error::AccessDenied)));
        assert!(matches!(opened(&mut state(&["default"], &stores), "other"), Err(Error::AccessDenied)));
        assert!(matches!(opened(&mut state(&["other"], &stores), "other"), Err(Error::NoSuchStore)));
        assert!(opened(&mut state(&["default"], &stores), DEFAULT_STORE).is_ok());
    }

    #[test]
    fn what_one_request_sets_the_next_reads_and_keys_come_in_order() {
        let stores = Arc::new(Stores::in_memory());
        let mut first = state(&["default"], &stores);
        let store = opened(&mut first, DEFAULT_STORE).expect("open");
        for key in ["b", "a"] {
            run(first.set(Resource::new_own(store.rep()), key.into(), key.as_bytes().to_vec()))
                .expect("no trap")
                .expect("set");
        }
        let mut second = state(&["default"], &stores);
        let again = opened(&mut second, DEFAULT_STORE).expect("open");
        let read = run(second.get(Resource::new_own(again.rep()), "a".into())).expect("no trap");
        assert_eq!(read.ok(), Some(Some(b"a".to_vec())));
        let keys = run(second.get_keys(Resource::new_own(again.rep()))).expect("no trap");
        assert_eq!(keys.ok(), Some(vec!["a".to_owned(), "b".to_owned()]));
        run(second.delete(Resource::new_own(again.rep()), "a".into())).expect("no trap").expect("delete");
        let gone = run(first.exists(Resource::new_own(store.rep()), "a".into())).expect("no trap");
        assert_eq!(gone.ok(), Some(false));
    }

    #[test]
    fn a_request_holds_at_most_256_stores_and_a_dropped_one_is_gone() {
        let stores = Arc::new(Stores::in_memory());
        let mut request = state(&["default"], &stores);
        let handles: Vec<Resource<wit::Store>> =
            (0..OPEN_STORES).map(|_| opened(&mut request, "default").expect("open")).collect();
        assert!(matches!(opened(&mut request, "default"), Err(Error::StoreTableFull)));
        let rep = handles[7].rep();
        run(request.drop(Resource::new_own(rep))).expect("dropped");
        let gone = run(request.get(Resource::new_own(rep), "a".into()));
        assert!(gone.is_err(), "a dropped store traps, as on Spin");
        assert_eq!(opened(&mut request, "default").expect("a free slot again").rep(), rep);
    }
}
