//! A member's direct sale as the statements this component sends and the
//! parameters it binds, built by the very functions its own sale uses: what
//! `bench/`'s native peer runs outside WebAssembly, so that `make bench` weighs
//! the platform against the same SQL. Nothing here runs a statement.

use eventos_common::db::{self, Params};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::code;
use crate::error::TicketingError;
use crate::model::bucket_count;
pub use crate::model::{ORDER_QUANTITY_RANGE, Order, SaleType};
pub use crate::repo::event_facts::REMEMBER_EVENT;
use crate::repo::order_insert::{self, OrderDraft};
use crate::repo::{stock, types};
use crate::requests::NewOrder;
use crate::sale;

/// A statement as sent: its text and its parameters.
pub struct Statement {
    pub sql: String,
    pub params: Vec<ParameterValue>,
}

impl Statement {
    fn new((sql, params): (String, Params)) -> Self {
        Self { sql, params: params.values().to_vec() }
    }
}

/// Reads a ticket type (`$1`) with what a sale needs of it, as `db::query` sends it.
pub fn find_sale_type() -> String {
    db::never_empty(&types::find_sale_type_sql())
}

/// What one try at an order draws, drawn by the caller (the component draws
/// from WASI's randomness, which a native process has not): the order's id,
/// five random bytes per ticket for its code, a number to pick the first stock
/// bucket with, and the name of the instance answering.
pub struct Draw {
    pub order_id: Uuid,
    pub code_bytes: Vec<[u8; 5]>,
    pub bucket_pick: u64,
    pub processed_by: String,
}

/// One try at a member's order of `quantity` tickets of `ticket_type` for
/// themself: the order as it reads once written; the one-statement sale from a
/// free bucket (`lately`: the type as a sale a moment ago read it, not read
/// again, so the statement writes only if it still reads so, as in `lately.rs`);
/// and, for when no bucket was free, the order alone and the chosen bucket's
/// stock taken (waiting for it), in one transaction.
pub struct SaleTry {
    pub order: Order,
    pub from_free_bucket: Statement,
    pub order_alone: Statement,
    pub from_chosen_bucket: Statement,
}

pub fn direct_sale(
    ticket_type: &SaleType,
    buyer: Uuid,
    quantity: i32,
    draw: Draw,
    lately: bool,
) -> Result<SaleTry, TicketingError> {
    let new = NewOrder {
        ticket_type_id: ticket_type.id,
        user_id: buyer,
        buyer_is_caller: true,
        quantity,
        idempotency_key: None,
        actor: buyer,
        pass: None,
    };
    let source = sale::order_source(ticket_type, &new)?;
    let draft = OrderDraft {
        source: &source,
        id: draw.order_id,
        codes: draw.code_bytes.iter().map(|bytes| code::encode(bytes)).collect(),
        processed_by: draw.processed_by,
        at: eventos_common::time::now(),
    };
    let first_bucket = (draw.bucket_pick % bucket_count(ticket_type.quantity) as u64) as i32;
    let mut take = Params::default();
    let chosen = stock::take_from_bucket(&take.bind(ticket_type.id), &take.bind(quantity), &take.bind(first_bucket));
    Ok(SaleTry {
        order: draft.order(),
        from_free_bucket: Statement::new(order_insert::sell_from_free_bucket_statement(
            &draft,
            first_bucket,
            lately.then_some(ticket_type),
        )?),
        order_alone: Statement::new(order_insert::insert_order_statement(&draft)),
        from_chosen_bucket: Statement::new((chosen, take)),
    })
}
