//! Tickets signed with their event's newest key, and codes as a scanner reads
//! them: a typed `TKT-` code, or a signed code whose signature must hold.

use spin_sdk::pg4::Connection;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::Ticket;
use crate::repo::signing_keys::SigningKey;
use crate::signed_code::{self, Claim};
use crate::{code, repo};

/// An event's key that signs now, read once for all the tickets it signs.
pub struct Signer(SigningKey);

impl Signer {
    pub fn of(conn: &Connection, event_id: Uuid) -> Result<Self, TicketingError> {
        Ok(Signer(repo::signing_keys::signing(conn, event_id)?))
    }

    /// The signed code of a ticket of the key's event.
    pub fn sign(&self, ticket: &Ticket) -> String {
        let Signer(key) = self;
        let claim = Claim {
            key_id: key.key_id,
            event_id: ticket.event_id,
            ticket_type_id: ticket.ticket_type_id,
            code: ticket.code.clone(),
        };
        signed_code::sign(&claim, &key.seed)
    }
}

/// The ticket's signed code, under its event's key that signs now.
pub fn signed_code(conn: &Connection, ticket: &Ticket) -> Result<String, TicketingError> {
    Ok(Signer::of(conn, ticket.event_id)?.sign(ticket))
}

/// The ticket code `text` names: a `TKT-` code as typed, or the code a signed
/// one carries once a key of its event that is not retired verifies it.
pub fn ticket_code(conn: &Connection, text: &str) -> Result<String, TicketingError> {
    if let Some(code) = code::normalize(text) {
        return Ok(code);
    }
    let unchecked = signed_code::read(text).ok_or(TicketingError::NotFound("ticket"))?;
    let key = repo::signing_keys::find(conn, unchecked.claim.event_id, unchecked.claim.key_id)?
        .filter(|key| key.retired_at.is_none())
        .ok_or(TicketingError::NotGenuine)?;
    let claim = unchecked.verified_by(&key.public_key).ok_or(TicketingError::NotGenuine)?;
    Ok(claim.code)
}
