//! `fermyon:spin/variables@2.0.0` for guests: a component sees only the
//! variables bound in its own `[component.X.variables]`.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use crate::capabilities::bindings::fermyon::spin2_0_0::variables::{self as wit, Error};

/// One request's share of variables: those bound to its component, resolved.
pub struct VariablesState {
    bound: Arc<HashMap<String, String>>,
}

impl VariablesState {
    pub fn new(bound: Arc<HashMap<String, String>>) -> Self {
        Self { bound }
    }
}

struct HasVariables;

impl HasData for HasVariables {
    type Data<'a> = &'a mut VariablesState;
}

/// Links `fermyon:spin/variables@2.0.0`, served from the state `get` finds.
pub fn link<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut VariablesState) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasVariables>(linker, get)
}

impl wit::Host for VariablesState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if !is_variable_name(&name) {
            return Ok(Err(Error::InvalidName(format!("`{name}` is not a variable name (lower_snake_case)"))));
        }
        Ok(self
            .bound
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::Undefined(format!("no variable `{name}` is bound to this component"))))
    }
}

/// Spin's rule for variable names.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
