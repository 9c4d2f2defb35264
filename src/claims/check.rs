//! The standard claim checks that run once the signature has verified (RFC 7519 §4.1,
//! RFC 9068 §4, RFC 8725 §3.9, §3.11-3.12). Providers add their own rules after these.

use super::profile::{RFC9068_REQUIRED, TokenProfile};
use super::{ClaimSources, RawClaims};
use crate::dpop::DpopMode;
use crate::error::Rejection;
use crate::json::OneOrMany;

/// What one issuer's claims must satisfy, as configured.
#[derive(Debug)]
pub(crate) struct ClaimPolicy {
    pub audiences: Box<[Box<str>]>,
    /// Seconds.
    pub leeway: f64,
    /// Seconds.
    pub max_token_age: Option<f64>,
    pub token_profile: TokenProfile,
    pub required_claims: Box<[Box<str>]>,
    pub allow_nonce_claim: bool,
    /// Accepted `client_id` values of tokens without `aud` (AWS Cognito access tokens).
    pub client_ids: Box<[Box<str>]>,
    /// OpenID Connect ID tokens are the bearer credential (a preset's explicit choice:
    /// Google-signed and Firebase ID tokens).
    pub id_tokens: bool,
    /// Where scopes and roles are, when not in the standard claims.
    pub sources: Option<ClaimSources>,
    /// Whether DPoP-bound tokens are accepted, or required.
    pub dpop: DpopMode,
}

impl ClaimPolicy {
    /// Checks verified claims at `now` (seconds since the epoch).
    pub(crate) fn check(&self, claims: &RawClaims<'_>, now: f64) -> Result<(), Rejection> {
        // Tokens of other kinds cannot stand in for access tokens (RFC 8725 §3.12), except ID
        // tokens where a preset says they are the credential.
        let id_token = (claims.nonce && !self.allow_nonce_claim)
            || claims.at_hash
            || claims.c_hash
            || claims.s_hash;
        let token_use = claims.token_use.as_deref();
        let not_access = (id_token && !self.id_tokens)
            || claims.events
            || token_use.is_some_and(|u| u != "access" && !(self.id_tokens && u == "id"));
        if not_access {
            return Err(Rejection::NotAnAccessToken);
        }
        // A binding tokengate cannot prove, or DPoP from an issuer not configured for it, is
        // never a bearer token (RFC 9449 §7.2, RFC 8705 §3). Whether the request proves a
        // binding it can check is judged per request, after the cache.
        let jkt = claims.cnf.as_ref().and_then(|cnf| cnf.jkt.as_ref());
        if let Some(cnf) = &claims.cnf
            && (cnf.unknown || (jkt.is_some() && self.dpop == DpopMode::Off))
        {
            return Err(Rejection::SenderConstrainedToken);
        }
        if jkt.is_none() && self.dpop == DpopMode::Required {
            return Err(Rejection::DpopRequired);
        }

        self.check_audience(claims)?;

        let Some(exp) = claims.exp else {
            return Err(Rejection::missing("exp"));
        };
        if self.max_token_age.is_some() && claims.iat.is_none() {
            return Err(Rejection::missing("iat"));
        }
        self.times(exp, claims).check(now)?;

        if self.token_profile == TokenProfile::Rfc9068 {
            if let Some(missing) = RFC9068_REQUIRED.into_iter().find(|name| !claims.has(name)) {
                return Err(Rejection::missing(missing));
            }
            // RFC 9068 §2.2.3: `scope` is a space-delimited string.
            if matches!(claims.scope, Some(OneOrMany::Many(_))) {
                return Err(Rejection::MalformedClaims);
            }
        }
        if let Some(missing) = self.required_claims.iter().find(|name| !claims.has(name)) {
            return Err(Rejection::MissingClaim {
                claim: std::sync::Arc::from(&**missing),
            });
        }
        Ok(())
    }

    /// `aud` names a configured audience; or, where client ids are configured, a token without
    /// `aud` names one of them in `client_id`. Compared exactly.
    fn check_audience(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        let ours = |value: &str| self.audiences.iter().any(|a| **a == *value);
        let accepted = match &claims.aud {
            Some(OneOrMany::One(value)) => ours(value),
            Some(OneOrMany::Many(values)) => values.iter().any(|v| ours(v)),
            None if self.client_ids.is_empty() => return Err(Rejection::missing("aud")),
            None => {
                let client = claims
                    .client_id
                    .as_deref()
                    .ok_or_else(|| Rejection::missing("client_id"))?;
                self.client_ids.iter().any(|c| **c == *client)
            }
        };
        if !accepted {
            return Err(Rejection::InvalidAudience);
        }
        Ok(())
    }

    /// The time claims of a token with this `exp`, and this policy's allowances.
    pub(crate) fn times(&self, exp: f64, claims: &RawClaims<'_>) -> Times {
        Times {
            exp,
            nbf: claims.nbf,
            iat: claims.iat,
            leeway: self.leeway,
            max_age: self.max_token_age,
        }
    }
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
