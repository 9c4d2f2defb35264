//! Opaque tokens (RFC 7662): which issuer introspects one, its cached answer, and an answer
//! judged as a JWT's claims would be.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Gate;
use super::pipeline::{Seen, Stop, judge, seconds};
use crate::claims::{Claims, RawClaims};
use crate::error::Rejection;
use crate::introspection::{Answer, Judged, Reply, Unavailable, read, token_hash};
use crate::jws::{self, Header, HeaderText, Signature};

/// When a client may retry after the introspection endpoint could not answer.
const INTROSPECTION_RETRY: Duration = Duration::from_secs(2);

impl Gate {
    /// Where a token that is not a readable JWS goes: the cached answer of the issuer that
    /// introspects it, or that issuer's endpoint (`Stop::Introspect`); `rejection` where no
    /// issuer takes it.
    pub(super) fn opaque(
        &self,
        token: &str,
        now: SystemTime,
        rejection: Rejection,
        seen: &mut Seen,
    ) -> Result<Arc<Claims>, Stop> {
        let issuers = &self.inner.issuers;
        let found = self.inner.opaque.iter().find_map(|&index| {
            let introspector = issuers.get(index).introspection.as_ref()?;
            introspector
                .takes_opaque(token)
                .then_some((index, introspector))
        });
        let Some((index, introspector)) = found else {
            return Err(Stop::Rejected(rejection));
        };
        seen.issuer = Some(index);
        match introspector.cached(&token_hash(token), seconds(now)) {
            Some(judged) => judged.outcome.map_err(Stop::Rejected),
            None => Err(Stop::Introspect { issuer: index }),
        }
    }

    /// The claims of an opaque token from the issuer's endpoint (one call shared by every
    /// request for the token), judged at `now` or when the answer comes.
    pub(super) async fn introspect(
        &self,
        token: &str,
        index: usize,
        now: Option<SystemTime>,
    ) -> Result<Arc<Claims>, Rejection> {
        let introspector = self
            .inner
            .issuers
            .get(index)
            .introspection
            .as_ref()
            .ok_or(Rejection::MalformedToken)?;
        // Signed answers need the issuer's keys, which an API that sees only opaque tokens may
        // not have fetched yet (a failure shows as a refused answer: 503).
        let issuer = self.inner.issuers.get(index);
        if introspector.settings().jwt_answers
            && !issuer.keys.status(self.inner.issuers.name(index)).usable
        {
            let _ = issuer.keys.start_load().finish().await;
        }
        let answer = introspector
            .answer(token, token_hash(token), |reply| {
                let now = seconds(now.unwrap_or_else(SystemTime::now));
                let answer = match reply {
                    Reply::Answer(answer) => answer,
                    // `iat` is the real time the answer was made, whatever time `now` pretends.
                    Reply::Jwt(jwt) => self
                        .open_signed_answer(index, &jwt, seconds(SystemTime::now()))
                        .map_err(|reason| {
                            crate::diagnostic::hint!(
                                issuer = %self.inner.issuers.name(index),
                                reason,
                                "introspection: a signed answer was refused"
                            );
                            Unavailable
                        })?,
                };
                Ok(self.judge_answer(index, answer, now))
            })
            .await;
        match answer {
            Ok(judged) => judged.outcome,
            Err(Unavailable) => Err(unavailable()),
        }
    }

    /// A JWT's claims, or, where its issuer introspects JWTs too, the stop to ask first (or
    /// the cached answer's verdict).
    #[inline]
    pub(super) fn jwt_revocation(
        &self,
        token: &str,
        claims: Arc<Claims>,
        now: SystemTime,
    ) -> Result<Arc<Claims>, Stop> {
        if !self.inner.introspect_jwts {
            return Ok(claims);
        }
        let Ok(index) = self.inner.issuers.select(claims.issuer()) else {
            return Ok(claims);
        };
        let Some(introspector) = self.inner.issuers.get(index).introspection.as_ref() else {
            return Ok(claims);
        };
        if !introspector.settings().jwts {
            return Ok(claims);
        }
        match introspector.cached(&token_hash(token), seconds(now)) {
            Some(judged) => judged.outcome.map(|_| claims).map_err(|rejection| {
                self.note(&rejection, &Seen::issuer(index));
                Stop::Rejected(rejection)
            }),
            None => Err(Stop::IntrospectJwt {
                issuer: index,
                claims,
            }),
        }
    }

    /// A JWT's claims once its issuer's introspection endpoint calls it active.
    pub(super) async fn introspect_jwt(
        &self,
        token: &str,
        index: usize,
        claims: Arc<Claims>,
        now: Option<SystemTime>,
    ) -> Result<Arc<Claims>, Rejection> {
        let result = self.introspect(token, index, now).await.map(|_| claims);
        if let Err(rejection) = &result {
            self.note(rejection, &Seen::issuer(index));
        }
        result
    }

    /// The answer inside a signed one (RFC 9701 §5): `typ`, the signature under one of the
    /// issuer's current keys, `iss`, `aud` (our client id), a recent `iat`, then the
    /// `token_introspection` member read as a plain answer. The reason, if it is refused.
    pub(super) fn open_signed_answer(
        &self,
        index: usize,
        jwt: &str,
        now: f64,
    ) -> Result<Answer, &'static str> {
        let issuer = self.inner.issuers.get(index);
        let client_id = issuer
            .introspection
            .as_ref()
            .map(|i| i.settings().client_id.as_str())
            .ok_or("no introspection")?;
        let segments = jws::split(jwt).map_err(|_| "not a compact JWS")?;
        let header_text = HeaderText::decode(segments.header).map_err(|_| "bad header")?;
        let header = Header::parse(header_text.as_str()).map_err(|_| "bad header")?;
        if header.crit || header.foreign {
            return Err("unsupported header");
        }
        let typ = header.typ.as_deref().unwrap_or_default();
        let typ = typ.strip_prefix("application/").unwrap_or(typ);
        if !typ.eq_ignore_ascii_case("token-introspection+jwt") {
            return Err("typ is not token-introspection+jwt");
        }
        let alg = header
            .alg
            .filter(|alg| issuer.algorithms.contains(alg))
            .ok_or("alg not allowed")?;
        let signature = Signature::decode(segments.signature).map_err(|_| "bad signature")?;
        let verified = issuer.keys.with_current(|keys| {
            keys.select(header.kid.as_deref(), alg)
                .is_ok_and(|key| key.verify(segments.signing_input, signature.as_bytes()))
        });
        if !verified {
            return Err("no current key of the issuer verifies it");
        }
        let payload = jws::decode_text(segments.payload).map_err(|_| "bad payload")?;
        crate::json::parse_whole(&payload, crate::json::StrictAny)
            .map_err(|_| "claims are not strict JSON")?;
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&payload).map_err(|_| "claims are not an object")?;
        let iss = claims
            .get("iss")
            .and_then(|iss| iss.as_str())
            .ok_or("no iss")?;
        if !matches!(self.inner.issuers.select(iss), Ok(found) if found == index) {
            return Err("iss is not the issuer");
        }
        let for_us = match claims.get("aud") {
            Some(serde_json::Value::String(aud)) => aud == client_id,
            Some(serde_json::Value::Array(auds)) => auds.iter().any(|aud| aud == client_id),
            _ => false,
        };
        if !for_us {
            return Err("aud is not this client");
        }
        let iat = claims
            .get("iat")
            .and_then(serde_json::Value::as_f64)
            .ok_or("no iat")?;
        if !iat.is_finite() || (iat - now).abs() > 300.0 {
            return Err("iat is not recent");
        }
        let inner = claims
            .get("token_introspection")
            .filter(|inner| inner.is_object())
            .ok_or("no token_introspection object")?;
        read(inner.to_string().as_bytes()).map_err(|_| "token_introspection is not an answer")
    }

    /// An answer, judged at `now` (seconds): claims until the earlier of `exp` and the
    /// cache's maximum age, or a refusal for a short while.
    pub(super) fn judge_answer(&self, index: usize, answer: Answer, now: f64) -> Judged {
        let issuer = self.inner.issuers.get(index);
        let Some(introspector) = &issuer.introspection else {
            return refused(Rejection::MalformedToken, now, 0.0);
        };
        let settings = introspector.settings();
        let inactive = settings.inactive_for().as_secs_f64();
        let mut members = match answer {
            Answer::Active(members) => members,
            Answer::Inactive => return refused(Rejection::TokenInactive, now, inactive),
        };
        // `iss` is optional in an answer; when given, it must be this issuer (STD-7662-3).
        let name = self.inner.issuers.name(index).to_owned();
        match members.get("iss") {
            None => {
                members.insert("iss".into(), name.into());
            }
            Some(iss)
                if iss.as_str().is_some_and(
                    |iss| matches!(self.inner.issuers.select(iss), Ok(found) if found == index),
                ) => {}
            Some(_) => return refused(Rejection::UntrustedIssuer, now, inactive),
        }
        // Hydra says what a token is in `token_use`: only an access token passes (the claim
        // checks refuse any other `token_use`).
        if members.get("token_use").and_then(|u| u.as_str()) == Some("access_token") {
            members.remove("token_use");
        }
        // `token_type: DPoP` promises a key binding (RFC 9449 §6.2): without `cnf.jkt` it is
        // not a bearer token either.
        let dpop_type = members
            .get("token_type")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop"));
        if dpop_type && members.get("cnf").and_then(|cnf| cnf.get("jkt")).is_none() {
            return refused(Rejection::TokenNotBound, now, inactive);
        }
        // RFC 7662 `token_type`: an access token's scheme; a refresh token is refused.
        if let Some(kind) = members.get("token_type")
            && !kind.as_str().is_some_and(|kind| {
                ["bearer", "dpop", "n_a", "access_token"]
                    .iter()
                    .any(|k| kind.eq_ignore_ascii_case(k))
            })
        {
            return refused(Rejection::NotAnAccessToken, now, inactive);
        }
        let payload = serde_json::Value::Object(members).to_string();
        let mut raw = RawClaims::default();
        let judged = raw
            .parse_into(&payload)
            .and_then(|()| judge(issuer, index, &mut raw, &payload, now));
        drop(raw);
        match judged {
            Ok((fields, _times)) => {
                let claims = Arc::new(fields.with_json(payload));
                let exp = claims
                    .expires_at()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                let until = exp.min(now + settings.max_age.as_secs_f64());
                Judged {
                    outcome: Ok(claims),
                    until,
                    ttl: Duration::from_secs_f64((until - now).clamp(0.0, 86_400.0)),
                }
            }
            Err(rejection) => refused(rejection, now, inactive),
        }
    }
}

fn refused(rejection: Rejection, now: f64, for_seconds: f64) -> Judged {
    Judged {
        outcome: Err(rejection),
        until: now + for_seconds,
        ttl: Duration::from_secs_f64(for_seconds.max(0.0)),
    }
}

/// The answer when the endpoint could not give one.
pub(super) fn unavailable() -> Rejection {
    Rejection::IntrospectionUnavailable {
        retry_after: INTROSPECTION_RETRY,
    }
}

#[cfg(test)]
#[path = "opaque_tests.rs"]
mod tests;
