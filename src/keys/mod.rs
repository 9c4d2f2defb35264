//! Verification keys: parsed once when loaded, each bound to exactly one algorithm
//! (RFC 8725 §3.1), grouped per issuer.

mod cache;
mod fetch;
mod jwk;
mod modulus;
mod pem;
mod remote;
mod store;
mod tenants;

use std::collections::{HashMap, HashSet};
use std::fmt;

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

pub use cache::KeyCache;
pub(crate) use fetch::Fetcher;
#[cfg(test)]
pub(crate) use jwk::parse_jwk;
pub(crate) use jwk::{KeyProblem, parse_jwks, parse_jwks_for_cloud};
pub(crate) use pem::parse_pem;
pub(crate) use remote::{IssuerRule, KeysFrom, Miss, Remote, Source};
pub use store::KeyStatus;
pub(crate) use store::KeyStore;
pub(crate) use tenants::TenantKeys;

use crate::Algorithm;
use crate::error::Rejection;

/// A public key ready for verification, with the one algorithm it may be used with.
pub(crate) struct VerifyingKey {
    kid: Option<Box<str>>,
    alg: Algorithm,
    key: ParsedPublicKey,
    /// The key's own `issuer` member (Entra publishes one, possibly with `{tenantid}`).
    issuer: Option<Box<str>>,
    /// Identifies the key (algorithm, public key, kid, issuer) across refreshes of the key set.
    id: KeyId,
}

/// A digest of a key's algorithm, public key, `kid` and `issuer` member: what tells two keys
/// apart, and what the verified-token cache remembers of the key that verified a token, to
/// forget the token when that key leaves the key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeyId([u8; 16]);

impl VerifyingKey {
    pub(crate) fn new(
        kid: Option<Box<str>>,
        alg: Algorithm,
        key: ParsedPublicKey,
        issuer: Option<Box<str>>,
    ) -> VerifyingKey {
        // Everything that decides which tokens the key may verify: a key republished under
        // another kid or issuer is another key for the cache.
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [
            alg.name().as_bytes(),
            key.as_ref(),
            kid.as_deref().unwrap_or_default().as_bytes(),
            issuer.as_deref().unwrap_or_default().as_bytes(),
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        context.update(&[u8::from(kid.is_some()), u8::from(issuer.is_some())]);
        let digest = context.finish();
        let mut id = [0; 16];
        id.copy_from_slice(&digest.as_ref()[..16]);
        VerifyingKey {
            kid,
            alg,
            key,
            issuer,
            id: KeyId(id),
        }
    }

    pub(crate) fn id(&self) -> KeyId {
        self.id
    }

    /// ENTRA-17 step 3: whether a token with this `iss` and `tid` may be signed by this key:
    /// a key without an `issuer` member may sign for any; a templated one for its issuer with
    /// `tid` substituted; a literal one for exactly that issuer.
    pub(crate) fn issuer_accepts(&self, iss: &str, tid: Option<&str>) -> bool {
        match &self.issuer {
            None => true,
            Some(issuer) => match issuer.split_once("{tenantid}") {
                Some((prefix, suffix)) => tid.is_some_and(|tid| {
                    iss.len() == prefix.len() + tid.len() + suffix.len()
                        && iss.starts_with(prefix)
                        && iss.ends_with(suffix)
                        && &iss[prefix.len()..prefix.len() + tid.len()] == tid
                }),
                None => **issuer == *iss,
            },
        }
    }

    /// Verifies `signature` over `message` with the key's own algorithm; the caller has checked
    /// that the token's `alg` names that algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

// What the fuzz targets look at (src/fuzzing.rs).
#[cfg(fuzzing)]
impl VerifyingKey {
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The aws-lc-rs parameters for the EC and OKP algorithms (RSA keys are built from their
/// modulus and exponent with [`rsa_parameters`]).
fn curve_verification(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::ES512 => &signature::ECDSA_P521_SHA512_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

/// The aws-lc-rs parameters for the RSA algorithms. PSS uses a salt as long as the hash
/// (RFC 7518 §3.5), which is aws-lc-rs's default.
fn rsa_parameters(alg: Algorithm) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// An issuer's usable keys.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
    /// Index into `keys` by `kid`; kids carried by two different keys are left out, so a token
    /// naming one cannot pick between them.
    by_kid: HashMap<Box<str>, usize>,
}

impl KeySet {
    /// Builds a set, dropping exact duplicates and making shared kids unusable. Linear in the
    /// number of keys.
    pub(crate) fn new(candidates: Vec<VerifyingKey>) -> (KeySet, Vec<KeyProblem>) {
        let mut seen = HashSet::with_capacity(candidates.len());
        let mut keys: Vec<VerifyingKey> = candidates
            .into_iter()
            .filter(|key| seen.insert(key.id))
            .collect();
        let mut shared = HashSet::new();
        let mut by_kid = HashMap::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = &key.kid
                && by_kid.insert(kid.clone(), i).is_some()
            {
                shared.insert(kid.clone());
            }
        }
        let problems = shared
            .iter()
            .map(|kid| {
                KeyProblem::new(
                    Some(kid),
                    "two different keys share this kid; tokens naming it are refused",
                )
            })
            .collect();
        if !shared.is_empty() {
            keys.retain(|k| k.kid.as_ref().is_none_or(|kid| !shared.contains(kid)));
            by_kid = Self::index(&keys);
        }
        (KeySet { keys, by_kid }, problems)
    }

    fn index(keys: &[VerifyingKey]) -> HashMap<Box<str>, usize> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| k.kid.clone().map(|kid| (kid, i)))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the key `id` is in the set.
    pub(crate) fn contains(&self, id: KeyId) -> bool {
        self.keys.iter().any(|key| key.id == id)
    }

    /// Chooses the key for a token.
    ///
    /// With a `kid`, the key with that exact id (case-sensitive, no normalization); if none has
    /// it, a key configured without any id can serve, when exactly one such key has the token's
    /// algorithm. Without a `kid`, the one key that has the token's algorithm; several (ATK-44)
    /// mean the token must name its key.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, Rejection> {
        if let Some(kid) = kid {
            if let Some(&i) = self.by_kid.get(kid) {
                let key = &self.keys[i];
                return if key.alg == alg {
                    Ok(key)
                } else {
                    Err(Rejection::KeyAlgorithmMismatch)
                };
            }
            return self
                .only(|k| k.kid.is_none() && k.alg == alg)
                .ok_or(Rejection::UnknownKey);
        }
        if let Some(key) = self.only(|k| k.alg == alg) {
            return Ok(key);
        }
        if self.keys.len() == 1 && self.keys[0].alg != alg {
            return Err(Rejection::KeyAlgorithmMismatch);
        }
        Err(Rejection::MissingKeyId)
    }

    fn only(&self, fits: impl Fn(&VerifyingKey) -> bool) -> Option<&VerifyingKey> {
        let mut found = self.keys.iter().filter(|k| fits(k));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}

#[cfg(test)]
mod tests;
