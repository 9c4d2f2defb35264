//! Private signing keys for Glewlwyd's `jwks-private`, generated per test with aws-lc-rs.
//!
//! Glewlwyd wants private JWKs (every member, `kid` and `alg`); aws-lc-rs exports private
//! keys only as PKCS#8 DER, so the few DER structures involved are read here.

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

/// A private JWK (JSON object) with `kid`, `alg` and `use`.
#[derive(Clone, Debug)]
pub(crate) struct SigningKey {
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

impl SigningKey {
    /// A fresh RSA 2048 key for RS256.
    pub(crate) fn rs256(kid: &str) -> SigningKey {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key pair");
        let pkcs8: Pkcs8V1Der<'static> = pair.as_der().expect("PKCS#8");
        // PKCS#8 (RFC 5208): SEQUENCE { version, algorithm, OCTET STRING privateKey }, and the
        // private key is RFC 8017's RSAPrivateKey: SEQUENCE { version, n, e, d, p, q, dp, dq, qi }.
        let private_key = Der(sequence(pkcs8.as_ref())).nth(2, OCTET_STRING);
        let mut integers = Der(sequence(private_key));
        let mut next = || b64(unsigned(integers.next_of(INTEGER)));
        let _version = next();
        let [n, e, d, p, q, dp, dq, qi] = [(); 8].map(|()| next());
        let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                         "n": n, "e": e, "d": d, "p": p, "q": q, "dp": dp, "dq": dq, "qi": qi});
        SigningKey { jwk }
    }

    /// A fresh Ed25519 key for EdDSA.
    pub(crate) fn eddsa(kid: &str) -> SigningKey {
        let pair = Ed25519KeyPair::generate().expect("an Ed25519 key pair");
        let seed = pair.seed().expect("the seed");
        let seed: Curve25519SeedBin<'static> = seed.as_be_bytes().expect("the seed's bytes");
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
                         "x": b64(pair.public_key().as_ref()), "d": b64(seed.as_ref())});
        SigningKey { jwk }
    }
}

/// A private JWK Set as text, the form `jwks-private` takes.
pub(crate) fn private_jwks(keys: &[SigningKey]) -> String {
    json!({"keys": keys.iter().map(|key| &key.jwk).collect::<Vec<_>>()}).to_string()
}

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const SEQUENCE: u8 = 0x30;

/// The content of the DER SEQUENCE that is the whole of `der`.
fn sequence(der: &[u8]) -> &[u8] {
    let mut outer = Der(der);
    let content = outer.next_of(SEQUENCE);
    assert!(outer.0.is_empty(), "trailing bytes after a DER SEQUENCE");
    content
}

/// An INTEGER's big-endian bytes without the sign byte DER adds to positive numbers.
fn unsigned(integer: &[u8]) -> &[u8] {
    match integer {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => integer,
    }
}

/// A cursor over DER elements (definite lengths only, as DER has).
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element's tag and content.
    fn next(&mut self) -> (u8, &'a [u8]) {
        let [tag, first, rest @ ..] = self.0 else {
            panic!("truncated DER");
        };
        let (len, rest) = if first & 0x80 == 0 {
            (usize::from(*first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            let (bytes, rest) = rest.split_at(count);
            let len = bytes
                .iter()
                .fold(0usize, |len, b| len << 8 | usize::from(*b));
            (len, rest)
        };
        let (content, rest) = rest.split_at(len);
        self.0 = rest;
        (*tag, content)
    }

    fn next_of(&mut self, expected: u8) -> &'a [u8] {
        let (tag, content) = self.next();
        assert_eq!(tag, expected, "unexpected DER tag");
        content
    }

    /// The content of the element at `index`, which must have tag `expected`.
    fn nth(mut self, index: usize, expected: u8) -> &'a [u8] {
        for _ in 0..index {
            self.next();
        }
        self.next_of(expected)
    }
}
