//! A waiting room's pass: what an admitted visitor shows to buy. It names the
//! event, the buyer and when it expires, under an HMAC-SHA256 of the room's own
//! secret, so it cannot be forged, moved to another buyer or stretched.
//!
//! `WR1.` then the unpadded base64url of 40 bytes: the event's id, the buyer's
//! id (16 bytes each), the expiry in Unix seconds (8 bytes, big-endian); then
//! `.` and the unpadded base64url of the HMAC of `WR1.` and those 40 bytes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const PREFIX: &str = "WR1.";

/// Why a pass is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a pass of this room, or altered: its MAC does not hold.
    Forged,
    /// Another event's or another buyer's pass.
    NotYours,
    Expired,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Forged => "forged",
            Refusal::NotYours => "not-yours",
            Refusal::Expired => "expired",
        }
    }
}

fn mac(secret: &[u8; 32], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(PREFIX.as_bytes());
    mac.update(body);
    mac
}

/// The pass of `user_id` for `event_id` until `expires_at` (Unix seconds).
pub fn issue(secret: &[u8; 32], event_id: Uuid, user_id: Uuid, expires_at: i64) -> String {
    let mut body = Vec::with_capacity(40);
    body.extend_from_slice(event_id.as_bytes());
    body.extend_from_slice(user_id.as_bytes());
    body.extend_from_slice(&expires_at.to_be_bytes());
    let tag = mac(secret, &body).finalize().into_bytes();
    format!("{PREFIX}{}.{}", URL_SAFE_NO_PAD.encode(&body), URL_SAFE_NO_PAD.encode(tag))
}

/// Accepts `pass` for `user_id` buying for `event_id` at `now` (Unix seconds).
pub fn check(secret: &[u8; 32], pass: &str, event_id: Uuid, user_id: Uuid, now: i64) -> Result<(), Refusal> {
    let (body, tag) = pass.trim().strip_prefix(PREFIX).and_then(|rest| rest.split_once('.')).ok_or(Refusal::Forged)?;
    let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| Refusal::Forged)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refusal::Forged)?;
    if body.len() != 40 {
        return Err(Refusal::Forged);
    }
    mac(secret, &body).verify_slice(&tag).map_err(|_| Refusal::Forged)?;
    if body[..16] != event_id.as_bytes()[..] || body[16..32] != user_id.as_bytes()[..] {
        return Err(Refusal::NotYours);
    }
    let expires_at = i64::from_be_bytes(body[32..].try_into().map_err(|_| Refusal::Forged)?);
    if now >= expires_at {
        return Err(Refusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [9; 32];
    const EVENT: Uuid = Uuid::from_u128(1);
    const BUYER: Uuid = Uuid::from_u128(2);

    #[test]
    fn a_pass_holds_for_its_buyer_and_event_until_it_expires() {
        let pass = issue(&SECRET, EVENT, BUYER, 1_000);
        assert_eq!(check(&SECRET, &pass, EVENT, BUYER, 999), Ok(()));
        assert_eq!(check(&SECRET, &pass, EVENT, BUYER, 1_000), Err(Refusal::Expired));
        assert_eq!(check(&SECRET, &pass, EVENT, Uuid::from_u128(3), 999), Err(Refusal::NotYours));
        assert_eq!(check(&SECRET, &pass, Uuid::from_u128(3), BUYER, 999), Err(Refusal::NotYours));
    }

    #[test]
    fn an_altered_pass_or_another_rooms_is_forged() {
        let pass = issue(&SECRET, EVENT, BUYER, 1_000);
        assert_eq!(check(&[8; 32], &pass, EVENT, BUYER, 999), Err(Refusal::Forged));
        let stretched = issue(&[8; 32], EVENT, BUYER, 9_999);
        let (_, tag) = pass.rsplit_once('.').expect("a tag");
        let (body, _) = stretched.rsplit_once('.').expect("a body");
        assert_eq!(check(&SECRET, &format!("{body}.{tag}"), EVENT, BUYER, 999), Err(Refusal::Forged));
        for bad in ["", "WR1.", "WR1.AAAA.AAAA", "WR2.x.y"] {
            assert_eq!(check(&SECRET, bad, EVENT, BUYER, 999), Err(Refusal::Forged), "{bad}");
        }
    }
}
