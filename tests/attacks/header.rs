//! The JOSE header's `alg` and `crit` (ATK-01 to ATK-03, ATK-12): `none` in every spelling, a
//! missing or mistyped `alg`, and critical extensions, none of which tokengate understands.

use serde_json::json;
use tokengate::Rejection;

use tokengate_testkit::{self as common, b64, valid_claims};

use crate::harness::{Good, check_all, expect, gate};

pub(crate) fn atk_01_good() -> Vec<Good> {
    let key = common::rs256();
    vec![Good::new(
        "RS256 token of the same key",
        &gate(&[key]),
        key.token(&valid_claims()),
    )]
}

/// ATK-01: `alg: none` is never accepted (RFC 7518 §3.6, RFC 8725 §2.1/§3.2, RFC 9068 §4): not
/// with an empty signature, a junk one, or the issuer key's real signature over the header.
#[test]
fn atk_01_alg_none() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    for header in [
        json!({"alg": "none"}),
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "typ": "JWT", "kid": key.kid()}),
    ] {
        let input = format!("{}.{}", b64(header.to_string()), b64(&claims));
        let variants = [
            ("empty signature", format!("{input}.")),
            ("junk signature", format!("{input}.{}", b64("junk"))),
            (
                "issuer key's signature",
                key.token_raw(&header.to_string(), &claims),
            ),
        ];
        for (name, token) in variants {
            expect(
                &gate,
                &token,
                &Rejection::UnsupportedAlgorithm,
                &format!("{header} with {name}"),
            );
        }
    }
}

pub(crate) fn atk_02_good() -> Vec<Good> {
    let key = common::rs256();
    let escaped = format!(
        r#"{{"alg":"RS\u0032\u0035\u0036","typ":"JWT","kid":"{}"}}"#,
        key.kid()
    );
    vec![Good::new(
        "alg RS256 spelled with escapes",
        &gate(&[key]),
        key.token_raw(&escaped, &valid_claims().to_string()),
    )]
}

/// ATK-02: `alg` is case-sensitive (RFC 7515 §4.1.1); spellings of `none` are unknown names.
/// JSON escapes are decoded first, so `"n\u006fne"` is `none` and `"RS\u0032\u0035\u0036"` is
/// `RS256`.
#[test]
fn atk_02_alg_none_variants() {
    check_all(&atk_02_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    for alg in [
        r#""None""#,
        r#""NONE""#,
        r#""nOnE""#,
        r#""none ""#,
        r#"" none""#,
        r#""n\u006fne""#,
        r#""\u006eone""#,
        r#""none\u0000""#,
    ] {
        let header = format!(r#"{{"alg":{alg},"typ":"JWT","kid":"{}"}}"#, key.kid());
        let empty = format!("{}.{}.", b64(&header), b64(&claims));
        expect(
            &gate,
            &empty,
            &Rejection::UnsupportedAlgorithm,
            &format!("alg {alg}, empty signature"),
        );
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &Rejection::UnsupportedAlgorithm,
            &format!("alg {alg}, signed"),
        );
    }
}

pub(crate) fn atk_03_good() -> Vec<Good> {
    let key = common::rs256();
    let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, key.kid());
    let token = key.token_raw(&header, &valid_claims().to_string());
    vec![Good::new("alg RS256", &gate(&[key]), token)]
}

/// ATK-03: `alg` missing, empty, `null`, a number, an array (RFC 7515 §4.1.1: required string).
#[test]
fn atk_03_alg_missing_or_not_a_string() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    check_all(&atk_03_good());
    let cases = [
        ("missing", None, Rejection::MalformedHeader),
        ("empty", Some(r#""""#), Rejection::UnsupportedAlgorithm),
        ("null", Some("null"), Rejection::MalformedHeader),
        ("a number", Some("256"), Rejection::MalformedHeader),
        ("a float", Some("1.0"), Rejection::MalformedHeader),
        ("a boolean", Some("true"), Rejection::MalformedHeader),
        ("an array", Some(r#"["RS256"]"#), Rejection::MalformedHeader),
        (
            "an object",
            Some(r#"{"name":"RS256"}"#),
            Rejection::MalformedHeader,
        ),
    ];
    for (variant, alg, expected) in cases {
        let header = match alg {
            Some(alg) => format!(r#"{{"alg":{alg},"typ":"JWT","kid":"{}"}}"#, key.kid()),
            None => format!(r#"{{"typ":"JWT","kid":"{}"}}"#, key.kid()),
        };
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &expected,
            &format!("alg {variant}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ATK-12: critical header parameters
// ---------------------------------------------------------------------------------------------

pub(crate) fn atk_12_good() -> Vec<Good> {
    // An unknown header parameter that is not critical is ignored (RFC 7515 §4).
    let key = common::rs256();
    let header = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","x-unknown":true}}"#,
        key.kid()
    );
    let token = key.token_raw(&header, &valid_claims().to_string());
    vec![Good::new("x-unknown without crit", &gate(&[key]), token)]
}

/// ATK-12: any `crit` header is refused: no extension is understood (RFC 7515 §4.1.11).
#[test]
fn atk_12_crit() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    let base = format!(r#""alg":"RS256","typ":"JWT","kid":"{}""#, key.kid());
    check_all(&atk_12_good());
    for crit in [
        r#""crit":["x-unknown"],"x-unknown":true"#,
        r#""crit":[]"#,
        r#""crit":["alg"]"#,
        r#""crit":["kid","typ"]"#,
        r#""crit":["exp"]"#,
        r#""crit":["x-unknown","x-unknown"],"x-unknown":1"#,
        r#""crit":["b64"],"b64":false"#,
        r#""crit":"x-unknown","x-unknown":true"#,
        r#""crit":{"x-unknown":true}"#,
        r#""crit":null"#,
        r#""crit":1"#,
        r#""crit":[1]"#,
        r#""\u0063rit":["x-unknown"],"x-unknown":true"#,
    ] {
        let header = format!("{{{base},{crit}}}");
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &Rejection::UnsupportedCriticalHeader,
            crit,
        );
    }
}
