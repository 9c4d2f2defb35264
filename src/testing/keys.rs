//! Test key pairs: generated with aws-lc-rs, published as JWKs or PEM, used to sign tokens.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
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
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A key pair that signs test tokens: generated for one [`Algorithm`], named by a `kid`,
/// published as a JWK or a PEM, and used to sign compact JWS byte by byte.
///
/// [`TestIssuer`](super::TestIssuer) signs its tokens with these keys. Use one directly for
/// tests that configure keys statically, or that need tokens no builder makes: any header, any
/// claims text (duplicate members, odd number formats), a signature over something else.
///
/// Keys are RSA 2048 for the RS and PS algorithms; ES256, ES384 and ES512 use P-256, P-384 and
/// P-521; EdDSA uses Ed25519. The private key never leaves the value (`Debug` shows the
/// algorithm and the `kid` only).
///
/// ```
/// use serde_json::json;
/// use tokengate::testing::TestKey;
/// use tokengate::{Algorithm, Gate, IssuerProfile};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = TestKey::generate(Algorithm::ES256, "key-1");
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new("https://issuer.example/")
///             .audience("api://orders")
///             .jwks(json!({ "keys": [key.jwk()] }).to_string()),
///     )
///     .build()?;
///
/// let claims = json!({
///     "iss": "https://issuer.example/",
///     "aud": "api://orders",
///     "sub": "alice",
///     "exp": 4_102_444_800_i64, // in 2100
/// });
/// let token = key.token(&claims);
/// assert_eq!(gate.validate(&token).await?.subject(), Some("alice"));
///
/// // Any header, signed with the key all the same.
/// let header = json!({ "alg": "ES256", "kid": "key-1", "crit": ["exp"] });
/// let refused = gate.validate(&key.token_with_header(&header, &claims)).await.unwrap_err();
/// assert_eq!(refused.code(), "unsupported_critical_header");
/// # Ok(())
/// # }
/// ```
pub struct TestKey {
    alg: Algorithm,
    kid: String,
    signer: Signer,
}

impl TestKey {
    /// A new key pair for `alg`, named `kid`.
    ///
    /// # Panics
    ///
    /// If aws-lc-rs fails to generate a key pair, which it does not.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let key = TestKey::generate(Algorithm::EdDSA, "ed-1");
    /// assert_eq!((key.alg(), key.kid()), (Algorithm::EdDSA, "ed-1"));
    /// ```
    pub fn generate(alg: Algorithm, kid: impl Into<String>) -> TestKey {
        const FAILED: &str = "aws-lc-rs failed to generate a key pair";
        let signer = match alg {
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
        };
        TestKey {
            alg,
            kid: kid.into(),
            signer,
        }
    }

    /// The same key pair under another `kid`, for keys whose `kid` depends on the key (a
    /// certificate's thumbprint, say) or on others (a counter).
    pub(super) fn with_kid(self, kid: String) -> TestKey {
        TestKey { kid, ..self }
    }

    /// The private key of an RSA key pair as PKCS#8 DER, for certificates; `None` for other
    /// keys.
    pub(super) fn rsa_pkcs8_der(&self) -> Option<Vec<u8>> {
        match &self.signer {
            Signer::Rsa(pair) => {
                let der: Pkcs8V1Der<'static> = pair
                    .as_der()
                    .expect("aws-lc-rs failed to encode an RSA private key");
                Some(der.as_ref().to_vec())
            }
            Signer::Ec(_) | Signer::Ed(_) => None,
        }
    }

    /// The algorithm this key signs with: the `alg` of its [`jwk`](Self::jwk) and
    /// [`header`](Self::header).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id: the `kid` of its [`jwk`](Self::jwk) and [`header`](Self::header).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK: `kty`, `kid`, `use` (`sig`), `alg` and the public parameters (`n` and
    /// `e`; `crv`, `x` and `y`; or `crv` and `x`).
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let key = TestKey::generate(Algorithm::ES384, "ec-1");
    /// let jwk = key.jwk();
    /// assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("EC"), Some("P-384")));
    /// assert_eq!((jwk["alg"].as_str(), jwk["kid"].as_str()), (Some("ES384"), Some("ec-1")));
    /// assert!(jwk.get("d").is_none()); // public parameters only
    /// ```
    pub fn jwk(&self) -> Value {
        let mut jwk = self.jwk_without_alg();
        jwk["alg"] = json!(self.alg.name());
        jwk
    }

    /// The public JWK without `alg`, as Microsoft Entra ID and some other providers publish
    /// keys.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let key = TestKey::generate(Algorithm::EdDSA, "ed-1");
    /// let jwk = key.jwk_without_alg();
    /// assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("OKP"), Some("Ed25519")));
    /// assert!(jwk.get("alg").is_none());
    /// ```
    pub fn jwk_without_alg(&self) -> Value {
        let kid = &self.kid;
        match &self.signer {
            Signer::Rsa(pair) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "kid": kid, "use": "sig",
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
                json!({"kty": "EC", "kid": kid, "use": "sig", "crv": crv,
                       "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])})
            }
            Signer::Ed(pair) => {
                json!({"kty": "OKP", "kid": kid, "use": "sig", "crv": "Ed25519",
                       "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    /// The public key as a PEM `PUBLIC KEY` (an X.509 SubjectPublicKeyInfo), for
    /// [`IssuerProfile::public_key_pem`](crate::IssuerProfile::public_key_pem).
    ///
    /// # Panics
    ///
    /// If aws-lc-rs fails to encode the public key, which it does not.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let pem = TestKey::generate(Algorithm::ES256, "ec-1").public_pem();
    /// assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    /// ```
    pub fn public_pem(&self) -> String {
        const FAILED: &str = "aws-lc-rs failed to encode a public key";
        let der = match &self.signer {
            Signer::Rsa(pair) => pair.public_key().as_der().expect(FAILED),
            Signer::Ec(pair) => pair.public_key().as_der().expect(FAILED),
            Signer::Ed(pair) => pair.public_key().as_der().expect(FAILED),
        };
        let block = pem::Pem::new("PUBLIC KEY", der.as_ref());
        pem::encode_config(
            &block,
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    /// The modulus and public exponent of an RSA key, big-endian: for tests that build keys
    /// of their own from the same material.
    ///
    /// # Panics
    ///
    /// If this is not an RSA key.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let (n, e) = TestKey::generate(Algorithm::PS256, "rsa-1").rsa_modulus_exponent();
    /// assert_eq!((n.len(), e), (256, vec![1, 0, 1]));
    /// ```
    pub fn rsa_modulus_exponent(&self) -> (Vec<u8>, Vec<u8>) {
        match &self.signer {
            Signer::Rsa(pair) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                (parts.n, parts.e)
            }
            Signer::Ec(_) | Signer::Ed(_) => {
                panic!(
                    "TestKey::rsa_modulus_exponent: {} is not an RSA key",
                    self.kid
                )
            }
        }
    }

    /// Signs `message` with this key's algorithm: the JWS signature bytes (for ECDSA the
    /// fixed-size `r || s` that JWS uses).
    ///
    /// # Panics
    ///
    /// If aws-lc-rs fails to sign, which it does not.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let key = TestKey::generate(Algorithm::ES512, "ec-1");
    /// assert_eq!(key.sign(b"header.claims").len(), 132);
    /// ```
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
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

    /// The usual header of [`token`](Self::token): `{"alg": ..., "typ": "JWT", "kid": ...}`.
    pub fn header(&self) -> Value {
        json!({"alg": self.alg.name(), "typ": "JWT", "kid": self.kid})
    }

    /// A compact JWS of these claims with the usual [`header`](Self::header).
    pub fn token(&self, claims: &Value) -> String {
        self.token_with_header(&self.header(), claims)
    }

    /// A compact JWS with this header and these claims, serialized as compact JSON. The
    /// header is taken as it is: its `alg` and `kid` need not be this key's.
    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        self.token_raw(&header.to_string(), &claims.to_string())
    }

    /// A compact JWS over exactly these header and claims texts, which need not be JSON:
    /// `base64url(header) "." base64url(claims) "." base64url(signature)`.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestKey;
    ///
    /// let key = TestKey::generate(Algorithm::EdDSA, "ed-1");
    /// // Duplicate members, which a builder working on JSON values cannot write.
    /// let token = key.token_raw(r#"{"alg":"EdDSA","alg":"none"}"#, r#"{"sub":"a"}"#);
    /// assert_eq!(token.split('.').count(), 3);
    /// ```
    pub fn token_raw(&self, header_json: &str, claims_json: &str) -> String {
        let input = format!("{}.{}", b64(header_json), b64(claims_json));
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64(signature))
    }
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key is never printed.
        f.debug_struct("TestKey")
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
            let key = TestKey::generate(alg, "k");
            let jwk = key.jwk();
            assert_eq!(jwk["alg"], alg.name());
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["kid"], "k");
            assert!(key.jwk_without_alg().get("alg").is_none());
            assert!(!key.sign(b"message").is_empty());
            assert!(!format!("{key:?}").contains("signer"));
            assert_eq!(key.rsa_pkcs8_der().is_some(), jwk["kty"] == "RSA");
        }
    }

    #[test]
    fn another_kid_keeps_the_key() {
        let key = TestKey::generate(Algorithm::ES256, "a");
        let jwk = key.jwk();
        let renamed = key.with_kid("b".to_owned());
        assert_eq!(renamed.kid(), "b");
        assert_eq!(
            (renamed.jwk()["x"].clone(), renamed.jwk()["y"].clone()),
            (jwk["x"].clone(), jwk["y"].clone())
        );
    }

    #[test]
    fn random_hex_is_hex_of_the_right_length() {
        let a = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16));
    }
}
