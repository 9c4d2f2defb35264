//! The gate, its keys and the known-good tokens: the documented rejection codes, the proptest
//! configuration, and the check that an unsigned refusal is one of them.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::json;
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{
    AUDIENCE, ISSUER, TestKey, jwks, key_for, now, ready, rs256, valid_claims,
};

/// Every code in the table of `Rejection` (src/error.rs).
pub(crate) const DOCUMENTED: [&str; 22] = [
    "token_too_large",
    "unsupported_token_format",
    "malformed_token",
    "malformed_header",
    "malformed_claims",
    "unsupported_algorithm",
    "unsupported_critical_header",
    "invalid_token_type",
    "not_an_access_token",
    "untrusted_issuer",
    "missing_key_id",
    "unknown_key",
    "key_algorithm_mismatch",
    "invalid_signature",
    "missing_claim",
    "invalid_audience",
    "token_expired",
    "token_not_yet_valid",
    "issued_in_future",
    "token_too_old",
    "insufficient_scope",
    "keys_unavailable",
];

/// The refusals that can come before the signature is verified: parsing, issuer, algorithm,
/// type, key selection and the signature itself. "Claim-level rejections ... are only produced
/// for tokens whose signature verified" (`Rejection`); `missing_claim` only for `iss`, which
/// picks the issuer before any key.
const BEFORE_SIGNATURE: [&str; 13] = [
    "token_too_large",
    "unsupported_token_format",
    "malformed_token",
    "malformed_header",
    "malformed_claims",
    "unsupported_algorithm",
    "unsupported_critical_header",
    "invalid_token_type",
    "untrusted_issuer",
    "missing_key_id",
    "unknown_key",
    "key_algorithm_mismatch",
    "invalid_signature",
];

/// The ES256 key (kid `es256-1`), generated once with the others of `key_for`.
pub(crate) fn es256() -> &'static TestKey {
    key_for(Algorithm::ES256)
}

/// One issuer with an RS256 and an ES256 key, every algorithm allowed, the default 60 s leeway.
fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        Gate::builder()
            .issuer(
                IssuerProfile::new(ISSUER)
                    .audience(AUDIENCE)
                    .jwks(jwks(&[rs256(), es256()])),
            )
            .build()
            .unwrap()
    })
}

/// An RS256 and an ES256 token with `valid_claims()`, valid for a day from first use (so that
/// long `PROPTEST_CASES` runs do not outlive them).
pub(crate) fn good_tokens() -> &'static [String; 2] {
    static TOKENS: OnceLock<[String; 2]> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut claims = valid_claims();
        claims["exp"] = json!(now() + 86_400);
        [rs256().token(&claims), es256().token(&claims)]
    })
}

pub(crate) fn validate(token: &str) -> Result<Arc<Claims>, Rejection> {
    ready(gate().validate(token))
}

/// `cases` per property, unless `PROPTEST_CASES` asks for another number (for a longer local
/// run: `PROPTEST_CASES=20000 cargo test --release --test properties`).
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

/// A refusal of a token that carries no valid signature: documented, and not a claim-level
/// code (which would mean a signature verified).
pub(crate) fn assert_unsigned_refusal(
    result: &Result<Arc<Claims>, Rejection>,
) -> Result<(), TestCaseError> {
    let Err(rejection) = result else {
        return Err(TestCaseError::fail("accepted"));
    };
    let code = rejection.code();
    prop_assert!(DOCUMENTED.contains(&code), "undocumented code {code}");
    let before_signature = match rejection {
        Rejection::MissingClaim { claim } => &**claim == "iss",
        _ => BEFORE_SIGNATURE.contains(&code),
    };
    prop_assert!(
        before_signature,
        "{code} ({rejection:?}) for a token without a valid signature"
    );
    Ok(())
}

/// The known-good tokens pass, so the properties below are not vacuous.
#[test]
fn good_tokens_validate() {
    for token in good_tokens() {
        let claims = validate(token).unwrap();
        assert_eq!(claims.issuer(), ISSUER);
    }
}
