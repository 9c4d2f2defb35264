//! Sender-constrained tokens (RFC 9449 DPoP): the settings ([`Dpop`], [`DpopMode`]), the proof
//! checks (RFC 9449 §4.3), JWK thumbprints (RFC 7638), server nonces and the replay store for
//! proofs. The gate's binding step calls them for each request; mTLS-bound tokens are in
//! `mtls`.

mod keys;
mod nonce;
pub(crate) mod proof;
#[cfg(feature = "redis")]
mod redis;
mod replay;
mod settings;
mod thumbprint;

#[cfg(feature = "testing")]
pub(crate) use thumbprint::thumbprint;
#[cfg(fuzzing)]
pub(crate) use thumbprint::thumbprint as thumbprint_of;

#[cfg(feature = "redis")]
pub use self::redis::RedisReplayStore;
pub use replay::{FirstUse, MemoryReplayStore, ProofId, ReplayStore, ReplayStoreError};
pub(crate) use settings::DpopState;
pub use settings::{Dpop, DpopMode};
