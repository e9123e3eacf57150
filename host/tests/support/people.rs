//! People with tokens of their own, for tests of who may do what.

use super::world::id;
use super::{APP, Client, dev_token, unique_prefix};

/// A person with a token of their own, holding `roles`.
pub struct Person {
    pub token: String,
}

impl Person {
    pub fn new(roles: &[&str]) -> Self {
        let subject = unique_prefix("person");
        let mut claims = vec!["--email".to_owned(), format!("{subject}@example.com")];
        for role in roles {
            claims.extend(["--role".to_owned(), (*role).to_owned()]);
        }
        let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
        Self { token: dev_token(&subject, &claims) }
    }

    /// Requests to the shared platform carrying this person's token.
    pub fn client(&self) -> Client<'_> {
        APP.with_token(&self.token)
    }

    /// The platform's id for this person, the same whether or not they were ever made a user.
    pub fn id(&self) -> String {
        let me = self.client().get("/api/users/me");
        me.assert_status(200);
        id(&me.body).to_owned()
    }
}

/// `count` members' tokens, each a new person: `eventos token --count`, one
/// process for the whole crowd.
pub fn crowd(count: usize) -> Vec<String> {
    let tokens = super::eventos_token(&unique_prefix("crowd"), &["--count", &count.to_string()]);
    tokens.lines().map(str::to_owned).collect()
}
