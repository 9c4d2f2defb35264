//! Sender-constrained tokens (RFC 9449 DPoP, RFC 8705 mTLS), in progress: what is here is the
//! replay store for DPoP proofs. Until the proof checks and the layer's `DPoP` scheme land,
//! nothing calls it, and DPoP-bound tokens are refused (`sender_constrained_token`).

#[cfg(feature = "redis")]
mod redis;
mod replay;

#[cfg(feature = "redis")]
pub use self::redis::RedisReplayStore;
pub use replay::{FirstUse, MemoryReplayStore, ProofId, ReplayStore, ReplayStoreError};
