//! RFC 7520 JWS examples.

use serde::Deserialize;

use serde_json::Value;

use super::hmac_emulation::{OctJwk, assert_oct_refused, hmac_outcome};
use super::tally::{Label, Tally};
use super::{code, jws_outcome, key_set, load, public_part};
use crate::Algorithm;
use crate::error::Rejection;
use crate::jws;
use crate::keys::{KeySet, RulesAt, parse_jwk};

#[derive(Deserialize)]
struct CookbookFile {
    input: CookbookInput,
    output: CookbookOutput,
}

#[derive(Deserialize)]
struct CookbookInput {
    /// One private JWK, or a list of them (4_8).
    key: Value,
}

#[derive(Deserialize)]
struct CookbookOutput {
    compact: Option<String>,
    json: Option<Value>,
    json_flat: Option<Value>,
}

/// The RFC 7520 examples: 8 files, 22 signature instances in all (`rfc7520/README.md`).
const RFC7520_FILES: usize = 8;
const RFC7520_SIGNATURES: usize = 22;

/// What tokengate does with a file's compact form.
enum Compact {
    /// Verifies with the public part of `input.key`, bound to this algorithm.
    Verifies(Algorithm),
    /// HMAC: the oct key is refused at load time.
    OctRefused,
    /// Detached payload (empty payload segment): refused as a format.
    Detached,
    /// The example exists only in JSON serialization.
    Absent,
}

#[test]
fn rfc7520_examples() {
    let files = [
        (
            "4_1.rsa_v15_signature.json",
            Compact::Verifies(Algorithm::RS256),
        ),
        (
            "4_2.rsa-pss_signature.json",
            Compact::Verifies(Algorithm::PS384),
        ),
        (
            "4_3.ecdsa_signature.json",
            Compact::Verifies(Algorithm::ES512),
        ),
        (
            "4_4.hmac-sha2_integrity_protection.json",
            Compact::OctRefused,
        ),
        (
            "4_5.signature_with_detached_content.json",
            Compact::Detached,
        ),
        (
            "4_6.protecting_specific_header_fields.json",
            Compact::Absent,
        ),
        ("4_7.protecting_content_only.json", Compact::Absent),
        ("4_8.multiple_signatures.json", Compact::Absent),
    ];
    assert_eq!(files.len(), RFC7520_FILES);
    // Every example is positive, so every signature instance is labeled valid.
    let mut tally = Tally::new("rfc7520/4_*.json", RFC7520_SIGNATURES);

    for (name, compact) in files {
        let example: CookbookFile = load(&format!("rfc7520/{name}"));
        let token = example.output.compact.as_deref();
        match compact {
            Compact::Verifies(alg) => {
                let private = example.input.key.to_string();
                let refused = parse_jwk(&private, &[alg], RulesAt::default())
                    .expect_err("the cookbook's private JWK must be refused")
                    .to_string();
                assert!(
                    refused.contains("private key material"),
                    "{name}: {refused}"
                );
                // The RFC keys have no `alg`: the issuer's allowlist (just `alg`) binds it.
                let key = parse_jwk(
                    &public_part(&example.input.key).to_string(),
                    &[alg],
                    RulesAt::default(),
                )
                .unwrap_or_else(|p| panic!("{name}: {p}"));
                let outcome = jws_outcome(token.expect("compact form"), &key_set(Some(key)));
                tally.compare(
                    format!("{name} compact"),
                    Label::Valid,
                    outcome.is_ok(),
                    &format!("{name}: {}", code(&outcome)),
                );
            }
            Compact::OctRefused => {
                let token = token.expect("compact form");
                assert_oct_refused(&example.input.key.to_string());
                let outcome = jws_outcome(token, &KeySet::default());
                assert_eq!(outcome, Err(Rejection::UnsupportedAlgorithm), "{name}");
                // The emulated HMAC path accepts it, so the refusal is the policy alone.
                let key: OctJwk = serde_json::from_value(example.input.key.clone()).unwrap();
                assert_eq!(hmac_outcome(token, &key), Ok(()), "{name}: HMAC emulation");
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} compact: {} (HS256; oct keys are never used, RFC 8725 §3.1)",
                    code(&outcome)
                ));
            }
            Compact::Detached => {
                let token = token.expect("compact form");
                assert_eq!(
                    jws::split(token).unwrap_err(),
                    Rejection::UnsupportedTokenFormat
                );
                let outcome = jws_outcome(token, &KeySet::default());
                assert_eq!(outcome, Err(Rejection::UnsupportedTokenFormat), "{name}");
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} compact: {} (detached payload: a JWT always carries its claims)",
                    code(&outcome)
                ));
            }
            Compact::Absent => assert!(token.is_none(), "{name}"),
        }

        for (form, serialization) in [
            ("json", &example.output.json),
            ("json_flat", &example.output.json_flat),
        ] {
            let Some(serialization) = serialization else {
                continue;
            };
            let text = serialization.to_string();
            assert_eq!(
                jws::split(&text).unwrap_err(),
                Rejection::UnsupportedTokenFormat,
                "{name} {form}"
            );
            let outcome = jws_outcome(&text, &KeySet::default());
            assert_eq!(
                outcome,
                Err(Rejection::UnsupportedTokenFormat),
                "{name} {form}"
            );
            // The general form may carry several signatures; each is one instance.
            let signatures = serialization
                .get("signatures")
                .and_then(Value::as_array)
                .map_or(1, Vec::len);
            for i in 1..=signatures {
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} {form} signature {i}/{signatures}: {} (compact serialization only)",
                    code(&outcome)
                ));
            }
        }
    }
    tally.finish();
}
