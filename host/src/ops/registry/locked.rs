//! The locked application: `spin.toml` resolved into the JSON document Spin's
//! loader makes of it (`spin_locked_app`), with each component's Wasm named by
//! the digest of its layer. SpinKube's shim runs this document; byte for byte
//! it is what `spin registry push` writes, so the same application pushed by
//! either tool is the same artifact.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
pub struct LockedApp {
    spin_lock_version: u32,
    /// The application's name, version, description and authors, as Spin records them.
    pub metadata: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, LockedVariable>,
    triggers: Vec<LockedTrigger>,
    components: Vec<LockedComponent>,
}

#[derive(Serialize)]
struct LockedVariable {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

#[derive(Serialize)]
struct LockedTrigger {
    id: String,
    trigger_type: String,
    trigger_config: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct LockedComponent {
    id: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, Value>,
    source: LockedSource,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    config: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct LockedSource {
    content_type: &'static str,
    digest: String,
}

/// The locked application of `doc` (a manifest already checked by `Manifest::parse`),
/// each component's source replaced by `digests[component id]`.
pub fn lock(doc: &toml::Table, digests: &HashMap<String, String>) -> Result<LockedApp> {
    let application = table(doc, "application");
    let trigger_types = table(doc, "trigger");
    Ok(LockedApp {
        spin_lock_version: 0,
        metadata: metadata(&application, &trigger_types),
        variables: table(doc, "variables").iter().map(|(name, decl)| (name.clone(), variable(decl))).collect(),
        triggers: triggers(&trigger_types)?,
        components: table(doc, "component")
            .iter()
            .map(|(id, decl)| component(id, decl, digests))
            .collect::<Result<_>>()?,
    })
}

/// Each component's id and Wasm file (as written in `spin.toml`), in manifest order:
/// the order of the artifact's layers.
pub fn component_sources(doc: &toml::Table) -> Result<Vec<(String, String)>> {
    table(doc, "component")
        .iter()
        .map(|(id, decl)| {
            let source = decl.get("source").and_then(toml::Value::as_str);
            Ok((id.clone(), source.with_context(|| format!("component `{id}` has no file source"))?.to_owned()))
        })
        .collect()
}

fn table(doc: &toml::Table, key: &str) -> toml::Table {
    doc.get(key).and_then(toml::Value::as_table).cloned().unwrap_or_default()
}

fn text(doc: &toml::Table, key: &str) -> Option<String> {
    doc.get(key).and_then(toml::Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A non-empty list, as Spin records lists (an empty one is left out).
fn list(doc: &toml::Table, key: &str) -> Option<Value> {
    doc.get(key).and_then(toml::Value::as_array).filter(|items| !items.is_empty()).map(|_| json(&doc[key]))
}

fn metadata(application: &toml::Table, trigger_types: &toml::Table) -> BTreeMap<String, Value> {
    let mut metadata = BTreeMap::new();
    for key in ["name", "version", "description"] {
        if let Some(value) = text(application, key) {
            metadata.insert(key.to_owned(), Value::String(value));
        }
    }
    if let Some(authors) = list(application, "authors") {
        metadata.insert("authors".into(), authors);
    }
    let global = table(application, "trigger");
    metadata.insert("triggers".into(), json(&toml::Value::Table(global.clone())));
    // Spin repeats a single trigger type's settings under `trigger`, with its `type`.
    if let [trigger_type] = trigger_types.keys().collect::<Vec<_>>()[..] {
        let mut single = table(&global, trigger_type);
        single.insert("type".into(), toml::Value::String(trigger_type.clone()));
        metadata.insert("trigger".into(), json(&toml::Value::Table(single)));
    }
    metadata
}

fn variable(decl: &toml::Value) -> LockedVariable {
    let decl = decl.as_table().cloned().unwrap_or_default();
    LockedVariable {
        description: text(&decl, "description"),
        default: decl.get("default").and_then(toml::Value::as_str).map(str::to_owned),
        secret: decl.get("secret").and_then(toml::Value::as_bool).unwrap_or(false),
    }
}

/// Every trigger with Spin's identifiers: its own `id`, else `<component>-<type>-trigger`
/// when free, else `<type>-trigger<n>`.
fn triggers(trigger_types: &toml::Table) -> Result<Vec<LockedTrigger>> {
    let all = |t: &toml::Value| t.as_array().cloned().unwrap_or_default();
    let mut taken: HashSet<String> = trigger_types
        .values()
        .flat_map(all)
        .filter_map(|t| t.get("id").and_then(toml::Value::as_str).map(str::to_owned))
        .collect();
    let mut locked = Vec::new();
    for (trigger_type, list) in trigger_types {
        let mut counter = 1;
        for trigger in all(list) {
            let Some(mut config) = trigger.as_table().cloned() else {
                bail!("[[trigger.{trigger_type}]] is not a table")
            };
            let id = match config.remove("id").and_then(|id| id.as_str().map(str::to_owned)) {
                Some(id) if !id.is_empty() => id,
                _ => {
                    let natural = text(&config, "component").map(|c| format!("{c}-{trigger_type}-trigger"));
                    match natural.filter(|id| !taken.contains(id)) {
                        Some(id) => id,
                        None => loop {
                            let id = format!("{trigger_type}-trigger{counter}");
                            counter += 1;
                            if !taken.contains(&id) {
                                break id;
                            }
                        },
                    }
                }
            };
            taken.insert(id.clone());
            let trigger_config = config.iter().map(|(key, value)| (key.clone(), json(value))).collect();
            locked.push(LockedTrigger { id, trigger_type: trigger_type.clone(), trigger_config });
        }
    }
    Ok(locked)
}

fn component(id: &str, decl: &toml::Value, digests: &HashMap<String, String>) -> Result<LockedComponent> {
    let decl = decl.as_table().cloned().unwrap_or_default();
    let mut metadata = BTreeMap::new();
    if let Some(description) = text(&decl, "description") {
        metadata.insert("description".into(), Value::String(description));
    }
    if let Some(hosts) = list(&decl, "allowed_outbound_hosts") {
        metadata.insert("allowed_outbound_hosts".into(), hosts);
    }
    if let Some(stores) = list(&decl, "key_value_stores") {
        metadata.insert("key_value_stores".into(), stores);
    }
    if let Some(build) = decl.get("build").and_then(toml::Value::as_table) {
        let build: BTreeMap<String, Value> = build
            .iter()
            .filter(|(key, value)| *key != "watch" || value.as_array().is_some_and(|w| !w.is_empty()))
            .map(|(key, value)| (key.clone(), json(value)))
            .collect();
        metadata.insert("build".into(), serde_json::to_value(build)?);
    }
    let strings = |key: &str| -> BTreeMap<String, String> {
        table(&decl, key).iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
    };
    let digest = digests.get(id).with_context(|| format!("component `{id}` has no layer"))?.clone();
    Ok(LockedComponent {
        id: id.to_owned(),
        metadata,
        source: LockedSource { content_type: "application/wasm", digest },
        env: strings("environment"),
        config: strings("variables"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "shop"
version = "1.0.0"
[variables]
db_url = { default = "postgres://x", secret = true }
region = { required = true }
[[trigger.http]]
route = "/b/..."
component = "b"
[[trigger.http]]
route = "/a/..."
component = "a"
[[trigger.http]]
route = "/b2/..."
component = "b"
[[trigger.http]]
id = "named"
route = { private = true }
component = "a"
[component.b]
source = "b.wasm"
allowed_outbound_hosts = ["postgres://{{ db_host }}"]
environment = { RUST_LOG = "info" }
[component.b.variables]
db_url = "{{ db_url }}"
[component.b.build]
command = "make b"
watch = []
[component.a]
source = "a.wasm"
"#;

    fn locked() -> Value {
        let digests = HashMap::from([("a".into(), "sha256:aa".into()), ("b".into(), "sha256:bb".into())]);
        serde_json::to_value(lock(&MANIFEST.parse().expect("TOML"), &digests).expect("locks")).expect("json")
    }

    #[test]
    fn triggers_get_spins_identifiers_in_manifest_order() {
        let ids: Vec<_> = locked()["triggers"].as_array().expect("list").iter().map(|t| t["id"].clone()).collect();
        assert_eq!(ids, ["b-http-trigger", "a-http-trigger", "http-trigger1", "named"]);
        assert_eq!(
            locked()["triggers"][3]["trigger_config"],
            serde_json::json!({"component": "a", "route": {"private": true}})
        );
    }

    #[test]
    fn components_keep_manifest_order_and_name_their_layers() {
        let locked = locked();
        assert_eq!(locked["components"][0]["id"], "b");
        assert_eq!(
            locked["components"][0]["source"],
            serde_json::json!({"content_type": "application/wasm", "digest": "sha256:bb"})
        );
        assert_eq!(locked["components"][0]["env"]["RUST_LOG"], "info");
        assert_eq!(locked["components"][0]["metadata"]["build"], serde_json::json!({"command": "make b"}));
        assert_eq!(locked["components"][1]["metadata"], Value::Null, "no metadata, no key");
    }

    #[test]
    fn variables_and_metadata_are_as_spin_records_them() {
        let locked = locked();
        assert_eq!(locked["variables"]["db_url"], serde_json::json!({"default": "postgres://x", "secret": true}));
        assert_eq!(locked["variables"]["region"], serde_json::json!({}));
        assert_eq!(locked["metadata"]["trigger"], serde_json::json!({"type": "http"}));
        assert_eq!(locked["metadata"]["triggers"], serde_json::json!({}));
        assert_eq!(locked["spin_lock_version"], 0);
    }

    #[test]
    fn a_component_without_a_layer_is_an_error() {
        assert!(lock(&MANIFEST.parse().expect("TOML"), &HashMap::new()).is_err());
    }
}
