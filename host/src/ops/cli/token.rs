//! `token`: a bearer token signed with the local platform's development key.

use std::path::PathBuf;

use std::io::Write;

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
    /// A crowd for a load test: COUNT tokens, one a line, for the subjects <sub>-1 to <sub>-COUNT
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    count: Option<u32>,
    /// The manifest, or the folder holding spin.toml, whose key signs
    #[arg(short = 'f', long = "from", visible_alias = "manifest", default_value = "spin.toml")]
    manifest: PathBuf,
}

impl Token {
    pub fn run(self) -> Result<()> {
        let manifest = Manifest::load(&super::manifest_path(&self.manifest))?;
        let mut request = TokenRequest {
            subject: self.sub.clone(),
            roles: self.roles,
            email: self.email,
            name: self.name,
            ttl_seconds: self.ttl,
        };
        let Some(count) = self.count else {
            println!("{}", dev_auth::token(&manifest.dir, &request)?);
            return Ok(());
        };
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for person in 1..=count {
            request.subject = format!("{}-{person}", self.sub);
            writeln!(out, "{}", dev_auth::token(&manifest.dir, &request)?)?;
        }
        Ok(())
    }
}
