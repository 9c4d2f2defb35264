//! Time claims (ATK-18 to ATK-20): `exp`, `nbf` and `iat` at the edges of the leeway, of the
//! wrong type or out of range, and `iat` required under RFC 9068.

use serde_json::json;
use tokengate::Rejection;

use tokengate_testkit::{self as common};

use crate::harness::{
    Good, L, T, at_jwt_header, check_all, expect_at, gate, missing, raw_claims, rfc9068_claims,
    rfc9068_gate, validate, with, without,
};

pub(crate) fn atk_18_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let exp_claims = |exp: i64| {
        with(
            without(common::valid_claims_at(T), "nbf"),
            "exp",
            json!(exp),
        )
    };
    vec![
        Good::new(
            "exp = now - L + 1",
            &gate,
            key.token(&exp_claims(T - L + 1)),
        )
        .at(T),
        Good::new("exp = now + 1", &gate, key.token(&exp_claims(T + 1))).at(T),
        Good::new(
            "exp far ahead",
            &gate,
            key.token(&common::valid_claims_at(T)),
        )
        .at(T),
    ]
}

/// Raw `exp`/`nbf`/`iat` values of the wrong type or out of range (RFC 7519 §2 NumericDate).
const BAD_NUMERIC_DATES: [&str; 9] = [
    r#""1999999999""#,
    "true",
    "null",
    "1e400",
    "-1",
    "{}",
    "[1999999999]",
    r#""""#,
    "1e300",
];

/// ATK-18: `exp` with leeway L = 60 s (RFC 7519 §4.1.4): `now >= exp + L` is expired.
#[test]
fn atk_18_exp() {
    check_all(&atk_18_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let exp_claims = |exp: i64| {
        with(
            without(common::valid_claims_at(T), "nbf"),
            "exp",
            json!(exp),
        )
    };
    for (variant, exp) in [
        ("exp = now - L - 1", T - L - 1),
        ("exp = now - L", T - L),
        ("exp long ago", 1),
    ] {
        expect_at(
            &gate,
            &key.token(&exp_claims(exp)),
            T,
            &Rejection::TokenExpired,
            variant,
        );
    }
    // The same token on either side of its expiry.
    let token = key.token(&exp_claims(T - L + 1));
    expect_at(
        &gate,
        &token,
        T + 1,
        &Rejection::TokenExpired,
        "exp = now - L + 1, one second later",
    );

    let no_exp = without(common::valid_claims_at(T), "exp");
    expect_at(
        &gate,
        &key.token(&no_exp),
        T,
        &missing("exp"),
        "exp missing",
    );
    let result = validate(&gate, &key.token(&no_exp), Some(T));
    assert!(
        matches!(&result, Err(Rejection::MissingClaim { claim }) if &**claim == "exp"),
        "exp missing: {:?}",
        result.map(|_| ())
    );
    assert_eq!(result.unwrap_err().code(), "missing_claim");

    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["exp"],
            &[format!(r#""exp":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("exp {value}"),
        );
    }
}

pub(crate) fn atk_19_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let nbf_claims = |nbf: i64| with(common::valid_claims_at(T), "nbf", json!(nbf));
    vec![
        Good::new(
            "nbf = now + L - 1",
            &gate,
            key.token(&nbf_claims(T + L - 1)),
        )
        .at(T),
        Good::new("nbf = now + L", &gate, key.token(&nbf_claims(T + L))).at(T),
        Good::new(
            "nbf absent",
            &gate,
            key.token(&without(common::valid_claims_at(T), "nbf")),
        )
        .at(T),
    ]
}

/// ATK-19: `nbf` with leeway (RFC 7519 §4.1.5): `now < nbf - L` is not yet valid.
#[test]
fn atk_19_nbf() {
    check_all(&atk_19_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let nbf_claims = |nbf: i64| with(common::valid_claims_at(T), "nbf", json!(nbf));
    for (variant, nbf) in [
        ("nbf = now + L + 1", T + L + 1),
        ("nbf = now + 1 day", T + 86_400),
    ] {
        expect_at(
            &gate,
            &key.token(&nbf_claims(nbf)),
            T,
            &Rejection::TokenNotYetValid,
            variant,
        );
    }
    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["nbf"],
            &[format!(r#""nbf":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("nbf {value}"),
        );
    }
}

pub(crate) fn atk_20_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let iat_claims = |iat: i64| with(common::valid_claims_at(T), "iat", json!(iat));
    vec![
        Good::new("iat = now + L", &gate, key.token(&iat_claims(T + L))).at(T),
        Good::new("iat = now", &gate, key.token(&iat_claims(T))).at(T),
        Good::new(
            "iat absent, JWT profile",
            &gate,
            key.token(&without(common::valid_claims_at(T), "iat")),
        )
        .at(T),
        Good::new(
            "RFC 9068 token with iat",
            &rfc9068_gate(key),
            key.token_with_header(&at_jwt_header(key, "at+jwt"), &rfc9068_claims(T)),
        )
        .at(T),
    ]
}

/// ATK-20: `iat` in the future beyond leeway; `iat` required under RFC 9068 (§2.2).
#[test]
fn atk_20_iat() {
    check_all(&atk_20_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let iat_claims = |iat: i64| with(common::valid_claims_at(T), "iat", json!(iat));
    for (variant, iat) in [
        ("iat = now + L + 60", T + L + 60),
        ("iat = now + L + 1", T + L + 1),
    ] {
        expect_at(
            &gate,
            &key.token(&iat_claims(iat)),
            T,
            &Rejection::IssuedInFuture,
            variant,
        );
    }
    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["iat"],
            &[format!(r#""iat":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("iat {value}"),
        );
    }
    let strict = rfc9068_gate(key);
    let token = key.token_with_header(
        &at_jwt_header(key, "at+jwt"),
        &without(rfc9068_claims(T), "iat"),
    );
    expect_at(
        &strict,
        &token,
        T,
        &missing("iat"),
        "iat missing, RFC 9068 profile",
    );
}
