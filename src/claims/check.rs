//! The claim checks that run once the signature has verified (RFC 7519 §4.1, RFC 9068 §4,
//! RFC 8725 §3.9, §3.11-3.12).

use super::RawClaims;
use crate::error::Rejection;
use crate::issuer::{Issuer, TokenProfile};
use crate::json::OneOrMany;

/// Claims RFC 9068 §2.2 requires beyond `iss`, `exp` and `aud`.
const RFC9068_REQUIRED: [&str; 4] = ["sub", "client_id", "iat", "jti"];

/// Checks verified claims against the issuer's rules at `now` (seconds since the epoch).
pub(crate) fn check(claims: &RawClaims<'_>, issuer: &Issuer, now: f64) -> Result<(), Rejection> {
    // Tokens of other kinds cannot stand in for access tokens (RFC 8725 §3.12).
    let not_access = (claims.nonce && !issuer.allow_nonce_claim)
        || claims.at_hash
        || claims.c_hash
        || claims.s_hash
        || claims.events
        || claims.token_use.as_deref().is_some_and(|u| u != "access");
    if not_access {
        return Err(Rejection::NotAnAccessToken);
    }
    // A key-bound token presented without proof of the key is a stolen-token replay until
    // sender-constrained tokens are supported (RFC 9449 §7.1, RFC 8705 §3).
    if claims.cnf {
        return Err(Rejection::SenderConstrainedToken);
    }

    let Some(aud) = &claims.aud else {
        return Err(Rejection::missing("aud"));
    };
    let ours = |value: &str| issuer.audiences.iter().any(|a| **a == *value);
    let accepted = match aud {
        OneOrMany::One(value) => ours(value),
        OneOrMany::Many(values) => values.iter().any(|v| ours(v)),
    };
    if !accepted {
        return Err(Rejection::InvalidAudience);
    }

    let leeway = issuer.leeway;
    let Some(exp) = claims.exp else {
        return Err(Rejection::missing("exp"));
    };
    if now >= exp + leeway {
        return Err(Rejection::TokenExpired);
    }
    if let Some(nbf) = claims.nbf
        && now < nbf - leeway
    {
        return Err(Rejection::TokenNotYetValid);
    }
    if let Some(iat) = claims.iat
        && iat > now + leeway
    {
        return Err(Rejection::IssuedInFuture);
    }
    if let Some(max_age) = issuer.max_token_age {
        let Some(iat) = claims.iat else {
            return Err(Rejection::missing("iat"));
        };
        if now - iat > max_age + leeway {
            return Err(Rejection::TokenTooOld);
        }
    }

    if issuer.token_profile == TokenProfile::Rfc9068 {
        if let Some(missing) = RFC9068_REQUIRED.into_iter().find(|name| !claims.has(name)) {
            return Err(Rejection::missing(missing));
        }
        // RFC 9068 §2.2.3: `scope` is a space-delimited string.
        if matches!(claims.scope, Some(OneOrMany::Many(_))) {
            return Err(Rejection::MalformedClaims);
        }
    }
    if let Some(missing) = issuer.required_claims.iter().find(|name| !claims.has(name)) {
        return Err(Rejection::MissingClaim {
            claim: std::sync::Arc::from(&**missing),
        });
    }
    Ok(())
}
