//! Who may use which scheme: DPoP per issuer and per route, the challenges that say so, server
//! nonces, and a replay store that cannot answer (503, never acceptance).

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::{Method, StatusCode};
use tokengate::{Dpop, DpopMode, FirstUse, ProofId, ReplayStore, ReplayStoreError, TokenLayer};

use crate::{World, accepted, app, challenges, get_dpop, layer, refused, scheme, send};

async fn get_bearer(app: &Router, token: &str) -> http::Response<axum::body::Body> {
    send(
        app,
        Method::GET,
        "/orders",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn allowed_accepts_both_schemes_and_says_so() {
    let world = World::new().await;
    let app = app(layer(world.gate(DpopMode::Allowed))
        .realm("orders")
        .build()
        .unwrap());
    accepted(get_bearer(&app, &world.issuer.token().sign()).await).await;
    let token = world.bound();
    accepted(get_dpop(&app, &token, &world.proof(&token)).await).await;

    // No credentials: both challenges, no error (RFC 9449 §7.2).
    let response = send(&app, Method::GET, "/orders", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let all = challenges(&response);
    assert_eq!(all.len(), 2);
    let (bearer, dpop) = (scheme(&all, "Bearer"), scheme(&all, "DPoP"));
    assert_eq!(bearer.names(), ["realm"]);
    assert_eq!(dpop.names(), ["realm", "algs"]);
    assert_eq!(
        dpop.param("algs"),
        Some("RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA")
    );
    // The DPoP scheme with a token that is not bound.
    let plain = world.issuer.token().sign();
    let challenges = refused(
        get_dpop(&app, &plain, &world.proof(&plain)).await,
        StatusCode::UNAUTHORIZED,
        "token_not_bound",
    )
    .await;
    assert_eq!(
        scheme(&challenges, "DPoP").param("error"),
        Some("invalid_token")
    );
}

#[tokio::test]
async fn required_per_issuer_refuses_unbound_tokens() {
    let world = World::new().await;
    let app = app(layer(world.gate(DpopMode::Required)).build().unwrap());
    let token = world.bound();
    accepted(get_dpop(&app, &token, &world.proof(&token)).await).await;
    let plain = world.issuer.token().sign();
    let refusal = refused(
        get_bearer(&app, &plain).await,
        StatusCode::UNAUTHORIZED,
        "dpop_required",
    )
    .await;
    // Only DPoP is accepted: one challenge, with the error.
    assert_eq!(refusal.len(), 1);
    assert_eq!(refusal[0].param("error"), Some("invalid_token"));
    refused(
        get_dpop(&app, &plain, &world.proof(&plain)).await,
        StatusCode::UNAUTHORIZED,
        "dpop_required",
    )
    .await;
    let response = send(&app, Method::GET, "/orders", &[]).await;
    let only = challenges(&response);
    assert_eq!(only.len(), 1);
    assert!(only[0].scheme.eq_ignore_ascii_case("DPoP"));
}

/// DPoP per route: one gate whose issuer allows both, a route that requires DPoP.
#[tokio::test]
async fn required_per_route() {
    let world = World::new().await;
    let gate = world.gate(DpopMode::Allowed);
    let strict = layer(gate.clone()).require_dpop().build().unwrap();
    let relaxed = layer(gate).build().unwrap();
    let app = Router::new()
        .route("/payments", get(|| async { "paid" }).layer(strict))
        .route("/orders", get(|| async { "test-user" }).layer(relaxed));
    let plain = world.issuer.token().sign();
    accepted(get_bearer(&app, &plain).await).await;
    let response = send(
        &app,
        Method::GET,
        "/payments",
        &[("authorization", &format!("Bearer {plain}"))],
    )
    .await;
    refused(response, StatusCode::UNAUTHORIZED, "dpop_required").await;
    let token = world.bound();
    let proof = world
        .client
        .proof(&Method::GET, "https://api.example.com/payments")
        .token(&token)
        .sign();
    let response = send(
        &app,
        Method::GET,
        "/payments",
        &[
            ("authorization", &format!("DPoP {token}")),
            ("dpop", &proof),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn nonces_are_asked_for_and_then_accepted() {
    let world = World::new().await;
    let dpop = Dpop::new().nonces(Duration::from_secs(300));
    let app = app(layer(world.gate_with(DpopMode::Allowed, dpop))
        .build()
        .unwrap());
    let token = world.bound();
    let response = get_dpop(&app, &token, &world.proof(&token)).await;
    let nonce = response
        .headers()
        .get("dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_str()
        .unwrap()
        .to_owned();
    let challenges = refused(response, StatusCode::UNAUTHORIZED, "use_dpop_nonce").await;
    assert_eq!(
        scheme(&challenges, "DPoP").param("error"),
        Some("use_dpop_nonce")
    );
    let with_nonce = world.proof_for(&token).nonce(&nonce).sign();
    accepted(get_dpop(&app, &token, &with_nonce).await).await;
    let made_up = world.proof_for(&token).nonce("made-up").sign();
    refused(
        get_dpop(&app, &token, &made_up).await,
        StatusCode::UNAUTHORIZED,
        "use_dpop_nonce",
    )
    .await;
}

/// A store that never answers: the proof is never accepted without its word.
struct Broken;

impl ReplayStore for Broken {
    fn first_use<'a>(&'a self, _: &'a ProofId, _: Duration) -> FirstUse<'a> {
        Box::pin(async { Err(ReplayStoreError::new("down")) })
    }
}

#[tokio::test]
async fn an_unreachable_replay_store_is_503() {
    let world = World::new().await;
    let gate = world.gate_with(DpopMode::Allowed, Dpop::new().replay_store(Broken));
    let app = app(layer(gate).build().unwrap());
    let token = world.bound();
    let response = get_dpop(&app, &token, &world.proof(&token)).await;
    assert!(response.headers().get("retry-after").is_some());
    assert!(response.headers().get("www-authenticate").is_none());
    refused(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "replay_store_unavailable",
    )
    .await;
    // Bearer tokens do not need the store.
    accepted(get_bearer(&app, &world.issuer.token().sign()).await).await;
}

/// A cached token still has its proof checked on every request.
#[tokio::test]
async fn a_cached_token_still_needs_a_fresh_proof() {
    let world = World::new().await;
    let app = app(layer(world.gate(DpopMode::Allowed)).build().unwrap());
    let token = world.bound();
    let proof = world.proof(&token);
    for _ in 0..3 {
        accepted(get_dpop(&app, &token, &world.proof(&token)).await).await;
    }
    accepted(get_dpop(&app, &token, &proof).await).await;
    refused(
        get_dpop(&app, &token, &proof).await,
        StatusCode::UNAUTHORIZED,
        "dpop_proof_replayed",
    )
    .await;
    refused(
        get_bearer(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "sender_constrained_token",
    )
    .await;
    let post = world
        .client
        .proof(&Method::POST, crate::ORDERS)
        .token(&token)
        .sign();
    refused(
        get_dpop(&app, &token, &post).await,
        StatusCode::UNAUTHORIZED,
        "invalid_dpop_proof",
    )
    .await;
}

/// A public URL with a path prefix: proofs name the prefix, the router sees the rest.
#[tokio::test]
async fn public_url_with_a_prefix() {
    let world = World::new().await;
    let app = app(TokenLayer::builder(world.gate(DpopMode::Allowed))
        .public_url("https://example.com/shop/")
        .build()
        .unwrap());
    let token = world.bound();
    let proof = world
        .client
        .proof(&Method::GET, "https://example.com/shop/orders")
        .token(&token)
        .sign();
    accepted(get_dpop(&app, &token, &proof).await).await;
}

#[tokio::test]
async fn builders_check_dpop_settings() {
    let world = World::new().await;
    let error = TokenLayer::builder(world.gate(DpopMode::Allowed))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("public_url"), "{error}");
    for bad in [
        "api.example.com",
        "ftp://x/",
        "https://x/?q=1",
        "https://x/#f",
    ] {
        let error = layer(world.gate(DpopMode::Allowed))
            .public_url(bad)
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("public_url"), "{bad}: {error}");
    }
    let plain = world.issuer.gate();
    assert!(
        TokenLayer::builder(plain.clone())
            .require_dpop()
            .build()
            .is_err()
    );
    let error = tokengate::Gate::builder()
        .issuer(world.issuer.profile())
        .dpop(Dpop::new())
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("no issuer accepts"), "{error}");
    for dpop in [
        Dpop::new().algorithms([]),
        Dpop::new().proof_lifetime(Duration::ZERO),
        Dpop::new().proof_lifetime(Duration::from_secs(3600)),
        Dpop::new().nonces(Duration::from_secs(1)),
        Dpop::new().nonce_secret([0; 32]),
    ] {
        let built = tokengate::Gate::builder()
            .issuer(world.issuer.profile().dpop(DpopMode::Allowed))
            .dpop(dpop.clone())
            .build();
        assert!(built.is_err(), "{dpop:?}");
    }
}

/// The cache and DPoP: a token's verification is cached, its proofs never are. A cache hit
/// hands out the same `Arc<Claims>` (the pipeline makes a new one), so `ptr_eq` proves the
/// hits; between them, proofs that fail are refused although the token is a hit.
#[tokio::test]
async fn proofs_are_checked_on_cache_hits() {
    let world = World::new().await;
    let gate = world.gate(DpopMode::Allowed);
    let token = world.bound();
    let presented = |proof: &str| -> (String, String) { (token.clone(), proof.to_owned()) };
    let validate = |(token, proof): (String, String)| {
        let gate = gate.clone();
        async move {
            gate.validate_presented(tokengate::Presented::dpop(
                &token,
                &proof,
                &Method::GET,
                crate::ORDERS,
            ))
            .await
        }
    };
    let first = validate(presented(&world.proof(&token))).await.unwrap();
    let used = world.proof(&token);
    let second = validate(presented(&used)).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second), "a cache hit");

    let replayed = validate(presented(&used)).await.unwrap_err();
    assert_eq!(replayed.code(), "dpop_proof_replayed");
    let wrong_method = world
        .client
        .proof(&Method::DELETE, crate::ORDERS)
        .token(&token)
        .sign();
    let refused = validate(presented(&wrong_method)).await.unwrap_err();
    assert_eq!(refused.code(), "invalid_dpop_proof");
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "sender_constrained_token"
    );

    let third = validate(presented(&world.proof(&token))).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &third), "still a cache hit");
}

/// Callers of the gate require DPoP per call, as `require_dpop` does per route.
#[tokio::test]
async fn presented_require_dpop() {
    let world = World::new().await;
    let gate = world.gate(DpopMode::Allowed);
    let plain = world.issuer.token().sign();
    assert!(gate.validate(&plain).await.is_ok());
    let refused = gate
        .validate_presented(tokengate::Presented::bearer(&plain).require_dpop())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "dpop_required");
    let token = world.bound();
    let proof = world.proof(&token);
    let presented =
        tokengate::Presented::dpop(&token, &proof, &Method::GET, crate::ORDERS).require_dpop();
    assert!(gate.validate_presented(presented).await.is_ok());
}
