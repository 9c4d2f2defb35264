//! The claim matrix: every claim replaced by every kind of JSON value, and removed, in tokens
//! signed with the real key of each issuer (the raw one writing the exact JSON text: `1e400`,
//! `2^64`), each answered as `claim_outcome` says the standards want.

use serde_json::Value;

use tokengate_testkit::now;

use crate::requests::{Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::tokens::{json_str, object, set};
use crate::world::{Env, LEEWAY, MARK_ARR, MARK_HUGE, MARK_STR, MAX_NUMERIC_DATE};

pub static CLAIM_MATRIX: Family = Family {
    tag: "claims",
    name: "claim matrix",
    floor: 535,
};

#[test]
fn claim_matrix() {
    scan(&CLAIM_MATRIX, claim_matrix_cases);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// The test issuer: `TokenProfile::Jwt`.
    Jwt,
    /// The raw issuer: `TokenProfile::Rfc9068`.
    Rfc9068,
}

const MATRIX_CLAIMS: [&str; 19] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "scp",
    "roles",
    "azp",
    "tid",
    "token_use",
    "nonce",
    "at_hash",
    "events",
    "cnf",
    // Not a registered claim: any JSON value is acceptable.
    "employee_number",
];

/// The substitutes, as raw JSON text.
fn substitutes() -> Vec<(&'static str, String)> {
    vec![
        ("null", "null".to_owned()),
        ("true", "true".to_owned()),
        ("false", "false".to_owned()),
        ("a string", json_str(MARK_STR)),
        ("an empty string", "\"\"".to_owned()),
        ("a huge string", json_str(&MARK_HUGE.repeat(600))),
        ("a huge number as a string", json_str(&"9".repeat(400))),
        ("[]", "[]".to_owned()),
        ("[1]", "[1]".to_owned()),
        ("an array of a string", format!("[{}]", json_str(MARK_ARR))),
        ("{}", "{}".to_owned()),
        ("{\"a\":1}", "{\"a\":1}".to_owned()),
        ("1e400", "1e400".to_owned()),
        ("-1", "-1".to_owned()),
        ("0", "0".to_owned()),
        ("2^64", "18446744073709551616".to_owned()),
        ("1e300", "1e300".to_owned()),
    ]
}

/// What tokengate does with `claim` set to `raw` (`None`: accepted, or absent when `raw` is
/// `None`), as documented in `Rejection`, docs/security.md and `src/claims/`, and
/// checked against the standards: registered claims have fixed types, whatever the value
/// (RFC 7519 §4.1: StringOrURI, NumericDate; `aud` a string or an array of strings; RFC 9068
/// §2.2.3: `scope` a string), `null` included; a NumericDate is a number, here non-negative and
/// before year 10000; the markers of other token kinds (`nonce`, `at_hash`, `events`,
/// `token_use`; RFC 8725 §3.12) and key binding (`cnf`, RFC 7800 / RFC 9449) refuse whatever
/// their value; unknown claims are ignored (RFC 7519 §4); a number that does not fit an IEEE
/// double (`1e400`) is refused by the JSON parser whatever the claim (RFC 8259 §6 lets a parser
/// limit the range). `sub`, `jti`, `client_id`, `azp`, `tid` of any string, `scp` and `roles`
/// arrays of strings (empty ones too), `nbf` and `iat` of 0 are legitimately accepted: those
/// must reach the handler.
fn claim_outcome(
    profile: Profile,
    claim: &str,
    raw: Option<&str>,
    now: i64,
) -> Option<&'static str> {
    const MALFORMED: Option<&str> = Some("malformed_claims");
    let Some(raw) = raw else {
        // The claim is absent.
        return match claim {
            "iss" | "aud" | "exp" => Some("missing_claim"),
            "sub" | "client_id" | "iat" | "jti" if profile == Profile::Rfc9068 => {
                Some("missing_claim")
            }
            _ => None,
        };
    };
    let Ok(value) = serde_json::from_str::<Value>(raw) else {
        return MALFORMED;
    };
    let string = value.is_string();
    let strings = value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string));
    let date = value
        .as_f64()
        .filter(|v| (0.0..=MAX_NUMERIC_DATE as f64).contains(v));
    let now = now as f64;
    let leeway = LEEWAY as f64;
    match claim {
        "iss" if string => Some("untrusted_issuer"),
        "iss" => MALFORMED,
        "sub" | "jti" | "client_id" | "azp" | "tid" => (!string).then_some("malformed_claims"),
        "token_use" if string => Some("not_an_access_token"),
        "token_use" => MALFORMED,
        "aud" if string || strings => Some("invalid_audience"),
        "aud" => MALFORMED,
        "exp" => match date {
            Some(exp) if now >= exp + leeway => Some("token_expired"),
            Some(_) => None,
            None => MALFORMED,
        },
        "nbf" => match date {
            Some(nbf) if now < nbf - leeway => Some("token_not_yet_valid"),
            Some(_) => None,
            None => MALFORMED,
        },
        "iat" => match date {
            Some(iat) if iat > now + leeway => Some("issued_in_future"),
            Some(_) => None,
            None => MALFORMED,
        },
        "scope" if string => None,
        "scope" if strings && profile == Profile::Rfc9068 => MALFORMED,
        "scope" | "scp" if string || strings => None,
        "scope" | "scp" => MALFORMED,
        "roles" => (!strings).then_some("malformed_claims"),
        "nonce" | "at_hash" | "events" => Some("not_an_access_token"),
        "cnf" => Some("sender_constrained_token"),
        _ => None,
    }
}

/// Every claim replaced by every kind of JSON value (and removed), signed with the real
/// key of each issuer: only the claim checks can refuse these. The substitutions that are
/// legitimately accepted are sent too, and must reach the handler.
pub fn claim_matrix_cases(env: &Env, cases: &mut Cases) {
    let now = now();
    for claim in MATRIX_CLAIMS {
        for (label, raw) in substitutes()
            .iter()
            .map(|(l, r)| (*l, Some(r.as_str())))
            .chain([("absent", None)])
        {
            // The raw issuer (RFC 9068 profile): exact JSON text.
            let mut claims = env.raw_claims();
            let base_has = claims.iter().any(|(name, _)| *name == claim);
            if raw.is_some() || base_has {
                match raw {
                    Some(raw) => set(&mut claims, claim, raw.to_owned()),
                    None => claims.retain(|(name, _)| *name != claim),
                }
                let token = env.raw_token(&env.raw_header(), &object(&claims));
                let expect = claim_outcome(Profile::Rfc9068, claim, raw, now)
                    .map_or(Expect::Accepted, Expect::Refused);
                cases.token(
                    format!("raw issuer: {claim} {label}"),
                    Route::Open,
                    &token,
                    expect,
                );
            }
            // The test issuer (JWT profile), where the value can be written as JSON (2^64
            // is then written as a float, 1.8446744073709552e19; 1e400 cannot be).
            const TEST_ISSUER_CLAIMS: [&str; 10] = [
                "iss",
                "aud",
                "sub",
                "client_id",
                "iat",
                "nbf",
                "exp",
                "jti",
                "scope",
                "employee_number",
            ];
            let value = match raw {
                Some(raw) => match serde_json::from_str::<Value>(raw) {
                    Ok(value) => Some(value),
                    Err(_) => continue,
                },
                None if TEST_ISSUER_CLAIMS.contains(&claim) => None,
                None => continue,
            };
            let builder = env.tb().claim("nbf", now - 5);
            let builder = match value {
                Some(value) => builder.claim(claim, value),
                None => builder.without_claim(claim),
            };
            let expect = claim_outcome(Profile::Jwt, claim, raw, now)
                .map_or(Expect::Accepted, Expect::Refused);
            cases.token(
                format!("test issuer: {claim} {label}"),
                Route::Open,
                &builder.sign(),
                expect,
            );
        }
    }
}
