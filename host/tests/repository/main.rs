//! The repository held to its own rules, with no platform serving: the
//! Kubernetes manifests and the deployment path, the module graph, and the
//! schema every domain shares.
// runtimes: eventos

#[path = "../support/mod.rs"]
mod support;

mod deploy;
mod kubernetes;
mod module_graph;
mod schema;
