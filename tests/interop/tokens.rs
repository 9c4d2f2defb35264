//! Tokens for every algorithm, their claims, and expiry.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use tokengate::{Algorithm, TokenProfile};

use super::idp::Idp;
use super::support::{
    ALGORITHMS, Api, EXPIRED, ORDERS, ORDERS_SERVICE, REPORTING_JOB, gate, header, key_cache,
    payload, profile, unix_now,
};

#[tokio::test(flavor = "multi_thread")]
async fn tokens_for_every_algorithm_validate_through_the_api() {
    let idp = Idp::start().await;
    let plain = Api::serve(gate(profile(&idp), key_cache())).await;
    let strict = Api::serve(gate(
        profile(&idp).token_profile(TokenProfile::Rfc9068),
        key_cache(),
    ))
    .await;

    for alg in ALGORITHMS {
        // One client authenticates with client_secret_basic, the other with client_secret_post.
        for client in [&ORDERS_SERVICE, &REPORTING_JOB] {
            let token = idp.ask(client).alg(alg).send().await;
            let header = header(&token);
            assert_eq!(header["alg"], alg.name(), "{header}");
            assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
            assert_eq!(header["kid"], idp.key(alg).kid.as_str());

            for api in [&plain, &strict] {
                let answer = api.get("/orders", &token).await;
                answer.assert_ok();
                assert_eq!(answer.body, format!("orders of {}", client.id));
            }
        }
    }
    // The keys were fetched once per gate, not per token.
    let stats = idp.stats().await;
    assert_eq!(stats.jwks, 2, "{stats:?}");
    assert_eq!(stats.token, 10, "{stats:?}");
    idp.assert_logs_secret_free().await;
}

/// oidc-provider's JWT access tokens are RFC 9068 tokens: `typ` `at+jwt`, and `iss`, `exp`,
/// `aud`, `sub`, `client_id`, `iat`, `jti`, with `scope` a space-separated string.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_follow_rfc9068_and_pass_its_profile() {
    let idp = Idp::start().await;
    let strict = gate(
        profile(&idp).token_profile(TokenProfile::Rfc9068),
        key_cache(),
    );
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .scope("orders.read orders.write")
        .ttl(120)
        .send()
        .await;
    let claims = payload(&token);
    for name in [
        "iss",
        "exp",
        "aud",
        "sub",
        "client_id",
        "iat",
        "jti",
        "scope",
    ] {
        assert!(claims.get(name).is_some(), "{name} missing in {claims}");
    }
    assert_eq!(
        claims["sub"], ORDERS_SERVICE.id,
        "client credentials: sub is the client"
    );
    assert_eq!(claims["client_id"], ORDERS_SERVICE.id);
    assert_eq!(
        claims["aud"], ORDERS,
        "the resource indicator is the audience"
    );
    assert_eq!(claims["scope"], "orders.read orders.write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(claims["iat"].as_f64().unwrap() <= unix_now() + 1.0);
    assert!(claims.get("nbf").is_none(), "oidc-provider sets no nbf");
    assert!(claims.get("cnf").is_none(), "a bearer token");

    let verified = strict.validate(&token).await.expect("an RFC 9068 token");
    assert_eq!(verified.client_id(), Some(ORDERS_SERVICE.id));
    assert_eq!(verified.token_kind(), tokengate::TokenKind::App);
    assert!(verified.has_scope("orders.write"));
    idp.assert_logs_secret_free().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_reach_the_handler() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::PS256)
        .scope("orders.read orders.write")
        .send()
        .await;
    let answer = api.get("/claims", &token).await;
    answer.assert_ok();
    let seen = answer.json();
    let raw = payload(&token);
    assert_eq!(
        seen,
        json!({
            "issuer": idp.issuer,
            "subject": "orders-service",
            "client_id": "orders-service",
            "audiences": [ORDERS],
            "scopes": ["orders.read", "orders.write"],
            "roles": ["orders.admin"],
            "kind": "App",
            "jti": raw["jti"],
            "iat": raw["iat"],
            "tenant": "tenant-7",
            "env": ["interop", "local"],
        })
    );

    let token = idp
        .ask(&REPORTING_JOB)
        .alg(Algorithm::EdDSA)
        .scope("orders.read reports.read")
        .send()
        .await;
    let seen = api.get("/claims", &token).await.json();
    assert_eq!(seen["client_id"], "reporting-job");
    assert_eq!(seen["scopes"], json!(["orders.read", "reports.read"]));
    assert_eq!(seen["roles"], json!([]));
    assert_eq!(seen["tenant"], "tenant-7");
    idp.assert_logs_secret_free().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refused() {
    let idp = Idp::start().await;
    let leeway = Duration::from_secs(1);
    let lenient = gate(profile(&idp), key_cache());
    let api = Api::serve(gate(profile(&idp).leeway(leeway), key_cache())).await;

    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .ttl(1)
        .send()
        .await;
    api.get("/orders", &token).await.assert_ok();

    // Past `exp` and the leeway.
    let exp = payload(&token)["exp"].as_f64().unwrap();
    let wait = exp + leeway.as_secs_f64() + 0.5 - unix_now();
    tokio::time::sleep(Duration::from_secs_f64(wait.max(0.0))).await;
    api.get("/orders", &token).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "token_expired",
        EXPIRED,
    );

    // With the default leeway (60 s) the same token still passes: the leeway decided.
    lenient.validate(&token).await.expect("within 60 s of exp");
    idp.assert_logs_secret_free().await;
}
