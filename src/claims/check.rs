//! The claim checks that run once the signature has verified (RFC 7519 §4.1, RFC 9068 §4,
//! RFC 8725 §3.9, §3.11-3.12).

use super::RawClaims;
use crate::error::Rejection;
use crate::issuer::{Issuer, TokenProfile};
use crate::json::OneOrMany;

/// The tenant of personal Microsoft accounts (ENTRA-11).
pub(crate) const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Microsoft Graph's audiences (ENTRA-25).
const GRAPH_AUDIENCES: [&str; 3] = [
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

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
        // ENTRA-25: a token for Microsoft Graph sent to an API is a common mistake; say so in
        // the log only.
        let graph = |value: &str| GRAPH_AUDIENCES.contains(&value);
        let for_graph = match aud {
            OneOrMany::One(value) => graph(value),
            OneOrMany::Many(values) => values.iter().any(|v| graph(v)),
        };
        if for_graph {
            tracing::debug!("the token was issued for Microsoft Graph, not for this API");
        }
        return Err(Rejection::InvalidAudience);
    }

    let Some(exp) = claims.exp else {
        return Err(Rejection::missing("exp"));
    };
    if issuer.max_token_age.is_some() && claims.iat.is_none() {
        return Err(Rejection::missing("iat"));
    }
    Times {
        exp,
        nbf: claims.nbf,
        iat: claims.iat,
        leeway: issuer.leeway,
        max_age: issuer.max_token_age,
    }
    .check(now)?;

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
    if let Some(rules) = &issuer.entra {
        // Entra writes `scp` as one space-separated string (ENTRA-26, ATK-35).
        if matches!(claims.scp, Some(OneOrMany::Many(_))) {
            return Err(Rejection::MalformedClaims);
        }
        check_tenant(claims)?;
        if rules.any_tenant && claims.tid.as_deref() == Some(CONSUMERS_TENANT) {
            return Err(Rejection::InvalidTenant);
        }
        // ENTRA-27: Entra issues app-only tokens without roles to any client that asks, so
        // a token that grants nothing is refused (403), unless the API authorizes by ACL.
        if rules.require_scope_or_role && !grants_something(claims) {
            return Err(Rejection::NoScopeOrRole);
        }
    }
    Ok(())
}

/// A token's time claims and the issuer's allowances: judged at validation, and again on every
/// cache hit with exactly the same expressions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Times {
    pub exp: f64,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    /// Seconds.
    pub leeway: f64,
    /// Seconds; `iat` is present whenever this is.
    pub max_age: Option<f64>,
}

impl Times {
    /// RFC 7519 §4.1.4-4.1.6 with leeway, and the maximum age, at `now` (seconds).
    pub(crate) fn check(&self, now: f64) -> Result<(), Rejection> {
        let leeway = self.leeway;
        if now >= self.exp + leeway {
            return Err(Rejection::TokenExpired);
        }
        if let Some(nbf) = self.nbf
            && now < nbf - leeway
        {
            return Err(Rejection::TokenNotYetValid);
        }
        if let Some(iat) = self.iat
            && iat > now + leeway
        {
            return Err(Rejection::IssuedInFuture);
        }
        if let (Some(max_age), Some(iat)) = (self.max_age, self.iat)
            && now - iat > max_age + leeway
        {
            return Err(Rejection::TokenTooOld);
        }
        Ok(())
    }
}

/// ENTRA-17: `tid` once (no `TID` beside it), a GUID, and the tenant segment of `iss`.
fn check_tenant(claims: &RawClaims<'_>) -> Result<(), Rejection> {
    let tid = claims.tid.as_deref().ok_or(Rejection::InvalidTenant)?;
    let case_variant = claims
        .others
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("tid"));
    let segment = claims.iss.as_deref().and_then(tenant_segment);
    if case_variant || !is_guid(tid) || segment != Some(tid) {
        return Err(Rejection::InvalidTenant);
    }
    Ok(())
}

/// The first path segment of an issuer URL: where Entra puts the tenant, in v1
/// (`https://sts.windows.net/{tid}/`) and v2 (`https://login.microsoftonline.com/{tid}/v2.0`).
fn tenant_segment(iss: &str) -> Option<&str> {
    let after_scheme = &iss[iss.find("://")? + 3..];
    let path = &after_scheme[after_scheme.find('/')? + 1..];
    path.split('/').next()
}

/// A GUID as Entra writes tenant ids: lowercase hex in 8-4-4-4-12 groups.
pub(crate) fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Whether the token carries a scope or a role.
fn grants_something(claims: &RawClaims<'_>) -> bool {
    let any = |value: &OneOrMany<'_>| match value {
        OneOrMany::One(text) => text.split(' ').any(|s| !s.is_empty()),
        OneOrMany::Many(items) => items.iter().any(|s| !s.is_empty()),
    };
    claims.scp.as_ref().is_some_and(any)
        || claims.scope.as_ref().is_some_and(any)
        || claims
            .roles
            .as_ref()
            .is_some_and(|roles| roles.iter().any(|r| !r.is_empty()))
}
