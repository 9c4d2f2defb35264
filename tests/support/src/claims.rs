//! The usual issuer and audience, and claims that pass every default check for them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The issuer of the usual test tokens.
pub const ISSUER: &str = "https://issuer.example.com/";

/// The audience of the usual test tokens.
pub const AUDIENCE: &str = "api://orders";

/// Seconds since the epoch.
pub fn now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since.as_secs()).expect("seconds since 1970 fit in an i64")
}

/// Claims that pass every default check for [`ISSUER`] and [`AUDIENCE`]: `sub` `user-1`,
/// `iat` and `nbf` 10 seconds ago, `exp` in 10 minutes, `scope` `orders.read orders.write`.
pub fn valid_claims() -> Value {
    valid_claims_at(now())
}

/// [`valid_claims`] for a clock reading `now` (seconds since the epoch).
pub fn valid_claims_at(now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + 600,
        "scope": "orders.read orders.write",
    })
}
