//! What an operator runs: the command line, builds and the watch loop, databases (provisioning, migrations, a private cluster), development tokens and the registry.

pub mod builder;
pub mod cli;
pub mod dev_auth;
pub mod migrate;
pub mod private_cluster;
pub mod provision;
pub mod registry;
pub mod watch;
