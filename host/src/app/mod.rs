//! The loaded application: the engine, each component pre-instantiated once,
//! the router; each component with its context (the Postgres pools shared).

pub mod admission;
pub mod componentize;
pub mod engine;
pub mod limits;
pub mod live;
pub mod manifest;
pub mod router;
pub mod runtime_config;
pub mod state;
pub mod variables;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, anyhow};
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::bindings::ProxyPre;

use crate::app::admission::Admission;
use crate::app::engine::{load_component, new_engine, start_epoch_ticker};
use crate::app::limits::Limits;
use crate::app::live::{Build, LiveBuild};
use crate::app::manifest::Manifest;
use crate::app::router::Router;
use crate::app::state::{ComponentContext, RequestState};
use crate::app::variables::{expand, resolve_component};
use crate::capabilities;
use crate::capabilities::allow::AllowList;
use crate::capabilities::key_value::Stores;
use crate::capabilities::postgres::pool::Pools;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::instruments::Sources;
use crate::observe::stats::Histogram;

pub struct App {
    pub engine: Engine,
    /// `/.well-known/spin/info`: the application's name and version, as JSON.
    pub info: String,
    /// Where this application listens, for guests' relative (`self`) requests.
    origin: OnceLock<SocketAddr>,
    pub components: Vec<LoadedComponent>,
    pub router: Router,
    pub limits: Limits,
    /// Admission to guests: one permit per live instance.
    pub admission: Arc<Admission>,
    /// Time to instantiate a component for a request.
    pub instantiation: Histogram,
    /// What operators scrape.
    pub metrics: Metrics,
}

pub struct LoadedComponent {
    pub context: Arc<ComponentContext>,
    pub build: LiveBuild,
}

/// Every component compiled (or loaded from cache) and pre-instantiated: the
/// slow part of a start, which needs no variable and so runs beside provisioning.
pub struct Compiled {
    engine: Engine,
    components: Vec<(String, Build)>,
}

impl Compiled {
    pub fn load(manifest: &Manifest, limits: &Limits, use_cache: bool) -> Result<Self> {
        let engine = new_engine(limits)?;
        let loader = Loader::new(&engine, manifest, use_cache)?;
        let components = manifest
            .components
            .iter()
            .map(|(id, decl)| Ok((id.clone(), loader.load(id, &manifest.dir.join(&decl.source))?)))
            .collect::<Result<_>>()?;
        Ok(Self { engine, components })
    }
}

/// Turns a component's wasm into a build ready to serve: at start, and for every
/// swap `--watch` makes.
pub struct Loader {
    engine: Engine,
    linker: Linker<RequestState>,
    cache_dir: Option<PathBuf>,
}

impl Loader {
    pub fn new(engine: &Engine, manifest: &Manifest, use_cache: bool) -> Result<Self> {
        let cache_dir = use_cache.then(|| manifest.dir.join("target/eventos-cache"));
        Ok(Self { engine: engine.clone(), linker: linker(engine)?, cache_dir })
    }

    pub fn load(&self, id: &str, wasm: &Path) -> Result<Build> {
        let (component, digest) = load_component(&self.engine, wasm, self.cache_dir.as_deref())
            .with_context(|| format!("component `{id}`"))?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            anyhow!(
                "component `{id}` ({}) needs an import this host does not provide: {e:#}. \
                 Components may import WASI 0.2, wasi:http, spin:postgres/postgres@4.0.0 and \
                 fermyon:spin/{{variables,key-value,sqlite,mqtt,redis}}@2.0.0 only",
                wasm.display()
            )
        })?;
        let pre = ProxyPre::new(pre).map_err(|e| {
            anyhow!("component `{id}` ({}) does not export wasi:http/incoming-handler: {e:#}", wasm.display())
        })?;
        Ok(Build { pre, id: digest })
    }
}

impl App {
    /// Binds each compiled component to its variables, allow-list and routes.
    pub fn new(
        compiled: Compiled,
        manifest: &Manifest,
        variables: &HashMap<String, String>,
        stores: Stores,
        limits: Limits,
    ) -> Result<Arc<Self>> {
        let Compiled { engine, components: compiled } = compiled;
        let ids: Vec<&str> = manifest.components.keys().map(String::as_str).collect();
        let pools = Arc::new(Pools::new(limits.pg.clone()));
        let stores = Arc::new(stores);
        let mut components = Vec::new();
        for (id, build) in compiled {
            let decl = &manifest.components[&id];
            let allowed = decl
                .allowed_outbound_hosts
                .iter()
                .map(|entry| expand(entry, variables))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("allowed_outbound_hosts of component `{id}`"))?;
            refuse_absent_capabilities(&id, &allowed)?;
            if let Some(label) = decl.key_value_stores.iter().find(|label| !stores.is_defined(label)) {
                anyhow::bail!("unknown key_value_stores label {label:?} for component {id:?}");
            }
            let context = ComponentContext {
                variables: Arc::new(
                    resolve_component(&decl.variables, variables)
                        .with_context(|| format!("[component.{id}.variables]"))?,
                ),
                allow: Arc::new(AllowList::parse(&allowed, &ids).with_context(|| format!("component `{id}`"))?),
                environment: decl.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                pools: pools.clone(),
                key_value_stores: Arc::new(decl.key_value_stores.iter().cloned().collect()),
                stores: stores.clone(),
                id,
            };
            components.push(LoadedComponent { context: Arc::new(context), build: LiveBuild::new(build) });
        }
        let index: HashMap<&str, usize> =
            components.iter().enumerate().map(|(i, c)| (c.context.id.as_str(), i)).collect();
        let routes =
            manifest.routes.iter().filter_map(|r| r.route.clone().map(|route| (route, index[r.component.as_str()])));
        let router = Router::new(routes)?;
        start_epoch_ticker(&engine);
        let mut info = serde_json::json!({ "name": manifest.name });
        if !manifest.version.is_empty() {
            info["version"] = manifest.version.clone().into();
        }
        let admission = Arc::new(Admission::new(&limits));
        let sources = Sources { instances: admission.clone(), pools };
        Ok(Arc::new(Self {
            engine,
            info: serde_json::to_string_pretty(&info)?,
            origin: OnceLock::new(),
            components,
            router,
            admission,
            instantiation: Histogram::default(),
            metrics: Metrics::new(sources, &manifest.name)?,
            limits,
        }))
    }

    pub fn component_index(&self, id: &str) -> Option<usize> {
        self.components.iter().position(|c| c.context.id == id)
    }

    /// Called once the listener is bound.
    pub fn set_origin(&self, address: SocketAddr) {
        let _ = self.origin.set(address);
    }

    pub fn origin(&self) -> Option<SocketAddr> {
        self.origin.get().copied()
    }
}

/// An allowed host for a client this host does not have would be silently
/// useless: refused at load, naming the capability.
fn refuse_absent_capabilities(id: &str, allowed: &[String]) -> Result<()> {
    for entry in allowed {
        let scheme = entry.split_once("://").map_or("", |(scheme, _)| scheme);
        let capability = match scheme {
            "redis" => "outbound Redis",
            "mqtt" => "outbound MQTT",
            "mysql" => "outbound MySQL",
            _ => continue,
        };
        anyhow::bail!(
            "component `{id}`: allowed_outbound_hosts `{entry}` grants {capability}, a Spin capability this host does not provide"
        );
    }
    Ok(())
}

/// Exactly the capabilities this host provides; anything else fails at load time.
fn linker(engine: &Engine) -> Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    capabilities::outbound_http::link(&mut linker)?;
    capabilities::postgres::link(&mut linker, |state: &mut RequestState| &mut state.pg)?;
    capabilities::variables::link(&mut linker, |state: &mut RequestState| &mut state.variables)?;
    capabilities::key_value::link(&mut linker, |state: &mut RequestState| &mut state.key_value)?;
    capabilities::refused::link(&mut linker, |state: &mut RequestState| &mut state.refused)?;
    Ok(linker)
}

/// The host name locally; the pod name on Kubernetes (where HOSTNAME is the pod's).
pub fn instance_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|| "localhost".into())
}
