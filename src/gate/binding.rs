//! The per-request step after the token itself is judged (from the cache or the pipeline):
//! whether the request proves the key the token is bound to (a DPoP proof, a client
//! certificate), then the gate's requirement. It runs on every request, cache hits included:
//! the cache remembers verified tokens, never proofs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use url::Url;

use super::Gate;
use super::pipeline::{Seen, seconds};
use super::presented::{DpopRequest, Presented};
use crate::claims::Claims;
use crate::dpop::DpopState;
use crate::dpop::proof::{self, Checked, Expected, ProofError};
use crate::error::Rejection;
use crate::observe::{self, Signal};

/// When a client may retry after the replay store failed to answer.
const REPLAY_STORE_RETRY: Duration = Duration::from_secs(2);

/// A token the request presented as it must: accepted, or accepted once its proof is
/// recorded as used.
pub(crate) enum Admitted {
    Done(Arc<Claims>),
    /// The proof passed every check; the replay store must still say it is new.
    Replay(ReplayCheck),
}

/// A proof to record before its token is accepted.
pub(crate) struct ReplayCheck {
    claims: Arc<Claims>,
    proof: Checked,
}

impl Gate {
    /// The binding, then the requirement, for claims of a token already judged valid.
    #[inline]
    pub(super) fn admit(
        &self,
        claims: Arc<Claims>,
        presented: &Presented<'_>,
        now: SystemTime,
    ) -> Result<Admitted, Rejection> {
        let bound = claims.confirmation().is_some();
        let seen = || Seen::issuer(claims.issuer_index());
        let proof = if bound || presented.dpop.is_some() || presented.require_dpop {
            self.bind(&claims, presented, now)
                .inspect_err(|rejection| {
                    self.note(rejection, &seen());
                    // RFC 9449 §7.2: a DPoP-bound token without its proof may be a stolen one.
                    if presented.dpop.is_none()
                        && matches!(rejection, Rejection::SenderConstrainedToken)
                        && claims.confirmation().is_some_and(|cnf| cnf.jkt.is_some())
                    {
                        self.raise(Signal::DpopTokenAsBearer, &claims);
                    }
                })?
        } else {
            None
        };
        if let Some(requirement) = &self.inner.requirement
            && let Err(rejection) = requirement.check_shared(&claims)
        {
            self.note(&rejection, &seen());
            return Err(rejection);
        }
        Ok(match proof {
            None => {
                self.accepted(&claims);
                Admitted::Done(claims)
            }
            Some(proof) => Admitted::Replay(ReplayCheck { claims, proof }),
        })
    }

    /// Whether the request proves what the token is bound to; the proof to record, if any.
    fn bind(
        &self,
        claims: &Claims,
        presented: &Presented<'_>,
        now: SystemTime,
    ) -> Result<Option<Checked>, Rejection> {
        let cnf = claims.confirmation();
        // RFC 8705 §3: the connection's certificate must be the bound one.
        if let Some(x5t) = cnf.and_then(|cnf| cnf.x5t_s256.as_deref()) {
            match &presented.certificate {
                None => return Err(Rejection::SenderConstrainedToken),
                Some(certificate) if !certificate.matches(x5t) => {
                    return Err(Rejection::TokenBindingMismatch);
                }
                Some(_) => {}
            }
        }
        let jkt = cnf.and_then(|cnf| cnf.jkt.as_deref());
        match (presented.dpop, jkt) {
            // RFC 9449 §7.2: a DPoP-bound token is never a bearer token.
            (None, Some(_)) => Err(Rejection::SenderConstrainedToken),
            (None, None) if presented.require_dpop => Err(Rejection::DpopRequired),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Rejection::TokenNotBound),
            (Some(request), Some(jkt)) => {
                // An issuer without DPoP has its bound tokens refused by the claim checks, so
                // a gate without DPoP settings never gets here; refusing is the safe answer.
                let state = self
                    .inner
                    .dpop
                    .as_ref()
                    .ok_or(Rejection::SenderConstrainedToken)?;
                check_proof(state, presented.token, request, jkt, seconds(now)).map(Some)
            }
        }
    }

    /// Records the proof as used: the token is accepted if this is its first use.
    pub(crate) async fn record(&self, check: ReplayCheck) -> Result<Arc<Claims>, Rejection> {
        let Some(state) = &self.inner.dpop else {
            return Err(Rejection::SenderConstrainedToken);
        };
        let answer = state
            .store
            .first_use(&check.proof.id, check.proof.ttl)
            .await;
        observe::replay_check(answer.as_ref().map(|&first| first).map_err(|_| ()));
        let rejection = match answer {
            Ok(true) => {
                self.accepted(&check.claims);
                return Ok(check.claims);
            }
            Ok(false) => Rejection::DpopProofReplayed,
            Err(error) => {
                // Once a minute: an outage, or a flood that fills the store, must not flood
                // the logs too; each refusal is still a DEBUG event below.
                crate::diagnostic::hint!(%error, "DPoP proofs refused: the replay store did not answer");
                Rejection::ReplayStoreUnavailable {
                    retry_after: REPLAY_STORE_RETRY,
                }
            }
        };
        self.note(&rejection, &Seen::issuer(check.claims.issuer_index()));
        Err(rejection)
    }
}

/// The proof checks of RFC 9449 §4.3, but `jti` uniqueness.
fn check_proof(
    state: &DpopState,
    token: &str,
    request: DpopRequest<'_>,
    jkt: &str,
    now: f64,
) -> Result<Checked, Rejection> {
    let uri = Url::parse(request.uri).map_err(|_| Rejection::InvalidDpopProof { check: "htu" })?;
    let accepts = |nonce: &str| state.nonces.as_ref().is_some_and(|n| n.accepts(nonce, now));
    let expected = Expected {
        method: request.method,
        uri: &uri,
        token,
        jkt,
        algorithms: &state.algorithms,
        now,
        max_age: state.proof_lifetime,
        leeway: state.leeway,
        nonce: state
            .nonces
            .as_ref()
            .map(|_| &accepts as &dyn Fn(&str) -> bool),
        keys: Some(&state.keys),
    };
    proof::check(request.proof, &expected).map_err(|error| {
        let check = match error {
            ProofError::KeyMismatch => return Rejection::TokenBindingMismatch,
            ProofError::Nonce => {
                let nonce = state
                    .nonces
                    .as_ref()
                    .map(|nonces| nonces.current(now))
                    .unwrap_or_default();
                return Rejection::UseDpopNonce {
                    nonce: Arc::from(nonce),
                };
            }
            ProofError::Malformed => "syntax",
            ProofError::Type => "typ",
            ProofError::Algorithm => "alg",
            ProofError::Key => "jwk",
            ProofError::Signature => "signature",
            ProofError::Method => "htm",
            ProofError::Uri => "htu",
            ProofError::Time => "iat",
            ProofError::TokenHash => "ath",
        };
        Rejection::InvalidDpopProof { check }
    })
}
