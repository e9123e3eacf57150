//! Spin variables: application `[variables]`, overridden by `SPIN_VARIABLE_<NAME>`,
//! bound into each component through `{{ name }}` templates.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, anyhow, bail};

use crate::app::manifest::Manifest;

/// Resolves every application variable: the environment (`SPIN_VARIABLE_*`) wins,
/// then values the host provides (such as provisioned database URLs), then defaults.
pub fn resolve_application(
    manifest: &Manifest,
    provided: &HashMap<String, String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, String>> {
    let mut values = HashMap::new();
    for (name, decl) in &manifest.variables {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value = env(&env_name).or_else(|| provided.get(name).cloned()).or_else(|| decl.default.clone());
        match value {
            Some(value) => values.insert(name.clone(), value),
            None => bail!("variable `{name}` is required: set {env_name}"),
        };
    }
    Ok(values)
}

/// A component's own variables, with templates expanded.
pub fn resolve_component(
    bindings: &BTreeMap<String, String>,
    application: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    bindings
        .iter()
        .map(|(name, template)| {
            let value = expand(template, application).map_err(|e| anyhow!("variable `{name}`: {e}"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

/// Replaces each `{{ name }}` with the application variable `name`.
pub fn expand(template: &str, application: &HashMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or_else(|| anyhow!("`{template}` has an unclosed `{{{{`"))?;
        let name = rest[start + 2..start + end].trim();
        let value = application
            .get(name)
            .ok_or_else(|| anyhow!("`{template}` uses `{name}`, which is not declared in [variables]"))?;
        out.push_str(value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[component.demo]
source = "demo.wasm"
"#,
            PathBuf::new(),
        )
        .expect("valid")
    }

    #[test]
    fn the_environment_overrides_defaults_and_provided_values() {
        let provided = HashMap::from([("greeting".to_string(), "provided".to_string())]);
        let env = |name: &str| match name {
            "SPIN_VARIABLE_GREETING" => Some("from env".to_string()),
            "SPIN_VARIABLE_TOKEN" => Some("t".to_string()),
            _ => None,
        };
        let values = resolve_application(&manifest(), &provided, env).expect("resolves");
        assert_eq!(values["greeting"], "from env");
    }

    #[test]
    fn provided_values_override_defaults() {
        let provided =
            HashMap::from([("greeting".to_string(), "provided".to_string()), ("token".to_string(), "t".to_string())]);
        let values = resolve_application(&manifest(), &provided, |_| None).expect("resolves");
        assert_eq!(values["greeting"], "provided");
    }

    #[test]
    fn a_missing_required_variable_names_its_environment_variable() {
        let err = resolve_application(&manifest(), &HashMap::new(), |_| None).expect_err("token missing");
        assert!(err.to_string().contains("SPIN_VARIABLE_TOKEN"), "{err}");
    }

    #[test]
    fn templates_expand_application_variables() {
        let app = HashMap::from([("host".to_string(), "db:5432".to_string())]);
        assert_eq!(expand("postgres://{{ host }}", &app).expect("ok"), "postgres://db:5432");
        assert!(expand("{{ nope }}", &app).is_err());
        assert!(expand("{{ host", &app).is_err());
    }
}
