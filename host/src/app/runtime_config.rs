//! `--runtime-config-file`, read as `spin up` reads one. This host serves its
//! `[key_value_store.<label>]` tables; any other section is refused by name,
//! so a file written for more than that never quietly means less.

use std::path::Path;

use anyhow::{Context, Result};

use crate::capabilities::key_value::Stores;

/// The application's key-value stores: `default` in memory, and what the file defines.
pub fn key_value_stores(file: Option<&Path>) -> Result<Stores> {
    let Some(file) = file else {
        return Ok(Stores::in_memory());
    };
    let shown = file.display();
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read the runtime config {shown}"))?;
    let mut sections: toml::Table = text.parse().with_context(|| format!("the runtime config {shown} is not TOML"))?;
    let stores = sections.remove("key_value_store");
    if let Some(other) = sections.keys().next() {
        anyhow::bail!(
            "the runtime config {shown}: [{other}] is not served by this host, which reads [key_value_store.<label>] only"
        );
    }
    let stores: Option<toml::Table> = stores
        .map(toml::Value::try_into)
        .transpose()
        .with_context(|| format!("the runtime config {shown}: [key_value_store] holds one table per label"))?;
    Stores::configured(stores).with_context(|| format!("the runtime config {shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Stores> {
        let file =
            std::env::temp_dir().join(format!("eventos-runtime-config-{}-{}.toml", std::process::id(), text.len()));
        std::fs::write(&file, text).expect("write");
        let stores = key_value_stores(Some(&file));
        let _ = std::fs::remove_file(&file);
        stores
    }

    #[test]
    fn no_file_means_default_in_memory_and_a_file_defines_stores() {
        assert_eq!(key_value_stores(None).expect("none").summary(), ["default: in memory"]);
        let stores =
            read("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6391\"\n").expect("read");
        assert_eq!(stores.summary(), ["cache: Redis at 127.0.0.1:6391", "default: in memory"]);
    }

    #[test]
    fn a_section_this_host_does_not_serve_is_refused_by_name() {
        let refused = format!("{:#}", read("[sqlite_database.default]\ntype = \"spin\"\n").err().expect("refused"));
        assert!(refused.contains("[sqlite_database]") && refused.contains("key_value_store"), "{refused}");
        let broken = format!("{:#}", read("[key_value_store\n").err().expect("refused"));
        assert!(broken.contains("not TOML"), "{broken}");
        let missing = key_value_stores(Some(Path::new("no-such-runtime-config.toml"))).err().expect("refused");
        assert!(format!("{missing:#}").contains("cannot read"));
    }
}
