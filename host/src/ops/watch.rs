//! `eventos up --watch`: rebuilds a component when a file its build reads changes
//! (the `watch` globs of `[component.x.build]`, as `spin watch` reads them) and
//! swaps the new build in while the application keeps serving: new requests get
//! it, requests in flight finish on the old one. A build that fails is shown and
//! leaves the old one serving. `spin watch` restarts the whole application.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::app::manifest::Manifest;
use crate::app::{App, Loader};
use crate::ops::builder;

/// How often the watched files are looked at: polling a few hundred files costs
/// next to nothing and works the same on every file system.
const POLL: Duration = Duration::from_millis(200);
/// An editor saving several files, or a checkout, is one change: it settles first.
const SETTLE: Duration = Duration::from_millis(100);

/// Each watched file's modification time and size.
type Snapshot = BTreeMap<PathBuf, (SystemTime, u64)>;

struct Watched {
    id: String,
    /// The folder its globs start from.
    dir: PathBuf,
    globs: Vec<String>,
    seen: Snapshot,
}

impl Watched {
    fn snapshot(&self) -> Snapshot {
        let mut files = Snapshot::new();
        for pattern in &self.globs {
            let Some(pattern) = self.dir.join(pattern).to_str().map(str::to_owned) else { continue };
            for path in glob::glob(&pattern).into_iter().flatten().flatten() {
                if let Some(meta) = path.metadata().ok().filter(|meta| meta.is_file()) {
                    files.insert(path, (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len()));
                }
            }
        }
        files
    }

    /// Whether a file was added, removed or written since the last look.
    fn changed(&mut self) -> bool {
        let now = self.snapshot();
        let changed = now != self.seen;
        self.seen = now;
        changed
    }
}

/// Starts watching on a thread of its own: builds block, and must not hold up serving.
pub fn start(app: Arc<App>, manifest: Manifest, use_cache: bool) -> Result<()> {
    let loader = Loader::new(&app.engine, &manifest, use_cache)?;
    let mut watched: Vec<Watched> = manifest
        .components
        .iter()
        .filter_map(|(id, decl)| {
            let build = decl.build.as_ref().filter(|build| !build.watch.is_empty())?;
            let dir = builder::workdir(&manifest, build);
            Some(Watched { id: id.clone(), dir, globs: build.watch.clone(), seen: Snapshot::new() })
        })
        .collect();
    for component in &mut watched {
        component.changed();
    }
    let ids: Vec<&str> = watched.iter().map(|w| w.id.as_str()).collect();
    if ids.is_empty() {
        tracing::warn!("--watch: no component's build names files to watch ([component.x.build] watch)");
        return Ok(());
    }
    tracing::info!("watching the sources of {}", ids.join(", "));
    thread::Builder::new()
        .name("eventos-watch".into())
        .spawn(move || watch(&app, &manifest, &loader, watched))
        .context("cannot start the watcher")?;
    Ok(())
}

fn watch(app: &App, manifest: &Manifest, loader: &Loader, mut watched: Vec<Watched>) {
    loop {
        thread::sleep(POLL);
        let changed: Vec<&mut Watched> = watched
            .iter_mut()
            .filter_map(|component| if component.changed() { Some(component) } else { None })
            .collect();
        if changed.is_empty() {
            continue;
        }
        thread::sleep(SETTLE);
        for component in changed {
            // What was written while settling is part of this change.
            component.changed();
            rebuild(app, manifest, loader, &component.id);
        }
    }
}

/// Builds `id` and swaps the result in, unless the build fails or changed nothing.
fn rebuild(app: &App, manifest: &Manifest, loader: &Loader, id: &str) {
    let (Some(index), Some(decl)) = (app.component_index(id), manifest.components.get(id)) else { return };
    let Some(build) = &decl.build else { return };
    let started = Instant::now();
    let live = &app.components[index].build;
    let loaded =
        builder::build_one(manifest, id, build).and_then(|()| loader.load(id, &manifest.dir.join(&decl.source)));
    match loaded {
        Ok(build) if build.id == live.current().id => tracing::info!("`{id}` rebuilt, unchanged ({})", build.id),
        Ok(build) => {
            let digest = build.id.clone();
            live.swap(build);
            tracing::info!("swapped `{id}` to {digest}, built and loaded in {:.1?}", started.elapsed());
        }
        Err(error) => {
            tracing::error!("`{id}` keeps serving {}: {error:#}", live.current().id);
            live.failed(format!("{error:#}"));
        }
    }
}
