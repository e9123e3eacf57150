//! The command line: `up`, `migrate` and `drop`.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{App, Compiled};
use crate::dev_auth::{self, TokenRequest};
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::metrics_server;
use crate::provision::{self, DEFAULT_PREFIX};
use crate::registry::{self, Reference};
use crate::{builder, migrate, private_cluster, server, variables};

/// Runs a Spin application's manifest locally on wasmtime, with a
/// PostgreSQL database per domain, as Spin 3.6.3 runs it.
#[derive(Debug, Parser)]
#[command(name = "eventos", version)]
struct Cli {
    #[command(subcommand)]
    verb: VerbArgs,
}

#[derive(Debug, Subcommand)]
enum VerbArgs {
    /// Build the components, provision PostgreSQL (a database and role per
    /// domain), migrate, and serve the application
    Up {
        #[command(flatten)]
        app: AppArgs,
        /// Where to listen
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Set an application variable, over SPIN_VARIABLE_* (as `spin up`); repeatable
        #[arg(long = "variable", value_name = "KEY=VALUE", value_parser = key_value)]
        variables: Vec<(String, String)>,
        /// Compile every component afresh, neither reading nor writing the cache
        #[arg(long)]
        disable_cache: bool,
        /// Skip the manifest's build commands
        #[arg(long)]
        no_build: bool,
        /// Stop when standard input closes and drop the databases on the way out
        #[arg(long)]
        ephemeral: bool,
        /// Rebuild a component when a file its build watches changes, and swap
        /// it in while serving (requests in flight finish on the old build)
        #[arg(long)]
        watch: bool,
    },
    /// Provision and apply each domain's migrations, then exit
    Migrate {
        #[command(flatten)]
        app: AppArgs,
        /// Print `export SPIN_VARIABLE_...` lines that point `spin up` at the
        /// databases just provisioned: eval "$(eventos migrate --print-env)"
        #[arg(long)]
        print_env: bool,
        /// Touch no database: write each domain's migration program, what the
        /// Kubernetes Job runs with psql, into DIR as <domain>.sql
        #[arg(long, value_name = "DIR", conflicts_with = "print_env")]
        job_sql: Option<PathBuf>,
    },
    /// Drop the databases and roles of --prefix
    Drop {
        #[command(flatten)]
        app: AppArgs,
    },
    /// Start the private PostgreSQL cluster under target/postgres, even where
    /// another server answers, and print its admin URL (for EVENTOS_PG_ADMIN_URL)
    Postgres {
        #[command(flatten)]
        app: AppArgs,
    },
    /// Print a bearer token signed with the local platform's development key
    /// (made under target/ by the first `up`), which its components accept
    Token {
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
    },
    /// The application as an OCI artifact
    Registry {
        #[command(subcommand)]
        action: RegistryArgs,
    },
}

#[derive(Debug, Subcommand)]
enum RegistryArgs {
    /// Build the components and push the application as the OCI artifact
    /// `spin registry push` makes (what SpinKube runs); prints the pinned
    /// reference (registry/repository@sha256:...) on stdout
    Push {
        /// Where to push: registry[:port]/repository[:tag]
        reference: String,
        #[command(flatten)]
        app: AppArgs,
        /// Plain HTTP, for a registry on this machine
        #[arg(long, short = 'k')]
        insecure: bool,
        /// Skip the manifest's build commands
        #[arg(long)]
        no_build: bool,
    },
}

/// What every verb reads: the manifest, and the prefix of its databases.
#[derive(Debug, Args)]
struct AppArgs {
    /// The manifest, or the folder holding spin.toml (as `spin up -f`)
    #[arg(short = 'f', long = "from", visible_alias = "manifest", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Names the databases and roles: <prefix>_<domain>
    #[arg(long, default_value = DEFAULT_PREFIX)]
    prefix: String,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Up,
    Migrate,
    Drop,
    Postgres,
    /// `registry push <reference>`
    Push(String),
    /// `migrate --job-sql <dir>`
    WriteJobSql(PathBuf),
    /// `token --sub ...`
    Token(TokenRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub verb: Verb,
    pub manifest: PathBuf,
    pub prefix: String,
    pub listen: SocketAddr,
    pub build: bool,
    pub ephemeral: bool,
    /// `up --watch`: rebuild and swap components as their sources change.
    pub watch: bool,
    pub print_env: bool,
    /// `--variable KEY=VALUE`, in order; a later one wins.
    pub variables: Vec<(String, String)>,
    pub cache: bool,
    /// `--insecure`: a registry over plain HTTP.
    pub insecure: bool,
}

impl Command {
    fn new(verb: Verb, app: AppArgs) -> Self {
        Self {
            verb,
            manifest: manifest_path(app.manifest),
            prefix: app.prefix,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            build: true,
            ephemeral: false,
            watch: false,
            print_env: false,
            variables: Vec::new(),
            cache: true,
            insecure: false,
        }
    }
}

/// The command line (without the program's name); a usage error or `--help` is the `Err`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, clap::Error> {
    let cli = Cli::try_parse_from(std::iter::once("eventos".to_owned()).chain(args))?;
    Ok(match cli.verb {
        VerbArgs::Up { app, listen, variables, disable_cache, no_build, ephemeral, watch } => Command {
            listen,
            variables,
            cache: !disable_cache,
            build: !no_build,
            ephemeral,
            watch,
            ..Command::new(Verb::Up, app)
        },
        VerbArgs::Migrate { app, job_sql: Some(dir), .. } => Command::new(Verb::WriteJobSql(dir), app),
        VerbArgs::Migrate { app, print_env, job_sql: None } => {
            Command { print_env, ..Command::new(Verb::Migrate, app) }
        }
        VerbArgs::Drop { app } => Command::new(Verb::Drop, app),
        VerbArgs::Token { sub, roles, email, name, ttl, manifest } => {
            let request = TokenRequest { subject: sub, roles, email, name, ttl_seconds: ttl };
            Command::new(Verb::Token(request), AppArgs { manifest, prefix: DEFAULT_PREFIX.into() })
        }
        VerbArgs::Postgres { app } => Command::new(Verb::Postgres, app),
        VerbArgs::Registry { action: RegistryArgs::Push { reference, app, insecure, no_build } } => {
            Command { insecure, build: !no_build, ..Command::new(Verb::Push(reference), app) }
        }
    })
}

pub async fn run(command: Command) -> Result<()> {
    let started = Instant::now();
    let manifest = Manifest::load(&command.manifest)?;
    if command.verb == Verb::Postgres {
        println!("{}", private_cluster::start(&manifest.dir.join(private_cluster::DIR)).await?);
        return Ok(());
    }
    if let Verb::Push(reference) = &command.verb {
        let reference = Reference::parse(reference)?;
        if command.build {
            builder::build_all(&manifest)?;
        }
        let digest = registry::push(&command.manifest, &reference, command.insecure).await?;
        eprintln!("eventos: pushed {}/{}:{} ({digest})", reference.registry, reference.repository, reference.tag);
        println!("{}", reference.pinned(&digest));
        return Ok(());
    }
    if let Verb::Token(request) = &command.verb {
        println!("{}", dev_auth::token(&manifest.dir, request)?);
        return Ok(());
    }
    if let Verb::WriteJobSql(dir) = &command.verb {
        for (domain, migrations) in provision::domains_with_databases(&manifest) {
            let program = migrate::program_text(&domain, &migrate::read_migrations(&migrations)?)?;
            let file = dir.join(format!("{domain}.sql"));
            std::fs::write(&file, program).with_context(|| format!("cannot write {}", file.display()))?;
        }
        return Ok(());
    }
    if command.verb == Verb::Drop {
        let admin_url = provision::admin_url(&manifest).await?;
        return provision::drop_all(&manifest, &admin_url, &command.prefix).await;
    }
    if command.build && command.verb == Verb::Up {
        builder::build_all(&manifest)?;
    }
    // Compiling needs no database: it runs while the databases are provisioned.
    let limits = Limits::from_env();
    let compiling = (command.verb == Verb::Up).then(|| {
        let (manifest, limits, cache) = (manifest.clone(), limits.clone(), command.cache);
        tokio::task::spawn_blocking(move || Compiled::load(&manifest, &limits, cache))
    });
    let admin_url = provision::admin_url(&manifest).await?;
    let databases = provision::provision(&manifest, &admin_url, &command.prefix).await?;
    let reports =
        futures_util::future::try_join_all(databases.iter().map(|db| migrate::migrate(&db.url, &db.migrations)));
    for (db, report) in databases.iter().zip(reports.await?) {
        eprintln!(
            "eventos: {}: {} migration(s) applied, {} already applied",
            db.database,
            report.applied.len(),
            report.already_applied
        );
    }
    let mut provided = provision::database_variables(&databases);
    provided.extend(dev_auth::variables(&manifest.dir)?);
    if command.verb == Verb::Migrate {
        if command.print_env {
            print_spin_env(&provided);
        }
        return Ok(());
    }

    provided.insert("instance_name".into(), crate::app::instance_name());
    let mut values = variables::resolve_application(&manifest, &provided, |name| std::env::var(name).ok())?;
    for (name, value) in &command.variables {
        if !manifest.variables.contains_key(name) {
            anyhow::bail!("--variable {name}: the manifest declares no variable `{name}`");
        }
        values.insert(name.clone(), value.clone());
    }
    let Some(compiling) = compiling else { anyhow::bail!("only `up` serves") };
    let compiled = compiling.await.context("compiling the components")??;
    let app = App::new(compiled, &manifest, &values, limits)?;
    let listener = TcpListener::bind(command.listen)
        .await
        .with_context(|| format!("cannot listen on {}: is another server using it? try --listen", command.listen))?;
    let address = listener.local_addr()?;
    app.set_origin(address);
    if let Some(metrics) = metrics_listener().await? {
        eprintln!("eventos: metrics for Prometheus on http://{}/metrics", metrics.local_addr()?);
        tokio::spawn(metrics_server::serve(app.clone(), metrics));
    }
    if command.watch {
        crate::watch::start(app.clone(), manifest.clone(), command.cache)?;
    }
    announce(address, &manifest, &values, started);
    let stop_on_eof = command.ephemeral;
    server::serve(app.clone(), listener, async move {
        tokio::select! {
            () = shutdown_signal() => {},
            () = stdin_closed(), if stop_on_eof => {},
        }
    })
    .await?;
    if command.ephemeral {
        provision::drop_all(&manifest, &admin_url, &command.prefix).await?;
    }
    if let Some(telemetry) = &app.telemetry {
        telemetry.shutdown().await;
    }
    app.metrics.shutdown().await;
    eprintln!("eventos: {}", app.instantiation.summary());
    eprintln!("eventos: stopped");
    Ok(())
}

/// `EVENTOS_METRICS_LISTEN`, bound: where Prometheus scrapes, apart from the
/// application's own listener; unset, no metrics are served.
async fn metrics_listener() -> Result<Option<TcpListener>> {
    let Ok(address) = std::env::var("EVENTOS_METRICS_LISTEN") else {
        return Ok(None);
    };
    let parsed: SocketAddr = address
        .parse()
        .with_context(|| format!("EVENTOS_METRICS_LISTEN={address}: not an address such as 127.0.0.1:9464"))?;
    let listener = TcpListener::bind(parsed).await.with_context(|| format!("cannot listen on {parsed} for metrics"))?;
    Ok(Some(listener))
}

/// The one line on stdout tests and scripts wait for, then a summary on stderr.
fn announce(address: SocketAddr, manifest: &Manifest, values: &HashMap<String, String>, started: Instant) {
    println!("eventos: serving http://{address}");
    let _ = std::io::stdout().flush();
    eprintln!("eventos: {} {} on http://{address}", manifest.name, manifest.version);
    for route in &manifest.routes {
        let path = route.route.as_deref().unwrap_or("(private)");
        eprintln!("eventos:   {path} -> {}", route.component);
    }
    for (name, decl) in &manifest.variables {
        let value = if decl.secret { "(secret)" } else { values.get(name).map_or("", String::as_str) };
        eprintln!("eventos:   variable {name} = {value}");
    }
    eprintln!("eventos: ready in {} ms", started.elapsed().as_millis());
}

/// `-f` takes a folder as Spin does: its `spin.toml`.
fn manifest_path(path: PathBuf) -> PathBuf {
    if path.is_dir() { path.join("spin.toml") } else { path }
}

/// The provisioned databases as Spin reads variables from the environment, for a shell's `eval`.
fn print_spin_env(values: &HashMap<String, String>) {
    let mut names: Vec<&String> = values.keys().collect();
    names.sort();
    for name in names {
        // Names are lower_snake_case; values are URLs, addresses and a JWKS: no single quote inside.
        println!("export SPIN_VARIABLE_{}='{}'", name.to_ascii_uppercase(), values[name]);
    }
}

/// Resolves when standard input reaches its end: the parent process is gone.
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 256];
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    eprintln!("eventos: shutting down, letting in-flight requests finish");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn up_defaults_to_port_3000_and_builds() {
        let command = parse(args("up")).expect("valid");
        assert_eq!(command.listen.port(), 3000);
        assert!(command.build);
        assert_eq!(command.prefix, "eventos");
    }

    #[test]
    fn options_are_read() {
        let command = parse(args("up --listen 127.0.0.1:0 --no-build --prefix t1 --manifest x.toml")).expect("valid");
        assert_eq!(command.listen.port(), 0);
        assert!(!command.build);
        assert_eq!(command.manifest, PathBuf::from("x.toml"));
        assert!(!command.ephemeral);
        assert!(parse(args("up --ephemeral")).expect("valid").ephemeral);
    }

    #[test]
    fn spins_own_flags_are_taken() {
        let command = parse(args("up -f x.toml --variable a=1 --variable b=x=y --disable-cache")).expect("valid");
        assert_eq!(command.manifest, PathBuf::from("x.toml"));
        assert_eq!(command.variables, [("a".to_string(), "1".to_string()), ("b".to_string(), "x=y".to_string())]);
        assert!(!command.cache);
        assert_eq!(parse(args("up --from y.toml")).expect("valid").manifest, PathBuf::from("y.toml"));
        assert!(parse(args("up --variable novalue")).is_err());
    }

    #[test]
    fn registry_push_takes_a_reference() {
        let command = parse(args("registry push 127.0.0.1:5000/eventos:dev -k --no-build")).expect("valid");
        assert_eq!(command.verb, Verb::Push("127.0.0.1:5000/eventos:dev".into()));
        assert!(command.insecure && !command.build);
        assert!(parse(args("registry push")).is_err());
        assert!(parse(args("registry push --insecure")).is_err());
        assert!(parse(args("registry pull r.io/e:1")).is_err());
    }

    #[test]
    fn options_belong_to_their_verb() {
        assert!(parse(args("migrate --print-env --prefix p -f x.toml")).expect("valid").print_env);
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
