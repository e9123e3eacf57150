//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>`
//! of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the endpoint's
//! secret (`whsec_` then the key in base64).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example() {
        let signed = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signed.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn a_malformed_secret_signs_nothing() {
        assert_eq!(signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, b""), None);
        assert_eq!(signature("whsec_not base64!", "id", 1, b""), None);
    }
}
