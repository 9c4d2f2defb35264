//! Wycheproof `json_web_signature_test.json`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::hmac_emulation::{OctJwk, assert_oct_refused, hmac_outcome};
use super::tally::{Strict, Tally};
use super::{JwsCase, WycheproofFile, assert_all_seen, code, jws_outcome, key_set, load};
use crate::Algorithm;
use crate::error::Rejection;
use crate::jws::{Header, HeaderText, Signature};
use crate::keys::{KeySet, RulesAt, parse_jwk};

#[derive(Deserialize)]
struct JwsGroup {
    private: Box<RawValue>,
    public: Option<Box<RawValue>>,
    tests: Vec<JwsCase>,
}

/// Labels in `json_web_signature_test.json` that the file itself contradicts, with the strict
/// outcome asserted instead (evidence in `tests/vectors/wycheproof/README.md`).
const JWS_MISLABELED: [(u32, Strict, &str); 8] = [
    (
        367,
        Strict::Accept,
        "byte-identical to valid tcId 357, no padding at all (C2SP/wycheproof#236)",
    ),
    (
        370,
        Strict::Accept,
        "byte-identical to valid tcId 357, no padding at all (C2SP/wycheproof#236)",
    ),
    (
        372,
        Strict::Reject,
        "'?' in the header is not base64url; verifies only if dropped (RFC 7515 §2, §5.2)",
    ),
    (
        373,
        Strict::Reject,
        "'?' in the payload is not base64url; verifies only if dropped (RFC 7515 §2, §5.2)",
    ),
    (
        346,
        Strict::Reject,
        "header alg PS384 vs JWK alg PS256; 332-340 label that mismatch invalid",
    ),
    (
        350,
        Strict::Reject,
        "header alg PS384 vs JWK alg PS256 (key_ops copy of 346)",
    ),
    (
        347,
        Strict::Reject,
        "JWK alg ES521 is not a JWA name and not ES512; json_web_key 19/20 label this invalid",
    ),
    (
        351,
        Strict::Reject,
        "JWK alg ES521 is not a JWA name and not ES512 (key_ops copy of 347)",
    ),
];

/// Valid labels in `json_web_signature_test.json` that tokengate refuses on purpose: they are
/// valid JWS but cannot be JWTs, whose payload is a UTF-8 JSON claims set (RFC 7519 §7.2
/// step 10). Each one's signature is checked to verify on its own.
const JWS_POLICY_DIVERGENCES: [(u32, Rejection, &str); 12] = [
    (259, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (264, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (268, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (272, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (320, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (325, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (263, Rejection::MalformedToken, BINARY_PAYLOAD),
    (267, Rejection::MalformedToken, BINARY_PAYLOAD),
    (271, Rejection::MalformedToken, BINARY_PAYLOAD),
    (275, Rejection::MalformedToken, BINARY_PAYLOAD),
    (323, Rejection::MalformedToken, BINARY_PAYLOAD),
    (328, Rejection::MalformedToken, BINARY_PAYLOAD),
];
const EMPTY_PAYLOAD: &str = "empty payload is refused as detached content: a JWT always carries \
                             its claims (RFC 7515 App. F, RFC 7519 §7.2)";
const BINARY_PAYLOAD: &str = "payload bytes E0..FF are not UTF-8, which a JWT payload must be \
                              (RFC 7519 §7.2 step 10, RFC 8725 §3.7)";

/// Whether the signature alone verifies, with the header and key handled as in
/// [`jws_outcome`] and the payload segment taken as it is. Only used to show that a listed
/// policy refusal is not a cryptographic failure.
fn signature_verifies(token: &str, keys: &KeySet) -> bool {
    let check = || -> Option<bool> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, _) = signing_input.split_once('.')?;
        let header_text = HeaderText::decode(header).ok()?;
        let header = Header::parse(header_text.as_str()).ok()?;
        let signature = Signature::decode(signature).ok()?;
        let key = keys.select(header.kid.as_deref(), header.alg?).ok()?;
        Some(key.verify(signing_input.as_bytes(), signature.as_bytes()))
    };
    check().unwrap_or(false)
}

#[test]
fn wycheproof_json_web_signature() {
    let file: WycheproofFile<JwsGroup> = load("wycheproof/json_web_signature_test.json");
    let mut tally = Tally::new("json_web_signature_test.json", file.number_of_tests);
    let mut seen_mislabeled = Vec::new();
    let mut seen_divergences = Vec::new();
    let mut hmac_cases = 0;

    for group in &file.test_groups {
        let jwk = group.public.as_deref().unwrap_or(&group.private).get();
        let oct: Option<OctJwk> = serde_json::from_str::<OctJwk>(jwk)
            .ok()
            .filter(|k| k.kty == "oct");
        // Keys are judged once per group, as the gate judges them once per key set.
        let (keys, key_problem) = match &oct {
            Some(_) => {
                assert_oct_refused(jwk);
                (KeySet::default(), None)
            }
            None => {
                // A verifier is given public keys only: the private JWK must not load.
                let private = parse_jwk(group.private.get(), Algorithm::ALL, RulesAt::default())
                    .expect_err("a private JWK must be refused");
                assert!(
                    private.to_string().contains("private key material"),
                    "{private}"
                );
                match parse_jwk(jwk, Algorithm::ALL, RulesAt::default()) {
                    Ok(key) => (key_set(Some(key)), None),
                    Err(problem) => (key_set(None), Some(problem.to_string())),
                }
            }
        };

        for case in &group.tests {
            let outcome = match &oct {
                Some(key) => {
                    hmac_cases += 1;
                    hmac_outcome(&case.jws, key)
                }
                None => jws_outcome(&case.jws, &keys),
            };
            // A refused key decides the case before any token step does.
            let rule = match (&key_problem, &outcome) {
                (Some(problem), Err(_)) => format!("key refused: {problem}"),
                _ => code(&outcome),
            };
            if outcome.is_err() {
                tally.refused_by(rule.clone());
            }
            let detail = format!("{}: {rule}", case.comment);

            if let Some((_, strict, reason)) =
                JWS_MISLABELED.iter().find(|(id, ..)| *id == case.tc_id)
            {
                seen_mislabeled.push(case.tc_id);
                let line = format!("got {rule}: {reason}");
                tally.mislabeled(case.tc_id, case.result, *strict, outcome.is_ok(), &line);
            } else if let Some((_, expected, reason)) = JWS_POLICY_DIVERGENCES
                .iter()
                .find(|(id, ..)| *id == case.tc_id)
            {
                seen_divergences.push(case.tc_id);
                let as_designed = outcome.as_ref().err() == Some(expected)
                    && signature_verifies(&case.jws, &keys);
                let line = format!("{detail}, signature verifies: {reason}");
                tally.divergence(case.tc_id, case.result, as_designed, &line);
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

    assert_all_seen(seen_mislabeled, JWS_MISLABELED.iter().map(|(id, ..)| *id));
    assert_all_seen(
        seen_divergences,
        JWS_POLICY_DIVERGENCES.iter().map(|(id, ..)| *id),
    );
    tally.notes.push(format!(
        "{hmac_cases} HS256 vectors ran through the crate's split/base64url steps with the MAC \
         checked in test code; tokengate itself refuses their oct keys by design (RFC 8725 §3.1)"
    ));
    tally.finish();
}
