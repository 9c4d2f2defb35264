//! The test issuer's endpoints that issue tokens: an OAuth 2.0 token endpoint for the
//! `client_credentials` grant (RFC 6749 §4.4) and `/mint`, which signs the claims it is given.
//! Both authenticate nobody: the issuer exists for tests and local development.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::Shared;
use super::token::{default_claims, sign_claims};
use crate::Algorithm;

/// A response: status, content type, body.
pub(super) type Answer = (http::StatusCode, &'static str, String);

const JSON: &str = "application/json";

/// RFC 6749 §5.2: `{"error": ..., "error_description": ...}`.
fn oauth_error(status: http::StatusCode, error: &str, description: &str) -> Answer {
    let body = json!({"error": error, "error_description": description});
    (status, JSON, body.to_string())
}

/// The token endpoint: a form with `grant_type=client_credentials`, the client's id (HTTP
/// Basic or `client_id`; any id, with any secret), and optionally `scope` and `audience` (or
/// `resource`). The token's `sub` and `client_id` are the client id.
pub(super) fn token(shared: &Shared, basic: Option<(String, String)>, form: &[u8]) -> Answer {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(form).into_owned().collect();
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            http::StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let client = basic
        .map(|(id, _)| id)
        .or_else(|| fields.get("client_id").cloned())
        .filter(|id| !id.is_empty());
    let Some(client) = client else {
        return oauth_error(
            http::StatusCode::UNAUTHORIZED,
            "invalid_client",
            "send a client id (HTTP Basic or client_id); any id is accepted",
        );
    };
    let mut claims = default_claims(&shared.issuer);
    claims.insert("sub".into(), json!(client));
    claims.insert("client_id".into(), json!(client));
    let scope = fields.get("scope").filter(|scope| !scope.is_empty());
    if let Some(scope) = scope {
        claims.insert("scope".into(), json!(scope));
    }
    if let Some(audience) = fields.get("audience").or_else(|| fields.get("resource")) {
        claims.insert("aud".into(), json!(audience));
    }
    let expires_in = lifetime(&claims);
    let token = sign_claims(shared, shared.default_alg, claims);
    let mut body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    (http::StatusCode::OK, JSON, body.to_string())
}

/// `exp - iat` of minted claims.
fn lifetime(claims: &Map<String, Value>) -> i64 {
    let at = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or(0);
    at("exp") - at("iat")
}

/// `/mint`: a JSON object of claims laid over the defaults of
/// [`TestIssuer::token`](super::TestIssuer::token) (`null` removes one), signed with the
/// current key for the `alg` of the query (`?alg=ES256`, one the issuer holds a key for;
/// default the issuer's first algorithm).
/// Answers the token as plain text.
pub(super) fn mint(shared: &Shared, query: Option<&str>, body: &[u8]) -> Answer {
    let bad = |text: &str| (http::StatusCode::BAD_REQUEST, "text/plain", text.to_owned());
    let mut alg = shared.default_alg;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if name == "alg" {
            match Algorithm::from_name(&value) {
                // Only an algorithm the issuer holds a key for: a request never makes (and
                // publishes) a new key.
                Some(chosen) if shared.has_key_for(chosen) => alg = chosen,
                Some(_) => return bad("this issuer holds no key for that alg\n"),
                None => return bad("unknown alg; use a JWA name such as RS256 or ES256\n"),
            }
        }
    }
    let changes: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(body) {
            Ok(changes) => changes,
            Err(_) => return bad("the body must be a JSON object of claims\n"),
        }
    };
    let mut claims = default_claims(&shared.issuer);
    for (name, value) in changes {
        if value.is_null() {
            claims.remove(&name);
        } else {
            claims.insert(name, value);
        }
    }
    let token = sign_claims(shared, alg, claims);
    (http::StatusCode::OK, "text/plain", token)
}
