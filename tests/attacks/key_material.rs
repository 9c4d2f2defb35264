//! Keys in the encodings attacks need, made by aws-lc-rs, rcgen and the `pem` crate rather than
//! by hand: SPKI and PKCS#1 DER, self-signed X.509 certificates, and key pairs of the suite's
//! own ([`OwnKey`]) that sign both as JWS and as X.509 do.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, PublicKeyData, SerialNumber, SignatureAlgorithm,
    SigningKey,
};
use serde_json::{Value, json};
use tokengate::Algorithm;

use tokengate_testkit::{TestKey, b64};

/// The DER inside a PEM block.
pub(crate) fn pem_der(pem: &str) -> Vec<u8> {
    pem::parse(pem).expect("a PEM block").into_contents()
}

/// PKCS#1 `RSAPublicKey` DER (RFC 8017 §A.1.1) of an RSA key given as SPKI DER.
pub(crate) fn pkcs1_of_spki(spki: &[u8]) -> Vec<u8> {
    // aws-lc-rs keeps RSA public keys as PKCS#1, which `as_ref` hands out.
    rsa::PublicKey::from_der(spki)
        .expect("an RSA SubjectPublicKeyInfo")
        .as_ref()
        .to_vec()
}

/// PKCS#1 `RSAPublicKey` DER of an RSA test key.
pub(crate) fn pkcs1(key: &TestKey) -> Vec<u8> {
    pkcs1_of_spki(&pem_der(&key.public_pem()))
}

/// SPKI DER of an RSA public key from its modulus and exponent (big-endian). aws-lc-rs encodes
/// without judging the size, so this works for the weak keys that tokengate must refuse.
pub(crate) fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    RsaPublicKeyComponents { n, e }
        .as_der()
        .expect("an RSA public key")
        .as_ref()
        .to_vec()
}

/// What rcgen needs to self-sign a certificate: the public key as an SPKI holds it (PKCS#1 for
/// RSA, the uncompressed point for EC) and a signer producing X.509 signatures.
struct CertKey<'a> {
    public_key: Vec<u8>,
    algorithm: &'static SignatureAlgorithm,
    sign: &'a dyn Fn(&[u8]) -> Vec<u8>,
}

impl PublicKeyData for CertKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public_key
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
}

impl SigningKey for CertKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok((self.sign)(msg))
    }
}

/// A self-signed X.509 v3 certificate as an issuer publishes in `x5c` or an attacker puts in a
/// token: subject and issuer `CN=issuer.example.com`, serial 0x1dea, valid from 2025-01-01
/// to 2049-12-31 23:59:59 UTC, no extensions. Fixed fields, so an RSA key always gets the same
/// bytes (its PKCS#1 v1.5 signature is deterministic).
fn self_signed(key: &CertKey) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "issuer.example.com");
    params.serial_number = Some(SerialNumber::from_slice(&[0x1d, 0xea]));
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2050, 1, 1) - std::time::Duration::from_secs(1);
    params
        .self_signed(key)
        .expect("rcgen makes the certificate")
        .der()
        .to_vec()
}

/// The self-signed certificate of an RS256 test key, signed by that key (ATK-04's `x5c`).
pub(crate) fn rsa_certificate(key: &TestKey) -> Vec<u8> {
    assert_eq!(
        key.alg(),
        Algorithm::RS256,
        "sha256WithRSAEncryption is RS256"
    );
    self_signed(&CertKey {
        public_key: pkcs1(key),
        algorithm: &rcgen::PKCS_RSA_SHA256,
        sign: &|msg| key.sign(msg),
    })
}

/// The private half of an [`OwnKey`].
enum Pair {
    /// RSASSA-PKCS1-v1_5 with SHA-256: RS256 in a JWS, sha256WithRSAEncryption in X.509, the
    /// same signature bytes.
    Rsa(RsaKeyPair),
    /// One ECDSA key loaded twice: JWS signs with fixed-size `R || S` (RFC 7518 §3.4), X.509
    /// with the DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3).
    Ec {
        jws: EcdsaKeyPair,
        x509: EcdsaKeyPair,
    },
}

/// A key pair the suite generates itself (`TestKey` keeps its private key inside), so that
/// it can sign in both encodings: the attacker's keys, which sign tokens and their own
/// certificate, and ECDSA keys whose genuine signatures ATK-14 sends DER-encoded.
pub(crate) struct OwnKey {
    alg: Algorithm,
    kid: String,
    pair: Pair,
}

impl OwnKey {
    /// A new key for RS256, ES256, ES384 or ES512.
    pub(crate) fn generate(alg: Algorithm, kid: &str) -> OwnKey {
        let ec = |fixed: &'static EcdsaSigningAlgorithm, asn1: &'static EcdsaSigningAlgorithm| {
            let x509 = EcdsaKeyPair::generate(asn1).unwrap();
            let pkcs8 = x509.to_pkcs8v1().unwrap();
            let jws = EcdsaKeyPair::from_pkcs8(fixed, pkcs8.as_ref()).unwrap();
            Pair::Ec { jws, x509 }
        };
        let pair = match alg {
            Algorithm::RS256 => Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()),
            Algorithm::ES256 => ec(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            ),
            Algorithm::ES384 => ec(
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            ),
            Algorithm::ES512 => ec(
                &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
            ),
            other => panic!("no own key for {other}"),
        };
        OwnKey {
            alg,
            kid: kid.to_owned(),
            pair,
        }
    }

    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, with the members `TestKey::jwk` gives.
    pub(crate) fn jwk(&self) -> Value {
        let (kid, alg) = (&self.kid, self.alg.name());
        match &self.pair {
            Pair::Rsa(pair) => {
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": alg,
                       "n": b64(parts.n), "e": b64(parts.e)})
            }
            Pair::Ec { .. } => {
                // An uncompressed point: 0x04 || x || y.
                let point = self.public_key();
                let size = (point.len() - 1) / 2;
                let crv = match self.alg {
                    Algorithm::ES256 => "P-256",
                    Algorithm::ES384 => "P-384",
                    _ => "P-521",
                };
                json!({"kty": "EC", "kid": kid, "use": "sig", "alg": alg, "crv": crv,
                       "x": b64(&point[1..=size]), "y": b64(&point[1 + size..])})
            }
        }
    }

    /// A JWS signature over `message`.
    pub(crate) fn sign_jws(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => rsa_pkcs1_sha256(pair, message),
            Pair::Ec { jws, .. } => jws.sign(&rng, message).unwrap().as_ref().to_vec(),
        }
    }

    /// An X.509 signature over `message` (DER-encoded for ECDSA).
    pub(crate) fn sign_x509(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => rsa_pkcs1_sha256(pair, message),
            Pair::Ec { x509, .. } => x509.sign(&rng, message).unwrap().as_ref().to_vec(),
        }
    }

    /// The public key as an SPKI holds it: PKCS#1 `RSAPublicKey` DER, or the uncompressed EC
    /// point.
    pub(crate) fn public_key(&self) -> &[u8] {
        match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_ref(),
            Pair::Ec { x509, .. } => x509.public_key().as_ref(),
        }
    }

    /// A compact JWS of these claims with the usual header (`alg`, `typ` JWT, `kid`).
    pub(crate) fn token(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg.name(), "typ": "JWT", "kid": self.kid});
        self.token_with_header(&header, claims)
    }

    /// A compact JWS with this header and these claims, whatever the header says.
    pub(crate) fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self.sign_jws(input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    /// The key's self-signed certificate (RS256 and ES256 keys).
    pub(crate) fn certificate(&self) -> Vec<u8> {
        let algorithm = match self.alg {
            Algorithm::RS256 => &rcgen::PKCS_RSA_SHA256,
            Algorithm::ES256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            other => panic!("no certificate for {other}"),
        };
        self_signed(&CertKey {
            public_key: self.public_key().to_vec(),
            algorithm,
            sign: &|msg| self.sign_x509(msg),
        })
    }
}

fn rsa_pkcs1_sha256(pair: &RsaKeyPair, message: &[u8]) -> Vec<u8> {
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut sig,
    )
    .unwrap();
    sig
}
