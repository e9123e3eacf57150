//! Runs each component's `[component.X.build] command`, as `spin build` does.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::app::manifest::{BuildDecl, Manifest};

pub fn build_all(manifest: &Manifest) -> Result<()> {
    for (id, component) in &manifest.components {
        if let Some(build) = &component.build {
            build_one(manifest, id, build)?;
        }
    }
    Ok(())
}

/// Runs one component's build command in its workdir; its output goes to ours.
pub fn build_one(manifest: &Manifest, id: &str, build: &BuildDecl) -> Result<()> {
    let workdir = workdir(manifest, build);
    tracing::info!("building {id}: {}", build.command);
    let status = Command::new("sh")
        .arg("-c")
        .arg(&build.command)
        .current_dir(&workdir)
        .status()
        .with_context(|| format!("cannot run the build command of component `{id}` in {}", workdir.display()))?;
    if !status.success() {
        bail!("the build command of component `{id}` failed ({status}): {}", build.command);
    }
    Ok(())
}

/// Where a build runs and its `watch` globs start: `workdir`, relative to the
/// manifest, or the manifest's folder.
pub fn workdir(manifest: &Manifest, build: &BuildDecl) -> PathBuf {
    match &build.workdir {
        Some(dir) => manifest.dir.join(dir),
        None => manifest.dir.clone(),
    }
}
