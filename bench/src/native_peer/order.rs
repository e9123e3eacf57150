//! A member's `POST /api/tickets/orders` for themself: the token checked, the
//! ticket type read, its event asked about when not heard of within the
//! second (here read from the events database), then the sale, all with the
//! statements the tickets component sends (`tickets::sale_statements`) and
//! answered with its JSON. What the peer leaves out, and the component does:
//! idempotency keys, buying for another user, waiting rooms, vouchers, the
//! webhook deliveries an order owes, and a bucket search past the chosen one.

use hyper::StatusCode;
use serde::Deserialize;
use tickets::sale_statements::{self, Draw, ORDER_QUANTITY_RANGE, REMEMBER_EVENT, SaleTry, SaleType};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::params::{as_refs, bind_all};
use crate::{Answer, Peer, event};

/// Fresh ticket codes to draw when one collides, as the component draws.
const TRIES: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    ticket_type_id: Uuid,
    quantity: i32,
}

pub async fn create(peer: &Peer, authorization: Option<&str>, body: &[u8]) -> Answer {
    let Some(caller) = peer.tokens.caller(authorization) else {
        return Answer::problem(StatusCode::UNAUTHORIZED, "Unauthenticated", "the bearer token is not valid");
    };
    let body = match serde_json::from_slice::<Body>(body) {
        Ok(body) if ORDER_QUANTITY_RANGE.contains(&i64::from(body.quantity)) => body,
        _ => {
            return Answer::problem(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "a ticket_type_id and a quantity of 1 to 10",
            );
        }
    };
    match sell(peer, caller.user_id, &body).await {
        Ok(Ok(order)) => {
            let mut answer = Answer::json(StatusCode::CREATED, serde_json::to_vec(&order).unwrap_or_default());
            answer.headers.push(("location", format!("/api/tickets/orders/{}", order.id)));
            answer
        }
        Ok(Err(refusal)) => refusal,
        Err(error) => Answer::unavailable(error),
    }
}

/// The sale, or the refusal the buyer gets; `Err` when a database failed.
async fn sell(peer: &Peer, buyer: Uuid, body: &Body) -> Result<Result<sale_statements::Order, Answer>, String> {
    let mut client = peer.tickets.get().await.map_err(|e| e.to_string())?;
    let statement = client.prepare_cached(&sale_statements::find_sale_type()).await.map_err(|e| e.to_string())?;
    let rows = client.query(&statement, &[&body.ticket_type_id]).await.map_err(|e| e.to_string())?;
    let Some(ticket_type) = rows.iter().find(|row| row.get::<_, Option<bool>>("eventos_row").is_some()) else {
        return Ok(Err(Answer::problem(StatusCode::NOT_FOUND, "Not found", "no such ticket type")));
    };
    let ticket_type = sale_type(ticket_type);
    if !ticket_type.known_on_sale {
        match event::find(&peer.events, ticket_type.event_id).await? {
            Some(event) if event.status == "published" => {
                let remember = client.prepare_cached(REMEMBER_EVENT).await.map_err(|e| e.to_string())?;
                let facts: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
                    [&ticket_type.event_id, &event.status, &event.organizer_id];
                client.execute(&remember, &facts).await.map_err(|e| e.to_string())?;
            }
            _ => return Ok(Err(Answer::problem(StatusCode::CONFLICT, "Not on sale", "the event is not on sale"))),
        }
    }
    for _ in 0..TRIES {
        let sale = match sale_statements::direct_sale(&ticket_type, buyer, body.quantity, draw(body.quantity)) {
            Ok(sale) => sale,
            Err(refusal) => return Ok(Err(Answer::problem(StatusCode::CONFLICT, "Refused", &refusal.to_string()))),
        };
        match write(&mut client, &sale).await {
            Ok(true) => return Ok(Ok(sale.order)),
            Ok(false) => return Ok(Err(Answer::problem(StatusCode::CONFLICT, "Sold out", "not enough tickets left"))),
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => continue,
            Err(error) => return Err(error.to_string()),
        }
    }
    Err("could not draw unused ticket codes".into())
}

/// A try's draw, from the process's randomness (what a v4 UUID is made of).
fn draw(quantity: i32) -> Draw {
    let random_bytes = || *Uuid::new_v4().as_bytes();
    Draw {
        order_id: Uuid::new_v4(),
        code_bytes: (0..quantity.max(0)).map(|_| random_bytes()[..5].try_into().expect("five bytes")).collect(),
        bucket_pick: u64::from_le_bytes(random_bytes()[..8].try_into().expect("eight bytes")),
        processed_by: "native-peer".into(),
    }
}

/// The sale from a free bucket in one statement; when none was free, the order
/// and then the chosen bucket's stock, waiting for it, in one transaction.
/// `false` when the chosen bucket had too little left.
async fn write(client: &mut deadpool_postgres::Client, sale: &SaleTry) -> Result<bool, tokio_postgres::Error> {
    if run(client, &sale.from_free_bucket).await? > 0 {
        return Ok(true);
    }
    let transaction = client.transaction().await?;
    run(&transaction, &sale.order_alone).await?;
    if run(&transaction, &sale.from_chosen_bucket).await? == 0 {
        return Ok(false);
    }
    transaction.commit().await?;
    Ok(true)
}

async fn run(
    client: &impl deadpool_postgres::GenericClient,
    statement: &sale_statements::Statement,
) -> Result<u64, tokio_postgres::Error> {
    let prepared = client.prepare_cached(&statement.sql).await?;
    let params = bind_all(&statement.params).expect("the sale binds only kinds the peer binds");
    client.execute(&prepared, &as_refs(&params)).await
}

fn sale_type(row: &Row) -> SaleType {
    SaleType {
        id: row.get("id"),
        event_id: row.get("event_id"),
        price_cents: row.get("price_cents"),
        currency: row.get("currency"),
        quantity: row.get("quantity"),
        hidden: row.get("hidden"),
        known_on_sale: row.get("known_on_sale"),
        watched: row.get("watched"),
        room: None,
    }
}
