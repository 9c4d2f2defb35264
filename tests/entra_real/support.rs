//! Helpers: gates for the recorded issuers, outcomes at a fixed clock, and tokens and key sets
//! taken apart and put together again.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection};
use tokengate_testkit::{b64, ready};

use super::fixtures::K08;

pub(crate) fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

pub(crate) fn entra(iss: &str, aud: &str, jwks: &str) -> IssuerProfile {
    IssuerProfile::new(iss)
        .audience(aud)
        .algorithms([Algorithm::RS256])
        .jwks(jwks)
}

pub(crate) fn build(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .unwrap_or_else(|e| panic!("gate refused: {e}"))
}

pub(crate) fn validate(
    gate: &Gate,
    token: &str,
    now: SystemTime,
) -> Result<Arc<Claims>, Rejection> {
    ready(gate.validate_at(token, now))
}

/// `"ok"` or the rejection code: compact to compare.
pub(crate) fn outcome(gate: &Gate, token: &str, now: SystemTime) -> &'static str {
    match validate(gate, token, now) {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

fn b64_decode(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("base64url")
}

fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().expect("three segments")
}

pub(crate) fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64_decode(segments(token)[0])).unwrap()
}

pub(crate) fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&b64_decode(segments(token)[1])).unwrap()
}

pub(crate) fn jwks_keys(jwks: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(jwks).unwrap();
    doc["keys"].as_array().unwrap().clone()
}

pub(crate) fn kids(jwks: &str) -> Vec<String> {
    jwks_keys(jwks)
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn jwks_of(keys: impl IntoIterator<Item = Value>) -> String {
    json!({ "keys": keys.into_iter().collect::<Vec<_>>() }).to_string()
}

/// A JWK without the named members.
pub(crate) fn without(mut jwk: Value, members: &[&str]) -> Value {
    for member in members {
        jwk.as_object_mut().unwrap().remove(*member);
    }
    jwk
}

/// One of K08's keys, verbatim.
fn k08_key(kid: &str) -> Value {
    jwks_keys(K08)
        .into_iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
}

/// A K08 key with its modulus re-encoded from standard base64 (`+`, `/`, `=` padding, as the
/// fixture has it) to base64url (RFC 7518 §6.3.1.1), as Entra publishes moduli. Same bytes.
pub(crate) fn base64url_modulus(mut jwk: Value) -> Value {
    let n = jwk["n"].as_str().unwrap();
    let bytes = base64_simd::STANDARD.decode_to_vec(n).unwrap();
    jwk["n"] = Value::from(b64(bytes));
    jwk
}

/// A K08 key as Entra would publish it: no `alg`, no `key_ops`, a base64url modulus.
pub(crate) fn k08_as_entra(kid: &str) -> Value {
    base64url_modulus(without(k08_key(kid), &["alg", "key_ops"]))
}

pub(crate) const KRIMP: &str = "kriMPdmBvx68skT8-mPAB3BseeA";
pub(crate) const NGTF: &str = "NGTFvdK-fythEuLwjpwAJOM9n-A";

/// Replaces `from` (which must occur once) by `to`, of the same length, in the decoded payload,
/// and re-encodes it: valid base64url and valid JSON, one character different, the original
/// signature kept.
pub(crate) fn change_payload(token: &str, from: &str, to: &str) -> String {
    assert_eq!(from.len(), to.len());
    let [header, payload, signature] = segments(token);
    let text = String::from_utf8(b64_decode(payload)).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    let changed = text.replace(from, to);
    let differing = text
        .bytes()
        .zip(changed.bytes())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 1);
    let _: Value = serde_json::from_str(&changed).expect("still JSON");
    let forged = format!(
        "{header}.{}.{signature}",
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(changed)
    );
    assert_ne!(forged, token);
    forged
}
