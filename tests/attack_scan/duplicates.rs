//! ATK-29: duplicate member names in the header and the claims, in either order, with escaped
//! names, nested, and after many members; signed over the exact JSON text with the raw
//! issuer's real key.

use serde_json::json;

use tokengate_testkit::now;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{json_str, object};
use crate::world::{
    Env, MARK_CLIENT, MARK_CUSTOM, MARK_JKT, MARK_JTI, MARK_KID, MARK_NONCE, MARK_STR, SCOPE,
};

pub static DUPLICATES: Family = Family {
    tag: "atk29",
    name: "ATK-29 duplicates",
    floor: 41,
};

#[test]
fn atk_29_duplicate_members() {
    scan(&DUPLICATES, duplicates);
}

/// ATK-29: duplicate members in the header and the claims, either order, escaped names,
/// nested, and after many members; signed with the raw issuer's real key.
pub fn duplicates(env: &Env, cases: &mut Cases) {
    let kid = json_str(env.raw_key.kid());
    let claims = object(&env.raw_claims());
    for (name, header) in [
        (
            "alg twice, RS256 then none",
            format!(r#"{{"alg":"RS256","alg":"none","typ":"at+jwt","kid":{kid}}}"#),
        ),
        (
            "alg twice, none then RS256",
            format!(r#"{{"alg":"none","alg":"RS256","typ":"at+jwt","kid":{kid}}}"#),
        ),
        (
            "alg twice, RS256 twice",
            format!(r#"{{"alg":"RS256","alg":"RS256","typ":"at+jwt","kid":{kid}}}"#),
        ),
        (
            "alg twice, second escaped",
            format!(r#"{{"alg":"RS256","\u0061lg":"HS256","typ":"at+jwt","kid":{kid}}}"#),
        ),
        (
            "kid twice, real then other",
            format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"kid":"{MARK_KID}"}}"#),
        ),
        (
            "kid twice, other then real",
            format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{MARK_KID}","kid":{kid}}}"#),
        ),
        (
            "typ twice",
            format!(r#"{{"alg":"RS256","typ":"at+jwt","typ":"dpop+jwt","kid":{kid}}}"#),
        ),
        (
            "crit twice",
            format!(r#"{{"alg":"RS256","crit":[],"crit":[],"kid":{kid}}}"#),
        ),
        (
            "duplicate inside a header object",
            format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"x":{{"a":1,"a":2}}}}"#),
        ),
    ] {
        cases.bearer(
            format!("header: {name}"),
            &env.raw_token(&header, &claims),
            "malformed_header",
        );
    }
    let header = env.raw_header();
    let base = env.raw_claims();
    let counting = json_str(&env.counting_url(""));
    let now = now();
    let dup = |name: &'static str, value: String, first: bool| {
        let mut claims = base.clone();
        let extra = (name, value);
        if first {
            claims.insert(0, extra);
        } else {
            claims.push(extra);
        }
        object(&claims)
    };
    let pairs: Vec<(&'static str, String)> = vec![
        ("iss", counting.clone()),
        ("aud", json_str("api://someone-else")),
        ("exp", (now - 3600).to_string()),
        ("nbf", (now + 3600).to_string()),
        ("iat", (now - 5).to_string()),
        ("sub", json_str(MARK_STR)),
        ("tid", json_str(MARK_STR)),
        ("jti", json_str(MARK_JTI)),
        ("scope", json_str(SCOPE)),
        ("client_id", json_str(MARK_CLIENT)),
        ("employee_number", json_str(MARK_CUSTOM)),
        ("nonce", json_str(MARK_NONCE)),
        ("cnf", json!({"jkt": MARK_JKT}).to_string()),
    ];
    for (name, value) in pairs {
        let mut claims = base.clone();
        if !claims.iter().any(|(n, _)| *n == name) {
            claims.push((name, value.clone()));
        }
        let mut last = claims.clone();
        last.push((name, value.clone()));
        cases.bearer(
            format!("claims: {name} twice, attacker's last"),
            &env.raw_token(&header, &object(&last)),
            "malformed_claims",
        );
        let mut first = claims;
        first.insert(0, (name, value));
        cases.bearer(
            format!("claims: {name} twice, attacker's first"),
            &env.raw_token(&header, &object(&first)),
            "malformed_claims",
        );
    }
    for (name, text) in [
        (
            "iss twice, second escaped",
            dup("\\u0069ss", counting.clone(), false),
        ),
        (
            "aud twice, escaped first",
            dup("\\u0061ud", json_str("api://someone-else"), true),
        ),
        (
            "duplicate inside a custom object",
            dup(
                "profile",
                r#"{"role":"user","role":"admin"}"#.to_owned(),
                false,
            ),
        ),
        (
            "duplicate deep in arrays",
            dup("deep", r#"[{"a":[{"b":1,"b":2}]}]"#.to_owned(), false),
        ),
        (
            "duplicate inside cnf",
            dup("cnf", format!(r#"{{"jkt":"{MARK_JKT}","jkt":"x"}}"#), false),
        ),
    ] {
        cases.bearer(
            format!("claims: {name}"),
            &env.raw_token(&header, &text),
            "malformed_claims",
        );
    }
    let mut many: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("c{i}"), i.to_string()))
        .collect();
    many.push(("c0".to_owned(), "0".to_owned()));
    let mut text = object(&base);
    text.pop();
    for (name, value) in &many {
        text.push_str(&format!(",\"{name}\":{value}"));
    }
    text.push('}');
    cases.bearer(
        "claims: 3000 members, the first repeated at the end",
        &env.raw_token(&header, &text),
        "malformed_claims",
    );
}
