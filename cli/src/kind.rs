//! What kind of token a decoded JWS is, and what in it deserves a warning. Judged from its
//! shape alone: nothing here is verified.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::show;

/// Microsoft Graph's application id, and its resource URL: `aud` of a Graph token.
const GRAPH_AUDIENCES: [&str; 3] = [
    "00000003-0000-0000-c000-000000000000",
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
];
/// The event of an OpenID Connect back-channel logout token.
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A kind of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// RFC 9068: `typ` `at+jwt`.
    AccessToken,
    /// An access token in a provider's own shape (no `at+jwt`).
    VendorAccessToken,
    /// An OpenID Connect ID token.
    IdToken,
    /// An OpenID Connect back-channel logout token.
    LogoutToken,
    /// A DPoP proof (RFC 9449): `typ` `dpop+jwt`.
    DpopProof,
    /// An access token for Microsoft Graph, not for your API.
    GraphToken,
    /// A refresh token in JWT form (Keycloak's `typ` `Refresh` or `Offline`).
    RefreshToken,
    /// None of the above.
    Unknown,
}

impl Kind {
    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::AccessToken => "access token (RFC 9068: typ at+jwt)",
            Kind::VendorAccessToken => "access token (a provider's own shape, not RFC 9068)",
            Kind::IdToken => "ID token: says who signed in, to the client; not for calling APIs",
            Kind::LogoutToken => "logout token (OpenID Connect back-channel logout)",
            Kind::DpopProof => "DPoP proof (RFC 9449): goes in the DPoP header, not Authorization",
            Kind::GraphToken => {
                "Microsoft Graph access token: for Graph only, your API cannot verify it"
            }
            Kind::RefreshToken => "refresh token: for the token endpoint, never sent to APIs",
            Kind::Unknown => "a JWT of no recognizable kind",
        }
    }
}

fn text<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

/// The `aud` values, one string or an array.
pub fn audiences(claims: &Map<String, Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The kind of token, by the markers each kind carries.
pub fn kind(header: &Map<String, Value>, claims: &Map<String, Value>) -> Kind {
    let typ = text(header, "typ").map(str::to_ascii_lowercase);
    let typ = typ.as_deref().map(|t| t.trim_start_matches("application/"));
    if typ == Some("dpop+jwt") {
        return Kind::DpopProof;
    }
    if typ == Some("logout+jwt")
        || claims
            .get("events")
            .and_then(Value::as_object)
            .is_some_and(|events| events.contains_key(LOGOUT_EVENT))
    {
        return Kind::LogoutToken;
    }
    // Graph tokens carry a header `nonce` (their signature covers its hash, not the value).
    if header.contains_key("nonce")
        || audiences(claims)
            .iter()
            .any(|aud| GRAPH_AUDIENCES.contains(aud))
    {
        return Kind::GraphToken;
    }
    let payload_typ = text(claims, "typ");
    if matches!(payload_typ, Some("Refresh" | "Offline")) {
        return Kind::RefreshToken;
    }
    // Before `at+jwt`: tokengate refuses a token with these markers whatever its `typ`.
    let id_markers = ["nonce", "at_hash", "c_hash", "s_hash"];
    if payload_typ == Some("ID")
        || text(claims, "token_use") == Some("id")
        || id_markers.iter().any(|m| claims.contains_key(*m))
    {
        return Kind::IdToken;
    }
    if typ == Some("at+jwt") {
        return Kind::AccessToken;
    }
    let access_markers = ["scope", "scp", "roles", "client_id", "azp", "appid", "cid"];
    if payload_typ == Some("Bearer")
        || text(claims, "token_use") == Some("access")
        || access_markers.iter().any(|m| claims.contains_key(*m))
    {
        return Kind::VendorAccessToken;
    }
    Kind::Unknown
}

/// What a reader should know before trusting or sending this token.
pub fn warnings(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    now: SystemTime,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let at = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .and_then(show::epoch)
    };
    match at("exp") {
        Some(exp) if exp <= now => warnings.push(format!("expired {}", show::relative(exp, now))),
        Some(_) => {}
        None if !claims.contains_key("exp") => warnings.push("no exp: it never expires".into()),
        None => warnings.push("exp is not a number of seconds".into()),
    }
    if let Some(nbf) = at("nbf").filter(|nbf| *nbf > now) {
        warnings.push(format!(
            "not yet valid: nbf is {}",
            show::relative(nbf, now)
        ));
    }
    if let Some(iat) = at("iat").filter(|iat| *iat > now) {
        warnings.push(format!(
            "issued in the future: iat is {}",
            show::relative(iat, now)
        ));
    }
    if !claims.contains_key("aud") {
        warnings.push("no aud: not bound to any one API".into());
    }
    match text(header, "alg") {
        Some("none") => warnings.push("alg none: unsigned, never acceptable".into()),
        Some(alg) if alg.starts_with("HS") => warnings.push(format!(
            "alg {alg}: a shared secret (HMAC), which tokengate never accepts"
        )),
        Some(_) => {}
        None => warnings.push("no alg in the header".into()),
    }
    if !header.contains_key("kid") {
        if header.contains_key("x5t") || header.contains_key("x5t#S256") {
            warnings
                .push("x5t only, no kid: the key is named by certificate thumbprint alone".into());
        } else {
            warnings.push("no kid: the key must be found without a name".into());
        }
    }
    for name in ["jku", "x5u", "jwk", "x5c"] {
        if header.contains_key(name) {
            warnings.push(format!(
                "header {name}: names its own key, which tokengate never follows"
            ));
        }
    }
    if header.contains_key("crit") {
        warnings.push("header crit: tokengate understands no extension and refuses it".into());
    }
    warnings
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn kinds_by_their_markers() {
        let at = map(json!({"typ": "at+jwt", "alg": "RS256"}));
        let jwt = map(json!({"alg": "RS256"}));
        let none = Map::new();
        assert_eq!(kind(&at, &none), Kind::AccessToken);
        assert_eq!(kind(&jwt, &map(json!({"nonce": "n"}))), Kind::IdToken);
        assert_eq!(kind(&jwt, &map(json!({"token_use": "id"}))), Kind::IdToken);
        assert_eq!(
            kind(&jwt, &map(json!({"events": {LOGOUT_EVENT: {}}}))),
            Kind::LogoutToken
        );
        assert_eq!(
            kind(&map(json!({"typ": "dpop+jwt"})), &none),
            Kind::DpopProof
        );
        assert_eq!(
            kind(
                &map(json!({"nonce": "x"})),
                &map(json!({"scp": "User.Read"}))
            ),
            Kind::GraphToken
        );
        assert_eq!(
            kind(&jwt, &map(json!({"aud": "https://graph.microsoft.com"}))),
            Kind::GraphToken
        );
        assert_eq!(
            kind(&jwt, &map(json!({"typ": "Refresh"}))),
            Kind::RefreshToken
        );
        assert_eq!(
            kind(&jwt, &map(json!({"scp": "a"}))),
            Kind::VendorAccessToken
        );
        assert_eq!(kind(&jwt, &map(json!({"sub": "a"}))), Kind::Unknown);
    }

    #[test]
    fn warnings_name_each_risk() {
        let now = SystemTime::now();
        let header = map(json!({"alg": "HS256", "x5t": "abc"}));
        let claims = map(json!({"exp": 1, "nbf": 4_000_000_000_i64}));
        let found = warnings(&header, &claims, now).join("\n");
        for expected in ["expired", "not yet valid", "no aud", "HMAC", "x5t only"] {
            assert!(found.contains(expected), "{expected} missing from {found}");
        }
        let clean = warnings(
            &map(json!({"alg": "ES256", "kid": "k"})),
            &map(json!({"aud": "a", "exp": 4_000_000_000_i64})),
            now,
        );
        assert!(clean.is_empty(), "{clean:?}");
    }
}
