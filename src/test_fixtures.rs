//! Keys, claims and helpers for the unit tests, built on the `testing` feature's [`TestKey`]
//! (unit tests are built with it, through the crate's dev-dependency on itself). Integration
//! tests and benchmarks have the same fixtures in the `tokengate-testkit` crate
//! (tests/support), which unit tests cannot use: it links another copy of tokengate.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::Algorithm;
pub(crate) use crate::testing::TestKey;

pub(crate) const ISSUER: &str = "https://issuer.example.com/";
pub(crate) const AUDIENCE: &str = "api://orders";

/// Base64url without padding.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// A PEM block with this label around this DER, in lines of 64 characters ending in LF.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// A JWK Set holding these keys' public JWKs.
pub(crate) fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

/// Claims that pass every default check for [`ISSUER`] and [`AUDIENCE`].
pub(crate) fn valid_claims() -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
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
pub(crate) fn rs256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "rs256-1"))
}

/// One key per algorithm, `kid` `{alg}-1` in lowercase, generated on first use.
pub(crate) fn key_for(alg: Algorithm) -> &'static TestKey {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        Algorithm::ALL
            .iter()
            .map(|&a| TestKey::generate(a, format!("{}-1", a.name().to_lowercase())))
            .collect()
    });
    keys.iter()
        .find(|k| k.alg() == alg)
        .expect("a key for every algorithm")
}

/// Runs a future that needs no runtime (validation with configured keys never waits).
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("validation waited on something"),
    }
}
