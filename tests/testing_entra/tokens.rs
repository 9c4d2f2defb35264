//! v2 and v1 tokens: their shape is Entra's, and they verify against the served keys
//! (ENTRA-2, ENTRA-26, ENTRA-29).

use std::time::Duration;

use serde_json::json;
use tokengate::TokenKind;
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use crate::{code, header, names, payload, v1_gate, v2_gate};

#[tokio::test]
async fn v2_tokens_verify_against_the_served_keys() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));

    let user = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(
        header(&user),
        json!({"typ": "JWT", "alg": "RS256", "kid": entra.kids()[1]})
    );
    let claims = payload(&user);
    assert_eq!(
        names(&claims),
        [
            "aio",
            "aud",
            "azp",
            "azpacr",
            "exp",
            "iat",
            "iss",
            "name",
            "nbf",
            "oid",
            "preferred_username",
            "rh",
            "scp",
            "sub",
            "tid",
            "uti",
            "ver"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
    assert_eq!(claims["aud"], TestEntra::CLIENT_ID);
    assert_eq!(claims["iss"], entra.v2_issuer(&tenant));
    assert_eq!(claims["tid"], tenant.as_str());
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["azp"], TestEntra::CALLER_ID);
    assert_eq!(claims["azpacr"], "1");
    assert_eq!(claims["scp"], "access_as_user");
    assert_ne!(claims["sub"], claims["oid"]);
    assert_eq!(claims["sub"].as_str().unwrap().len(), 43);
    assert_eq!(claims["uti"].as_str().unwrap().len(), 22);
    assert!(claims["rh"].as_str().unwrap().starts_with("0."));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    // As in real Entra tokens: `iat` 5 minutes before issuance, one hour of lifetime after.
    assert_eq!(claims["exp"].as_i64(), Some(iat + 300 + 3600));

    let verified = gate.validate(&user).await.unwrap();
    assert_eq!(verified.tenant_id(), Some(tenant.as_str()));
    assert_eq!(verified.client_id(), Some(TestEntra::CALLER_ID));
    assert!(verified.has_scope("access_as_user"));
    assert_eq!(verified.token_kind(), TokenKind::User);
    assert_eq!(entra.requests(&format!("/{tenant}/discovery/v2.0/keys")), 1);

    // The same user in a second token; .user() is the default shape.
    let again = payload(&entra.token(TokenVersion::V2, &tenant).user().sign());
    assert_eq!(again["oid"], claims["oid"]);
    assert_eq!(again["sub"], claims["sub"]);
    assert_ne!(again["uti"], claims["uti"]);

    let app = entra
        .token(TokenVersion::V2, &tenant)
        .app(["Orders.Read.All", "Orders.Write.All"])
        .sign();
    let app_claims = payload(&app);
    assert_eq!(app_claims["idtyp"], "app");
    assert_eq!(app_claims["sub"], app_claims["oid"]);
    assert_ne!(app_claims["oid"], claims["oid"]);
    for absent in ["scp", "name", "preferred_username"] {
        assert!(app_claims.get(absent).is_none(), "{absent}");
    }
    let verified = gate.validate(&app).await.unwrap();
    assert!(verified.has_role("Orders.Write.All"));
    assert!(!verified.has_scope("access_as_user"));
    assert_eq!(verified.token_kind(), TokenKind::App);
    // And back.
    let back = payload(
        &entra
            .token(TokenVersion::V2, &tenant)
            .app(["R"])
            .user()
            .sign(),
    );
    assert_eq!(back["oid"], claims["oid"]);
    assert!(back.get("roles").is_none() && back.get("idtyp").is_none());

    // Every key of the set signs tokens the gate accepts, and the keys of common and
    // organizations are the same.
    for kid in entra.kids() {
        let token = entra.token(TokenVersion::V2, &tenant).key(&kid).sign();
        assert_eq!(code(&gate, &token).await, "accepted", "{kid}");
    }
    let via_common = v2_gate(&entra, &tenant, entra.v2_keys_url("common"));
    assert_eq!(code(&via_common, &user).await, "accepted");
    let via_organizations = v2_gate(&entra, &tenant, entra.v2_keys_url("organizations"));
    assert_eq!(code(&via_organizations, &user).await, "accepted");

    // Broken in one precise way each.
    let cases = [
        (
            entra.token(TokenVersion::V2, &tenant).expired().sign(),
            "token_expired",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .audience("api://another")
                .sign(),
            "invalid_audience",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .issuer(&entra.v2_issuer(&entra.add_tenant()))
                .sign(),
            "untrusted_issuer",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .without_claim("exp")
                .sign(),
            "missing_claim",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .header("kid", "nobody")
                .sign(),
            "unknown_key",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .header("typ", "dpop+jwt")
                .sign(),
            "invalid_token_type",
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(code(&gate, &token).await, expected);
    }
    let short = payload(
        &entra
            .token(TokenVersion::V2, &tenant)
            .expires_in(Duration::from_secs(90))
            .sign(),
    );
    // From issuance (5 minutes after `iat`).
    let lifetime = short["exp"].as_i64().unwrap() - short["iat"].as_i64().unwrap() - 300;
    assert!((89..=91).contains(&lifetime));
    // Nothing was asked of the STS host.
    assert_eq!(entra.sts_requests(), 0);
}

#[tokio::test]
async fn v1_tokens_verify_against_the_served_keys() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v1_gate(&entra, &tenant, entra.v1_keys_url(&tenant));

    let user = entra.token(TokenVersion::V1, &tenant).sign();
    let kid = entra.kids()[1].clone();
    assert_eq!(
        header(&user),
        json!({"typ": "JWT", "alg": "RS256", "kid": kid, "x5t": kid})
    );
    let claims = payload(&user);
    assert_eq!(claims["aud"], format!("api://{}", TestEntra::CLIENT_ID));
    assert_eq!(claims["iss"], entra.v1_issuer(&tenant));
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["appid"], TestEntra::CALLER_ID);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["scp"], "access_as_user");
    assert_eq!(claims["amr"], json!(["pwd"]));
    for present in [
        "aio",
        "oid",
        "sub",
        "tid",
        "uti",
        "rh",
        "name",
        "unique_name",
        "upn",
    ] {
        assert!(claims.get(present).is_some(), "{present}");
    }
    for absent in ["azp", "azpacr", "preferred_username", "idtyp", "roles"] {
        assert!(claims.get(absent).is_none(), "{absent}");
    }
    let verified = gate.validate(&user).await.unwrap();
    assert_eq!(verified.client_id(), Some(TestEntra::CALLER_ID));
    assert_eq!(verified.issuer(), entra.v1_issuer(&tenant));

    let app = entra
        .token(TokenVersion::V1, &tenant)
        .app(["Orders.Read.All"])
        .sign();
    let app_claims = payload(&app);
    for absent in ["scp", "name", "unique_name", "upn", "acr", "amr"] {
        assert!(app_claims.get(absent).is_none(), "{absent}");
    }
    assert!(
        gate.validate(&app)
            .await
            .unwrap()
            .has_role("Orders.Read.All")
    );

    // A v1 token under a v2 configuration, and the reverse: different issuers.
    let v2_gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&v2_gate, &user).await, "untrusted_issuer");
    let v2_token = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(code(&gate, &v2_token).await, "untrusted_issuer");
    // v1 tokens may carry the client id as their audience.
    let guid_aud = entra
        .token(TokenVersion::V1, &tenant)
        .audience(TestEntra::CLIENT_ID)
        .sign();
    assert_eq!(code(&gate, &guid_aud).await, "invalid_audience");
    // Keys by x5t only, as in 2014: tokengate selects keys by kid.
    let x5t_only = entra
        .token(TokenVersion::V1, &tenant)
        .without_header("kid")
        .sign();
    assert_eq!(header(&x5t_only)["x5t"], kid.as_str());
    // The consumers tenant.
    let consumer = payload(&entra.token(TokenVersion::V1, "consumers").sign());
    assert_eq!(consumer["tid"], TestEntra::CONSUMERS_TENANT);
    assert_eq!(
        consumer["iss"],
        entra.v1_issuer(TestEntra::CONSUMERS_TENANT)
    );
    assert_eq!(entra.sts_requests(), 0);
}
