//! Claims rules and profiles: leeway, maximum age, required claims, the RFC 9068 profile, and the
//! normalized claims.

use std::time::Duration;

use serde_json::{Value, json};
use tokengate::{Gate, Rejection, TokenKind, TokenProfile};
use tokengate_testkit::{AUDIENCE, ISSUER, now, ready, rs256, valid_claims};

use super::support::{at, code, gate, issuer, validate, with};

#[test]
fn leeway_applies_to_exp_nbf_and_iat() {
    let key = rs256();
    let now = 1_800_000_000;
    let check =
        |gate: &Gate, claims: Value| match ready(gate.validate_at(&key.token(&claims), at(now))) {
            Ok(_) => "accepted",
            Err(r) => r.code(),
        };
    let base = json!({"iss": ISSUER, "aud": AUDIENCE});
    for (leeway, gate) in [
        (60, gate(issuer(&[key]))),
        (300, gate(issuer(&[key]).leeway(Duration::from_secs(300)))),
    ] {
        let cases = [
            (json!({"exp": now - leeway + 1}), "accepted"),
            (json!({"exp": now - leeway}), "token_expired"),
            (json!({"exp": now + 10, "nbf": now + leeway}), "accepted"),
            (
                json!({"exp": now + 10, "nbf": now + leeway + 1}),
                "token_not_yet_valid",
            ),
            (json!({"exp": now + 10, "iat": now + leeway}), "accepted"),
            (
                json!({"exp": now + 10, "iat": now + leeway + 1}),
                "issued_in_future",
            ),
        ];
        for (changes, expected) in cases {
            let claims = with(base.clone(), changes.clone());
            assert_eq!(check(&gate, claims), expected, "leeway {leeway}: {changes}");
        }
    }
    // Fractional NumericDates are JSON numbers too (RFC 7519 §2).
    let gate = gate(issuer(&[key]).leeway(Duration::ZERO));
    assert_eq!(
        check(&gate, with(base.clone(), json!({"exp": now as f64 + 0.5}))),
        "accepted"
    );
    assert_eq!(
        check(&gate, with(base.clone(), json!({"exp": now as f64 - 0.5}))),
        "token_expired"
    );
}

#[test]
fn maximum_token_age() {
    let key = rs256();
    let now = 1_800_000_000;
    let gate = gate(issuer(&[key]).max_token_age(Duration::from_secs(3600)));
    let check = |claims: Value| match ready(gate.validate_at(&key.token(&claims), at(now))) {
        Ok(_) => "accepted",
        Err(r) => r.code(),
    };
    let base = json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600});
    assert_eq!(
        check(with(base.clone(), json!({"iat": now - 3600 - 60}))),
        "accepted"
    );
    assert_eq!(
        check(with(base.clone(), json!({"iat": now - 3600 - 61}))),
        "token_too_old"
    );
    let err = ready(gate.validate_at(&key.token(&base), at(now))).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "iat".into()
        }
    );
}

#[test]
fn required_claims() {
    let key = rs256();
    let gate = gate(
        issuer(&[key])
            .require_claim("sub")
            .require_claim("x-tenant"),
    );
    let claims = with(valid_claims(), json!({"x-tenant": "t1"}));
    assert_eq!(code(&gate, &key.token(&claims)), "accepted");
    let err = validate(&gate, &key.token(&valid_claims())).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "x-tenant".into()
        }
    );
    assert_eq!(
        err.description(),
        "The access token lacks a required claim: x-tenant."
    );
    // `null` counts as absent.
    let err = validate(
        &gate,
        &key.token(&with(claims.clone(), json!({"x-tenant": Value::Null}))),
    )
    .unwrap_err();
    assert_eq!(err.code(), "missing_claim");
    let mut null_tenant = claims;
    null_tenant["x-tenant"] = Value::Null;
    let err = validate(&gate, &key.token(&null_tenant)).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "x-tenant".into()
        }
    );
}

#[test]
fn the_rfc9068_profile() {
    let key = rs256();
    let gate = gate(issuer(&[key]).token_profile(TokenProfile::Rfc9068));
    let header = json!({"alg": "RS256", "kid": key.kid(), "typ": "at+jwt"});
    let claims = with(valid_claims(), json!({"client_id": "app", "jti": "id-1"}));
    assert_eq!(
        code(&gate, &key.token_with_header(&header, &claims)),
        "accepted"
    );
    let media_type = json!({"alg": "RS256", "kid": key.kid(), "typ": "application/AT+JWT"});
    assert_eq!(
        code(&gate, &key.token_with_header(&media_type, &claims)),
        "accepted"
    );
    assert_eq!(
        code(&gate, &key.token(&claims)),
        "invalid_token_type",
        "typ JWT"
    );
    let untyped = json!({"alg": "RS256", "kid": key.kid()});
    assert_eq!(
        code(&gate, &key.token_with_header(&untyped, &claims)),
        "invalid_token_type"
    );
    for missing in ["sub", "client_id", "iat", "jti"] {
        let err = validate(
            &gate,
            &key.token_with_header(&header, &with(claims.clone(), json!({missing: null}))),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Rejection::MissingClaim {
                claim: missing.into()
            },
            "{missing}"
        );
    }
    let array_scope = with(claims.clone(), json!({"scope": ["a", "b"]}));
    assert_eq!(
        code(&gate, &key.token_with_header(&header, &array_scope)),
        "malformed_claims"
    );
    // The default profile accepts all of these.
    let lenient = self::gate(issuer(&[key]));
    assert_eq!(
        code(&lenient, &key.token_with_header(&header, &array_scope)),
        "accepted"
    );
    assert_eq!(
        code(&lenient, &key.token_with_header(&untyped, &valid_claims())),
        "accepted"
    );
}

#[test]
fn claims_are_normalized() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let claims = validate(
        &gate,
        &key.token(
            &json!({"iss": ISSUER, "aud": [AUDIENCE, "other"], "exp": now() + 60, "sub": "app-1",
                           "azp": "app-1", "tid": "t", "oid": "o", "scp": "a  b", "roles": ["r"]}),
        ),
    )
    .unwrap();
    assert_eq!(claims.issuer(), ISSUER);
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [AUDIENCE, "other"]);
    assert_eq!(claims.client_id(), Some("app-1"));
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert!(claims.json().starts_with('{'));
    let debug = format!("{claims:?}");
    assert!(
        !debug.contains("app-1") && !debug.contains(ISSUER),
        "{debug}"
    );
}
