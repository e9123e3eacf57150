//! `eventos registry push`: the application as the OCI artifact `spin registry
//! push` makes and SpinKube runs: one `application/vnd.wasm.content.layer.v1+wasm`
//! layer per component, the locked application as the last layer
//! (`application/vnd.fermyon.spin.application.v1+config`), and an OCI image config
//! (`architecture: wasm`, `os: wasip1`) labelled with the locked application's digest.

mod distribution;
mod locked;
mod reference;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use reference::Reference;

pub const WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
pub const LOCKED_APP_LAYER: &str = "application/vnd.fermyon.spin.application.v1+config";
pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One blob of the artifact, and how the manifest names it.
struct Blob {
    media_type: &'static str,
    digest: String,
    content: Bytes,
}

impl Blob {
    fn new(media_type: &'static str, content: impl Into<Bytes>) -> Self {
        let content = content.into();
        Self { media_type, digest: format!("sha256:{}", hex::encode(Sha256::digest(&content))), content }
    }
}

// Field order is the bytes Spin writes: the image config in the OCI struct's
// order, the manifest with its keys sorted.
#[derive(Serialize)]
struct ImageConfig {
    architecture: &'static str,
    os: &'static str,
    config: ImageLabels,
    rootfs: RootFs,
}

#[derive(Serialize)]
struct ImageLabels {
    #[serde(rename = "Labels")]
    labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct RootFs {
    r#type: &'static str,
    diff_ids: [String; 0],
}

#[derive(Serialize)]
struct ImageManifest<'a> {
    annotations: BTreeMap<&'static str, String>,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
}

#[derive(Serialize)]
struct Descriptor<'a> {
    digest: &'a str,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    size: usize,
}

impl<'a> From<&'a Blob> for Descriptor<'a> {
    fn from(blob: &'a Blob) -> Self {
        Self { digest: &blob.digest, media_type: blob.media_type, size: blob.content.len() }
    }
}

/// Pushes the application of `manifest_path` to `reference`; returns the manifest's digest.
pub async fn push(manifest_path: &Path, reference: &Reference, insecure: bool) -> Result<String> {
    let text =
        std::fs::read_to_string(manifest_path).with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let doc: toml::Table = text.parse().context("spin.toml is not TOML")?;
    let dir = crate::app::manifest::folder_of(manifest_path);
    let mut layers: Vec<Blob> = Vec::new();
    let mut digests = HashMap::new();
    for (id, source) in locked::component_sources(&doc)? {
        let wasm =
            std::fs::read(dir.join(&source)).with_context(|| format!("component `{id}`: cannot read {source}"))?;
        let layer = Blob::new(WASM_LAYER, wasm);
        digests.insert(id, layer.digest.clone());
        if !layers.iter().any(|known| known.digest == layer.digest) {
            layers.push(layer);
        }
    }
    let locked_app = locked::lock(&doc, &digests)?;
    let annotations = annotations(&locked_app.metadata);
    let locked = Blob::new(LOCKED_APP_LAYER, serde_json::to_vec(&locked_app)?);
    let config = ImageConfig {
        architecture: "wasm",
        os: "wasip1",
        config: ImageLabels { labels: BTreeMap::from([("com.fermyon.spin.lockedAppDigest", locked.digest.clone())]) },
        rootfs: RootFs { r#type: "layers", diff_ids: [] },
    };
    let config = Blob::new(IMAGE_CONFIG, serde_json::to_vec(&config)?);
    layers.push(locked);

    let mut registry = distribution::Registry::new(&reference.registry, &reference.repository, insecure)?;
    for blob in layers.iter().chain([&config]) {
        registry.push_blob(&blob.digest, &blob.content).await?;
    }
    let manifest = ImageManifest {
        annotations,
        config: Descriptor::from(&config),
        layers: layers.iter().map(Descriptor::from).collect(),
        schema_version: 2,
    };
    let manifest = Blob::new(IMAGE_MANIFEST, serde_json::to_vec(&manifest)?);
    let named = registry.push_manifest(&reference.tag, IMAGE_MANIFEST, manifest.content.clone()).await?;
    Ok(named.unwrap_or(manifest.digest))
}

/// The OCI annotations Spin infers from the application's metadata.
fn annotations(metadata: &BTreeMap<String, serde_json::Value>) -> BTreeMap<&'static str, String> {
    let mut annotations = BTreeMap::from([("org.opencontainers.image.created", chrono::Utc::now().to_rfc3339())]);
    for (key, field) in [
        ("org.opencontainers.image.title", "name"),
        ("org.opencontainers.image.version", "version"),
        ("org.opencontainers.image.description", "description"),
    ] {
        if let Some(value) = metadata.get(field).and_then(serde_json::Value::as_str) {
            annotations.insert(key, value.to_owned());
        }
    }
    if let Some(authors) = metadata.get("authors").and_then(serde_json::Value::as_array) {
        let names: Vec<&str> = authors.iter().filter_map(serde_json::Value::as_str).collect();
        annotations.insert("org.opencontainers.image.authors", names.join(", "));
    }
    annotations
}
