//! `registry push`: the application as the OCI artifact SpinKube runs.

use anyhow::Result;
use clap::{Args, Subcommand};

use super::AppArgs;
use crate::ops::builder;
use crate::ops::registry::{self, Reference};

#[derive(Debug, Args)]
pub struct Registry {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Build the components and push the application as the OCI artifact
    /// `spin registry push` makes (what SpinKube runs); prints the pinned
    /// reference (registry/repository@sha256:...) on stdout
    Push(Push),
}

#[derive(Debug, Args)]
pub struct Push {
    /// Where to push: registry[:port]/repository[:tag]
    pub reference: String,
    #[command(flatten)]
    app: AppArgs,
    /// Plain HTTP, for a registry on this machine
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Skip the manifest's build commands
    #[arg(long)]
    pub no_build: bool,
}

impl Registry {
    pub async fn run(self) -> Result<()> {
        let Action::Push(push) = self.action;
        let manifest = push.app.load()?;
        let reference = Reference::parse(&push.reference)?;
        if !push.no_build {
            builder::build_all(&manifest)?;
        }
        let digest = registry::push(&push.app.manifest_path(), &reference, push.insecure).await?;
        tracing::info!("pushed {}/{}:{} ({digest})", reference.registry, reference.repository, reference.tag);
        println!("{}", reference.pinned(&digest));
        Ok(())
    }
}
