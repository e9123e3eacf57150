//! `fermyon:spin/variables@2.0.0` for guests: a component sees only the
//! variables bound in its own `[component.X.variables]`.

use crate::capabilities::fermyon::spin2_0_0::variables::{self as wit, Error};
use crate::manifest::is_variable_name;
use crate::state::RequestState;

impl wit::Host for RequestState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if !is_variable_name(&name) {
            return Ok(Err(Error::InvalidName(format!("`{name}` is not a variable name (lower_snake_case)"))));
        }
        Ok(self
            .component
            .variables
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::Undefined(format!("no variable `{name}` is bound to this component"))))
    }
}
