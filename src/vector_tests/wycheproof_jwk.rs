//! Wycheproof `json_web_key_test.json`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::tally::{Label, Tally};
use super::{JwsCase, WycheproofFile, assert_all_seen, code, jws_outcome, load, reason_of};
use crate::Algorithm;
use crate::keys::{KeySet, RulesAt, parse_jwks};

#[derive(Deserialize)]
struct JwkGroup {
    private: Box<RawValue>,
    public: Option<Box<RawValue>>,
    tests: Vec<JwsCase>,
}

/// Valid labels in `json_web_key_test.json` that tokengate refuses on purpose.
const JWK_POLICY_DIVERGENCES: [(u32, &str); 4] = [
    (
        2,
        "HS256 keyset: oct keys are never used to verify tokens (RFC 8725 §3.1)",
    ),
    (
        13,
        "65-byte HS256 key: oct keys are never used (RFC 8725 §3.1)",
    ),
    (
        14,
        "65-byte HS384 key: oct keys are never used (RFC 8725 §3.1)",
    ),
    (
        15,
        "65-byte HS512 key: oct keys are never used (RFC 8725 §3.1)",
    ),
];

#[test]
fn wycheproof_json_web_key() {
    let file: WycheproofFile<JwkGroup> = load("wycheproof/json_web_key_test.json");
    let mut tally = Tally::new("json_web_key_test.json", file.number_of_tests);
    let mut seen_divergences = Vec::new();

    for group in &file.test_groups {
        let jwks = group.public.as_deref().unwrap_or(&group.private).get();
        let (loaded, mut problems) =
            parse_jwks(jwks, Algorithm::ALL, usize::MAX, RulesAt::default())
                .expect("each group holds a JWK Set");
        let (keys, set_problems) = KeySet::new(loaded);
        problems.extend(set_problems);
        let key_rules: Vec<String> = problems.iter().map(ToString::to_string).collect();

        for case in &group.tests {
            let outcome = jws_outcome(&case.jws, &keys);
            // Which rule refused it: the token step that stopped, and any key the set lost
            // (for a refused key that is the decisive rule, whatever the token step says).
            let rule = if key_rules.is_empty() {
                format!("token step: {}", code(&outcome))
            } else {
                format!(
                    "token step: {}; keys refused: {}",
                    code(&outcome),
                    key_rules.join("; ")
                )
            };
            if outcome.is_err() {
                match key_rules.first() {
                    Some(problem) => tally.refused_by(format!("key rule: {}", reason_of(problem))),
                    None => tally.refused_by(code(&outcome)),
                }
            }
            if case.result == Label::Invalid {
                println!(
                    "json_web_key tcId {} ({}): {rule}",
                    case.tc_id, case.comment
                );
            }

            let detail = format!("{}: {rule}", case.comment);
            if let Some((_, reason)) = JWK_POLICY_DIVERGENCES
                .iter()
                .find(|(id, _)| *id == case.tc_id)
            {
                seen_divergences.push(case.tc_id);
                let as_designed =
                    outcome.is_err() && key_rules.iter().any(|r| r.contains("symmetric (oct)"));
                tally.divergence(
                    case.tc_id,
                    case.result,
                    as_designed,
                    &format!("{detail}: {reason}"),
                );
            } else {
                tally.compare(
                    format!("tcId {}", case.tc_id),
                    case.result,
                    outcome.is_ok(),
                    &detail,
                );
            }
        }
    }

    assert_all_seen(
        seen_divergences,
        JWK_POLICY_DIVERGENCES.iter().map(|(id, _)| *id),
    );
    tally.finish();
}
