//! The synchronous pipeline: the verified-token cache, then parse, issuer, keys, signature
//! and claims (the binding and the gate's requirement follow, per request: `binding`). It never waits: where newer keys or issuer metadata
//! could change the answer, it stops ([`Stop`]) and `resume` finishes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Gate;
use crate::cache::Entry;
use crate::claims::{Claims, Fields, RawClaims, Times};
use crate::error::Rejection;
use crate::issuer::Issuer;
use crate::issuer::Selection;
use crate::jws::{self, Header, HeaderText, Signature};
use crate::keys::{KeyId, KeySet, VerifyingKey};

/// Which keys the pipeline verifies with.
#[derive(Clone, Copy)]
pub(super) enum Keys<'a> {
    /// The issuer's current keys; a miss may be cured by a refresh.
    Current,
    /// The issuer's keys just refreshed.
    Refreshed(&'a KeySet),
    /// A provider's other keys for this token (see `ProviderRules::fallback_keys`). Tokens
    /// verified with them are not cached: the cache checks keys against the issuer's own set.
    Fallback(&'a KeySet),
}

/// What the pipeline learned of a token on its way, for the record of a refusal: the
/// metrics' issuer label and the signals of suspicious use.
#[derive(Default)]
pub(super) struct Seen {
    /// The configured issuer the token names.
    pub(super) issuer: Option<usize>,
    /// The signature failed under a key the issuer holds.
    pub(super) held_key: bool,
    /// `alg` is no asymmetric algorithm tokengate knows: `none`, HMAC, or made up.
    pub(super) foreign_alg: bool,
    /// For a token refused for its times: seconds `nbf` or `iat` is ahead of now, or now is
    /// past `exp`.
    pub(super) skew: Option<f64>,
}

impl Seen {
    pub(super) fn issuer(index: usize) -> Seen {
        Seen {
            issuer: Some(index),
            ..Seen::default()
        }
    }
}

/// Why the synchronous pipeline stopped short of claims.
pub(super) enum Stop {
    Rejected(Rejection),
    /// The issuer's current keys have none that verifies the token; a refresh might.
    KeysMayBeOld {
        issuer: usize,
        rejection: Rejection,
        /// The token's `kid` (not verified): whether a refresh brought its key.
        kid: Option<Box<str>>,
        alg: crate::Algorithm,
        /// The generation of the keys the token was checked with: whether they changed since.
        read: u64,
        /// The key that did not verify the token, if one did not.
        failed: Option<KeyId>,
    },
    /// No configured issuer is `iss`, but metadata not fetched yet could name it.
    IssuersUnknown {
        iss: Box<str>,
    },
    /// An opaque token for this issuer's introspection endpoint, whose answer is not cached.
    Introspect {
        issuer: usize,
    },
    /// A valid JWT of an issuer that introspects its JWTs too, whose answer is not cached.
    IntrospectJwt {
        issuer: usize,
        claims: Arc<Claims>,
    },
}

impl Stop {
    pub(super) fn into_rejection(self) -> Rejection {
        match self {
            Stop::Rejected(rejection) | Stop::KeysMayBeOld { rejection, .. } => rejection,
            Stop::IssuersUnknown { .. } => Rejection::UntrustedIssuer,
            Stop::Introspect { .. } | Stop::IntrospectJwt { .. } => Rejection::MalformedToken,
        }
    }
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Rejected(rejection) => f.debug_tuple("Rejected").field(rejection).finish(),
            // The kid is not verified: never printed.
            Stop::KeysMayBeOld {
                issuer, rejection, ..
            } => f
                .debug_struct("KeysMayBeOld")
                .field("issuer", issuer)
                .field("rejection", rejection)
                .finish_non_exhaustive(),
            // The token's `iss` is not verified: never printed.
            Stop::IssuersUnknown { .. } => f.write_str("IssuersUnknown { .. }"),
            Stop::Introspect { issuer } | Stop::IntrospectJwt { issuer, .. } => f
                .debug_struct("Introspect")
                .field("issuer", issuer)
                .finish_non_exhaustive(),
        }
    }
}

impl From<Rejection> for Stop {
    fn from(rejection: Rejection) -> Stop {
        Stop::Rejected(rejection)
    }
}

/// The issuer's claim checks on claims whose origin is established (a verified signature, an
/// introspection answer), then the normalized fields: what every route to claims shares.
pub(super) fn judge(
    issuer: &Issuer,
    index: usize,
    raw: &mut RawClaims<'_>,
    payload: &str,
    now: f64,
) -> Result<(Fields, Option<Times>), Rejection> {
    let rules = issuer.rules.as_deref();
    let checked = issuer.claims.check(raw, now).and_then(|()| match rules {
        Some(rules) => rules.check_claims(raw),
        None => Ok(()),
    });
    if let Err(rejection) = checked {
        if let Some(rules) = rules {
            rules.explain(&rejection, raw);
        }
        return Err(rejection);
    }
    let times = raw.exp.map(|exp| issuer.claims.times(exp, raw));
    let kind = rules.and_then(|rules| rules.token_kind(raw));
    let mut fields = Fields::new(raw, payload);
    fields.issuer_index = u32::try_from(index).unwrap_or(u32::MAX);
    if let Some(kind) = kind {
        fields.token_kind = kind;
    }
    // Scopes and roles where the issuer puts them, read once, here.
    if let Some(sources) = &issuer.claims.sources {
        sources.apply(payload, &mut fields)?;
    }
    Ok((fields, times))
}

/// How far off a token's times were, for a refusal for them: seconds `nbf` or `iat` is
/// ahead of `now`, or `now` is past `exp`.
fn skew(rejection: &Rejection, raw: &RawClaims<'_>, now: f64) -> Option<f64> {
    match rejection {
        Rejection::TokenExpired => raw.exp.map(|exp| now - exp),
        Rejection::TokenNotYetValid => raw.nbf.map(|nbf| nbf - now),
        Rejection::IssuedInFuture => raw.iat.map(|iat| iat - now),
        _ => None,
    }
}

/// Seconds since the epoch (0 before it).
pub(super) fn seconds(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

impl Gate {
    /// The cache, then the pipeline with the issuer's current keys; notes a final rejection.
    pub(super) fn validate_current(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<Arc<Claims>, Stop> {
        // The size cap comes first, as in the pipeline: an oversized string is not even hashed.
        // Only JWSs are cached here, and a token without a dot is none (an opaque token's
        // answer is cached by its introspector): such a token skips this cache's lookup.
        if token.len() <= self.inner.max_token_size
            && memchr::memchr(b'.', token.as_bytes()).is_some()
            && let Some(answer) = self.cached(token, now)
        {
            return answer;
        }
        let mut seen = Seen::default();
        let result = self.pipeline(token, now, Keys::Current, &mut seen);
        if let Err(Stop::Rejected(rejection)) = &result {
            self.note(rejection, &seen);
        }
        result
    }

    /// The pipeline; `seen` gathers what a refusal's record needs.
    pub(super) fn pipeline(
        &self,
        token: &str,
        now: SystemTime,
        keys: Keys,
        seen: &mut Seen,
    ) -> Result<Arc<Claims>, Stop> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_size {
            return Err(Rejection::TokenTooLarge.into());
        }
        // Not a compact JWS, or not one whose header can be read: an opaque token, for the
        // issuer that introspects it, if one does.
        let opened = jws::split(token).and_then(|segments| {
            HeaderText::decode(segments.header).map(|header| (segments, header))
        });
        let (segments, header_text) = match opened {
            Ok(opened) => opened,
            Err(rejection) => return self.opaque(token, now, rejection, seen),
        };
        // The one algorithm refusal of the header's own checks: `alg` is none of ours.
        let header = Header::parse(header_text.as_str()).inspect_err(|rejection| {
            seen.foreign_alg = matches!(rejection, Rejection::UnsupportedAlgorithm);
        })?;
        let payload = jws::decode_text(segments.payload)?;
        let mut raw = RawClaims::default();
        raw.parse_into(&payload)?;

        let iss = raw
            .iss
            .as_deref()
            .ok_or_else(|| Rejection::missing("iss"))?;
        let index = match inner.issuers.select(iss) {
            Ok(index) => index,
            Err(Selection::Untrusted) => {
                inner.issuers.hint_untrusted(iss);
                return Err(Rejection::UntrustedIssuer.into());
            }
            Err(Selection::NotLearnedYet) => {
                return Err(Stop::IssuersUnknown {
                    iss: Box::from(iss),
                });
            }
        };
        seen.issuer = Some(index);
        let issuer = inner.issuers.get(index);
        let alg = header
            .alg
            .filter(|alg| issuer.algorithms.contains(alg))
            .ok_or(Rejection::UnsupportedAlgorithm)?;
        if !issuer
            .claims
            .token_profile
            .accepts_typ(header.typ.as_deref())
        {
            return Err(Rejection::InvalidTokenType.into());
        }
        let signature = Signature::decode(segments.signature)?;

        let kid = header.kid.as_deref();
        let rules = issuer.rules.as_deref();
        let verify = |key: &VerifyingKey| {
            if let Some(rules) = rules
                && !rules.key_may_sign(key, &raw)
            {
                return Err(Rejection::KeyIssuerMismatch);
            }
            Ok((
                key.verify(segments.signing_input, signature.as_bytes()),
                key.id(),
            ))
        };
        let (read, selected) = match keys {
            Keys::Refreshed(keys) | Keys::Fallback(keys) => {
                (keys.generation(), keys.select(kid, alg).and_then(verify))
            }
            // A lock-free read of the current set, released before returning.
            Keys::Current => issuer
                .keys
                .with_current(|keys| (keys.generation(), keys.select(kid, alg).and_then(verify))),
        };
        let (rejection, key_id, failed) = match selected {
            Ok((true, id)) => (None, Some(id), None),
            Ok((false, id)) => {
                seen.held_key = true;
                (Some(Rejection::InvalidSignature), None, Some(id))
            }
            Err(rejection) => (Some(rejection), None, None),
        };
        let may_refresh = matches!(keys, Keys::Current) && issuer.keys.is_remote();
        match rejection {
            None => {}
            // No key for the token: a newer fetched set may have it (see `Remote::after_miss`).
            Some(rejection @ (Rejection::UnknownKey | Rejection::MissingKeyId)) if may_refresh => {
                return Err(Stop::KeysMayBeOld {
                    issuer: index,
                    rejection,
                    kid: kid.map(Box::from),
                    alg,
                    read,
                    failed,
                });
            }
            // A key the set holds does not verify it: only a key replaced under the same kid
            // (or without kids) could, so the slow path is taken only when the limits would
            // start a refresh now, a refresh is running to join, or the keys changed since they
            // were read; otherwise the answer is final at once, during an outage too.
            Some(Rejection::InvalidSignature)
                if may_refresh
                    && (issuer.keys.misses_may_refresh() || issuer.keys.changed_since(read)) =>
            {
                return Err(Stop::KeysMayBeOld {
                    issuer: index,
                    rejection: Rejection::InvalidSignature,
                    kid: kid.map(Box::from),
                    alg,
                    read,
                    failed,
                });
            }
            Some(rejection) => return Err(rejection.into()),
        }

        let now = seconds(now);
        let (fields, times) = judge(issuer, index, &mut raw, &payload, now)
            .inspect_err(|rejection| seen.skew = skew(rejection, &raw, now))?;
        drop(raw);
        let claims = Arc::new(fields.with_json(payload));
        let cache = inner
            .cache
            .as_ref()
            .filter(|_| !matches!(keys, Keys::Fallback(_)));
        if let (Some(cache), Some(times), Some(key)) = (cache, times, key_id) {
            let entry = Entry {
                claims: Arc::clone(&claims),
                issuer: index,
                key,
                times,
            };
            cache.insert(token, entry, now);
        }
        Ok(claims)
    }

    /// A verified token answered from the cache, if it is there, current at `now`, and its key
    /// is still in its issuer's key set.
    fn cached(&self, token: &str, now: SystemTime) -> Option<Result<Arc<Claims>, Stop>> {
        let inner = &*self.inner;
        let hit = inner
            .cache
            .as_ref()?
            .get(token, seconds(now), |issuer, key| {
                (inner.issuers.get(issuer).keys).with_current(|keys| keys.contains(key))
            });
        inner.verdicts.token_cache(hit.is_some());
        Some(Ok(hit?))
    }
}
