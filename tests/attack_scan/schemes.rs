//! How the credential is presented: the scheme and the syntax of the `Authorization` value
//! (ATK-40); sender-constrained tokens (`cnf`) presented as bearer tokens, and DPoP proofs
//! beside or instead of a bearer token (ATK-36, ATK-37).

use serde_json::json;
use tokengate::Algorithm;
use tokengate::testing::TestKey;

use tokengate_testkit::now;

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::world::{Env, MARK_DPOP, MARK_JKT, MARK_JTI};

pub static SCHEME: Family = Family {
    tag: "atk40",
    name: "ATK-40 scheme and syntax",
    floor: 34,
};
pub static KEY_BOUND: Family = Family {
    tag: "atk36",
    name: "ATK-36/37 key-bound",
    floor: 12,
};

#[test]
fn atk_40_scheme_and_syntax() {
    scan(&SCHEME, scheme_and_syntax);
}

#[test]
fn atk_36_37_key_bound_tokens() {
    scan(&KEY_BOUND, key_bound);
}

/// ATK-40: scheme and credential syntax.
pub fn scheme_and_syntax(env: &Env, cases: &mut Cases) {
    let good = env.valid();
    let tampered = env.tb().tampered().sign();
    let mc = "malformed_credentials";
    let e_acute = [b"Bearer ".as_slice(), "\u{e9}".as_bytes(), good.as_bytes()].concat();
    let invalid_utf8 = [b"Bearer ".as_slice(), &[0xff, 0xfe], good.as_bytes()].concat();
    let list: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("no Authorization", Vec::new(), "missing_token"),
        ("an empty Authorization", b"".to_vec(), "missing_token"),
        (
            "Basic",
            b"Basic dXNlcjpwYXNzd29yZA==".to_vec(),
            "missing_token",
        ),
        (
            "Digest",
            b"Digest username=\"a\", response=\"b\"".to_vec(),
            "missing_token",
        ),
        (
            "Negotiate",
            b"Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg".to_vec(),
            "missing_token",
        ),
        (
            "Token scheme",
            format!("Token {good}").into_bytes(),
            "missing_token",
        ),
        (
            "JWT scheme",
            format!("JWT {good}").into_bytes(),
            "missing_token",
        ),
        (
            "Bearerx scheme",
            format!("Bearerx {good}").into_bytes(),
            "missing_token",
        ),
        (
            "Bearer- scheme",
            format!("Bearer- {good}").into_bytes(),
            "missing_token",
        ),
        (
            "Cyrillic lookalike of Bearer",
            format!("B\u{435}arer {good}").into_bytes(),
            "missing_token",
        ),
        (
            "the token without a scheme",
            good.clone().into_bytes(),
            "missing_token",
        ),
        ("Bearer alone", b"Bearer".to_vec(), mc),
        ("Bearer and spaces", b"Bearer    ".to_vec(), mc),
        (
            "Bearer with a tab",
            format!("Bearer\t{good}").into_bytes(),
            mc,
        ),
        (
            "Bearer with a space and a tab",
            format!("Bearer \t{good}").into_bytes(),
            mc,
        ),
        (
            "Bearer with a comma",
            format!("Bearer,{good}").into_bytes(),
            mc,
        ),
        ("Bearer with '='", format!("Bearer={good}").into_bytes(), mc),
        (
            "Bearer with a colon",
            format!("Bearer:{good}").into_bytes(),
            mc,
        ),
        (
            "a quoted token",
            format!("Bearer \"{good}\"").into_bytes(),
            mc,
        ),
        (
            "a token with an inner space",
            format!("Bearer {} {}", &good[..30], &good[30..]).into_bytes(),
            mc,
        ),
        (
            "a token with '!'",
            format!("Bearer {}!", &good[..good.len() - 1]).into_bytes(),
            mc,
        ),
        (
            "a token with '@'",
            format!("Bearer @{good}").into_bytes(),
            mc,
        ),
        (
            "a token with '%'",
            format!("Bearer {}%2E{}", &good[..20], &good[20..]).into_bytes(),
            mc,
        ),
        (
            "a token with '*'",
            format!("Bearer *{good}").into_bytes(),
            mc,
        ),
        (
            "a token with '=' inside",
            format!("Bearer {}={}", &good[..20], &good[20..]).into_bytes(),
            mc,
        ),
        (
            "a token with a trailing auth-param",
            format!("Bearer {good}, realm=\"x\"").into_bytes(),
            mc,
        ),
        ("Bearer token68 padding only", b"Bearer ===".to_vec(), mc),
        ("a token with UTF-8", e_acute, mc),
        ("a token with invalid UTF-8", invalid_utf8, mc),
        (
            "a token ending in '='",
            format!("Bearer {good}=").into_bytes(),
            "malformed_token",
        ),
        (
            "a token ending in '~'",
            format!("Bearer {good}~").into_bytes(),
            "malformed_token",
        ),
        (
            "a b64token that is no JWT",
            b"Bearer abc-def_ghi~jkl+mno/pqr".to_vec(),
            "malformed_token",
        ),
        (
            "mixed-case scheme, tampered token",
            format!("bEaReR {tampered}").into_bytes(),
            "invalid_signature",
        ),
    ];
    for (name, value, code) in list {
        let headers: Vec<(&str, &[u8])> = if name == "no Authorization" {
            Vec::new()
        } else {
            vec![("authorization", value.as_slice())]
        };
        cases.http(
            name,
            App::Header,
            Route::Open,
            "",
            &headers,
            Expect::Refused(code),
        );
    }
    cases.http(
        "a tampered token in an X-Access-Token header (not a source)",
        App::Header,
        Route::Open,
        "",
        &[("x-access-token", tampered.as_bytes())],
        Expect::Refused("missing_token"),
    );
}

/// ATK-36, ATK-37: key-bound tokens as bearer tokens; DPoP beside a bearer token.
pub fn key_bound(env: &Env, cases: &mut Cases) {
    let scb = "sender_constrained_token";
    let jkt = env.tb().claim("cnf", json!({"jkt": MARK_JKT})).sign();
    for (name, cnf) in [
        ("cnf.jkt (DPoP) as Bearer", json!({"jkt": MARK_JKT})),
        (
            "cnf.x5t#S256 (mTLS) as Bearer",
            json!({"x5t#S256": MARK_JKT}),
        ),
        ("cnf empty", json!({})),
        (
            "cnf with a jwk",
            json!({"jwk": {"kty": "EC", "crv": "P-256", "x": MARK_JKT, "y": MARK_JKT}}),
        ),
    ] {
        cases.bearer(name, &env.tb().claim("cnf", cnf).sign(), scb);
    }
    let proof = format!("eyJ0eXAiOiJkcG9wK2p3dCJ9.{MARK_DPOP}.c2ln");
    let bearer = format!("Bearer {jkt}");
    let dpop_scheme = format!("DPoP {jkt}");
    let valid = format!("Bearer {}", env.valid());
    for (name, headers, code) in [
        (
            "Bearer cnf token with a DPoP proof",
            vec![
                ("authorization", bearer.as_bytes()),
                ("dpop", proof.as_bytes()),
            ],
            "multiple_tokens",
        ),
        (
            "Bearer valid token with a DPoP proof",
            vec![
                ("authorization", valid.as_bytes()),
                ("dpop", proof.as_bytes()),
            ],
            "multiple_tokens",
        ),
        (
            "Bearer valid token with two DPoP proofs",
            vec![
                ("authorization", valid.as_bytes()),
                ("dpop", proof.as_bytes()),
                ("dpop", proof.as_bytes()),
            ],
            "multiple_tokens",
        ),
        (
            "Bearer valid token with an empty DPoP header",
            vec![
                ("authorization", valid.as_bytes()),
                ("dpop", b"".as_slice()),
            ],
            "multiple_tokens",
        ),
        (
            "DPoP scheme with its proof (not supported: no bearer credential)",
            vec![
                ("authorization", dpop_scheme.as_bytes()),
                ("dpop", proof.as_bytes()),
            ],
            "missing_token",
        ),
        (
            "DPoP scheme without a proof",
            vec![("authorization", dpop_scheme.as_bytes())],
            "missing_token",
        ),
        (
            "a DPoP proof alone",
            vec![("dpop", proof.as_bytes())],
            "missing_token",
        ),
    ] {
        cases.http(
            name,
            App::Header,
            Route::Open,
            "",
            &headers,
            Expect::Refused(code),
        );
    }
    // A DPoP proof (typ dpop+jwt, embedded jwk, no iss) presented as the access token.
    let attackers_proof = {
        let key = TestKey::generate(Algorithm::ES256, "proof");
        key.token_raw(
            &json!({"typ":"dpop+jwt","alg":"ES256","jwk":key.jwk_without_alg()}).to_string(),
            &json!({"jti": MARK_JTI, "htm": "GET", "htu": "http://127.0.0.1/scan",
                    "iat": now()})
            .to_string(),
        )
    };
    cases.bearer(
        "a DPoP proof as the bearer token",
        &attackers_proof,
        "missing_claim",
    );
}
