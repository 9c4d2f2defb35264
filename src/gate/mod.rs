//! The validator handle: built once, cloned cheaply, shared across threads.

mod binding;
mod builder;
mod opaque;
mod pipeline;
mod presented;
mod resume;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use binding::Admitted;
pub(crate) use binding::ReplayCheck;
pub use builder::GateBuilder;
pub(crate) use presented::OwnedPresented;
pub use presented::Presented;

use crate::cache::Verified;
use crate::claims::Claims;
use crate::dpop::DpopState;
use crate::error::Rejection;
use crate::issuer::IssuerTable;
use crate::keys::KeyStatus;
use crate::observe::{Signal, Signals, Started, Verdicts};
use crate::policy::Requirement;
use pipeline::{Seen, Stop};

/// The default [`max_token_size`](GateBuilder::max_token_size): 64 KiB.
///
/// An Entra token at its group limit (200 group ids before the overage claim replaces them)
/// is about 12 KB; Microsoft's own libraries accept up to 250 KiB.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 64 * 1024;

/// Validates access tokens: the framework-free core of tokengate.
///
/// A `Gate` holds the configured issuers with their keys. Cloning it is cheap (one `Arc`), and
/// every clone shares the same state. [`validate`](Gate::validate) runs the whole pipeline:
///
/// 1. size cap, then strict compact-JWS parsing (no trust yet);
/// 2. the unverified `iss` chooses among the configured issuers only (it is never turned into
///    a URL);
/// 3. the issuer's algorithm allowlist and `typ` policy;
/// 4. the key, by `kid`, from that issuer's keys only; the token's `alg` must equal the key's;
/// 5. the signature;
/// 6. the claims: not another kind of token, audience, expiry, not-before, issued-at with
///    leeway, maximum age, required claims;
/// 7. for a token bound to a key, the proof of that key
///    ([`validate_presented`](Gate::validate_presented));
/// 8. the [`require`](GateBuilder::require)d scopes and roles, if any.
///
/// ```
/// use tokengate::{Gate, IssuerProfile};
///
/// # const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"doc-key-1",
/// #   "x":"yVWIuJ7T2PLM2VQLvV4UGXTrH_ztqVFztfzO5Weiquo","y":"huspzQOl6LHhixZ38s-3Mdqb2HT3F9xJczjAkJDw0_A"}]}"#;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tokengate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new("https://login.example.com/")
///             .audience("api://orders")
///             .jwks(JWKS),
///     )
///     .build()?;
///
/// let rejection = gate.validate("not a token").await.unwrap_err();
/// assert_eq!(rejection.code(), "malformed_token");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

struct GateInner {
    issuers: IssuerTable,
    /// When to retry, if metadata that names issuers could not be fetched.
    retry_hint: Duration,
    /// Tokens verified before.
    cache: Option<Verified>,
    max_token_size: usize,
    requirement: Option<Arc<Requirement>>,
    /// How DPoP proofs are checked, when an issuer accepts DPoP-bound tokens.
    dpop: Option<DpopState>,
    /// Whether some issuer accepts tokens that are not DPoP-bound.
    bearer: bool,
    /// The issuers that introspect opaque tokens, in the order configured.
    opaque: Box<[usize]>,
    /// Whether some issuer introspects its JWTs too.
    introspect_jwts: bool,
    /// The metrics of verdicts, by issuer.
    verdicts: Verdicts,
    /// Signals of suspicious use.
    signals: Signals,
}

/// What the gate can answer without waiting ([`Gate::check_now`]): how the tower layer talks
/// to it.
pub(crate) enum Checked {
    /// The answer.
    Done(Result<Arc<Claims>, Rejection>),
    /// The answer needs newer keys or issuer metadata: [`Gate::finish`] waits for them.
    Pending(Pending),
    /// The token and its proof are good; [`Gate::record`] asks the replay store whether the
    /// proof is new.
    Replay(ReplayCheck),
}

/// A validation waiting for a key refresh or issuer metadata.
#[derive(Debug)]
pub(crate) struct Pending(Stop);

impl Gate {
    /// Starts a configuration.
    pub fn builder() -> GateBuilder {
        GateBuilder::new()
    }

    /// Validates a bearer token (the credential only, without a `Bearer ` prefix) at the
    /// current time. Tokens bound to a key (`cnf`) are refused: see
    /// [`validate_presented`](Self::validate_presented).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate(&self, token: &str) -> Result<Arc<Claims>, Rejection> {
        self.validate_at(token, SystemTime::now()).await
    }

    /// Validates a bearer token as if the time were `now`: for tests, and for replaying
    /// recorded tokens inside their lifetime.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate_at(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<Arc<Claims>, Rejection> {
        // Everything but a key-set refresh is synchronous, so this future stays small and the
        // common path never suspends; a bearer token never waits for a replay store.
        let started = Started::now();
        let claims = match self.current(token, now) {
            Ok(claims) => Ok(claims),
            Err(stop) => self.resume(token, Some(now), stop).await,
        };
        let result = claims.and_then(|claims| self.admit(claims, &Presented::bearer(token), now));
        self.inner.verdicts.done(started);
        match result? {
            Admitted::Done(claims) => Ok(claims),
            // Only a DPoP proof is recorded, and a bearer token has none.
            Admitted::Replay(_) => Err(Rejection::SenderConstrainedToken),
        }
    }

    /// Validates a token as the request presented it: with a DPoP proof (RFC 9449) or a
    /// client certificate (RFC 8705) where the token is bound to one. A cached token still has
    /// its proof checked: the cache holds verified tokens, never proofs.
    ///
    /// ```
    /// use http::Method;
    /// use tokengate::{Gate, Presented};
    ///
    /// # async fn demo(gate: Gate, token: &str, proof: &str) {
    /// let presented = Presented::dpop(token, proof, &Method::POST, "https://api.example.com/orders");
    /// match gate.validate_presented(presented).await {
    ///     Ok(claims) => println!("{:?}", claims.subject()),
    ///     Err(rejection) => println!("refused: {}", rejection.code()),
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate_presented(
        &self,
        presented: Presented<'_>,
    ) -> Result<Arc<Claims>, Rejection> {
        self.validate_presented_at(presented, SystemTime::now())
            .await
    }

    /// [`validate_presented`](Self::validate_presented) as if the time were `now`.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate_presented_at(
        &self,
        presented: Presented<'_>,
        now: SystemTime,
    ) -> Result<Arc<Claims>, Rejection> {
        // Everything but a key-set refresh and a replay store's answer is synchronous, so
        // this future stays small and the common path never suspends.
        let started = Started::now();
        let claims = match self.current(presented.token, now) {
            Ok(claims) => Ok(claims),
            Err(stop) => self.resume(presented.token, Some(now), stop).await,
        };
        let result = match claims.and_then(|claims| self.admit(claims, &presented, now)) {
            Ok(Admitted::Done(claims)) => Ok(claims),
            Ok(Admitted::Replay(check)) => self.record(check).await,
            Err(rejection) => Err(rejection),
        };
        self.inner.verdicts.done(started);
        result
    }

    /// The synchronous part of validation: the answer, or what it waits for. Lets the layer
    /// avoid a boxed future on the common path.
    #[inline]
    pub(crate) fn check_now(&self, presented: &Presented<'_>, now: SystemTime) -> Checked {
        match self.current(presented.token, now) {
            Ok(claims) => match self.admit(claims, presented, now) {
                Ok(Admitted::Done(claims)) => Checked::Done(Ok(claims)),
                Ok(Admitted::Replay(check)) => Checked::Replay(check),
                Err(rejection) => Checked::Done(Err(rejection)),
            },
            Err(Stop::Rejected(rejection)) => Checked::Done(Err(rejection)),
            Err(stop) => Checked::Pending(Pending(stop)),
        }
    }

    /// Finishes a validation that [`check_now`](Self::check_now) left pending, at `now` or,
    /// if `None`, at the time the wait is over.
    pub(crate) async fn finish(
        &self,
        presented: &OwnedPresented,
        now: Option<SystemTime>,
        pending: Pending,
    ) -> Result<Arc<Claims>, Rejection> {
        let claims = self.resume(&presented.token, now, pending.0).await?;
        let now = now.unwrap_or_else(SystemTime::now);
        match self.admit(claims, &presented.borrow(), now)? {
            Admitted::Done(claims) => Ok(claims),
            Admitted::Replay(check) => self.record(check).await,
        }
    }

    /// The token's claims from the cache or the synchronous pipeline, and its issuer's cached
    /// introspection answer where it introspects JWTs too.
    #[inline]
    fn current(&self, token: &str, now: SystemTime) -> Result<Arc<Claims>, Stop> {
        let claims = self.validate_current(token, now)?;
        self.jwt_revocation(token, claims, now)
    }

    /// The `algs` of the `DPoP` challenge, if some issuer accepts DPoP-bound tokens.
    pub(crate) fn dpop_algs(&self) -> Option<&str> {
        self.inner.dpop.as_ref().map(|dpop| &*dpop.algs)
    }

    /// Whether some issuer accepts tokens that are not DPoP-bound.
    pub(crate) fn accepts_bearer(&self) -> bool {
        self.inner.bearer
    }

    /// The record of a refused token, once per validation: a DEBUG event with the stable code
    /// and the configured issuer it claimed (never the token, its claims or key material),
    /// the metrics, and the signals of suspicious use it raises.
    fn note(&self, rejection: &Rejection, seen: &Seen) {
        let inner = &*self.inner;
        let issuer = seen.issuer.map(|index| inner.issuers.name(index));
        match issuer {
            Some(issuer) => {
                tracing::debug!(code = rejection.code(), %issuer, "access token rejected")
            }
            None => tracing::debug!(code = rejection.code(), "access token rejected"),
        }
        inner.verdicts.refused(rejection, seen.issuer);
        let signals = &inner.signals;
        match rejection {
            Rejection::InvalidSignature if seen.held_key => {
                signals.raise(Signal::ForgedSignature, issuer, None);
            }
            Rejection::UnsupportedAlgorithm if seen.foreign_alg => {
                signals.raise(Signal::AlgorithmConfusion, issuer, None);
            }
            Rejection::KeyAlgorithmMismatch => {
                signals.raise(Signal::AlgorithmConfusion, issuer, None);
            }
            Rejection::UnknownKey | Rejection::MissingKeyId => signals.unknown_key(issuer),
            Rejection::TokenExpired => signals.expired(issuer, seen.skew),
            Rejection::TokenNotYetValid | Rejection::IssuedInFuture => {
                signals.raise(Signal::TokenFromFuture, issuer, seen.skew);
            }
            _ => {}
        }
    }

    /// The record of an accepted token.
    #[inline]
    fn accepted(&self, claims: &Claims) {
        self.inner.verdicts.accepted(claims.issuer_index());
    }

    /// Records the duration of a validation the layer ran.
    #[inline]
    pub(crate) fn done(&self, started: Started) {
        self.inner.verdicts.done(started);
    }

    /// Raises a signal of suspicious use about an accepted token's use, naming its configured
    /// issuer (never the token's own `iss`, which a multi-tenant issuer lets clients vary).
    pub(crate) fn raise(&self, signal: Signal, claims: &Claims) {
        let issuer = self.inner.issuers.name(claims.issuer_index());
        self.inner.signals.raise(signal, Some(issuer), None);
    }

    /// Fetches every issuer's keys now, where they come from the network and are not loaded
    /// yet, instead of on first use. Call it at start-up to fail fast or to be ready for the
    /// first request.
    ///
    /// # Errors
    ///
    /// [`WarmUpError`], naming each issuer whose keys could not be had and why; validation
    /// still works for the others, and retries the failed ones on later requests.
    ///
    /// ```no_run
    /// # async fn start(gate: tokengate::Gate) {
    /// if let Err(error) = gate.warm_up().await {
    ///     eprintln!("starting without some keys: {error}");
    /// }
    /// # }
    /// ```
    pub async fn warm_up(&self) -> Result<(), WarmUpError> {
        // Every fetch starts before any is waited on: they run at once.
        let started: Vec<_> = self
            .inner
            .issuers
            .iter()
            .map(|(issuer, name)| (issuer.keys.start_warm_up(), name))
            .collect();
        let mut failures = Vec::new();
        for (warm_up, name) in started {
            if let Err(reason) = warm_up.finish().await {
                failures.push(format!("issuer {name:?}: {reason}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(WarmUpError { failures })
        }
    }

    /// Where each issuer's keys stand, for health checks.
    ///
    /// ```
    /// # fn health(gate: &tokengate::Gate) {
    /// for status in gate.key_status() {
    ///     println!("{}: {} keys, usable: {}, last refresh ok: {:?}",
    ///         status.issuer, status.keys, status.usable, status.last_refresh_ok);
    /// }
    /// # }
    /// ```
    pub fn key_status(&self) -> Vec<KeyStatus> {
        self.inner
            .issuers
            .iter()
            .map(|(issuer, name)| issuer.keys.status(name))
            .collect()
    }

    /// The introspection of the issuer at `index`, for tests.
    #[cfg(test)]
    pub(crate) fn introspector(&self, index: usize) -> Option<&crate::introspection::Introspector> {
        self.inner.issuers.get(index).introspection.as_ref()
    }

    /// How many tokens the verified-token cache holds.
    #[cfg(test)]
    pub(crate) fn cache_entries(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, Verified::entries)
    }

    /// Whether every issuer has usable keys: the readiness probe.
    pub fn is_ready(&self) -> bool {
        self.key_status().iter().all(|status| status.usable)
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("issuers", &self.inner.issuers.names())
            .field("max_token_size", &self.inner.max_token_size)
            .field("requirement", &self.inner.requirement)
            .finish_non_exhaustive()
    }
}

/// Some issuers' keys could not be loaded by [`Gate::warm_up`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarmUpError {
    failures: Vec<String>,
}

impl WarmUpError {
    /// One sentence per issuer whose keys could not be had.
    pub fn failures(&self) -> impl ExactSizeIterator<Item = &str> {
        self.failures.iter().map(String::as_str)
    }
}

impl fmt::Display for WarmUpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::error::write_list(f, "keys could not be loaded", &self.failures)
    }
}

impl std::error::Error for WarmUpError {}
