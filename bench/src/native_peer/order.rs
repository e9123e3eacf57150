//! A member's `POST /api/tickets/orders` for themself, as the tickets component
//! sells it: the token checked; a type sold in the last 10 s priced on what
//! that sale read and sold in one statement that writes only if the type still
//! reads so; otherwise the type read, its event asked about when not heard of
//! within the second (here read from the events database), then the sale. All
//! with the statements the component sends (`tickets::sale_statements`),
//! answered with its JSON; what was read lately is kept in the process's
//! memory. What the peer leaves out, and the component does: idempotency keys,
//! buying for another user, waiting rooms, vouchers, the webhook deliveries an
//! order owes, and a bucket search past the chosen one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde::Deserialize;
use tickets::sale_statements::{self, Draw, ORDER_QUANTITY_RANGE, Order, REMEMBER_EVENT, SaleTry, SaleType};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::params::{as_refs, bind_all};
use crate::{Answer, Peer, event};

/// Fresh ticket codes to draw when one collides, as the component draws.
const TRIES: usize = 3;
/// How long a type sold is priced on what its sale read, as in the component.
const SOLD_LATELY: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    ticket_type_id: Uuid,
    quantity: i32,
}

/// Types sold lately, as their sale read them.
#[derive(Default)]
pub struct SoldLately(Mutex<HashMap<Uuid, (SaleType, Instant)>>);

impl SoldLately {
    fn recall(&self, id: Uuid) -> Option<SaleType> {
        let sold = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sold.get(&id).filter(|(_, at)| at.elapsed() < SOLD_LATELY).map(|(ticket_type, _)| ticket_type.clone())
    }

    fn sold(&self, ticket_type: &SaleType) {
        if !ticket_type.hidden && ticket_type.room.is_none() {
            let mut sold = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sold.insert(ticket_type.id, (ticket_type.clone(), Instant::now()));
        }
    }
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

type Client = deadpool_postgres::Client;

/// The sale, or the refusal the buyer gets; `Err` when a database failed.
async fn sell(peer: &Peer, buyer: Uuid, body: &Body) -> Result<Result<Order, Answer>, String> {
    let mut client = peer.tickets.get().await.map_err(|e| e.to_string())?;
    if let Some(lately) = peer.sold_lately.recall(body.ticket_type_id)
        && let Some(order) = sell_once(&mut client, &lately, buyer, body.quantity, true).await?
    {
        return Ok(order);
    }
    let statement = client.prepare_cached(&sale_statements::find_sale_type()).await.map_err(|e| e.to_string())?;
    let rows = client.query(&statement, &[&body.ticket_type_id]).await.map_err(|e| e.to_string())?;
    let Some(ticket_type) = rows.iter().find(|row| row.get::<_, Option<bool>>("eventos_row").is_some()) else {
        return Ok(Err(Answer::problem(StatusCode::NOT_FOUND, "Not found", "no such ticket type")));
    };
    if ticket_type.get::<_, Option<Vec<u8>>>("room_secret").is_some() {
        return Ok(Err(Answer::problem(StatusCode::CONFLICT, "Not served", "the native peer serves no waiting room")));
    }
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
    let sold = sell_once(&mut client, &ticket_type, buyer, body.quantity, false).await?;
    if matches!(sold, Some(Ok(_))) {
        peer.sold_lately.sold(&ticket_type);
    }
    sold.ok_or_else(|| "could not draw unused ticket codes".into())
}

/// One sale of `ticket_type`, drawing again while a code collides; `None` when
/// it did not go through (priced on what was read `lately` and that changed, or
/// the codes kept colliding).
async fn sell_once(
    client: &mut Client,
    ticket_type: &SaleType,
    buyer: Uuid,
    quantity: i32,
    lately: bool,
) -> Result<Option<Result<Order, Answer>>, String> {
    for _ in 0..TRIES {
        let sale = match sale_statements::direct_sale(ticket_type, buyer, quantity, draw(quantity), lately) {
            Ok(sale) => sale,
            Err(refusal) => {
                return Ok(Some(Err(Answer::problem(StatusCode::CONFLICT, "Refused", &refusal.to_string()))));
            }
        };
        match write(client, &sale, lately).await {
            Ok(Some(true)) => return Ok(Some(Ok(sale.order))),
            Ok(Some(false)) => {
                return Ok(Some(Err(Answer::problem(StatusCode::CONFLICT, "Sold out", "not enough tickets left"))));
            }
            Ok(None) => return Ok(None),
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => continue,
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(None)
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
/// `Some(false)` when the chosen bucket had too little left; `None` when the
/// sale priced on what was read lately wrote nothing.
async fn write(client: &mut Client, sale: &SaleTry, lately: bool) -> Result<Option<bool>, tokio_postgres::Error> {
    if run(client, &sale.from_free_bucket).await? > 0 {
        return Ok(Some(true));
    }
    if lately {
        return Ok(None);
    }
    let transaction = client.transaction().await?;
    run(&transaction, &sale.order_alone).await?;
    if run(&transaction, &sale.from_chosen_bucket).await? == 0 {
        return Ok(Some(false));
    }
    transaction.commit().await?;
    Ok(Some(true))
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
