//! A private PostgreSQL cluster under `target/`, for machines with no server running.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the cluster lives, under the manifest's folder.
pub const DIR: &str = "target/postgres";
/// The private cluster's port: off the default so it never collides with a system server.
const PORT: u16 = 54329;
/// Spin pools up to 64 connections per database address: four domains under load
/// need far more than PostgreSQL's default of 100.
const MAX_CONNECTIONS: u16 = 400;

/// Initialises (once) and starts the cluster in `data_dir`; returns its admin URL.
pub async fn start(data_dir: &Path) -> Result<String> {
    let bin = postgres_bin_dir().context(
        "PostgreSQL is not installed: install it (`apt-get install postgresql`) or set EVENTOS_PG_ADMIN_URL",
    )?;
    // The server runs in its data directory: every path it is given must be absolute.
    let data_dir = &std::path::absolute(data_dir)?;
    let as_root = is_root();
    if !data_dir.join("PG_VERSION").exists() {
        std::fs::create_dir_all(data_dir)?;
        if as_root {
            // PostgreSQL refuses to run as root: the cluster belongs to the `postgres` user.
            run(Command::new("chown").arg("-R").arg("postgres:postgres").arg(data_dir))?;
        }
        let initdb = bin.join("initdb");
        run(as_user(as_root, &initdb)
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "-D"])
            .arg(data_dir))?;
    }
    let options = format!(
        "-p {PORT} -c listen_addresses=127.0.0.1 -c max_connections={MAX_CONNECTIONS} -k {}",
        data_dir.display()
    );
    let url = format!("postgres://postgres@127.0.0.1:{PORT}/postgres?sslmode=disable");
    let status = as_user(as_root, &bin.join("pg_ctl")).arg("-D").arg(data_dir).arg("status").output()?;
    let port_taken = tokio::net::TcpStream::connect(("127.0.0.1", PORT)).await.is_ok();
    if !status.status.success() && port_taken {
        // Another checkout's private cluster holds the port: it serves as well as ours.
        tracing::info!("a private cluster of another checkout answers on port {PORT}; using it");
        return Ok(url);
    }
    if !status.status.success() {
        run(as_user(as_root, &bin.join("pg_ctl"))
            .arg("-D")
            .arg(data_dir)
            .args(["-l"])
            .arg(data_dir.join("server.log"))
            .args(["-o", &options, "-w", "start"]))?;
    }
    Ok(url)
}

fn as_user(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or wherever `initdb` is on PATH.
fn postgres_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).or_else(|| {
        std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("initdb").exists()))
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
