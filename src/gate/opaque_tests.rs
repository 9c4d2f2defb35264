//! Signed introspection answers (RFC 9701 §5): each check refuses an answer that is right but
//! for one thing.

use serde_json::{Value, json};

use crate::introspection::Answer;
use crate::test_fixtures::key_for;
use crate::{Algorithm, Gate, Introspection, IssuerProfile};

const ISSUER: &str = "https://as.example/";
const CLIENT: &str = "orders-api";
const NOW: f64 = 1_800_000_000.0;

fn gate() -> Gate {
    let key = key_for(Algorithm::ES256);
    let jwks = json!({"keys": [key.jwk()]}).to_string();
    Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience("api")
                .jwks(jwks)
                .introspection(
                    Introspection::client_secret_basic(CLIENT, "s")
                        .endpoint("https://as.example/introspect")
                        .jwt_answers(),
                ),
        )
        .build()
        .unwrap()
}

fn header() -> Value {
    json!({"alg": "ES256", "kid": key_for(Algorithm::ES256).kid(), "typ": "token-introspection+jwt"})
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": NOW - 2.0,
        "token_introspection": {"active": true, "scope": "a"},
    })
}

fn open(header: &Value, claims: &Value) -> Result<Answer, &'static str> {
    let jwt = key_for(Algorithm::ES256).token_with_header(header, claims);
    gate().open_signed_answer(0, &jwt, NOW)
}

fn with(mut value: Value, name: &str, member: Value) -> Value {
    value[name] = member;
    value
}

#[test]
fn a_signed_answer_opens() {
    let answer = open(&header(), &claims()).unwrap();
    assert!(matches!(answer, Answer::Active(members) if members["scope"] == "a"));
    let inactive = with(claims(), "token_introspection", json!({"active": false}));
    assert!(matches!(open(&header(), &inactive), Ok(Answer::Inactive)));
    // The media type's long form, and an audience array holding ours.
    let long = with(
        header(),
        "typ",
        json!("application/token-introspection+jwt"),
    );
    assert!(open(&long, &with(claims(), "aud", json!(["x", CLIENT]))).is_ok());
}

#[test]
fn each_check_refuses() {
    for (header, claims) in [
        (with(header(), "typ", json!("JWT")), claims()),
        (with(header(), "typ", json!(null)), claims()),
        (with(header(), "alg", json!("none")), claims()),
        (with(header(), "kid", json!("another")), claims()),
        (
            header(),
            with(claims(), "iss", json!("https://evil.example/")),
        ),
        (header(), with(claims(), "aud", json!("someone-else"))),
        (header(), with(claims(), "aud", json!(null))),
        (header(), with(claims(), "iat", json!(NOW - 3600.0))),
        (header(), with(claims(), "iat", json!(NOW + 3600.0))),
        (
            header(),
            with(claims(), "token_introspection", json!("active")),
        ),
        (
            header(),
            with(claims(), "token_introspection", json!({"scope": "a"})),
        ),
    ] {
        assert!(open(&header, &claims).is_err(), "{header} {claims}");
    }
    // Another key's signature.
    let forged = key_for(Algorithm::ES384).token_with_header(&header(), &claims());
    assert!(gate().open_signed_answer(0, &forged, NOW).is_err());
    // Duplicate members.
    let raw = key_for(Algorithm::ES256).token_raw(
        &header().to_string(),
        &format!(r#"{{"iss":"{ISSUER}","iss":"{ISSUER}","aud":"{CLIENT}","iat":{NOW},"token_introspection":{{"active":true}}}}"#),
    );
    assert!(gate().open_signed_answer(0, &raw, NOW).is_err());
}
