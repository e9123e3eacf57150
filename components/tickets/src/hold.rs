//! Checkouts at work: holding stock for a buyer, confirming the hold into an
//! order, cancelling it, and giving back what expired holds took.
//!
//! Expired holds need no background job: whoever finds stock or a voucher short
//! while expired holds still take it gives back the event's expired holds and
//! tries again, so a hold that ran out never keeps a ticket from a buyer,
//! whichever buyer gave it back.

use eventos_common::db::{DbError, in_transaction};
use eventos_common::journal;
use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::checkout::{Checkout, CheckoutStatus, NewCheckout};
use crate::error::TicketingError;
use crate::model::{Order, random_bucket};
use crate::ordering::{self, Attempt};
use crate::peers;
use crate::repo::{
    self, checkouts::CheckoutDraft, checkouts::Released, order_insert::InsertOrder, order_insert::OrderSource,
};
use crate::rules::{pricing, shortage};

/// Times a buyer gives back expired holds and tries again: more than once only
/// when further holds expire between the tries.
const GIVE_BACK_ATTEMPTS: usize = 3;

/// Holds the tickets `new` asks for, all or none.
pub fn open(conn: &Connection, new: &NewCheckout) -> Result<Checkout, TicketingError> {
    let types = repo::types::find_sale_types(conn, &new.ticket_type_ids())?;
    let (event_id, currency) = pricing::one_event_and_currency(&new.lines, &types)?;
    let other_buyer = (!new.buyer_is_caller).then_some(new.user_id);
    peers::require_on_sale(conn, event_id, types[0].known_on_sale, other_buyer)?;
    let voucher = match &new.voucher_code {
        Some(code) => {
            let voucher = repo::vouchers::find_voucher_by_code(conn, event_id, code)?;
            let voucher = voucher.ok_or(TicketingError::VoucherNotFound)?;
            pricing::voucher_usable(&voucher, eventos_common::time::now())?;
            Some(voucher)
        }
        None => None,
    };
    let lines = pricing::checkout_lines(&new.lines, &types, voucher.as_ref())?;
    let draft = CheckoutDraft {
        id: Uuid::new_v4(),
        event_id,
        user_id: new.user_id,
        voucher_id: voucher.as_ref().map(|v| v.id),
        currency: &currency,
        hold_seconds: new.hold_seconds,
        lines: &lines,
    };
    let quantity = new.lines.iter().map(|(_, quantity)| quantity).sum();
    let quota =
        crate::room_gate::enter(conn, event_id, types[0].room.as_ref(), new.pass.as_deref(), new.user_id, quantity)?;
    if let Err(refused) = retrying_after_expiry(conn, event_id, || hold(conn, &draft)) {
        if let Some(quota) = quota {
            quota.give_back(conn);
        }
        return Err(refused);
    }
    repo::checkouts::find_checkout(conn, draft.id)?
        .ok_or_else(|| TicketingError::Bug("a checkout just written is gone".into()))
}

/// One transaction: the checkout, a use of its voucher, then each line's stock
/// in ticket type order (the order every transaction locks buckets in).
fn hold(conn: &Connection, draft: &CheckoutDraft) -> Result<(), TicketingError> {
    in_transaction(conn, |conn| {
        repo::checkouts::insert_checkout(conn, draft)?;
        if let Some(voucher_id) = draft.voucher_id
            && !repo::vouchers::redeem(conn, voucher_id)?
        {
            let uses_left = repo::vouchers::find_voucher(conn, voucher_id)?.map_or(0, |v| v.max_uses - v.used);
            return Err(TicketingError::VoucherUsedUp { uses_left });
        }
        for line in draft.lines {
            ordering::take_stock(conn, line, random_bucket(line.quantity))?;
        }
        Ok(())
    })
}

/// Runs `attempt` (a hold or a sale of the event's tickets) and, while it finds
/// stock or voucher uses short that expired holds still take, gives back the
/// event's expired holds and runs it again. The shortage is judged from what the
/// failed attempt read, not from what this buyer gave back: when a concurrent
/// buyer gave the holds back first, this one still tries again, and sees them free.
pub fn retrying_after_expiry<T>(
    conn: &Connection,
    event_id: Uuid,
    attempt: impl Fn() -> Result<T, TicketingError>,
) -> Result<T, TicketingError> {
    let mut outcome = attempt();
    for _ in 0..GIVE_BACK_ATTEMPTS {
        match &outcome {
            Err(shortage) if shortage::expired_holds_cover(shortage) => {
                give_back_expired(conn, event_id)?;
                outcome = attempt();
            }
            _ => break,
        }
    }
    outcome
}

/// Gives back the stock and voucher uses of the event's expired holds.
fn give_back_expired(conn: &Connection, event_id: Uuid) -> Result<(), DbError> {
    in_transaction(conn, |conn| give_back(conn, repo::checkouts::expire_due(conn, event_id)?))
}

fn give_back(conn: &Connection, released: Released) -> Result<(), DbError> {
    repo::vouchers::give_back(conn, released.voucher_uses)?;
    repo::stock::return_stocks(conn, released.stock)
}

/// What confirming a checkout got.
pub enum Confirmed {
    New(Order),
    /// It was confirmed before: its order.
    Before(Order),
}

/// Turns the checkout's hold into an order, once; a repeat gets the same order.
pub fn confirm(conn: &Connection, checkout: &Checkout, actor: Uuid) -> Result<Confirmed, TicketingError> {
    match checkout.status {
        CheckoutStatus::Confirmed => return order_of(conn, checkout.id).map(Confirmed::Before),
        CheckoutStatus::Open => {}
        CheckoutStatus::Expired => return Err(TicketingError::CheckoutEnded("expired")),
        CheckoutStatus::Cancelled => return Err(TicketingError::CheckoutEnded("cancelled")),
    }
    let facts = repo::event_facts::sale_facts(conn, checkout.event_id)?;
    peers::require_on_sale(conn, checkout.event_id, facts.known_on_sale, None)?;
    let source = OrderSource {
        event_id: checkout.event_id,
        user_id: checkout.user_id,
        currency: checkout.currency.clone(),
        lines: checkout.lines.clone(),
        voucher_code: checkout.voucher_code.clone(),
        checkout_id: Some(checkout.id),
        idempotency_key: None,
        fingerprint: None,
        actor,
    };
    ordering::with_fresh_codes(&source, |draft| {
        let written = in_transaction(conn, |conn| {
            if !repo::checkouts::mark_confirmed(conn, checkout.id, draft.id)? {
                return Ok(None);
            }
            repo::checkouts::lines_sold(conn, checkout.id)?;
            Ok::<_, TicketingError>(Some(repo::order_insert::insert_order(conn, draft)?))
        })?;
        match written {
            Some(InsertOrder::Inserted) => {
                if facts.watched {
                    journal::owe_deliveries();
                }
                Ok(Attempt::Done(Confirmed::New(draft.order())))
            }
            Some(InsertOrder::CodeTaken) => Ok(Attempt::CodeTaken),
            Some(InsertOrder::KeyTaken) => Err(TicketingError::Bug("a checkout's order has no key".into())),
            // Confirmed by a concurrent request, or ended, since it was read.
            None => {
                let now =
                    repo::checkouts::find_checkout(conn, checkout.id)?.ok_or(TicketingError::NotFound("checkout"))?;
                match now.status {
                    CheckoutStatus::Open => Err(TicketingError::Bug("an open checkout was not confirmed".into())),
                    _ => confirm(conn, &now, actor).map(Attempt::Done),
                }
            }
        }
    })
}

fn order_of(conn: &Connection, checkout_id: Uuid) -> Result<Order, TicketingError> {
    let checkout = repo::checkouts::find_checkout(conn, checkout_id)?.ok_or(TicketingError::NotFound("checkout"))?;
    let order_id = checkout.order_id.ok_or_else(|| TicketingError::Bug("a confirmed checkout without order".into()))?;
    repo::orders::find_order(conn, order_id)?.ok_or_else(|| TicketingError::Bug("a checkout's order is gone".into()))
}

/// Lets go of an open checkout's tickets and voucher use at once.
pub fn cancel(conn: &Connection, checkout: &Checkout) -> Result<(), TicketingError> {
    match checkout.status {
        CheckoutStatus::Confirmed => return Err(TicketingError::CheckoutEnded("confirmed")),
        CheckoutStatus::Cancelled => return Err(TicketingError::CheckoutEnded("cancelled")),
        CheckoutStatus::Open | CheckoutStatus::Expired => {}
    }
    in_transaction(conn, |conn| {
        let released = repo::checkouts::cancel_checkout(conn, checkout.id)?;
        Ok::<_, TicketingError>(give_back(conn, released)?)
    })
}
