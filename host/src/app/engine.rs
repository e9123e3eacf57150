//! The one wasmtime `Engine`, its knobs, and the on-disk cache of compiled components.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy};

use crate::app::limits::Limits;

/// How often the ticker thread advances the epoch: the granularity of request
/// deadlines and of yielding a busy guest back to the executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A spin-sdk component is one main module plus the adapter shims
/// wit-component adds; four leaves headroom.
const CORE_INSTANCES_PER_COMPONENT: u32 = 4;

/// A component's tables are small; keeping this much resident covers them.
const TABLE_KEEP_RESIDENT: usize = 64 * 1024;
/// The part of a guest's async stack a request typically touches.
const STACK_KEEP_RESIDENT: usize = 128 * 1024;

pub fn new_engine(limits: &Limits) -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // `EVENTOS_PROFILE=perfmap` names the guests' compiled functions in
    // /tmp/perf-<pid>.map, so that `perf report` on the host shows where the
    // guests spend their time, as wasmtime's own `--profile=perfmap` does.
    if std::env::var("EVENTOS_PROFILE").as_deref() == Ok("perfmap") {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    // Pooling makes instantiation a matter of microseconds: every request gets a
    // fresh instance, so this is the hot path. Each slot reserves address space,
    // not memory; see `app/limits.rs` for the sizes.
    let mut pooling = PoolingAllocationConfig::default();
    // The host admits at most `max_instances` client requests and
    // `max_chained_instances` chained calls into guests at once (`app/admission.rs`);
    // the pool holds that many with room for the few core instances, memories and
    // tables each component instance is made of.
    let slots = limits.max_instances.max(1) + limits.max_chained_instances.max(1);
    pooling
        .total_component_instances(slots)
        .total_core_instances(slots * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(slots * CORE_INSTANCES_PER_COMPONENT)
        .total_tables(slots * CORE_INSTANCES_PER_COMPONENT)
        .total_stacks(slots)
        .max_memory_size(limits.max_memory_bytes)
        // Resetting a used slot with memset (only the pages it dirtied, where the
        // kernel can say which) instead of madvise: no page faults when the slot is
        // reused and, above all, no TLB shootdowns across cores on every request.
        .linear_memory_keep_resident(limits.keep_resident_bytes)
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        .async_stack_keep_resident(STACK_KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(pooling_error) => {
            // A tight `ulimit -v` cannot hold the pool's reservation; run on demand instead.
            tracing::warn!("pooling allocator unavailable ({pooling_error}); allocating instances on demand");
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Ok(Engine::new(&config)?)
        }
    }
}

/// Advances the epoch forever on one thread; a timer per request would cost far more.
pub fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("eventos-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}

/// Loads a component, compiling it only when no cached artifact matches both the
/// wasm bytes and this engine's configuration (without a cache folder: always);
/// with the content digest of those bytes (`sha256:<hex>`).
pub fn load_component(engine: &Engine, wasm_path: &Path, cache_dir: Option<&Path>) -> Result<(Component, String)> {
    let wasm = std::fs::read(wasm_path).with_context(|| {
        format!(
            "cannot read the component {}: build it first (`make build`, or `eventos up` without --no-build)",
            wasm_path.display()
        )
    })?;
    let digest = Sha256::digest(&wasm);
    let cached = cache_dir.map(|dir| dir.join(cache_key(engine, &digest)));
    let digest = format!("sha256:{}", hex::encode(digest));
    if let Some(cached) = cached.as_ref().filter(|cached| cached.exists()) {
        // SAFETY: the file was written by `Component::serialize` of an engine with the
        // same compatibility hash (it is part of the name) and lives under our own target dir.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, cached) } {
            return Ok((component, digest));
        }
    }
    let wasm = crate::app::componentize::componentize_if_necessary(&wasm)
        .with_context(|| format!("{} is not a component Spin could run", wasm_path.display()))?;
    let component = Component::new(engine, &wasm).map_err(|e| {
        anyhow::Error::from(e).context(format!("{} is not a valid WebAssembly component", wasm_path.display()))
    })?;
    if let (Some(dir), Some(cached), Ok(bytes)) = (cache_dir, cached, component.serialize()) {
        // The cache is an optimisation: failing to write it only costs the next start.
        let _ = std::fs::create_dir_all(dir).and_then(|_| write_atomically(&cached, &bytes));
    }
    Ok((component, digest))
}

fn cache_key(engine: &Engine, wasm_digest: &[u8]) -> PathBuf {
    let mut engine_hash = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let hex = hex::encode(&wasm_digest[..16]);
    PathBuf::from(format!("{hex}-{:016x}.cwasm", engine_hash.finish()))
}

/// A killed host must never leave a half-written artifact behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(temp, path)
}
