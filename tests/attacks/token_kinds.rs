//! Kinds of tokens and scopes (ATK-32, ATK-33, ATK-35): ID, logout and security-event tokens
//! are not access tokens, `typ` under each profile, Microsoft Graph tokens, scope tricks.

use std::sync::Arc;

use serde_json::{Value, json};
use tokengate::{Gate, Rejection, Requirement};

use tokengate_testkit::{self as common, AUDIENCE, valid_claims};

use crate::harness::{
    Good, T, at_jwt_header, build, check_all, expect, expect_at, gate, profile, raw_claims,
    rfc9068_claims, rfc9068_gate, validate, with, without,
};
use crate::header::atk_01_good;

pub(crate) fn atk_32_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let strict = rfc9068_gate(key);
    let lenient = build(profile(&[key]).allow_nonce_claim());
    let mut goods: Vec<Good> = [None, Some("JWT"), Some("at+jwt"), Some("application/jwt")]
        .into_iter()
        .map(|typ| {
            let mut header = json!({"alg": "RS256", "kid": key.kid()});
            if let Some(typ) = typ {
                header["typ"] = json!(typ);
            }
            Good::new(
                format!("JWT profile, typ {typ:?}"),
                &gate,
                key.token_with_header(&header, &valid_claims()),
            )
        })
        .collect();
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        goods.push(
            Good::new(
                format!("RFC 9068 profile, typ {typ}"),
                &strict,
                key.token_with_header(&at_jwt_header(key, typ), &rfc9068_claims(T)),
            )
            .at(T),
        );
    }
    goods.push(Good::new(
        "token_use access at a generic issuer (real Cognito tokens, without aud: tests/providers/cognito.rs)",
        &gate,
        key.token(&with(valid_claims(), "token_use", json!("access"))),
    ));
    goods.push(Good::new(
        "nonce with allow_nonce_claim",
        &lenient,
        key.token(&with(valid_claims(), "nonce", json!("n-0S6_WzA2Mj"))),
    ));
    goods
}

/// ATK-32: type confusion (RFC 8725 §2.8/§3.11/§3.12, RFC 9068 §4): ID tokens, logout and
/// security-event tokens are not access tokens, even with our audience (one app registration
/// shared by an SPA and its API); foreign `typ` values are refused in every profile; RFC 9068
/// mode requires `at+jwt`, compared case-insensitively.
#[test]
fn atk_32_token_type_confusion() {
    check_all(&atk_32_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let id_token = |extra: Value| {
        let mut claims = without(valid_claims(), "scope");
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        key.token(&claims)
    };
    let others = [
        ("ID token with nonce", json!({"nonce": "n-0S6_WzA2Mj"})),
        (
            "ID token with at_hash",
            json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
        ),
        (
            "ID token with c_hash",
            json!({"c_hash": "LDktKdoQak3Pk0cnXxCltA"}),
        ),
        (
            "ID token with s_hash",
            json!({"s_hash": "LDktKdoQak3Pk0cnXxCltA"}),
        ),
        (
            "ID token with nonce and at_hash",
            json!({"nonce": "n", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "auth_time": 1}),
        ),
        (
            "logout token",
            json!({"events": {"http://schemas.openid.net/event/backchannel-logout": {}}, "sid": "08a5019c"}),
        ),
        (
            "security event token",
            json!({"events": {"urn:example:event": {"x": 1}}, "jti": "j"}),
        ),
        ("Cognito ID token", json!({"token_use": "id"})),
        ("token_use refresh", json!({"token_use": "refresh"})),
        ("token_use Access", json!({"token_use": "Access"})),
    ];
    for (variant, extra) in others {
        expect(
            &gate,
            &id_token(extra),
            &Rejection::NotAnAccessToken,
            variant,
        );
    }
    // The markers cannot hide behind JSON escapes.
    for member in [
        r#""\u006eonce":"n""#,
        r#""at\u005fhash":"x""#,
        r#""ev\u0065nts":{}"#,
    ] {
        let text = raw_claims(&valid_claims(), &[], &[member.to_owned()]);
        expect(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            &Rejection::NotAnAccessToken,
            &format!("escaped marker {member}"),
        );
    }
    let strict = rfc9068_gate(key);
    for typ in [
        "dpop+jwt",
        "secevent+jwt",
        "logout+jwt",
        "id_token+jwt",
        "application/dpop+jwt",
        "JWE",
        "JOSE",
        "",
        "at+jwt ",
    ] {
        let header = at_jwt_header(key, typ);
        expect(
            &gate,
            &key.token_with_header(&header, &valid_claims()),
            &Rejection::InvalidTokenType,
            &format!("JWT profile, typ {typ:?}"),
        );
        expect_at(
            &strict,
            &key.token_with_header(&header, &rfc9068_claims(T)),
            T,
            &Rejection::InvalidTokenType,
            &format!("RFC 9068 profile, typ {typ:?}"),
        );
    }
    for typ in [Some("JWT"), Some("jwt"), Some("application/jwt"), None] {
        let mut header = json!({"alg": "RS256", "kid": key.kid()});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        expect_at(
            &strict,
            &key.token_with_header(&header, &rfc9068_claims(T)),
            T,
            &Rejection::InvalidTokenType,
            &format!("RFC 9068 profile, typ {typ:?}"),
        );
    }
    // allow_nonce_claim tolerates a nonce (old Keycloak), never the ID-token hashes.
    let lenient = build(profile(&[key]).allow_nonce_claim());
    for (variant, extra) in [
        ("at_hash", json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"})),
        (
            "nonce and at_hash",
            json!({"nonce": "n", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
        ),
        ("c_hash", json!({"c_hash": "LDktKdoQak3Pk0cnXxCltA"})),
        ("logout events", json!({"events": {}})),
    ] {
        expect(
            &lenient,
            &id_token(extra),
            &Rejection::NotAnAccessToken,
            &format!("allow_nonce_claim, {variant}"),
        );
    }
}

/// ATK-33: a Microsoft Graph token (header `nonce`): its signature covers a transformed nonce
/// and can never verify as-is, so it is refused as a format, whatever its audience.
#[test]
fn atk_33_graph_token() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let header = json!({
        "typ": "JWT", "nonce": "AQABAAAAAAD--DLA3VO7QrddgJg7WevrK9bOSF0",
        "alg": "RS256", "x5t": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "kid": key.kid(),
    });
    for aud in [
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
        AUDIENCE,
    ] {
        let claims = with(
            with(valid_claims(), "aud", json!(aud)),
            "scp",
            json!("User.Read"),
        );
        expect(
            &gate,
            &key.token_with_header(&header, &claims),
            &Rejection::UnsupportedTokenFormat,
            &format!("Graph token, aud {aud}"),
        );
    }
    let escaped = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","\u006eonce":"x"}}"#,
        key.kid()
    );
    expect(
        &gate,
        &key.token_raw(&escaped, &valid_claims().to_string()),
        &Rejection::UnsupportedTokenFormat,
        "header nonce spelled with an escape",
    );
}

pub(crate) fn atk_35_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = build(profile(&[key]));
    let requiring = Gate::builder()
        .issuer(profile(&[key]))
        .require(Requirement::scope("files.read"))
        .build()
        .unwrap();
    let mut goods = Vec::new();
    for scp in [
        json!("files.read"),
        json!("openid files.read"),
        json!(["files.read"]),
    ] {
        goods.push(Good::new(
            format!("scp {scp}, gate requiring files.read"),
            &requiring,
            key.token(&with(without(valid_claims(), "scope"), "scp", scp)),
        ));
    }
    goods.push(Good::new(
        "scope with a double space",
        &gate,
        key.token(&with(valid_claims(), "scope", json!("a  b"))),
    ));
    goods
}

/// ATK-35: scopes compare as whole, case-sensitive tokens (ENTRA-28, RFC 6749 §3.3);
/// `insufficient_scope` (RFC 6750 §3.1) names the requirement.
#[test]
fn atk_35_scope_tricks() {
    let goods = atk_35_good();
    check_all(&goods);
    let key = common::rs256();
    let gate = build(profile(&[key]));
    let required = Requirement::scope("files.read");
    let requiring = Gate::builder()
        .issuer(profile(&[key]))
        .require(required.clone())
        .build()
        .unwrap();
    let insufficient = Rejection::InsufficientScope {
        scopes: Arc::from([Box::from("files.read")]),
    };
    let grants = [
        ("scp", json!("files.read.all")),
        ("scp", json!("xfiles.read")),
        ("scp", json!("Files.Read")),
        ("scp", json!("files.rea")),
        ("scp", json!("files.read.all xfiles.read")),
        ("scp", json!("files.readfiles.write")),
        ("scp", json!(["files.read.all"])),
        ("scp", json!("")),
        ("scope", json!("files.read.all")),
        ("roles", json!(["files.read"])),
    ];
    for (claim, value) in grants {
        let variant = format!("{claim} {value}");
        let claims = with(without(valid_claims(), "scope"), claim, value);
        let token = key.token(&claims);
        let verified = validate(&gate, &token, None)
            .unwrap_or_else(|r| panic!("{variant}: refused with `{}`", r.code()));
        let refused = Rejection::from(required.check(&verified).unwrap_err());
        assert_eq!(refused, insufficient, "{variant}: Requirement::check");
        assert_eq!(refused.code(), "insufficient_scope");
        assert_eq!(
            refused.required_scopes().collect::<Vec<_>>(),
            ["files.read"]
        );
        expect(
            &requiring,
            &token,
            &insufficient,
            &format!("{variant}, GateBuilder::require"),
        );
    }
    // The accepted siblings meet the requirement through `check` too.
    for good in &goods[..3] {
        required.check(&good.check()).unwrap();
    }
    // "a  b" grants exactly a and b.
    let double_space = goods[3].check();
    assert_eq!(double_space.scopes().collect::<Vec<_>>(), ["a", "b"]);
    Requirement::all_scopes(["a", "b"])
        .check(&double_space)
        .unwrap();
    assert!(
        Requirement::scope("").check(&double_space).is_err(),
        "an empty scope is never granted"
    );
    // RFC 9068 §2.2.3: `scope` must be a string there; the JWT profile accepts an array.
    let strict = rfc9068_gate(key);
    let array = with(rfc9068_claims(T), "scope", json!(["files.read"]));
    expect_at(
        &strict,
        &key.token_with_header(&at_jwt_header(key, "at+jwt"), &array),
        T,
        &Rejection::MalformedClaims,
        "RFC 9068 profile, scope an array",
    );
}
