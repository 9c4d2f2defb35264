//! The test issuer's opaque tokens and its introspection endpoint (RFC 7662): tokens minted
//! with [`TokenBuilder::opaque`](super::TokenBuilder::opaque) are random strings whose claims
//! only the endpoint knows, until they expire or are revoked.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// The client the introspection endpoint accepts: `client_secret_basic` or
/// `client_secret_post`.
pub(super) const CLIENT_ID: &str = "tokengate-resource";
pub(super) const CLIENT_SECRET: &str = "test-introspection-secret";

/// Opaque tokens and their claims; revoked ones are forgotten.
#[derive(Default)]
pub(super) struct Opaque {
    tokens: Mutex<HashMap<String, Map<String, Value>>>,
}

impl Opaque {
    pub(super) fn insert(&self, token: String, claims: Map<String, Value>) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(token, claims);
        }
    }

    /// Remembers a signed token's claims, for introspection of JWTs; up to a bound, so that a
    /// load test minting millions of tokens does not grow without end.
    pub(super) fn insert_signed(&self, token: String, claims: Map<String, Value>) {
        if let Ok(mut tokens) = self.tokens.lock()
            && tokens.len() < 100_000
        {
            tokens.insert(token, claims);
        }
    }

    pub(super) fn revoke(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .is_ok_and(|mut tokens| tokens.remove(token).is_some())
    }

    /// The answer for a form body, or `None` when the client is not authenticated.
    pub(super) fn introspect(
        &self,
        basic: Option<(String, String)>,
        form: &[u8],
        now: i64,
    ) -> Option<String> {
        let fields: HashMap<String, String> =
            url::form_urlencoded::parse(form).into_owned().collect();
        let (id, secret) = basic.or_else(|| {
            Some((
                fields.get("client_id")?.clone(),
                fields.get("client_secret")?.clone(),
            ))
        })?;
        if id != CLIENT_ID || secret != CLIENT_SECRET {
            return None;
        }
        let claims = fields.get("token").and_then(|token| {
            let tokens = self.tokens.lock().ok()?;
            tokens.get(token).cloned()
        });
        let active = claims.filter(|claims| {
            claims
                .get("exp")
                .and_then(Value::as_i64)
                .is_none_or(|exp| exp > now)
        });
        Some(match active {
            Some(mut claims) => {
                claims.insert("active".into(), json!(true));
                claims
                    .entry("token_type")
                    .or_insert_with(|| json!("Bearer"));
                Value::Object(claims).to_string()
            }
            None => json!({"active": false}).to_string(),
        })
    }
}

/// The `Authorization: Basic` credentials of a request, form-decoded (RFC 6749 §2.3.1).
pub(super) fn basic(header: Option<&http::HeaderValue>) -> Option<(String, String)> {
    let encoded = header?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64_simd::STANDARD.decode_to_vec(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| -> String {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}
