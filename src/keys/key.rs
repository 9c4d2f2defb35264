//! One verification key, parsed once and bound to exactly one algorithm (RFC 8725 §3.1).

use std::fmt;

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use crate::Algorithm;

/// A public key ready for verification, with the one algorithm it may be used with.
pub(crate) struct VerifyingKey {
    kid: Option<Box<str>>,
    alg: Algorithm,
    key: ParsedPublicKey,
    /// What a provider's key rules read from the key's JWK and keep with it (see
    /// [`KeyRules::key_tag`](super::KeyRules::key_tag)); `None` for standard keys.
    tag: Option<Box<str>>,
    /// Identifies the key (algorithm, public key, kid, tag) across refreshes of the key set.
    id: KeyId,
    /// An RSA key's size: what one verification with it costs.
    rsa: Option<RsaSize>,
}

/// An RSA public key's modulus size and exponent, which set the cost of a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RsaSize {
    pub(crate) bits: usize,
    pub(crate) exponent: u32,
}

/// A digest of a key's algorithm, public key, `kid` and tag: what tells two keys apart, and
/// what the verified-token cache remembers of the key that verified a token, to forget the
/// token when that key leaves the key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyId([u8; 16]);

#[cfg(test)]
impl KeyId {
    pub(crate) fn for_tests(byte: u8) -> KeyId {
        KeyId([byte; 16])
    }
}

impl std::hash::Hash for KeyId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Half of a SHA-256 digest: already uniform.
        let mut half = [0; 8];
        half.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(half));
    }
}

/// Hashes a [`KeyId`] to its own first eight bytes: a digest needs no further mixing, and a
/// cache hit looks one up on every request. Key ids come from the issuer's key set, hashed
/// with SHA-256, so nobody can choose them to collide.
#[derive(Default)]
pub(crate) struct KeyIdHasher(u64);

impl std::hash::Hasher for KeyIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `KeyId`; anything else still hashes, slowly.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl VerifyingKey {
    pub(crate) fn new(
        kid: Option<Box<str>>,
        alg: Algorithm,
        key: ParsedPublicKey,
        tag: Option<Box<str>>,
    ) -> VerifyingKey {
        // Everything that decides which tokens the key may verify: a key republished under
        // another kid or tag is another key for the cache.
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [
            alg.name().as_bytes(),
            key.as_ref(),
            kid.as_deref().unwrap_or_default().as_bytes(),
            tag.as_deref().unwrap_or_default().as_bytes(),
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        context.update(&[u8::from(kid.is_some()), u8::from(tag.is_some())]);
        let digest = context.finish();
        let mut id = [0; 16];
        id.copy_from_slice(&digest.as_ref()[..16]);
        VerifyingKey {
            kid,
            alg,
            key,
            tag,
            id: KeyId(id),
            rsa: None,
        }
    }

    /// Records an RSA key's size, for [`KeyLimits`](super::KeyLimits).
    pub(crate) fn with_rsa_size(mut self, size: RsaSize) -> VerifyingKey {
        self.rsa = Some(size);
        self
    }

    /// The modulus size and exponent of an RSA key.
    pub(crate) fn rsa_size(&self) -> Option<RsaSize> {
        self.rsa
    }

    pub(crate) fn id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    /// What the provider's key rules kept of the key's JWK.
    pub(crate) fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// Verifies `signature` over `message` with the key's own algorithm; the caller has checked
    /// that the token's `alg` names that algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
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
pub(super) fn curve_verification(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
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
pub(super) fn rsa_parameters(alg: Algorithm) -> Option<&'static signature::RsaParameters> {
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
