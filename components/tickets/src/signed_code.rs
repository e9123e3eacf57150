//! Signed ticket codes: what a scanner without network checks with an event's
//! public keys alone.
//!
//! A signed code is `E1.` followed by the unpadded base64url of 105 bytes: a
//! 41-byte claim, then the Ed25519 signature of `E1.` and the claim. The claim
//! is the signing key's number (4 bytes, big-endian), the event's id, the
//! ticket type's id (16 bytes each) and the ticket's code (its 40 random bits,
//! 5 bytes). 105 bytes are exactly 140 characters, so every character carries
//! six bits of the code and changing any one of them changes what is checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use uuid::Uuid;

use crate::code;

/// The format's name, signed with the claim so that no other format can reuse a signature.
pub const PREFIX: &str = "E1.";
const CLAIM_LEN: usize = 41;
const SIGNATURE_LEN: usize = 64;

/// What a signed code says of its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key_id: i32,
    pub event_id: Uuid,
    pub ticket_type_id: Uuid,
    /// The ticket's own code, `TKT-XXXX-XXXX`.
    pub code: String,
}

/// A signed code as read, before any key has been tried on it.
pub struct Unchecked {
    pub claim: Claim,
    message: Vec<u8>,
    signature: Signature,
}

/// The public half of the key an event's 32-byte `seed` makes.
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// The signed code of `claim`, signed with the key `seed` makes.
pub fn sign(claim: &Claim, seed: &[u8; 32]) -> String {
    let message = message(claim);
    let signature = SigningKey::from_bytes(seed).sign(&message);
    let mut bytes = message[PREFIX.len()..].to_vec();
    bytes.extend_from_slice(&signature.to_bytes());
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Reads a signed code; `None` if `text` cannot be one. Nothing is verified yet.
pub fn read(text: &str) -> Option<Unchecked> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim().strip_prefix(PREFIX)?).ok()?;
    if bytes.len() != CLAIM_LEN + SIGNATURE_LEN {
        return None;
    }
    let (claim_bytes, signature) = bytes.split_at(CLAIM_LEN);
    let key_id = i32::from_be_bytes(claim_bytes[..4].try_into().ok()?);
    let claim = Claim {
        key_id,
        event_id: Uuid::from_slice(&claim_bytes[4..20]).ok()?,
        ticket_type_id: Uuid::from_slice(&claim_bytes[20..36]).ok()?,
        code: code::encode(&claim_bytes[36..]),
    };
    let signature = Signature::from_slice(signature).ok()?;
    Some(Unchecked { message: message(&claim), claim, signature })
}

impl Unchecked {
    /// The claim, if `public_key` signed it.
    pub fn verified_by(self, public_key: &[u8; 32]) -> Option<Claim> {
        let key = VerifyingKey::from_bytes(public_key).ok()?;
        key.verify_strict(&self.message, &self.signature).ok()?;
        Some(self.claim)
    }
}

/// `E1.` and the claim's 41 bytes: what is signed.
fn message(claim: &Claim) -> Vec<u8> {
    let mut message = PREFIX.as_bytes().to_vec();
    message.extend_from_slice(&claim.key_id.to_be_bytes());
    message.extend_from_slice(claim.event_id.as_bytes());
    message.extend_from_slice(claim.ticket_type_id.as_bytes());
    message.extend_from_slice(&code::decode(&claim.code).unwrap_or_default());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];

    fn claim() -> Claim {
        Claim {
            key_id: 3,
            event_id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            ticket_type_id: Uuid::from_u128(42),
            code: "TKT-ABCD-EFGH".into(),
        }
    }

    #[test]
    fn a_signed_code_reads_back_as_its_claim_under_its_key() {
        let signed = sign(&claim(), &SEED);
        assert_eq!(signed.len(), PREFIX.len() + 140);
        assert_eq!(read(&signed).and_then(|u| u.verified_by(&public_key(&SEED))), Some(claim()));
    }

    #[test]
    fn any_changed_character_breaks_the_signature() {
        let signed = sign(&claim(), &SEED);
        let key = public_key(&SEED);
        for at in PREFIX.len()..signed.len() {
            for replacement in ['A', 'q', '-', '_', '7'] {
                let mut changed: Vec<char> = signed.chars().collect();
                if changed[at] == replacement {
                    continue;
                }
                changed[at] = replacement;
                let changed: String = changed.into_iter().collect();
                assert_eq!(read(&changed).and_then(|u| u.verified_by(&key)), None, "{changed}");
            }
        }
    }

    #[test]
    fn another_key_verifies_nothing() {
        let signed = sign(&claim(), &SEED);
        assert_eq!(read(&signed).and_then(|u| u.verified_by(&public_key(&[8; 32]))), None);
    }

    #[test]
    fn what_is_not_a_signed_code_is_not_read() {
        let signed = sign(&claim(), &SEED);
        for bad in ["", "E1.", "TKT-ABCD-EFGH", &signed[..signed.len() - 1], &format!("{signed}A"), &signed[1..]] {
            assert!(read(bad).is_none(), "{bad}");
        }
    }
}
