//! ATK-36, case by case: each proof is valid but for one thing, and its refusal names the
//! check (RFC 9449 §4.3, §7.1-7.2, §11.1). A valid proof of the same shape passes first, so
//! every refusal is the change's doing.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;
use tokengate::testing::DpopKey;
use tokengate::{Algorithm, DpopMode};

use crate::{World, accepted, app, get_dpop, layer, refused, scheme, send};

async fn world_and_app() -> (World, axum::Router) {
    let world = World::new().await;
    let app = app(layer(world.gate(DpopMode::Allowed)).build().unwrap());
    (world, app)
}

/// A proof refused with `invalid_dpop_proof` and the check named in its description, in the
/// `DPoP` challenge, which carries `algs`.
async fn expect_check(app: &axum::Router, token: &str, proof: &str, check: &str) {
    let challenges = refused(
        get_dpop(app, token, proof).await,
        StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
    let dpop = scheme(&challenges, "DPoP");
    assert_eq!(dpop.param("error"), Some("invalid_dpop_proof"));
    assert_eq!(
        dpop.param("error_description"),
        Some(format!("The DPoP proof is invalid: check {check}.").as_str())
    );
    assert!(dpop.param("algs").is_some_and(|algs| !algs.is_empty()));
    // The error belongs to the scheme used; the Bearer challenge carries none.
    assert_eq!(scheme(&challenges, "Bearer").param("error"), None);
}

#[tokio::test]
async fn a_valid_proof_passes() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    accepted(get_dpop(&app, &token, &world.proof(&token)).await).await;
    // Every client algorithm works.
    for alg in [Algorithm::PS256, Algorithm::EdDSA, Algorithm::ES384] {
        let client = DpopKey::generate(alg);
        let token = world.issuer.token().bound_to(&client).sign();
        let proof = client
            .proof(&Method::GET, crate::ORDERS)
            .token(&token)
            .sign();
        accepted(get_dpop(&app, &token, &proof).await).await;
    }
}

#[tokio::test]
async fn atk_36_dpop_bound_token_as_bearer_is_a_downgrade() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let response = send(
        &app,
        Method::GET,
        "/orders",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    let challenges = refused(
        response,
        StatusCode::UNAUTHORIZED,
        "sender_constrained_token",
    )
    .await;
    // The client used Bearer: the error is in the Bearer challenge, DPoP is offered beside it.
    assert_eq!(
        scheme(&challenges, "Bearer").param("error"),
        Some("invalid_token")
    );
    assert_eq!(scheme(&challenges, "DPoP").param("error"), None);
}

#[tokio::test]
async fn atk_36_replayed_proof() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let proof = world.proof(&token);
    accepted(get_dpop(&app, &token, &proof).await).await;
    let challenges = refused(
        get_dpop(&app, &token, &proof).await,
        StatusCode::UNAUTHORIZED,
        "dpop_proof_replayed",
    )
    .await;
    assert_eq!(
        scheme(&challenges, "DPoP").param("error"),
        Some("invalid_dpop_proof")
    );
    // The same jti in a new proof is a replay too: ids are the key and the jti.
    let same_jti = world.proof_for(&token).jti("fixed-jti").sign();
    accepted(get_dpop(&app, &token, &same_jti).await).await;
    let again = world
        .proof_for(&token)
        .jti("fixed-jti")
        .issued_ago(Duration::from_secs(1))
        .sign();
    refused(
        get_dpop(&app, &token, &again).await,
        StatusCode::UNAUTHORIZED,
        "dpop_proof_replayed",
    )
    .await;
}

#[tokio::test]
async fn atk_36_wrong_ath() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let other = world.bound();
    let for_other = world
        .client
        .proof(&Method::GET, crate::ORDERS)
        .token(&other)
        .sign();
    expect_check(&app, &token, &for_other, "ath").await;
    let without = world.client.proof(&Method::GET, crate::ORDERS).sign();
    expect_check(&app, &token, &without, "ath").await;
}

#[tokio::test]
async fn atk_36_wrong_htm_and_htu() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let post = world
        .client
        .proof(&Method::POST, crate::ORDERS)
        .token(&token)
        .sign();
    expect_check(&app, &token, &post, "htm").await;
    for htu in [
        "https://api.example.com/orders/7",
        "https://api.example.com/",
        "https://attacker.example/orders",
        "http://api.example.com/orders",
        "https://api.example.com:8443/orders",
        "https://api.example.com.attacker.example/orders",
        "https://user@api.example.com/orders",
        "not a url",
    ] {
        let proof = world.proof_for(&token).claim("htu", htu).sign();
        expect_check(&app, &token, &proof, "htu").await;
    }
    // RFC 3986 normalization: scheme and host case, the default port, a query (ignored).
    for htu in [
        "HTTPS://API.example.COM/orders",
        "https://api.example.com:443/orders",
        "https://api.example.com/orders?page=2",
        "https://api.example.com/%6Frders",
    ] {
        let proof = world.proof_for(&token).claim("htu", htu).sign();
        accepted(get_dpop(&app, &token, &proof).await).await;
    }
}

/// The request's Host is never the resource: a proof made for the attacker's host fails even
/// when the request names that host.
#[tokio::test]
async fn atk_36_another_host_in_the_request() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let proof = world
        .client
        .proof(&Method::GET, "https://attacker.example/orders")
        .token(&token)
        .sign();
    let response = send(
        &app,
        Method::GET,
        "https://attacker.example/orders",
        &[
            ("host", "attacker.example"),
            ("authorization", &format!("DPoP {token}")),
            ("dpop", &proof),
        ],
    )
    .await;
    refused(response, StatusCode::UNAUTHORIZED, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn atk_36_private_jwk() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let leaky = world.proof_for(&token).with_private_member().sign();
    expect_check(&app, &token, &leaky, "jwk").await;
}

#[tokio::test]
async fn atk_36_hmac_none_and_unlisted_algorithms() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    for alg in ["HS256", "none", "None", "RS256 ", ""] {
        let proof = world.proof_for(&token).header("alg", alg).sign();
        expect_check(&app, &token, &proof, "alg").await;
    }
    // An algorithm the gate does not list for proofs.
    let narrow = crate::app(
        crate::layer(world.gate_with(
            DpopMode::Allowed,
            tokengate::Dpop::new().algorithms([Algorithm::EdDSA]),
        ))
        .build()
        .unwrap(),
    );
    expect_check(&narrow, &token, &world.proof(&token), "alg").await;
}

#[tokio::test]
async fn atk_36_iat_outside_the_window() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    // Default window: 60 s old at most, 5 s of leeway either way.
    for (iat, fine) in [
        (-50_i64, true),
        (3, true),
        (-70, false),
        (-3600, false),
        (30, false),
        (86_400, false),
    ] {
        let now = std::time::SystemTime::now();
        let at = if iat < 0 {
            now - Duration::from_secs(iat.unsigned_abs())
        } else {
            now + Duration::from_secs(iat.unsigned_abs())
        };
        let proof = world.proof_for(&token).issued_at(at).sign();
        if fine {
            accepted(get_dpop(&app, &token, &proof).await).await;
        } else {
            expect_check(&app, &token, &proof, "iat").await;
        }
    }
}

#[tokio::test]
async fn atk_36_two_dpop_headers_are_400() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let proof = world.proof(&token);
    let response = send(
        &app,
        Method::GET,
        "/orders",
        &[
            ("authorization", &format!("DPoP {token}")),
            ("dpop", &proof),
            ("dpop", &proof),
        ],
    )
    .await;
    refused(response, StatusCode::BAD_REQUEST, "multiple_dpop_proofs").await;
    // No proof at all with the DPoP scheme.
    let response = send(
        &app,
        Method::GET,
        "/orders",
        &[("authorization", &format!("DPoP {token}"))],
    )
    .await;
    refused(response, StatusCode::UNAUTHORIZED, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn atk_36_proof_key_not_the_bound_key() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    let thief = DpopKey::generate(Algorithm::ES256);
    let proof = thief
        .proof(&Method::GET, crate::ORDERS)
        .token(&token)
        .sign();
    let challenges = refused(
        get_dpop(&app, &token, &proof).await,
        StatusCode::UNAUTHORIZED,
        "token_binding_mismatch",
    )
    .await;
    assert_eq!(
        scheme(&challenges, "DPoP").param("error"),
        Some("invalid_token")
    );
    // The bound key's jwk with a thief's signature.
    let forged = world.proof_for(&token).signed_by(&thief).sign();
    expect_check(&app, &token, &forged, "signature").await;
}

#[tokio::test]
async fn atk_36_wrong_type_and_syntax() {
    let (world, app) = world_and_app().await;
    let token = world.bound();
    for typ in [json!("jwt"), json!("at+jwt"), json!(null)] {
        let proof = world.proof_for(&token).header("typ", typ).sign();
        expect_check(&app, &token, &proof, "typ").await;
    }
    for missing in ["jti", "htm", "htu", "iat"] {
        let proof = world.proof_for(&token).without_claim(missing).sign();
        expect_check(&app, &token, &proof, "syntax").await;
    }
    expect_check(&app, &token, "a.b.c", "syntax").await;
}

/// ATK-39: a bearer token with a DPoP proof is two methods.
#[tokio::test]
async fn atk_39_bearer_with_a_dpop_proof_is_400() {
    let (world, app) = world_and_app().await;
    let token = world.issuer.token().sign();
    let proof = world.proof(&token);
    let response = send(
        &app,
        Method::GET,
        "/orders",
        &[
            ("authorization", &format!("Bearer {token}")),
            ("dpop", &proof),
        ],
    )
    .await;
    refused(response, StatusCode::BAD_REQUEST, "multiple_tokens").await;
}
