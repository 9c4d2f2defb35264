//! Proof keys parsed once: a client signs many proofs with one key, and parsing a JWK (for RSA,
//! the modulus checks) costs about as much as verifying an ES256 signature. Keys are found by a
//! digest of the exact `jwk` text and the algorithm, so a hit is the very key a parse would
//! give; only keys whose thumbprint a valid token is bound to ever get here.

use std::sync::Arc;
use std::time::Duration;

use super::proof::ProofError;
use crate::Algorithm;
use crate::keys::{KeyLimits, RulesAt, VerifyingKey, parse_jwk};

/// Keys of this many clients are kept (a few hundred bytes each).
const CAPACITY: u64 = 10_000;

/// The parsed keys of recent proofs.
pub(crate) struct ProofKeys {
    keys: moka::sync::Cache<[u8; 32], Arc<VerifyingKey>>,
}

impl ProofKeys {
    pub(crate) fn new() -> ProofKeys {
        ProofKeys {
            keys: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .initial_capacity(16)
                // A client that stops sending proofs lets its key go.
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// The key of `jwk` for `alg`, parsed now or before.
    pub(crate) fn get(&self, jwk: &str, alg: Algorithm) -> Result<Arc<VerifyingKey>, ProofError> {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(alg.name().as_bytes());
        context.update(&[0]);
        context.update(jwk.as_bytes());
        let mut id = [0; 32];
        id.copy_from_slice(context.finish().as_ref());
        if let Some(key) = self.keys.get(&id) {
            return Ok(key);
        }
        let key = Arc::new(parse(jwk, alg)?);
        self.keys.insert(id, Arc::clone(&key));
        Ok(key)
    }
}

/// A proof's `jwk` as a public key for `alg` alone, within the key limits (private members,
/// symmetric keys, small RSA moduli refused).
pub(crate) fn parse(jwk: &str, alg: Algorithm) -> Result<VerifyingKey, ProofError> {
    let key = parse_jwk(jwk, &[alg], RulesAt::default()).map_err(|_| ProofError::Key)?;
    KeyLimits::default()
        .check(&key)
        .map_err(|_| ProofError::Key)?;
    Ok(key)
}
