//! Wycheproof and RFC 7520 vectors, run against the JWS and key stages.
//!
//! The data lives in `tests/vectors/` (verbatim upstream copies; see the READMEs there for the
//! schemas, quirks and the mislabeled tcIds). Every vector is run and compared with its label;
//! where tokengate refuses something on purpose, or where the label itself is wrong, the case
//! is listed by tcId with a reason in the file of its vector family, and the lists are checked
//! to still be needed.
//!
//! Run with `cargo test --lib vector_tests -- --nocapture` to see the per-file summaries.

mod hmac_emulation;
mod rfc7520;
mod tally;
mod wycheproof_jwk;
mod wycheproof_jws;
mod wycheproof_signatures;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Rejection;
use crate::jws::{self, Header, HeaderText, Signature};
use crate::keys::{KeySet, VerifyingKey};
use tally::Label;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/");

/// Reads and deserializes one vector file (relative to `tests/vectors/`).
fn load<T: DeserializeOwned>(relative: &str) -> T {
    let path = format!("{VECTORS}{relative}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The JWS stage under test
// ---------------------------------------------------------------------------------------------

/// The JWS part of `Gate::pipeline`, step for step and in the same order: split, header,
/// payload decoding, algorithm, signature decoding, key selection, verification. Claims are not
/// parsed: Wycheproof and RFC 7520 payloads are plain text, not JWT claims sets. For the same
/// reason the gate's claim-driven steps (issuer lookup by `iss`, the issuer's algorithm
/// allowlist and `typ` policy) are left out; the allowlist is applied when keys are loaded.
fn jws_outcome(token: &str, keys: &KeySet) -> Result<(), Rejection> {
    let segments = jws::split(token)?;
    let header_text = HeaderText::decode(segments.header)?;
    let header = Header::parse(header_text.as_str())?;
    jws::decode_text(segments.payload)?;
    let alg = header.alg.ok_or(Rejection::UnsupportedAlgorithm)?;
    let signature = Signature::decode(segments.signature)?;
    let key = keys.select(header.kid.as_deref(), alg)?;
    if key.verify(segments.signing_input, signature.as_bytes()) {
        Ok(())
    } else {
        Err(Rejection::InvalidSignature)
    }
}

/// A key set holding `key` if it loaded, or nothing (a refused key leaves the issuer without
/// keys, which is what the gate would see).
fn key_set(key: Option<VerifyingKey>) -> KeySet {
    let (set, problems) = KeySet::new(key.into_iter().collect());
    assert!(problems.is_empty(), "{problems:?}");
    set
}

/// Every tcId of a list must have been met exactly once: a stale entry fails the test.
fn assert_all_seen(mut seen: Vec<u32>, listed: impl Iterator<Item = u32>) {
    let mut listed: Vec<u32> = listed.collect();
    seen.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        seen, listed,
        "listed tcIds that were not met (or met twice)"
    );
}

fn code(outcome: &Result<(), Rejection>) -> String {
    match outcome {
        Ok(()) => "accepted".to_owned(),
        Err(rejection) => rejection.code().to_owned(),
    }
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The JWK with its private members removed (RFC 7517 §4-5: a verifier publishes only these).
fn public_part(private: &Value) -> Value {
    let mut public = private.clone();
    let members = public.as_object_mut().expect("a JWK is an object");
    for name in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        members.remove(name);
    }
    public
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WycheproofFile<G> {
    number_of_tests: usize,
    test_groups: Vec<G>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JwsCase {
    tc_id: u32,
    comment: String,
    jws: String,
    result: Label,
}

/// The reason part of a `KeyProblem` message (`key "kid": reason`), for grouping counts.
fn reason_of(problem: &str) -> &str {
    problem
        .split_once(": ")
        .map_or(problem, |(_, reason)| reason)
}
