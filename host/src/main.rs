//! `eventos`: runs the Eventos `spin.toml` locally on wasmtime, as Spin would.

mod admission;
mod allow;
mod app;
mod builder;
mod capabilities;
mod chain;
mod cli;
mod client;
mod componentize;
mod dev_auth;
mod engine;
mod guest_variables;
mod handler;
mod headers;
mod limits;
mod live;
mod manifest;
mod metrics;
mod metrics_server;
mod migrate;
mod outbound;
mod postgres;
mod private_cluster;
mod provision;
mod refused;
mod registry;
mod router;
mod server;
mod state;
mod stats;
mod telemetry;
mod tls;
mod variables;
mod watch;

use std::process::ExitCode;

/// Every request allocates and frees a store, its resource table, headers and
/// bodies across threads; mimalloc's per-thread free lists make that cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        // A usage error (exit 2), or the help or version asked for (exit 0).
        Err(answer) => {
            let _ = answer.print();
            return ExitCode::from(if answer.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("eventos: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(cli::run(command));
    // A blocking read of standard input (--ephemeral) must not keep the process alive.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("eventos: {error:#}");
            ExitCode::FAILURE
        }
    }
}
