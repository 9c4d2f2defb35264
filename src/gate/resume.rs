//! Finishing a validation the synchronous pipeline stopped: fetch the issuer metadata that
//! could name the token's `iss`, or refresh the issuer's keys once (shared with every request
//! waiting for it, within the limits on refreshes for missing keys), then a provider's other
//! keys.

use std::sync::Arc;
use std::time::SystemTime;

use super::Gate;
use super::pipeline::{Keys, Seen, Stop};
use crate::claims::{Claims, RawClaims};
use crate::error::Rejection;
use crate::jws;
use crate::keys::{Miss, Remote, Wanted};

impl Gate {
    /// Finishes a validation that stopped at the synchronous pipeline, at `now` or, if
    /// `None`, at the time the refresh is done.
    pub(super) async fn resume(
        &self,
        token: &str,
        now: Option<SystemTime>,
        stop: Stop,
    ) -> Result<Arc<Claims>, Rejection> {
        let claims = match stop {
            Stop::IntrospectJwt { issuer, claims } => {
                return self.introspect_jwt(token, issuer, claims, now).await;
            }
            stop => self.resume_token(token, now, stop).await?,
        };
        // A JWT judged on the slow path still needs its issuer's introspection, if it asks.
        match self.jwt_revocation(token, claims, now.unwrap_or_else(SystemTime::now)) {
            Ok(claims) => Ok(claims),
            Err(Stop::IntrospectJwt { issuer, claims }) => {
                self.introspect_jwt(token, issuer, claims, now).await
            }
            Err(stop) => Err(stop.into_rejection()),
        }
    }

    /// The token's own claims, once what the synchronous pipeline waited for is there.
    async fn resume_token(
        &self,
        token: &str,
        now: Option<SystemTime>,
        stop: Stop,
    ) -> Result<Arc<Claims>, Rejection> {
        let issuers = &self.inner.issuers;
        let stop = match stop {
            Stop::Introspect { issuer } => {
                let result = self.introspect(token, issuer, now).await;
                if let Err(rejection) = &result {
                    self.note(rejection, &Seen::issuer(issuer));
                }
                return result;
            }
            Stop::IntrospectJwt { .. } => return Err(Rejection::MalformedToken),
            Stop::IssuersUnknown { iss } => {
                issuers.learn(&iss).await;
                let now = now.unwrap_or_else(SystemTime::now);
                // The pipeline, not `validate_current`: the cache was asked already.
                let mut seen = Seen::default();
                match self.pipeline(token, now, Keys::Current, &mut seen) {
                    Ok(claims) => return Ok(claims),
                    Err(Stop::Rejected(rejection)) => {
                        self.note(&rejection, &seen);
                        return Err(rejection);
                    }
                    Err(Stop::IssuersUnknown { .. }) => {
                        // The token may come from an issuer whose metadata is out of reach.
                        let rejection = Rejection::KeysUnavailable {
                            retry_after: self.inner.retry_hint,
                        };
                        self.note(&rejection, &Seen::default());
                        return Err(rejection);
                    }
                    Err(stop) => stop,
                }
            }
            stop => stop,
        };
        let (index, rejection, kid, alg, read, failed) = match stop {
            Stop::Rejected(rejection) => return Err(rejection),
            Stop::KeysMayBeOld {
                issuer,
                rejection,
                kid,
                alg,
                read,
                failed,
            } => (issuer, rejection, kid, alg, read, failed),
            // Every issuer is named now, so the pipeline cannot stop here again.
            Stop::IssuersUnknown { .. } => return Err(Rejection::UntrustedIssuer),
            // Only an opaque token stops here, and a stop for metadata never leads to it; the
            // synchronous pipeline never stops for a JWT's introspection.
            Stop::Introspect { .. } | Stop::IntrospectJwt { .. } => {
                return Err(Rejection::MalformedToken);
            }
        };
        let at = || now.unwrap_or_else(SystemTime::now);
        // Other keys the provider holds already answer before any refresh of the issuer's
        // own, also while those cannot be fetched.
        if let Some(claims) = self.held_fallback(token, at(), index) {
            return Ok(claims);
        }
        // A signature that failed under a key the set holds stays refused whatever the
        // refresh; only a missing key may be out of reach (503).
        let held = matches!(rejection, Rejection::InvalidSignature);
        let mut seen = Seen {
            held_key: held && failed.is_some(),
            ..Seen::issuer(index)
        };
        let wanted = Wanted {
            kid: kid.as_deref(),
            alg,
            read,
            failed,
        };
        let result = match issuers.get(index).keys.after_miss(wanted).await {
            // The token is parsed again: rare, and only after a refresh.
            Miss::Refreshed(newer) => self
                .pipeline(token, at(), Keys::Refreshed(&newer), &mut seen)
                .map_err(Stop::into_rejection),
            Miss::Unchanged => Err(rejection),
            Miss::Unavailable { .. } if held => Err(rejection),
            Miss::Unavailable { retry_after } => Err(Rejection::KeysUnavailable { retry_after }),
        };
        let result = match result {
            Err(Rejection::UnknownKey) => self
                .with_fallback(token, at(), index, kid.as_deref(), alg, &mut seen)
                .await
                .unwrap_or(Err(Rejection::UnknownKey)),
            result => result,
        };
        if let Err(rejection) = &result {
            seen.issuer = Some(index);
            self.note(rejection, &seen);
        }
        result
    }

    /// A token whose key the issuer's own keys lack, checked with the provider's other keys
    /// for it (admitting a new store if the provider allows); `None` if there are none to
    /// check with, and the first answer stands.
    async fn with_fallback(
        &self,
        token: &str,
        now: SystemTime,
        index: usize,
        kid: Option<&str>,
        alg: crate::Algorithm,
        seen: &mut Seen,
    ) -> Option<Result<Arc<Claims>, Rejection>> {
        let store = self.fallback_store(token, index, true)?;
        let (read, first) = store.with_current(|keys| {
            let first = self.pipeline(token, now, Keys::Fallback(keys), seen);
            (keys.generation(), first)
        });
        let wanted = Wanted {
            kid,
            alg,
            read,
            failed: None,
        };
        match first {
            Err(Stop::Rejected(Rejection::UnknownKey)) => match store.after_miss(wanted).await {
                Miss::Refreshed(newer) => Some(
                    self.pipeline(token, now, Keys::Fallback(&newer), seen)
                        .map_err(Stop::into_rejection),
                ),
                Miss::Unchanged | Miss::Unavailable { .. } => None,
            },
            first => Some(first.map_err(Stop::into_rejection)),
        }
    }

    /// The claims, if the provider holds other keys for the token already and they verify it.
    fn held_fallback(&self, token: &str, now: SystemTime, index: usize) -> Option<Arc<Claims>> {
        let store = self.fallback_store(token, index, false)?;
        let mut seen = Seen::default();
        store
            .with_current(|keys| self.pipeline(token, now, Keys::Fallback(keys), &mut seen))
            .ok()
    }

    /// The provider's other key store for the token, if its issuer has a provider that keeps
    /// one; a new one only if `admit` and the provider allows.
    fn fallback_store(&self, token: &str, index: usize, admit: bool) -> Option<Arc<Remote>> {
        let issuer = self.inner.issuers.get(index);
        let rules = issuer.rules.as_ref()?;
        let parent = issuer.keys.remote()?;
        // The claims are not verified yet: they only choose where to look for the key, which
        // then verifies the token like any other.
        let payload = jws::decode_text(jws::split(token).ok()?.payload).ok()?;
        let mut raw = RawClaims::default();
        raw.parse_into(&payload).ok()?;
        rules.fallback_keys(&raw, parent, admit)
    }
}
