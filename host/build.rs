//! Generates the wasmtime bindings for the project's `wit/eventos.wit` world.
//!
//! The Spin packages that world names are resolved from the WIT that ships inside
//! the spin-sdk 5.2.0 crate (the exact contract the components are built against)
//! rather than from a copy. `bindgen!` takes only literal paths, so this script
//! finds that folder and writes the macro call into `OUT_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const SPIN_SDK: &str = "spin-sdk-5.2.0";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("the host lives inside the workspace");
    let world_file = workspace.join("wit/eventos.wit");
    println!("cargo:rerun-if-changed={}", world_file.display());

    let spin_wit = find_spin_sdk_wit(workspace).unwrap_or_else(|| {
        panic!("cannot find {SPIN_SDK}/wit: run `cargo fetch` in the workspace so the spin-sdk crate is downloaded")
    });
    let world = fs::read_to_string(&world_file).expect("wit/eventos.wit is readable");
    let bindings = format!(
        r#"wasmtime::component::bindgen!({{
    path: {path:?},
    inline: {world:?},
    world: "eventos:platform/host-capabilities",
    imports: {{ default: async | trappable }},
}});
"#,
        path = spin_wit.display().to_string(),
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("capabilities.rs");
    fs::write(out, bindings).expect("OUT_DIR is writable");
}

/// Looks in cargo's registry sources first; failing that, asks cargo, which also
/// downloads the crate when this is a fresh machine.
fn find_spin_sdk_wit(workspace: &Path) -> Option<PathBuf> {
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    let in_registry = fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .filter_map(Result::ok)
        .map(|index| index.path().join(SPIN_SDK).join("wit"))
        .find(|wit| wit.is_dir());
    in_registry.or_else(|| from_cargo_metadata(workspace))
}

fn from_cargo_metadata(workspace: &Path) -> Option<PathBuf> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "spin-sdk" && p["version"] == "5.2.0")
        .and_then(|p| p["manifest_path"].as_str())
        .map(|manifest| Path::new(manifest).with_file_name("wit"))
}
