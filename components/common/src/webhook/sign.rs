//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>`
//! of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the endpoint's
//! secret (`whsec_` then the key in base64). While a rotated-out secret is in
//! its grace period, the header carries a signature under each, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET_PREFIX: &str = "whsec_";

/// A fresh secret for an endpoint: 32 bytes from the platform's CSPRNG.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(wasi::random::random::get_random_bytes(32)))
}

/// The `webhook-signature` header of a message, or `None` for a secret that
/// is not `whsec_` and base64.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The header under each secret, current first: a receiver that knows either
/// verifies the message.
pub fn signatures(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let signed: Vec<String> =
        secrets.iter().map(|secret| signature(secret, id, timestamp, body)).collect::<Option<_>>()?;
    Some(signed.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const EXAMPLE_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        let signed = signature(EXAMPLE_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(signed.as_deref(), Some(EXAMPLE_SIGNATURE));
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one() {
        let (id, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", br#"{"test": 2432232314}"#);
        let other = "whsec_c2Vjb25kIHNlY3JldCBvZiB0aGlydHktdHdvIGJ5dGVz";
        let header = signatures(&[other, EXAMPLE_SECRET], id, 1614265330, body).expect("signed");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], EXAMPLE_SIGNATURE);
        assert_eq!(Some(parts[0].to_owned()), signature(other, id, 1614265330, body));
    }

    #[test]
    fn a_malformed_secret_signs_nothing() {
        assert_eq!(signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, b""), None);
        assert_eq!(signature("whsec_not base64!", "id", 1, b""), None);
        assert_eq!(signatures(&[EXAMPLE_SECRET, "nope"], "id", 1, b""), None);
    }
}
