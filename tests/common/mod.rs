//! Test keys and token minting shared by the integration tests and the benchmark.
//!
//! Keys are generated with aws-lc-rs when a test binary first asks for them. Tokens are built
//! byte by byte, so tests can mint exactly the malformed or hostile tokens they need.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};
use tokengate::Algorithm;

pub const ISSUER: &str = "https://issuer.example.com/";
pub const AUDIENCE: &str = "api://orders";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A key pair that signs test tokens for one algorithm.
pub struct TestKey {
    pub alg: Algorithm,
    pub kid: String,
    signer: Signer,
}

impl TestKey {
    pub fn generate(alg: Algorithm, kid: &str) -> TestKey {
        let signer = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Signer::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()),
            Algorithm::ES256 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            ),
            Algorithm::ES384 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
            ),
            Algorithm::ES512 => Signer::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P521_SHA512_FIXED_SIGNING).unwrap(),
            ),
            Algorithm::EdDSA => Signer::Ed(Ed25519KeyPair::generate().unwrap()),
            // Needed outside the crate (the enum is non_exhaustive), unreachable inside it.
            #[allow(unreachable_patterns)]
            other => panic!("no test signer for {other}"),
        };
        TestKey {
            alg,
            kid: kid.to_owned(),
            signer,
        }
    }

    /// The same key material, used (deliberately wrongly) under another algorithm name.
    pub fn rsa_modulus_exponent(&self) -> (Vec<u8>, Vec<u8>) {
        match &self.signer {
            Signer::Rsa(pair) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                (parts.n, parts.e)
            }
            _ => panic!("not an RSA key"),
        }
    }

    /// The public JWK, with `kid`, `use` and `alg`.
    pub fn jwk(&self) -> Value {
        let mut jwk = self.jwk_without_alg();
        jwk["alg"] = json!(self.alg.name());
        jwk
    }

    /// The public JWK without `alg`, as Microsoft Entra ID publishes keys.
    pub fn jwk_without_alg(&self) -> Value {
        match &self.signer {
            Signer::Rsa(_) => {
                let (n, e) = self.rsa_modulus_exponent();
                json!({"kty": "RSA", "use": "sig", "kid": self.kid, "n": b64(n), "e": b64(e)})
            }
            Signer::Ec(pair) => {
                let point = pair.public_key().as_ref();
                let size = (point.len() - 1) / 2;
                let crv = match size {
                    32 => "P-256",
                    48 => "P-384",
                    _ => "P-521",
                };
                json!({"kty": "EC", "use": "sig", "kid": self.kid, "crv": crv,
                       "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])})
            }
            Signer::Ed(pair) => {
                json!({"kty": "OKP", "use": "sig", "kid": self.kid, "crv": "Ed25519",
                       "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    /// The public key as an SPKI PEM (`PUBLIC KEY`).
    pub fn public_pem(&self) -> String {
        let der: Vec<u8> = match &self.signer {
            Signer::Rsa(pair) => pair.public_key().as_der().unwrap().as_ref().to_vec(),
            Signer::Ec(pair) => pair.public_key().as_der().unwrap().as_ref().to_vec(),
            Signer::Ed(pair) => pair.public_key().as_der().unwrap().as_ref().to_vec(),
        };
        pem("PUBLIC KEY", &der)
    }

    /// Signs `message` with this key's algorithm.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
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
                    other => panic!("{other} is not RSA"),
                };
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut sig).unwrap();
                sig
            }
            Signer::Ec(pair) => pair.sign(&rng, message).unwrap().as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }

    /// A compact JWS over exactly these header and claims texts.
    pub fn token_raw(&self, header_json: &str, claims_json: &str) -> String {
        let input = format!("{}.{}", b64(header_json), b64(claims_json));
        let sig = self.sign(input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    /// A compact JWS with this header and these claims.
    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        self.token_raw(&header.to_string(), &claims.to_string())
    }

    /// A token with the usual header (`alg`, `kid`, `typ: JWT`).
    pub fn token(&self, claims: &Value) -> String {
        self.token_with_header(&self.header(), claims)
    }

    pub fn header(&self) -> Value {
        json!({"alg": self.alg.name(), "typ": "JWT", "kid": self.kid})
    }
}

/// A PEM block with this label around this DER, in 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = base64_simd::STANDARD.encode_to_string(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A JWKS document holding these keys' public JWKs.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

/// Claims that pass every default check for [`ISSUER`] and [`AUDIENCE`].
pub fn valid_claims() -> Value {
    valid_claims_at(now())
}

/// [`valid_claims`] for a clock reading `now` (seconds since the epoch).
pub fn valid_claims_at(now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + 600,
        "scope": "orders.read orders.write",
    })
}

/// One RS256 key per test binary: RSA generation is slow.
pub fn rs256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "rs256-1"))
}

/// One key per algorithm, generated on first use.
pub fn key_for(alg: Algorithm) -> &'static TestKey {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        Algorithm::ALL
            .iter()
            .map(|&a| TestKey::generate(a, &format!("{}-1", a.name().to_lowercase())))
            .collect()
    });
    keys.iter().find(|k| k.alg == alg).unwrap()
}

/// Runs a future that needs no runtime (validation with configured keys never waits).
pub fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("validation waited on something"),
    }
}
