//! Who is calling: bearer tokens from the platform's OpenID provider (locally,
//! the development key `eventos token` signs with), verified by each component.

use crate::support::{APP, Platform, Reply, unique_prefix, workspace};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn token(subject: &str, email: &str, name: &str) -> String {
    crate::support::dev_token(subject, &["--email", email, "--name", name])
}

fn part(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).expect("base64url")).expect("JSON")
}

fn me(authorization: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = authorization.map(|value| ("authorization", value)).into_iter().collect();
    APP.anonymous().send("GET", "/api/users/me", &headers, None)
}

fn users_with_email(email: &str) -> usize {
    let reply = APP.get(&format!("/api/users?email={}", crate::support::encode(email)));
    reply.assert_status(200);
    reply.body["items"].as_array().expect("items").len()
}

#[test]
fn me_is_the_token_holder_made_a_user_on_first_use() {
    let subject = unique_prefix("sub");
    let email = format!("{subject}@example.com");
    let bearer = format!("Bearer {}", token(&subject, &email, "Ada Lovelace"));
    let first = me(Some(&bearer));
    first.assert_status(200);
    assert_eq!(
        (first.body["email"].as_str(), first.body["name"].as_str()),
        (Some(email.as_str()), Some("Ada Lovelace"))
    );
    let again = me(Some(&bearer));
    assert_eq!(again.body["id"], first.body["id"], "the same user, not a second one");
    assert_eq!(users_with_email(&email), 1);

    let renamed =
        APP.send("PATCH", "/api/users/me", &[("authorization", &bearer)], Some(br#"{"name":"Ada King"}"#.to_vec()));
    assert_eq!(renamed.status, 415, "a body needs its content type: {renamed:?}");
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let renamed = APP.send("PATCH", "/api/users/me", &headers, Some(br#"{"name":"Ada King"}"#.to_vec()));
    renamed.assert_status(200);
    let id = first.body["id"].as_str().expect("id");
    assert_eq!(APP.get(&format!("/api/users/{id}")).body["name"], "Ada King");
}

/// Claims the platform would accept, for tokens this test forges.
fn claims(subject: &str, email: &str, issuer: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": issuer, "sub": subject, "aud": "eventos", "exp": now + 600, "iat": now, "email": email, "name": "Forged"})
}

fn signed(claims: &Value, key: &SigningKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let der = key.to_pkcs8_der().expect("pkcs8");
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).expect("sign")
}

fn dev_key() -> SigningKey {
    let seed = std::fs::read_to_string(workspace().join("target/eventos-dev-key")).expect("the development key");
    let seed: [u8; 32] = hex::decode(seed.trim()).expect("hex").try_into().expect("32 bytes");
    SigningKey::from_bytes(&seed)
}

#[test]
fn a_missing_or_unverifiable_token_is_401_and_makes_no_user() {
    let subject = unique_prefix("forged");
    let email = format!("{subject}@example.com");
    let genuine = token(&subject, &email, "Genuine");
    let (kid, issuer) = (part(&genuine, 0)["kid"].as_str().expect("kid").to_owned(), part(&genuine, 1)["iss"].clone());
    let issuer = issuer.as_str().expect("iss");
    let good = claims(&subject, &email, issuer);
    let with = |changes: Value| {
        let mut claims = good.clone();
        claims.as_object_mut().expect("object").extend(changes.as_object().expect("object").clone());
        claims
    };
    let key = dev_key();
    let now = chrono::Utc::now().timestamp();
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let public_key = key.verifying_key().to_bytes();
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(kid.clone());
    let forged = [
        ("garbage", "Bearer garbage".to_owned()),
        ("another scheme", format!("Basic {genuine}")),
        ("another key", format!("Bearer {}", signed(&good, &SigningKey::from_bytes(&[7; 32]), &kid))),
        ("an unknown kid", format!("Bearer {}", signed(&good, &key, "not-a-kid"))),
        ("alg none", format!("Bearer {}.{}.", encode(&json!({"alg": "none", "kid": kid})), encode(&good))),
        (
            "HS256 keyed with the public key",
            format!(
                "Bearer {}",
                jsonwebtoken::encode(&hs256, &good, &EncodingKey::from_secret(&public_key)).expect("hs256")
            ),
        ),
        (
            "another issuer",
            format!("Bearer {}", signed(&with(json!({"iss": "https://elsewhere.example"})), &key, &kid)),
        ),
        ("another audience", format!("Bearer {}", signed(&with(json!({"aud": "someone-else"})), &key, &kid))),
        ("expired", format!("Bearer {}", signed(&with(json!({"exp": now - 120})), &key, &kid))),
        ("not yet valid", format!("Bearer {}", signed(&with(json!({"nbf": now + 120})), &key, &kid))),
    ];
    for (what, authorization) in &forged {
        let reply = me(Some(authorization));
        reply.assert_problem(401, "unauthenticated");
        assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer error="invalid_token""#), "{what}");
    }
    let absent = me(None);
    absent.assert_problem(401, "unauthenticated");
    assert_eq!(absent.header("www-authenticate"), Some("Bearer"));
    let in_query = APP.anonymous().get(&format!("/api/users/me?access_token={genuine}"));
    in_query.assert_problem(401, "unauthenticated");
    assert_eq!(users_with_email(&email), 0, "no refused request made a user");

    // The same claims, signed with the platform's key: accepted, so each refusal above was the forgery's.
    me(Some(&format!("Bearer {}", signed(&good, &key, &kid)))).assert_status(200);
    assert_eq!(users_with_email(&email), 1);
}

/// RFC 7517 §4.2–4.4: the platform's own key, published for encryption, for
/// other operations than verifying, or for another algorithm, verifies nothing
/// (an OpenID provider's key set holds such keys: Keycloak publishes RSA-OAEP).
#[test]
fn a_key_published_for_anything_but_verifying_this_algorithm_verifies_nothing() {
    let subject = unique_prefix("bound");
    let genuine = token(&subject, &format!("{subject}@example.com"), "Bound");
    let issuer = part(&genuine, 1)["iss"].as_str().expect("iss").to_owned();
    let key = dev_key();
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    let published = [
        ("for-encryption", json!({"use": "enc"})),
        ("for-encrypting", json!({"key_ops": ["encrypt"]})),
        ("for-es256", json!({"alg": "ES256"})),
        ("for-eddsa", json!({"use": "sig", "alg": "EdDSA", "key_ops": ["verify"]})),
    ];
    let keys: Vec<Value> = published
        .iter()
        .map(|(kid, bound)| {
            let mut jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid});
            jwk.as_object_mut().expect("object").extend(bound.as_object().expect("object").clone());
            jwk
        })
        .collect();
    let jwks = json!({ "keys": keys }).to_string();
    let app = Platform::start_with(&workspace().join("spin.toml"), "bound", &[("SPIN_VARIABLE_AUTH_JWKS", &jwks)]);
    for (kid, _) in &published {
        let bearer =
            format!("Bearer {}", signed(&claims(&subject, &format!("{subject}@example.com"), &issuer), &key, kid));
        let reply = app.anonymous().send("GET", "/api/users/me", &[("authorization", &bearer)], None);
        if *kid == "for-eddsa" {
            reply.assert_status(200);
        } else {
            reply.assert_problem(401, "unauthenticated");
        }
    }
}
