//! Sender-constrained tokens (RFC 9449 DPoP, RFC 8705 mTLS), in progress: what is here are the
//! DPoP proof checks (RFC 9449 §4.3), JWK thumbprints (RFC 7638) and the replay store for
//! proofs. Until the layer's `DPoP` scheme lands, nothing calls them, and DPoP-bound tokens are
//! refused (`sender_constrained_token`).

// The proof checks are complete and tested; the layer's `DPoP` scheme, which calls them, is
// the next step.
#[allow(dead_code, reason = "called by the layer's DPoP scheme, in progress")]
mod proof;
#[cfg(feature = "redis")]
mod redis;
mod replay;
#[allow(
    dead_code,
    reason = "called by the proof checks, whose caller is in progress"
)]
mod thumbprint;

#[cfg(feature = "redis")]
pub use self::redis::RedisReplayStore;
pub use replay::{FirstUse, MemoryReplayStore, ProofId, ReplayStore, ReplayStoreError};
