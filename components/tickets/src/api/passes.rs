//! What a buyer carries to the door: a ticket's QR symbol, and an order's
//! tickets as a PDF.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use eventos_common::db;
use eventos_common::{ApiRequest, ApiResponse, ApiResult};
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::TicketStatus;
use crate::pdf::{self, PrintedTicket};
use crate::signing::{self, Signer};
use crate::{qr, repo};

fn document(content_type: &str, body: Vec<u8>) -> ApiResponse {
    ApiResponse { status: 200, headers: vec![("content-type".into(), content_type.into())], body }
}

// GET /api/tickets/{code}/qr: as the ticket.
pub fn qr(code: &str, req: &ApiRequest) -> ApiResult {
    let conn = db::connect()?;
    let ticket = super::tickets::readable(&conn, code, req)?;
    let signed_code = signing::signed_code(&conn, &ticket)?;
    let symbol = qr::symbol(&signed_code).ok_or_else(|| TicketingError::Bug("a signed code outgrew QR".into()))?;
    Ok(document("image/svg+xml", qr::svg(&symbol).into_bytes()))
}

// GET /api/tickets/orders/{id}/pdf: as the order; its tickets that stand.
pub fn pdf(id: Uuid, req: &ApiRequest) -> ApiResult {
    let conn = db::connect()?;
    let order = super::orders::readable(&conn, id, req)?;
    let signer = Signer::of(&conn, order.event_id)?;
    let mut type_names = HashMap::new();
    let mut printed = Vec::new();
    for ticket in order.tickets.iter().filter(|t| t.status != TicketStatus::Void) {
        if let Entry::Vacant(slot) = type_names.entry(ticket.ticket_type_id) {
            slot.insert(
                repo::types::find_ticket_type(&conn, ticket.ticket_type_id)?.map(|t| t.name).unwrap_or_default(),
            );
        }
        printed.push(PrintedTicket {
            code: ticket.code.clone(),
            signed_code: signer.sign(ticket),
            type_name: type_names[&ticket.ticket_type_id].clone(),
            price: format!("{}.{:02} {}", ticket.price_cents / 100, ticket.price_cents % 100, order.currency),
            order_id: order.id.to_string(),
            event_id: order.event_id.to_string(),
        });
    }
    if printed.is_empty() {
        return Err(TicketingError::TicketVoid.into());
    }
    let disposition = format!("inline; filename=\"tickets-{}.pdf\"", order.id);
    Ok(document("application/pdf", pdf::document(&printed)).with_header("content-disposition", disposition))
}
