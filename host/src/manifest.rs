//! `spin.toml` (manifest version 2): the subset of Spin's manifest this host runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

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

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    pub build: Option<BuildDecl>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BuildDecl {
    pub command: String,
    pub workdir: Option<String>,
    /// For `spin watch`; this host builds on every `up` instead.
    #[serde(default)]
    #[allow(dead_code)]
    pub watch: Vec<String>,
}

#[derive(Deserialize)]
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
}

#[derive(Default, Deserialize)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    route: RawRoute,
    component: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read the manifest {}: pass --manifest <path to spin.toml>", path.display())
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, dir).with_context(|| format!("{} is not a manifest this host can run", path.display()))
    }

    pub fn parse(text: &str, dir: PathBuf) -> Result<Self> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version is {}; only 2 is supported", raw.spin_manifest_version);
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
        }
        Ok(())
    }
}

/// Spin's rule for variable names.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
    fn variable_names_follow_spin() {
        assert!(is_variable_name("db_url2"));
        assert!(!is_variable_name("DB_URL"));
        assert!(!is_variable_name("2db"));
        assert!(!is_variable_name(""));
    }
}
