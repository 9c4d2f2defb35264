//! The generators reach deep: counted over a deterministic run, so the properties of the other
//! modules are not satisfied by input that every gate refuses at the first check.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::Value;
use tokengate::{Claims, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{AUDIENCE, ISSUER, now, ready};

use super::decodable_input::segment_lists;
use super::jwks_documents::jwks_text;
use super::mutations::{apply, mutation};
use super::resigned_claims::claims;
use super::support::{es256, good_tokens, validate};

fn outcomes<S: Strategy>(
    strategy: S,
    cases: usize,
    run: impl Fn(S::Value) -> &'static str,
) -> BTreeMap<&'static str, usize> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut counts = BTreeMap::new();
    for _ in 0..cases {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        *counts.entry(run(value)).or_default() += 1;
    }
    println!("{counts:?}");
    counts
}

fn validate_with(gate: &Gate, token: &str) -> Result<Arc<Claims>, Rejection> {
    ready(gate.validate(token))
}

fn code_of(result: Result<Arc<Claims>, Rejection>) -> &'static str {
    result.map_or_else(|r| r.code(), |_| "ok")
}

#[test]
fn generators_reach_every_stage() {
    let segments = outcomes(segment_lists(), 512, |s| code_of(validate(&s.join("."))));
    let mutations = outcomes(
        (0..2usize, proptest::collection::vec(mutation(), 1..4)),
        512,
        |(which, ms)| {
            let token = ms
                .iter()
                .fold(good_tokens()[which].clone(), |t, m| apply(&t, m));
            code_of(validate(&token))
        },
    );
    let now = now();
    let claims = outcomes(claims(now), 256, |c| {
        let key = es256();
        code_of(validate(&key.token_raw(
            &key.header().to_string(),
            &Value::Object(c).to_string(),
        )))
    });
    let reached = |counts: &BTreeMap<&str, usize>, codes: &[&str]| {
        for code in codes {
            assert!(
                counts.contains_key(code),
                "{code} never reached: {counts:?}"
            );
        }
    };
    reached(
        &segments,
        &[
            "malformed_token",
            "malformed_header",
            "malformed_claims",
            "unsupported_algorithm",
            "invalid_token_type",
            "untrusted_issuer",
            "missing_key_id",
            "unknown_key",
            "key_algorithm_mismatch",
            "invalid_signature",
        ],
    );
    reached(&mutations, &["ok", "malformed_token", "invalid_signature"]);
    reached(
        &claims,
        &[
            "malformed_claims",
            "missing_claim",
            "untrusted_issuer",
            "not_an_access_token",
            "invalid_audience",
            "token_expired",
            "token_not_yet_valid",
            "issued_in_future",
        ],
    );
    assert!(
        claims["ok"] >= 25,
        "too few claim sets validate: {claims:?}"
    );

    let jwks = outcomes(jwks_text(), 512, |jwks| {
        match Gate::builder()
            .issuer(IssuerProfile::new(ISSUER).audience(AUDIENCE).jwks(jwks))
            .build()
        {
            Ok(gate) => code_of(validate_with(&gate, &good_tokens()[0])),
            Err(_) => "refused",
        }
    });
    assert!(jwks["refused"] < 500, "almost no key set builds: {jwks:?}");
    assert!(jwks.contains_key("ok"), "{jwks:?}");
}
