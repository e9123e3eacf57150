//! Runs each component's `[component.X.build] command`, as `spin build` does.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::manifest::Manifest;

pub fn build_all(manifest: &Manifest) -> Result<()> {
    for (id, component) in &manifest.components {
        let Some(build) = &component.build else {
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => manifest.dir.join(dir),
            None => manifest.dir.clone(),
        };
        eprintln!("eventos: building {id}: {}", build.command);
        let status =
            Command::new("sh").arg("-c").arg(&build.command).current_dir(&workdir).status().with_context(|| {
                format!("cannot run the build command of component `{id}` in {}", workdir.display())
            })?;
        if !status.success() {
            bail!("the build command of component `{id}` failed ({status}): {}", build.command);
        }
    }
    Ok(())
}
