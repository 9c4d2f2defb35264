//! Tokens in other formats or of other kinds: `crit` extensions (ATK-12); JWE, JWS JSON
//! serializations (general, flattened, with exactly two dots), nested and compressed content,
//! detached payloads and wrong segment counts (ATK-26 to ATK-28); ID, logout and DPoP-proof
//! tokens and other `typ`s, and Microsoft Graph tokens (ATK-32, ATK-33).

use serde_json::{Value, json};

use tokengate_testkit::b64;

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::tokens::{json_str, object, split3, with_signature};
use crate::world::{Env, MARK_CRIT, MARK_NONCE};

pub static CRIT: Family = Family {
    tag: "atk12",
    name: "ATK-12 crit",
    floor: 10,
};
pub static FORMATS: Family = Family {
    tag: "atk26",
    name: "ATK-26..28 formats",
    floor: 22,
};
pub static TYPES: Family = Family {
    tag: "atk32",
    name: "ATK-32/33 token types",
    floor: 31,
};

#[test]
fn atk_12_crit() {
    scan(&CRIT, crit);
}

#[test]
fn atk_26_27_28_jwe_and_json_serializations() {
    scan(&FORMATS, formats);
}

#[test]
fn atk_32_33_token_types() {
    scan(&TYPES, types);
}

/// ATK-12: `crit` naming an unknown extension, empty, naming registered or absent
/// parameters, repeated, or not an array.
pub fn crit(env: &Env, cases: &mut Cases) {
    for (name, crit, extra) in [
        (
            "unknown extension present",
            json!(["x-unknown"]),
            Some(("x-unknown", json!(MARK_CRIT))),
        ),
        ("empty list", json!([]), None),
        ("a registered name", json!(["alg"]), None),
        ("a name not in the header", json!(["exp"]), None),
        (
            "b64 with b64 false",
            json!(["b64"]),
            Some(("b64", json!(false))),
        ),
        (
            "a duplicate entry",
            json!(["x-a", "x-a"]),
            Some(("x-a", json!(1))),
        ),
        ("a string", json!("alg"), None),
        ("null", Value::Null, None),
        ("an object", json!({"x-unknown": true}), None),
    ] {
        let mut builder = env.tb().header("crit", crit);
        if let Some((name, value)) = extra {
            builder = builder.header(name, value);
        }
        cases.bearer(
            format!("crit {name}"),
            &builder.sign(),
            "unsupported_critical_header",
        );
    }
    cases.bearer(
        "crit with alg none",
        &with_signature(
            &env.tb()
                .header("alg", "none")
                .header("crit", ["exp"])
                .sign(),
            "",
        ),
        "unsupported_critical_header",
    );
}

/// ATK-26 to ATK-28: JWE, JWS JSON serializations, nested and compressed content, detached
/// payloads, wrong segment counts.
pub fn formats(env: &Env, cases: &mut Cases) {
    let fmt = "unsupported_token_format";
    let jwe_header =
        b64(json!({"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"test-rs256-1"}).to_string());
    let zip_header = b64(json!({"alg":"dir","enc":"A128GCM","zip":"DEF"}).to_string());
    let filler = |n: usize| b64(vec![0x5a; n]);
    for (name, token) in [
        (
            "JWE, five segments",
            format!(
                "{jwe_header}.{}.{}.{}.{}",
                filler(256),
                filler(12),
                filler(64),
                filler(16)
            ),
        ),
        (
            "JWE with zip DEF, empty key",
            format!(
                "{zip_header}..{}.{}.{}",
                filler(12),
                filler(4096),
                filler(16)
            ),
        ),
        ("five empty segments", "....".to_owned()),
        (
            "JWE header, three segments",
            format!("{jwe_header}.{}.{}", filler(64), filler(16)),
        ),
    ] {
        cases.bearer(name, &token, fmt);
    }
    for (name, header, value) in [
        ("enc in a JWS header", "enc", json!("A256GCM")),
        ("zip in a JWS header", "zip", json!("DEF")),
        ("nested JWT (cty JWT)", "cty", json!("JWT")),
        ("nested JWT (cty jwt)", "cty", json!("jwt")),
        ("cty of another type", "cty", json!("application/json")),
        ("unencoded payload (b64 false)", "b64", json!(false)),
    ] {
        cases.bearer(name, &env.tb().header(header, value).sign(), fmt);
    }
    let inner = env.valid();
    let nested_header =
        b64(json!({"alg":"RS256","kid":env.raw_key.kid(),"typ":"at+jwt","cty":"JWT"}).to_string());
    cases.bearer(
        "nested JWT, the inner token as the payload",
        &env.raw_sign(&nested_header, &b64(&inner)),
        fmt,
    );
    let (h, p, s) = split3(&inner);
    for (name, token, code) in [
        ("detached payload", format!("{h}..{s}"), fmt),
        ("two segments", format!("{h}.{p}"), "malformed_token"),
        ("one segment", h.to_owned(), "malformed_token"),
        (
            "four segments",
            format!("{h}.{p}.{s}.{s}"),
            "malformed_token",
        ),
        (
            "six segments",
            format!("{h}.{p}.{s}.{s}.{s}.{s}"),
            "malformed_token",
        ),
        ("only dots", "..".to_owned(), "malformed_token"),
        (
            "JWS JSON serialization as one base64url segment",
            b64(json!({"payload": p, "protected": h, "signature": s}).to_string()),
            "malformed_token",
        ),
    ] {
        cases.bearer(name, &token, code);
    }
    // JSON serializations are not RFC 6750 b64tokens: the request is malformed (400).
    let general =
        json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
    let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
    let dotted = json!({"payload": format!("{p}."), "protected": format!("{h}."), "signature": s})
        .to_string();
    for (name, token) in [
        ("JWS JSON general serialization", &general),
        ("JWS JSON flattened serialization", &flattened),
        ("JWS JSON with exactly two dots", &dotted),
    ] {
        cases.bearer(name, token, "malformed_credentials");
    }
    cases.http(
        "JWS JSON flattened serialization in the cookie",
        App::Cookie,
        Route::Open,
        "",
        &[(
            "cookie",
            format!("at={}", flattened.replace(';', "")).as_bytes(),
        )],
        Expect::Refused("malformed_credentials"),
    );
}

/// ATK-32, ATK-33: tokens of other kinds; Microsoft Graph tokens.
pub fn types(env: &Env, cases: &mut Cases) {
    for typ in [
        "dpop+jwt",
        "application/dpop+jwt",
        "DPOP+JWT",
        "secevent+jwt",
        "logout+jwt",
        "JWE",
        "JOSE",
        "JOSE+JSON",
        "id_token",
        "jwt+x",
        "",
        " JWT",
        "at+jwt ",
        "token-introspection+jwt",
        "application/json",
        "at+jwt;q=1",
    ] {
        cases.bearer(
            format!("typ {typ:?}"),
            &env.tb().header("typ", typ).sign(),
            "invalid_token_type",
        );
    }
    for (name, typ) in [
        ("typ a number", json!(1)),
        ("typ null", Value::Null),
        ("typ an array", json!(["at+jwt"])),
    ] {
        cases.bearer(
            name,
            &env.tb().header("typ", typ).sign(),
            "malformed_header",
        );
    }
    let claims = object(&env.raw_claims());
    for (name, typ) in [
        ("typ JWT under RFC 9068", Some("JWT")),
        (
            "typ application/jwt under RFC 9068",
            Some("application/jwt"),
        ),
        ("typ absent under RFC 9068", None),
    ] {
        let header = match typ {
            Some(typ) => format!(
                r#"{{"alg":"RS256","typ":"{typ}","kid":{}}}"#,
                json_str(env.raw_key.kid())
            ),
            None => format!(r#"{{"alg":"RS256","kid":{}}}"#, json_str(env.raw_key.kid())),
        };
        cases.bearer(
            format!("raw issuer, {name}"),
            &env.raw_token(&header, &claims),
            "invalid_token_type",
        );
    }
    let id_token = env
        .tb()
        .header("typ", "JWT")
        .claim("nonce", MARK_NONCE)
        .claim("at_hash", "x8m7Hh1n4cQ0q1mN");
    cases.bearer(
        "ID token (nonce, at_hash) for a shared registration",
        &id_token.sign(),
        "not_an_access_token",
    );
    cases.bearer(
        "ID token with c_hash",
        &env.tb().claim("c_hash", "x8m7Hh1n4cQ0q1mN").sign(),
        "not_an_access_token",
    );
    cases.bearer(
        "ID token with s_hash",
        &env.tb().claim("s_hash", "x8m7Hh1n4cQ0q1mN").sign(),
        "not_an_access_token",
    );
    cases.bearer(
        "logout token (events)",
        &env.tb()
            .claim(
                "events",
                json!({"http://schemas.openid.net/event/backchannel-logout": {}}),
            )
            .sign(),
        "not_an_access_token",
    );
    cases.bearer(
        "token_use id (Cognito ID token)",
        &env.tb().claim("token_use", "id").sign(),
        "not_an_access_token",
    );
    cases.bearer(
        "Graph token (header nonce)",
        &env.tb().header("nonce", MARK_NONCE).sign(),
        "unsupported_token_format",
    );
    cases.bearer(
        "Graph token (header nonce, Graph aud)",
        &env.tb()
            .header("nonce", MARK_NONCE)
            .audience("https://graph.microsoft.com")
            .sign(),
        "unsupported_token_format",
    );
    cases.bearer(
        "Graph audience",
        &env.tb().audience("https://graph.microsoft.com").sign(),
        "invalid_audience",
    );
    cases.bearer(
        "Graph application id audience",
        &env.tb()
            .audience("00000003-0000-0000-c000-000000000000")
            .sign(),
        "invalid_audience",
    );
}
