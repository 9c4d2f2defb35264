//! Test keys, generated once per test binary (RSA generation is slow), and JWK Sets of them.

use std::sync::OnceLock;

use serde_json::json;
use tokengate::Algorithm;
use tokengate::testing::TestKey;

/// The binary's RS256 key, `kid` `rs256-1`.
pub fn rs256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "rs256-1"))
}

/// The binary's key for `alg`, `kid` `{alg}-1` in lowercase (`es256-1`, `eddsa-1`; for RS256
/// another key than [`rs256`], of the same `kid`). Every algorithm's key is generated on the
/// first call.
pub fn key_for(alg: Algorithm) -> &'static TestKey {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        Algorithm::ALL
            .iter()
            .map(|&a| TestKey::generate(a, format!("{}-1", a.name().to_lowercase())))
            .collect()
    });
    keys.iter()
        .find(|key| key.alg() == alg)
        .unwrap_or_else(|| panic!("no test key for {alg}"))
}

/// A JWK Set (JSON text) of these keys' public JWKs, each with `alg`.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>()}).to_string()
}
