//! Core wasm modules made components at load, as Spin does: a module built with
//! wit-bindgen carries its component type, and one that imports WASI preview 1
//! gets wasmtime's preview 1 adapter (`spin-componentize`'s rule for wit-bindgen
//! 0.5 and later). A component is taken as it is.

use std::borrow::Cow;

use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;
use wasmparser::{Encoding, Parser, Payload};
use wit_component::ComponentEncoder;

const PREVIEW1: &str = "wasi_snapshot_preview1";

pub fn componentize_if_necessary(wasm: &[u8]) -> Result<Cow<'_, [u8]>> {
    match encoding(wasm)? {
        Encoding::Component => Ok(Cow::Borrowed(wasm)),
        Encoding::Module => {
            let encoder = ComponentEncoder::default().validate(true).module(wasm).context(
                "a core module needs the component type wit-bindgen embeds (it has none): build it as a component",
            )?;
            let mut encoder = if imports_preview1(wasm)? {
                encoder.adapter(PREVIEW1, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)?
            } else {
                encoder
            };
            Ok(Cow::Owned(encoder.encode().context("cannot make a component of this core module")?))
        }
    }
}

fn encoding(wasm: &[u8]) -> Result<Encoding> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::Version { encoding, .. } = payload.context("not a WebAssembly binary")? {
            return Ok(encoding);
        }
    }
    anyhow::bail!("not a WebAssembly binary")
}

fn imports_preview1(module: &[u8]) -> Result<bool> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ImportSection(imports) = payload? {
            for import in imports.into_imports() {
                if import?.module == PREVIEW1 {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}
