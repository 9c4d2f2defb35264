//! Audience and issuer (ATK-21, ATK-22, ATK-24, ATK-45): exact comparison, no normalization,
//! keys scoped to their issuer, `aud` required when an audience is configured.

use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, TestKey, valid_claims};

use crate::harness::{
    Good, OTHER_TENANT, TENANT, build, check_all, expect, gate, missing, profile, raw_claims,
    rs256_b, validate, with, without,
};

fn entra_v2_issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

fn entra_v1_issuer() -> String {
    format!("https://sts.windows.net/{TENANT}/")
}

/// A single-tenant Entra-style issuer (v2 issuer, v1 issuer as an alternate), RS256 only.
fn entra_gate() -> Gate {
    build(
        IssuerProfile::new(entra_v2_issuer())
            .alternate_issuer(entra_v1_issuer())
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [common::rs256().jwk_without_alg()]}).to_string()),
    )
}

pub(crate) fn atk_21_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    [
        json!(AUDIENCE),
        json!([AUDIENCE]),
        json!(["https://other.example.com", AUDIENCE]),
        json!([AUDIENCE, "https://issuer.example.com/userinfo"]),
    ]
    .into_iter()
    .map(|aud| {
        Good::new(
            format!("aud {aud}"),
            &gate,
            key.token(&with(valid_claims(), "aud", aud)),
        )
    })
    .collect()
}

/// ATK-21: audience confusion (RFC 7519 §4.1.3, RFC 8725 §3.9): exact string equality only; an
/// array holding ours among others is accepted. The trailing-slash tolerance is an Entra-preset
/// option (ENTRA-7), off in the core.
#[test]
fn atk_21_audience_confusion() {
    check_all(&atk_21_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    expect(
        &gate,
        &key.token(&without(valid_claims(), "aud")),
        &missing("aud"),
        "aud missing",
    );
    let not_ours = [
        "[]",
        r#""API://ORDERS""#,
        r#""api://Orders""#,
        r#""api://orders.evil""#,
        r#""api://orderss""#,
        r#""api://order""#,
        r#""api://""#,
        r#""api://orders ""#,
        r#"" api://orders""#,
        r#""api://orders/""#,
        r#""api://orders\u0000""#,
        r#""""#,
        r#""https://graph.microsoft.com""#,
        r#""00000003-0000-0000-c000-000000000000""#,
        r#"["api://orders.evil","https://graph.microsoft.com"]"#,
    ];
    let wrong_type = [
        "[123]",
        r#"[["api://orders"]]"#,
        r#"["api://orders",1]"#,
        "123",
        "true",
        r#"{"aud":"api://orders"}"#,
    ];
    let cases = (not_ours.iter().map(|aud| (aud, Rejection::InvalidAudience))).chain(
        wrong_type
            .iter()
            .map(|aud| (aud, Rejection::MalformedClaims)),
    );
    for (aud, expected) in cases {
        let text = raw_claims(&valid_claims(), &["aud"], &[format!(r#""aud":{aud}"#)]);
        expect(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            &expected,
            &format!("aud {aud}"),
        );
    }
}

pub(crate) fn atk_22_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = entra_gate();
    [entra_v2_issuer(), entra_v1_issuer()]
        .into_iter()
        .map(|iss| {
            Good::new(
                format!("iss {iss}"),
                &gate,
                key.token(&with(valid_claims(), "iss", json!(iss))),
            )
        })
        .collect()
}

/// ATK-22: issuer confusion (OIDC Discovery §4.3, RFC 9068 §4): `iss` is compared exactly, with
/// no normalization of case, slashes, hosts or tenants. The tokens are signed by the issuer's
/// real key, so only the `iss` comparison refuses them.
#[test]
fn atk_22_issuer_confusion() {
    check_all(&atk_22_good());
    let key = common::rs256();
    let gate = entra_gate();
    let v2 = entra_v2_issuer();
    let upper = TENANT.to_uppercase();
    let host = "login.microsoftonline.com";
    let variants = [
        format!("https://{host}/{TENANT}/v2.0/"), // trailing slash added
        format!("https://sts.windows.net/{TENANT}"), // v1 trailing slash removed
        format!("HTTPS://LOGIN.MICROSOFTONLINE.COM/{TENANT}/v2.0"),
        format!("https://LOGIN.microsoftonline.com/{TENANT}/v2.0"),
        format!("https://{host}/{upper}/v2.0"), // uppercase tenant GUID
        format!("https://{host}/{OTHER_TENANT}/v2.0"), // another tenant
        format!("https://sts.windows.net/{OTHER_TENANT}/"),
        format!("https://login.windows.net/{TENANT}/v2.0"), // alias host
        format!("https://{host}/common/v2.0"),
        format!("https://{host}/{{tenantid}}/v2.0"), // the template itself
        format!("http://{host}/{TENANT}/v2.0"),
        format!("https://{host}:443/{TENANT}/v2.0"),
        format!("{v2} "),
        format!("{v2}#"),
        format!("{v2}\0"),
        format!("https://{host}/"),
        String::new(),
    ];
    for iss in variants {
        expect(
            &gate,
            &key.token(&with(valid_claims(), "iss", json!(iss))),
            &Rejection::UntrustedIssuer,
            &format!("iss {iss:?}"),
        );
    }
}

/// A second configured issuer (ATK-24).
const ISSUER_Y: &str = "https://other-issuer.example.com/";

/// Two issuers: [`ISSUER`] with the RS256 test key (kid `rs256-1`), [`ISSUER_Y`] with `y_key`.
fn two_issuers(y_key: &TestKey) -> Gate {
    Gate::builder()
        .issuer(profile(&[common::rs256()]))
        .issuer(
            IssuerProfile::new(ISSUER_Y)
                .audience(AUDIENCE)
                .jwks(common::jwks(&[y_key])),
        )
        .build()
        .unwrap()
}

pub(crate) fn atk_24_good() -> Vec<Good> {
    let x_key = common::rs256();
    let y_claims = with(valid_claims(), "iss", json!(ISSUER_Y));
    let gate = two_issuers(rs256_b());
    // Y's other key carries the same kid as X's (`rs256-1`).
    let colliding = two_issuers(common::key_for(Algorithm::RS256));
    vec![
        Good::new("X's token at X", &gate, x_key.token(&valid_claims())),
        Good::new("Y's token at Y", &gate, rs256_b().token(&y_claims)),
        Good::new(
            "X's token at X, Y has a key with X's kid",
            &colliding,
            x_key.token(&valid_claims()),
        ),
        Good::new(
            "Y's token at Y, Y's key has X's kid",
            &colliding,
            common::key_for(Algorithm::RS256).token(&y_claims),
        ),
    ]
}

/// ATK-24: cross-issuer key reuse (RFC 8725 §3.8): keys are scoped to their issuer, so X's
/// token re-labelled `iss: Y` (re-signed by X, kid of X) finds no key at Y.
#[test]
fn atk_24_cross_issuer_key() {
    check_all(&atk_24_good());
    let x_key = common::rs256();
    let relabelled = with(valid_claims(), "iss", json!(ISSUER_Y));
    let gate = two_issuers(rs256_b());
    expect(
        &gate,
        &x_key.token(&relabelled),
        &Rejection::UnknownKey,
        "X's token re-labelled iss Y, kid of X",
    );
    // Without a kid, Y's only RS256 key is tried, and X's signature does not verify with it.
    let no_kid = json!({"alg": "RS256", "typ": "JWT"});
    expect(
        &gate,
        &x_key.token_with_header(&no_kid, &relabelled),
        &Rejection::InvalidSignature,
        "X's token re-labelled iss Y, no kid",
    );
    // Y publishing a key under the same kid as X's does not make X's key Y's.
    assert_eq!(common::key_for(Algorithm::RS256).kid(), x_key.kid());
    expect(
        &two_issuers(common::key_for(Algorithm::RS256)),
        &x_key.token(&relabelled),
        &Rejection::InvalidSignature,
        "X's token re-labelled iss Y, Y has another key with X's kid",
    );
}

fn keycloak_claims() -> Value {
    let now = common::now();
    json!({
        "exp": now + 300, "iat": now - 10, "jti": "onrtac:1d4e",
        "iss": ISSUER, "sub": "f:1b2c:user", "typ": "Bearer", "azp": "web-app",
        "sid": "0a1b", "scope": "openid profile email",
        "realm_access": {"roles": ["default-roles-demo", "offline_access"]},
    })
}

pub(crate) fn atk_45_good() -> Vec<Good> {
    let key = common::rs256();
    let token = key.token(&with(keycloak_claims(), "aud", json!(AUDIENCE)));
    vec![Good::new(
        "Keycloak-style token with our audience",
        &gate(&[key]),
        token,
    )]
}

/// ATK-45: a Keycloak-style token without `aud` (no audience mapper) is refused when an
/// audience is configured (RFC 8725 §3.9).
#[test]
fn atk_45_missing_aud() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_45_good());
    let result = validate(&gate, &key.token(&keycloak_claims()), None);
    assert!(
        matches!(&result, Err(Rejection::MissingClaim { claim }) if &**claim == "aud"),
        "no aud: {:?}",
        result.map(|_| ())
    );
    expect(
        &gate,
        &key.token(&keycloak_claims()),
        &missing("aud"),
        "no aud",
    );
    expect(
        &gate,
        &key.token(&with(keycloak_claims(), "aud", json!("account"))),
        &Rejection::InvalidAudience,
        "Keycloak's default aud `account`",
    );
}
