//! `token`: a bearer token signed with the local platform's development key.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::app::manifest::Manifest;
use crate::ops::dev_auth::{self, TokenRequest};

#[derive(Debug, Args)]
pub struct Token {
    /// The token's subject: who it speaks for
    #[arg(long)]
    sub: String,
    /// A platform role: organizer, moderator, staff or admin; repeatable
    #[arg(long = "role", value_name = "ROLE", value_parser = ["organizer", "moderator", "staff", "admin"])]
    roles: Vec<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// How long the token is valid
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    ttl: u64,
    /// The manifest, or the folder holding spin.toml, whose key signs
    #[arg(short = 'f', long = "from", visible_alias = "manifest", default_value = "spin.toml")]
    manifest: PathBuf,
}

impl Token {
    pub fn run(self) -> Result<()> {
        let manifest = Manifest::load(&super::manifest_path(&self.manifest))?;
        let request = TokenRequest {
            subject: self.sub,
            roles: self.roles,
            email: self.email,
            name: self.name,
            ttl_seconds: self.ttl,
        };
        println!("{}", dev_auth::token(&manifest.dir, &request)?);
        Ok(())
    }
}
