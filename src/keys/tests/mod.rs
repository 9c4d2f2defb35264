//! The key modules' unit tests, by what they test: loading and judging JWKs, PEM keys, key
//! sets and selection, and refreshes for missing keys. Shared here: JWK builders and loaders.

mod deadlines;
mod jwk;
mod misses;
mod pem;
mod sets;

use serde_json::{Value, json};

use super::*;
use crate::Algorithm;
use crate::test_fixtures::b64;

fn load(jwk: &Value, allowed: &[Algorithm]) -> Result<VerifyingKey, String> {
    parse_jwk(&jwk.to_string(), allowed, RulesAt::default()).map_err(|p| p.to_string())
}

fn refused(jwk: &Value, allowed: &[Algorithm], reason: &str) {
    let err = load(jwk, allowed).expect_err(&format!("{jwk} should be refused"));
    assert!(err.contains(reason), "{err:?} should mention {reason:?}");
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

fn without(mut jwk: Value, member: &str) -> Value {
    jwk.as_object_mut().unwrap().remove(member);
    jwk
}

/// A big-endian product of `factors`, for building moduli of chosen form.
fn product(factors: impl IntoIterator<Item = u32>) -> Vec<u8> {
    let mut n = vec![1u8];
    for f in factors {
        let mut carry = 0u64;
        for byte in n.iter_mut().rev() {
            let v = u64::from(*byte) * u64::from(f) + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            n.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    n
}

fn set(keys: &[Value]) -> (KeySet, Vec<KeyProblem>) {
    let loaded = keys
        .iter()
        .map(|k| load(k, Algorithm::ALL).unwrap())
        .collect();
    KeySet::new(loaded)
}

/// An RSA JWK of modulus `n` and exponent `e`, RS256.
fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> Value {
    json!({"kty": "RSA", "alg": "RS256", "kid": kid, "n": b64(n), "e": b64(e)})
}
