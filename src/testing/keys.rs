//! The test issuer's key pairs: generated with aws-lc-rs, published as JWKs, used to sign.

use std::fmt;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};

use crate::Algorithm;

/// Base64url without padding, as JOSE writes binary values.
pub(super) fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// `len` random bytes as lowercase hex.
pub(super) fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The private half of a key pair.
pub(super) enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    /// A new key pair of the kind `alg` needs: RSA 2048, P-256, P-384, P-521 or Ed25519.
    pub(super) fn generate(alg: Algorithm) -> Signer {
        const FAILED: &str = "aws-lc-rs failed to generate a key pair";
        match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                Signer::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).expect(FAILED))
            }
            Algorithm::ES256 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect(FAILED),
            ),
            Algorithm::ES384 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).expect(FAILED),
            ),
            Algorithm::ES512 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P521_SHA512_FIXED_SIGNING).expect(FAILED),
            ),
            Algorithm::EdDSA => Signer::Ed(Ed25519KeyPair::generate().expect(FAILED)),
        }
    }
}

/// One key pair of the test issuer, bound to one algorithm and one `kid`.
pub(super) struct SigningKey {
    pub(super) alg: Algorithm,
    pub(super) kid: String,
    /// The public JWK, with `kty`, `kid`, `use`, `alg` and the public parameters.
    pub(super) jwk: Value,
    signer: Signer,
}

impl SigningKey {
    pub(super) fn new(alg: Algorithm, kid: String, signer: Signer) -> SigningKey {
        let jwk = match &signer {
            Signer::Rsa(pair) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": alg.name(),
                       "n": b64(parts.n), "e": b64(parts.e)})
            }
            Signer::Ec(pair) => {
                // An uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let size = (point.len() - 1) / 2;
                let crv = match size {
                    32 => "P-256",
                    48 => "P-384",
                    _ => "P-521",
                };
                json!({"kty": "EC", "kid": kid, "use": "sig", "alg": alg.name(), "crv": crv,
                       "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])})
            }
            Signer::Ed(pair) => {
                json!({"kty": "OKP", "kid": kid, "use": "sig", "alg": alg.name(),
                       "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        };
        SigningKey {
            alg,
            kid,
            jwk,
            signer,
        }
    }

    /// Signs `message` with this key's algorithm: the JWS signature bytes.
    pub(super) fn sign(&self, message: &[u8]) -> Vec<u8> {
        const FAILED: &str = "aws-lc-rs failed to sign";
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    // An RSA key is only ever generated for an RSA algorithm.
                    other => unreachable!("{other} is not an RSA algorithm"),
                };
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut sig).expect(FAILED);
                sig
            }
            Signer::Ec(pair) => pair.sign(&rng, message).expect(FAILED).as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key is never printed.
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_has_a_key_whose_jwk_names_it() {
        for &alg in Algorithm::ALL {
            let key = SigningKey::new(alg, "k".to_owned(), Signer::generate(alg));
            assert_eq!(key.jwk["alg"], alg.name());
            assert_eq!(key.jwk["use"], "sig");
            assert!(!key.sign(b"message").is_empty());
            assert!(!format!("{key:?}").contains("signer"));
        }
    }

    #[test]
    fn random_hex_is_hex_of_the_right_length() {
        let a = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16));
    }
}
