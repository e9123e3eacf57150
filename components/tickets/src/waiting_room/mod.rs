//! An event's waiting room for its on-sale (docs/waiting-room.md): a place per
//! buyer, a fair draw for those who came early, admission at a set rate, and
//! the pass an admitted buyer needs to buy while the room is open.

pub mod pass;
pub mod settings;

use chrono::{Duration, NaiveDateTime};
use eventos_common::time::{rfc3339, rfc3339_opt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use settings::RoomSettings;

/// A room as stored, secrets included.
pub struct Room {
    pub on_sale_at: NaiveDateTime,
    pub admissions_per_minute: i32,
    pub per_buyer_limit: i32,
    pub pass_seconds: i32,
    pub seed: [u8; 32],
    pub pass_secret: [u8; 32],
    pub drawn_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub visitors: i64,
    pub early_visitors: i64,
}

impl Room {
    /// The on-sale has come and nobody has drawn yet: the next request draws.
    pub fn draw_is_due(&self, now: NaiveDateTime) -> bool {
        self.drawn_at.is_none() && now >= self.on_sale_at
    }
}

/// A buyer's place in a room.
pub struct Visitor {
    pub visitor_id: Uuid,
    pub early: bool,
    /// 1 for the first admitted; unknown for an early visitor until the draw.
    pub position: Option<i32>,
    pub admit_at: Option<NaiveDateTime>,
    pub bought: i32,
}

/// What anyone may read of a room: the seed only once it is drawn.
#[derive(Serialize)]
pub struct RoomView {
    #[serde(serialize_with = "rfc3339")]
    pub on_sale_at: NaiveDateTime,
    pub admissions_per_minute: i32,
    pub per_buyer_limit: i32,
    pub pass_seconds: i32,
    /// Published when the room is made: the draw's seed must hash to it.
    pub seed_sha256: String,
    pub seed: Option<String>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub drawn_at: Option<NaiveDateTime>,
    pub visitors: i64,
    pub early_visitors: i64,
    pub open: bool,
}

impl From<&Room> for RoomView {
    fn from(room: &Room) -> Self {
        RoomView {
            on_sale_at: room.on_sale_at,
            admissions_per_minute: room.admissions_per_minute,
            per_buyer_limit: room.per_buyer_limit,
            pass_seconds: room.pass_seconds,
            seed_sha256: hex(&Sha256::digest(room.seed)),
            seed: room.drawn_at.map(|_| hex(&room.seed)),
            drawn_at: room.drawn_at,
            visitors: room.visitors,
            early_visitors: room.early_visitors,
            open: room.closed_at.is_none(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceStatus {
    /// Not admitted yet.
    Waiting,
    /// Admitted: the pass is valid until `pass_expires_at`.
    Admitted,
    /// Admitted once, and the pass ran out: one turn per buyer.
    Expired,
}

/// What a visitor reads of their own place.
#[derive(Serialize)]
pub struct PlaceView {
    pub visitor_id: Uuid,
    pub early: bool,
    pub position: Option<i32>,
    pub status: PlaceStatus,
    #[serde(serialize_with = "rfc3339_opt")]
    pub admit_at: Option<NaiveDateTime>,
    /// Until admission (or, before the draw, until the on-sale at least).
    pub wait_seconds: i64,
    pub pass: Option<String>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub pass_expires_at: Option<NaiveDateTime>,
    pub bought: i32,
}

/// The visitor's place at `now`, with a pass while admitted.
pub fn place(room: &Room, visitor: &Visitor, event_id: Uuid, user_id: Uuid, now: NaiveDateTime) -> PlaceView {
    let expires_at = visitor.admit_at.map(|at| at + Duration::seconds(room.pass_seconds.into()));
    let status = match (visitor.admit_at, expires_at) {
        (Some(at), Some(expires)) if now >= at && now < expires => PlaceStatus::Admitted,
        (Some(_), Some(expires)) if now >= expires => PlaceStatus::Expired,
        _ => PlaceStatus::Waiting,
    };
    let waiting_until = visitor.admit_at.unwrap_or(room.on_sale_at);
    let pass = (status == PlaceStatus::Admitted)
        .then(|| expires_at.map(|at| pass::issue(&room.pass_secret, event_id, user_id, at.and_utc().timestamp())))
        .flatten();
    PlaceView {
        visitor_id: visitor.visitor_id,
        early: visitor.early,
        position: visitor.position,
        status,
        admit_at: visitor.admit_at,
        wait_seconds: (waiting_until - now).num_seconds().max(0),
        pass,
        pass_expires_at: expires_at.filter(|_| status == PlaceStatus::Admitted),
        bought: visitor.bought,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a time").naive_utc()
    }

    fn room() -> Room {
        Room {
            on_sale_at: at(0),
            admissions_per_minute: 60,
            per_buyer_limit: 4,
            pass_seconds: 600,
            seed: [1; 32],
            pass_secret: [2; 32],
            drawn_at: None,
            closed_at: None,
            visitors: 0,
            early_visitors: 0,
        }
    }

    fn visitor(admit_at: Option<NaiveDateTime>) -> Visitor {
        Visitor { visitor_id: Uuid::from_u128(7), early: true, position: admit_at.map(|_| 3), admit_at, bought: 0 }
    }

    #[test]
    fn a_place_waits_then_holds_a_pass_then_expires() {
        let (event, buyer) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let before_draw = place(&room(), &visitor(None), event, buyer, at(-30));
        assert_eq!((before_draw.status, before_draw.wait_seconds, before_draw.pass), (PlaceStatus::Waiting, 30, None));
        let waiting = place(&room(), &visitor(Some(at(120))), event, buyer, at(100));
        assert_eq!((waiting.status, waiting.wait_seconds), (PlaceStatus::Waiting, 20));
        let admitted = place(&room(), &visitor(Some(at(120))), event, buyer, at(120));
        assert_eq!(admitted.status, PlaceStatus::Admitted);
        let pass = admitted.pass.expect("a pass");
        assert_eq!(pass::check(&[2; 32], &pass, event, buyer, at(719).and_utc().timestamp()), Ok(()));
        assert_eq!(
            pass::check(&[2; 32], &pass, event, buyer, at(720).and_utc().timestamp()),
            Err(pass::Refusal::Expired)
        );
        let expired = place(&room(), &visitor(Some(at(120))), event, buyer, at(720));
        assert_eq!((expired.status, expired.pass), (PlaceStatus::Expired, None));
    }

    #[test]
    fn the_seed_is_shown_only_once_drawn() {
        let mut room = room();
        let view = RoomView::from(&room);
        assert_eq!(view.seed, None);
        assert_eq!(view.seed_sha256, hex(&Sha256::digest([1u8; 32])));
        room.drawn_at = Some(at(1));
        assert_eq!(RoomView::from(&room).seed, Some("01".repeat(32)));
    }
}
