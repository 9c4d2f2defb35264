//! The shape of a real Entra ID v2 access token, shared by the benchmarks.

use serde_json::json;

use crate::now;

/// The tenant (`tid`) of the token.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The API's application id: the token's `aud`.
pub const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

/// The token's v2 issuer, `https://login.microsoftonline.com/{TENANT}/v2.0`.
pub fn issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

/// The claims of a v2 delegated Entra access token, with realistic value sizes.
pub fn entra_claims() -> serde_json::Value {
    let now = now();
    json!({
        "aud": CLIENT,
        "iss": issuer(),
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "aio": "AWQAm/8YAAAAb5ePLxeIxtMVpkQmAs7kHPFNlPGVB1ufgHcs0H2UyXWEZ2jr3gs6ZCTqiC7hQbM6",
        "azp": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "azpacr": "0",
        "name": "Megan Bowen",
        "oid": "d3f6a6c2-8a47-4d6e-9b5e-2a1f1b8c9e0d",
        "preferred_username": "MeganB@contoso.onmicrosoft.com",
        "rh": "1.AQoAv4j5cvGGr0GRqy180BHbR0ch-mWtXp9GhGg6p3A1rLUKAFE.",
        "scp": "access_as_user",
        "sub": "ruH3KnLJ5iN3hM5tE0lAXEXQqFVqZfjS3f2tWvVXh2I",
        "tid": TENANT,
        "uti": "HfPxFRtwbUW1hPQIyWkGAA",
        "ver": "2.0",
    })
}
