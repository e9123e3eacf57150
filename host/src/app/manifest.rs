//! `spin.toml` (manifest version 2): the subset of Spin's manifest this host runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::capabilities::variables::is_variable_name;

#[derive(Debug, Clone)]
pub struct Manifest {
    /// The folder holding `spin.toml`; relative paths in it start here.
    pub dir: PathBuf,
    pub name: String,
    pub version: String,
    pub variables: BTreeMap<String, VariableDecl>,
    pub routes: Vec<RouteDecl>,
    pub components: BTreeMap<String, ComponentDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

/// A public route (`/api/users/...`) or `private` (reachable only by chaining).
#[derive(Debug, Clone)]
pub struct RouteDecl {
    pub route: Option<String>,
    pub component: String,
}

/// Unknown fields land in `unsupported` and are refused there, naming them.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub description: String,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The guest's environment (WASI), as Spin gives it.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The key-value stores it may open, by label.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    pub build: Option<BuildDecl>,
    /// Tooling settings; no part of running the component.
    #[serde(default)]
    #[allow(dead_code)]
    pub tool: toml::Table,
    /// Spin fields this host does not implement: refused by name at load, never dropped.
    #[serde(flatten)]
    pub unsupported: BTreeMap<String, toml::Value>,
}

/// Spin component fields `eventos` does not implement, and why each matters.
const UNSUPPORTED_COMPONENT_FIELDS: &[(&str, &str)] = &[
    ("files", "files mounted into the guest"),
    ("exclude_files", "files mounted into the guest"),
    ("sqlite_databases", "Spin's SQLite databases"),
    ("ai_models", "Spin's LLM inferencing"),
    ("allowed_http_hosts", "the manifest version 1 allow-list (write allowed_outbound_hosts)"),
    ("dependencies", "component dependencies (composition)"),
    ("dependencies_inherit_configuration", "component dependencies (composition)"),
    ("targets", "deployment target environments"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDecl {
    pub command: String,
    pub workdir: Option<String>,
    /// Globs of the files the build reads: `up --watch` rebuilds on their change, as `spin watch` does.
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentDecl>,
}

#[derive(Deserialize)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    #[allow(dead_code)]
    authors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    tool: toml::Table,
    /// Spin's `targets` and trigger-wide settings (`[application.trigger.http] base`).
    #[serde(flatten)]
    unsupported: BTreeMap<String, toml::Value>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    route: RawRoute,
    component: String,
    #[serde(default)]
    #[allow(dead_code)]
    id: String,
    /// `executor = { type = "http" }` is the default; `wagi` and static responses are refused.
    executor: Option<RawExecutor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecutor {
    r#type: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

/// The folder a manifest's relative paths (sources, build workdirs) start from:
/// `.` for a bare `spin.toml`, whose parent is the empty path, where no command can run.
pub fn folder_of(manifest_path: &Path) -> PathBuf {
    match manifest_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read the manifest {}: pass --manifest <path to spin.toml>", path.display())
        })?;
        Self::parse(&text, folder_of(path))
            .with_context(|| format!("{} is not a manifest this host can run", path.display()))
    }

    pub fn parse(text: &str, dir: PathBuf) -> Result<Self> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version is {}; only 2 is supported", raw.spin_manifest_version);
        }
        if let Some(field) = raw.application.unsupported.keys().next() {
            bail!("[application] `{field}` is a Spin setting this host does not implement");
        }
        for trigger in &raw.trigger.http {
            if let Some(executor) = trigger.executor.as_ref().filter(|e| e.r#type != "http") {
                bail!(
                    "component `{}`: executor `{}` is not implemented here (only `http`)",
                    trigger.component,
                    executor.r#type
                );
            }
        }
        let routes = raw
            .trigger
            .http
            .into_iter()
            .map(|trigger| {
                let route = match trigger.route {
                    RawRoute::Path(route) => Some(route),
                    RawRoute::Private { private: true } => None,
                    RawRoute::Private { private: false } => {
                        bail!("component `{}`: write a path route, not `{{ private = false }}`", trigger.component)
                    }
                };
                Ok(RouteDecl { route, component: trigger.component })
            })
            .collect::<Result<_>>()?;
        let manifest = Self {
            dir,
            name: raw.application.name,
            version: raw.application.version,
            variables: raw.variables,
            routes,
            components: raw.component,
        };
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<()> {
        for route in &self.routes {
            if !self.components.contains_key(&route.component) {
                bail!("[[trigger.http]] names component `{}`, which has no [component.{0}] table", route.component);
            }
            if let Some(path) = &route.route
                && !path.starts_with('/')
            {
                bail!("route `{path}` of component `{}` must start with `/`", route.component);
            }
        }
        for (name, decl) in &self.variables {
            if !is_variable_name(name) {
                bail!("variable `{name}` must be lower_snake_case (a-z, 0-9, _), starting with a letter");
            }
            if decl.default.is_none() && !decl.required {
                bail!("variable `{name}` needs a `default` or `required = true`");
            }
        }
        for (id, component) in &self.components {
            for name in component.variables.keys() {
                if !is_variable_name(name) {
                    bail!("variable `{name}` of component `{id}` must be lower_snake_case");
                }
            }
            if component.source.is_empty() {
                bail!("component `{id}` has an empty `source`");
            }
            if let Some(field) = component.unsupported.keys().next() {
                let what = UNSUPPORTED_COMPONENT_FIELDS.iter().find(|(name, _)| name == field);
                match what {
                    Some((_, what)) => {
                        bail!("component `{id}`: `{field}` ({what}) is a Spin capability this host does not provide")
                    }
                    None => bail!("component `{id}`: unknown field `{field}`"),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
[[trigger.http]]
route = "/api/demo/..."
component = "demo"
[[trigger.http]]
route = { private = true }
component = "demo"
[component.demo]
source = "demo.wasm"
[component.demo.variables]
message = "{{ greeting }}"
"#;

    #[test]
    fn a_minimal_manifest_parses() {
        let manifest = Manifest::parse(MINIMAL, PathBuf::from("/app")).expect("valid");
        assert_eq!(manifest.routes.len(), 2);
        assert_eq!(manifest.routes[1].route, None);
        assert_eq!(manifest.dir.join(&manifest.components["demo"].source), PathBuf::from("/app/demo.wasm"));
    }

    #[test]
    fn a_bare_manifest_name_is_in_the_current_folder() {
        assert_eq!(folder_of(Path::new("spin.toml")), PathBuf::from("."));
        assert_eq!(folder_of(Path::new("app/spin.toml")), PathBuf::from("app"));
    }

    #[test]
    fn a_route_to_a_missing_component_is_refused() {
        let text = MINIMAL.replace("component = \"demo\"\n[[trigger", "component = \"ghost\"\n[[trigger");
        let err = Manifest::parse(&text, PathBuf::new()).expect_err("ghost");
        assert!(err.to_string().contains("ghost"), "{err}");
    }

    #[test]
    fn a_variable_without_default_or_required_is_refused() {
        let text = MINIMAL.replace("greeting = { default = \"hi\" }", "greeting = { secret = true }");
        assert!(Manifest::parse(&text, PathBuf::new()).is_err());
    }

    #[test]
    fn another_manifest_version_is_refused() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(Manifest::parse(&text, PathBuf::new()).is_err());
    }

    #[test]
    fn unknown_fields_are_errors_as_in_spin() {
        for (table, line) in
            [("[component.demo]", "sorce = \"x\""), ("[application]", "nmae = \"x\""), ("", "extra = 1")]
        {
            let text = if table.is_empty() {
                format!("{line}\n{MINIMAL}")
            } else {
                MINIMAL.replace(table, &format!("{table}\n{line}"))
            };
            assert!(Manifest::parse(&text, PathBuf::new()).is_err(), "{table} {line}");
        }
    }

    #[test]
    fn spin_capabilities_this_host_lacks_are_refused_by_name() {
        for field in ["files = [\"a.txt\"]", "sqlite_databases = [\"default\"]"] {
            let text = MINIMAL.replace("[component.demo]\n", &format!("[component.demo]\n{field}\n"));
            let err = Manifest::parse(&text, PathBuf::new()).expect_err(field);
            let name = field.split(' ').next().expect("a name");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn environment_is_read() {
        let text = MINIMAL.replace("[component.demo]\n", "[component.demo]\nenvironment = { A = \"1\" }\n");
        let manifest = Manifest::parse(&text, PathBuf::new()).expect("valid");
        assert_eq!(manifest.components["demo"].environment["A"], "1");
    }

    #[test]
    fn variable_names_follow_spin() {
        assert!(is_variable_name("db_url2"));
        assert!(!is_variable_name("DB_URL"));
        assert!(!is_variable_name("2db"));
        assert!(!is_variable_name(""));
    }
}
