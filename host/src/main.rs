//! `eventos`: runs the Eventos `spin.toml` locally on wasmtime, as Spin would.

mod app;
mod capabilities;
mod net;
mod observe;
mod ops;
mod per_text;
mod serve;

use std::process::ExitCode;

/// Every request allocates and frees a store, its resource table, headers and
/// bodies across threads; mimalloc's per-thread free lists make that cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match ops::cli::parse(std::env::args().skip(1)) {
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
    let outcome = runtime.block_on(command.run());
    // A blocking read of standard input (--ephemeral) must not keep the process alive.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // The command's answer to whoever ran it, as clap's usage errors are:
        // printed, not logged (a failure may come before any subscriber is set).
        Err(error) => {
            eprintln!("eventos: {error:#}");
            ExitCode::FAILURE
        }
    }
}
