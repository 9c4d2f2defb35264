//! Helpers: fixed clocks, outcomes, decoded payloads, keys as Entra publishes them, and the paths
//! a gate fetches.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokengate::{Claims, Gate, Rejection};
use tokengate_testkit::b64;

use super::entra_host::EntraHost;
use super::fixtures::{Case, GLOBAL_HOST, K08};

pub(crate) fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `"ok"` or the rejection code: compact to compare.
pub(crate) fn outcome(result: &Result<Arc<Claims>, Rejection>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

pub(crate) async fn check(gate: &Gate, case: &Case) -> &'static str {
    outcome(&gate.validate_at(case.token(), case.at()).await)
}

pub(crate) fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).unwrap()
}

/// One of K08's keys as Entra would publish it: no `alg` (K08's is `"SHA256"`, not a JWS
/// algorithm), no `key_ops` (`["signing"]` is not a JWK operation), and its modulus
/// re-encoded from standard base64 to base64url. Same key bytes.
pub(crate) fn k08_as_entra(kid: &str) -> Value {
    let doc: Value = serde_json::from_str(K08).unwrap();
    let mut jwk = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    let object = jwk.as_object_mut().unwrap();
    object.remove("alg");
    object.remove("key_ops");
    let n = base64_simd::STANDARD
        .decode_to_vec(jwk["n"].as_str().unwrap())
        .unwrap();
    jwk["n"] = Value::from(b64(n));
    jwk
}

pub(crate) const KRIMP: &str = "kriMPdmBvx68skT8-mPAB3BseeA";
pub(crate) const NGTF: &str = "NGTFvdK-fythEuLwjpwAJOM9n-A";

pub(crate) fn metadata_paths(tid: &str) -> [String; 2] {
    [
        format!("{GLOBAL_HOST} /{tid}/v2.0/.well-known/openid-configuration"),
        format!("{GLOBAL_HOST} /{tid}/.well-known/openid-configuration"),
    ]
}

pub(crate) fn key_paths(tid: &str) -> [String; 2] {
    [
        format!("{GLOBAL_HOST} /{tid}/discovery/v2.0/keys"),
        format!("{GLOBAL_HOST} /{tid}/discovery/keys"),
    ]
}

/// Nothing was fetched from a token's issuer host (ENTRA-3), only from the configured instance.
pub(crate) fn assert_only_instance_fetched(host: &EntraHost, instance_host: &str) {
    for request in host.requests() {
        assert!(
            request.starts_with(&format!("{instance_host} /")),
            "{request}"
        );
    }
}
