//! How a gate accepts DPoP: per issuer ([`DpopMode`]) and for the whole gate ([`Dpop`]: proof
//! algorithms, window, replay store, server nonces).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::keys::ProofKeys;
use super::nonce::Nonces;
use super::replay::{MemoryReplayStore, ReplayStore};
use crate::Algorithm;

/// Whether an issuer's tokens may, or must, be DPoP-bound (RFC 9449), set with
/// [`IssuerProfile::dpop`](crate::IssuerProfile::dpop).
///
/// A DPoP-bound token (one with `cnf.jkt`) is accepted only with the `DPoP` scheme and a valid
/// proof of its key; presented as a bearer token it is always refused
/// (`sender_constrained_token`, RFC 9449 §7.2), whatever the mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopMode {
    /// Bearer tokens only (the default): DPoP-bound tokens are refused.
    #[default]
    Off,
    /// Bearer tokens, and DPoP-bound tokens with their proofs.
    Allowed,
    /// DPoP-bound tokens only: a token without `cnf.jkt` is refused (`dpop_required`).
    Required,
}

/// The gate's DPoP settings ([`GateBuilder::dpop`](crate::GateBuilder::dpop)): which proofs
/// it accepts and where it remembers them. Issuers opt in with
/// [`IssuerProfile::dpop`](crate::IssuerProfile::dpop); these defaults apply when they do.
///
/// A proof is accepted once ([`ReplayStore`]), if it is at most
/// [`proof_lifetime`](Self::proof_lifetime) old by its `iat` (with
/// [`leeway`](Self::leeway) either way). A fleet of instances behind a load balancer needs a
/// shared store (such as `RedisReplayStore`, feature `redis`), or a proof replayed to
/// another instance would pass there; and, with [`nonces`](Self::nonces), a shared
/// [`nonce_secret`](Self::nonce_secret).
///
/// ```
/// use std::time::Duration;
/// use tokengate::{Algorithm, Dpop, DpopMode, Gate, IssuerProfile, MemoryReplayStore};
///
/// # let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new("https://login.example.com/")
///             .audience("api://orders")
///             .jwks(jwks)
///             .dpop(DpopMode::Required),
///     )
///     .dpop(
///         Dpop::new()
///             .algorithms([Algorithm::ES256, Algorithm::EdDSA])
///             .proof_lifetime(Duration::from_secs(30))
///             .replay_store(MemoryReplayStore::new(50_000)),
///     )
///     .build();
/// assert!(gate.is_ok());
/// ```
#[derive(Clone)]
#[must_use = "settings do nothing until given to GateBuilder::dpop"]
pub struct Dpop {
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) proof_lifetime: Duration,
    pub(crate) leeway: Duration,
    pub(crate) store: Option<Arc<dyn ReplayStore>>,
    pub(crate) nonce_rotation: Option<Duration>,
    pub(crate) nonce_secret: Option<[u8; 32]>,
}

/// The longest proof window accepted: proofs are meant to be fresh (RFC 9449 §11.1).
const MAX_PROOF_LIFETIME: Duration = Duration::from_secs(600);

impl Dpop {
    /// The defaults: every asymmetric [`Algorithm`], proofs at most 60 s old with 5 s of
    /// leeway, the embedded [`MemoryReplayStore`] with its default capacity, no nonces.
    pub fn new() -> Dpop {
        Dpop {
            algorithms: Algorithm::ALL.to_vec(),
            proof_lifetime: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            store: None,
            nonce_rotation: None,
            nonce_secret: None,
        }
    }

    /// The algorithms proofs may be signed with (advertised in the `DPoP` challenge's `algs`).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Dpop {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How old a proof may be by its `iat` (default 60 s, at most 10 minutes). The replay store
    /// keeps each proof id until its proof is too old to pass: up to this long plus twice the
    /// leeway.
    pub fn proof_lifetime(mut self, lifetime: Duration) -> Dpop {
        self.proof_lifetime = lifetime;
        self
    }

    /// Clock skew allowed between clients and this server, either way (default 5 s, at most
    /// 5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Dpop {
        self.leeway = leeway;
        self
    }

    /// Where proof ids are remembered (default: a [`MemoryReplayStore`] of this process).
    pub fn replay_store(mut self, store: impl ReplayStore) -> Dpop {
        self.store = Some(Arc::new(store));
        self
    }

    /// Server nonces (RFC 9449 §9): every proof must carry the current nonce, which changes
    /// every `rotation` (at least 10 s); the previous one stays accepted for one more period.
    /// A proof without it is refused with `use_dpop_nonce` and a `DPoP-Nonce` header naming
    /// the current one. Nonces bound how long a proof made in advance stays usable.
    pub fn nonces(mut self, rotation: Duration) -> Dpop {
        self.nonce_rotation = Some(rotation);
        self
    }

    /// The secret nonces are derived from (default: random per gate). Instances behind one
    /// load balancer need the same secret, or a nonce from one is refused by the others.
    pub fn nonce_secret(mut self, secret: [u8; 32]) -> Dpop {
        self.nonce_secret = Some(secret);
        self
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.algorithms.is_empty() {
            problems.push("dpop: no proof algorithm allowed".to_owned());
        }
        if self.proof_lifetime.is_zero() || self.proof_lifetime > MAX_PROOF_LIFETIME {
            problems.push(format!(
                "dpop: proof_lifetime {:?} is outside (0, 10 minutes]",
                self.proof_lifetime
            ));
        }
        if self.leeway > Duration::from_secs(300) {
            problems.push(format!("dpop: leeway {:?} exceeds 5 minutes", self.leeway));
        }
        if let Some(rotation) = self.nonce_rotation
            && rotation < Duration::from_secs(10)
        {
            problems.push(format!(
                "dpop: nonce rotation {rotation:?} is shorter than 10 s"
            ));
        }
        if self.nonce_secret.is_some() && self.nonce_rotation.is_none() {
            problems.push("dpop: a nonce secret without nonces".to_owned());
        }
        problems
    }

    /// The settings a gate runs with.
    pub(crate) fn compile(self) -> Result<DpopState, String> {
        let nonces = self
            .nonce_rotation
            .map(|rotation| Nonces::new(rotation, self.nonce_secret))
            .transpose()?;
        let algs = self
            .algorithms
            .iter()
            .map(|alg| alg.name())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(DpopState {
            algs: algs.into_boxed_str(),
            algorithms: self.algorithms.into_boxed_slice(),
            proof_lifetime: self.proof_lifetime.as_secs_f64(),
            leeway: self.leeway.as_secs_f64(),
            store: self
                .store
                .unwrap_or_else(|| Arc::new(MemoryReplayStore::default())),
            nonces,
            keys: ProofKeys::new(),
        })
    }
}

impl Default for Dpop {
    fn default() -> Dpop {
        Dpop::new()
    }
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("algorithms", &self.algorithms)
            .field("proof_lifetime", &self.proof_lifetime)
            .field("leeway", &self.leeway)
            .field("nonce_rotation", &self.nonce_rotation)
            .finish_non_exhaustive()
    }
}

/// A gate's compiled DPoP settings.
pub(crate) struct DpopState {
    pub(crate) algorithms: Box<[Algorithm]>,
    /// The algorithms' names, space-separated, for the `DPoP` challenge's `algs`.
    pub(crate) algs: Box<str>,
    /// Seconds.
    pub(crate) proof_lifetime: f64,
    /// Seconds.
    pub(crate) leeway: f64,
    pub(crate) store: Arc<dyn ReplayStore>,
    pub(crate) nonces: Option<Nonces>,
    /// Proof keys parsed before.
    pub(crate) keys: ProofKeys,
}
