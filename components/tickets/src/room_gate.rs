//! The sale's side of a waiting room: while an event's room is open, buying
//! (an order or a checkout) takes a valid pass of the buyer's own and stays
//! within the room's per-buyer limit, whatever the client sends.

use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::RoomGate;
use crate::repo;
use crate::waiting_room::pass;

/// Tickets a sale took of its buyer's limit: given back if the sale fails.
#[must_use]
pub struct Quota {
    event_id: Uuid,
    user_id: Uuid,
    quantity: i32,
}

impl Quota {
    pub fn give_back(self, conn: &Connection) {
        // Not given back, the buyer may buy fewer, never more: the failure is not worth a second one.
        let _ = repo::rooms::give_back_quota(conn, self.event_id, self.user_id, self.quantity);
    }
}

/// Lets the buyer through an open room with `pass`, taking `quantity` of their
/// limit; `None` when the event has no open room.
pub fn enter(
    conn: &Connection,
    event_id: Uuid,
    room: Option<&RoomGate>,
    pass: Option<&str>,
    user_id: Uuid,
    quantity: i32,
) -> Result<Option<Quota>, TicketingError> {
    let Some(room) = room else { return Ok(None) };
    let pass = pass.ok_or(TicketingError::PassRequired)?;
    let now = chrono::Utc::now().timestamp();
    pass::check(&room.pass_secret, pass, event_id, user_id, now)
        .map_err(|refusal| TicketingError::PassRefused(refusal.as_str()))?;
    if !repo::rooms::take_quota(conn, event_id, user_id, quantity, room.per_buyer_limit)? {
        return Err(TicketingError::BuyerLimit(room.per_buyer_limit));
    }
    Ok(Some(Quota { event_id, user_id, quantity }))
}
