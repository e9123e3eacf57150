//! The command line: one struct per command, each with its own `run`.

mod databases;
mod registry;
mod token;
mod up;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::app::manifest::Manifest;
use crate::observe::logs;
use crate::ops::provision::DEFAULT_PREFIX;

/// Runs a Spin application's manifest locally on wasmtime, with a
/// PostgreSQL database per domain, as Spin 3.6.3 runs it.
#[derive(Debug, Parser)]
#[command(name = "eventos", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the components, provision PostgreSQL (a database and role per
    /// domain), migrate, and serve the application
    Up(up::Up),
    /// Provision and apply each domain's migrations, then exit
    Migrate(databases::Migrate),
    /// Drop the databases and roles of --prefix
    Drop(databases::Drop),
    /// Start the private PostgreSQL cluster under target/postgres, even where
    /// another server answers, and print its admin URL (for EVENTOS_PG_ADMIN_URL)
    Postgres(databases::Postgres),
    /// Print a bearer token signed with the local platform's development key
    /// (made under target/ by the first `up`), which its components accept
    Token(token::Token),
    /// The application as an OCI artifact
    Registry(registry::Registry),
}

/// What every command that reads the application takes: the manifest, and the
/// prefix of its databases.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// The manifest, or the folder holding spin.toml (as `spin up -f`)
    #[arg(short = 'f', long = "from", visible_alias = "manifest", default_value = "spin.toml")]
    pub manifest: PathBuf,
    /// Names the databases and roles: <prefix>_<domain>
    #[arg(long, default_value = DEFAULT_PREFIX)]
    pub prefix: String,
}

impl AppArgs {
    /// `-f` takes a folder as Spin does: its `spin.toml`.
    fn manifest_path(&self) -> PathBuf {
        manifest_path(&self.manifest)
    }

    fn load(&self) -> Result<Manifest> {
        Manifest::load(&self.manifest_path())
    }
}

fn manifest_path(path: &std::path::Path) -> PathBuf {
    if path.is_dir() { path.join("spin.toml") } else { path.to_path_buf() }
}

/// The command line (without the program's name); a usage error or `--help` is the `Err`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, clap::Error> {
    Ok(Cli::try_parse_from(std::iter::once("eventos".to_owned()).chain(args))?.command)
}

impl Command {
    pub async fn run(self) -> Result<()> {
        if !matches!(self, Command::Up(_)) {
            // `up` installs its own, once it knows whether and as what to export spans.
            logs::install(None)?;
        }
        match self {
            Command::Up(up) => up.run().await,
            Command::Migrate(migrate) => migrate.run().await,
            Command::Drop(drop) => drop.run().await,
            Command::Postgres(postgres) => postgres.run().await,
            Command::Token(token) => token.run(),
            Command::Registry(registry) => registry.run().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn up(line: &str) -> up::Up {
        match parse(args(line)).expect("valid") {
            Command::Up(up) => up,
            other => panic!("not up: {other:?}"),
        }
    }

    #[test]
    fn up_defaults_to_port_3000_and_builds() {
        let command = up("up");
        assert_eq!(command.listen.port(), 3000);
        assert!(!command.no_build);
        assert_eq!(command.app.prefix, "eventos");
    }

    #[test]
    fn options_are_read() {
        let command = up("up --listen 127.0.0.1:0 --no-build --prefix t1 --manifest x.toml");
        assert_eq!(command.listen.port(), 0);
        assert!(command.no_build);
        assert_eq!(command.app.manifest, PathBuf::from("x.toml"));
        assert!(!command.ephemeral && !command.watch);
        assert!(up("up --ephemeral").ephemeral);
        assert!(up("up --watch").watch);
    }

    #[test]
    fn spins_own_flags_are_taken() {
        let command = up("up -f x.toml --variable a=1 --variable b=x=y --disable-cache");
        assert_eq!(command.app.manifest, PathBuf::from("x.toml"));
        assert_eq!(command.variables, [("a".to_string(), "1".to_string()), ("b".to_string(), "x=y".to_string())]);
        assert!(command.disable_cache);
        assert_eq!(up("up --from y.toml").app.manifest, PathBuf::from("y.toml"));
        assert!(parse(args("up --variable novalue")).is_err());
    }

    #[test]
    fn registry_push_takes_a_reference() {
        let Command::Registry(registry) =
            parse(args("registry push 127.0.0.1:5000/eventos:dev -k --no-build")).expect("valid")
        else {
            panic!("not registry")
        };
        let registry::Action::Push(push) = registry.action;
        assert_eq!(push.reference, "127.0.0.1:5000/eventos:dev");
        assert!(push.insecure && push.no_build);
        assert!(parse(args("registry push")).is_err());
        assert!(parse(args("registry push --insecure")).is_err());
        assert!(parse(args("registry pull r.io/e:1")).is_err());
    }

    #[test]
    fn options_belong_to_their_command() {
        let Command::Migrate(migrate) = parse(args("migrate --print-env --prefix p -f x.toml")).expect("valid") else {
            panic!("not migrate")
        };
        assert!(migrate.print_env);
        assert!(parse(args("migrate --listen 127.0.0.1:0")).is_err(), "migrate serves nothing");
        assert!(parse(args("drop --ephemeral")).is_err());
    }

    #[test]
    fn unknown_commands_and_options_are_refused() {
        assert!(parse(args("down")).is_err());
        assert!(parse(args("up --fast")).is_err());
        assert!(parse(args("up --listen nowhere")).is_err());
        assert!(parse(args("up --prefix")).is_err());
    }
}
