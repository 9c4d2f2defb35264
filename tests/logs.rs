//! Secret-free logs (STD-6750-8): everything tokengate logs at TRACE level, across accepted and
//! refused requests, key fetching, rotation, outages and the Entra preset, contains no token,
//! no signature, no claim value and no key material.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use tokengate::providers::entra::TokenVersion;
use tokengate::providers::entra::{AuthContext, EntraApi};
use tokengate::testing::{TestEntra, TestIssuer};
use tokengate::{
    Algorithm, Gate, KeyCacheSettings, RequireLayer, Requirement, TokenLayer, TokenSource,
};
use tokengate_testkit::capture;
use tower::ServiceExt;

async fn send(app: &Router, headers: &[(&str, &str)]) -> u16 {
    let mut request = Request::get("/orders");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test(start_paused = true)]
async fn std_6750_8_nothing_secret_is_logged() {
    // Global, so that every task's events are captured, whichever thread runs it (this file
    // holds one test, so nothing else installs a subscriber).
    let captured = capture::global();

    let mut secrets: Vec<String> = Vec::new();

    // A generic issuer, through the layer.
    let issuer = TestIssuer::with_algorithms([Algorithm::RS256, Algorithm::ES256])
        .await
        .unwrap();
    let layer = TokenLayer::builder(issuer.gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .realm("orders")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap())
        .layer(layer);
    let subject = "subject-7f3a9c-private";
    let custom = "custom-claim-value-51be";
    let good = issuer
        .token()
        .subject(subject)
        .scope("orders.read")
        .claim("employee_number", custom)
        .sign();
    let no_scope = issuer
        .token()
        .subject(subject)
        .claim("employee_number", custom)
        .sign();
    let expired = issuer
        .token()
        .subject(subject)
        .scope("orders.read")
        .expired()
        .sign();
    let tampered = issuer
        .token()
        .subject(subject)
        .scope("orders.read")
        .tampered()
        .sign();
    let wrong_audience = issuer.token().audience("api://someone-else").sign();
    let graph = issuer.token().header("nonce", "graph-nonce-9d1e").sign();
    let unknown_kid = issuer
        .token()
        .header("kid", "kid-never-published-0c2b")
        .sign();
    let es256 = issuer
        .token()
        .alg(Algorithm::ES256)
        .subject(subject)
        .scope("orders.read")
        .sign();
    secrets.extend(
        [
            subject,
            custom,
            "graph-nonce-9d1e",
            "kid-never-published-0c2b",
            "api://someone-else",
        ]
        .map(str::to_owned),
    );
    for token in [
        &good,
        &no_scope,
        &expired,
        &tampered,
        &wrong_audience,
        &graph,
        &unknown_kid,
        &es256,
    ] {
        secrets.push(token.clone());
        secrets.extend(
            token
                .split('.')
                .filter(|segment| segment.len() > 8)
                .map(str::to_owned),
        );
    }
    let bearer = |token: &str| format!("Bearer {token}");
    assert_eq!(send(&app, &[("authorization", &bearer(&good))]).await, 200);
    assert_eq!(
        send(&app, &[("authorization", &bearer(&good))]).await,
        200,
        "cached"
    );
    assert_eq!(send(&app, &[("cookie", &format!("at={es256}"))]).await, 200);
    assert_eq!(
        send(&app, &[("authorization", &bearer(&no_scope))]).await,
        403
    );
    for token in [&expired, &tampered, &wrong_audience, &graph, &unknown_kid] {
        assert_eq!(send(&app, &[("authorization", &bearer(token))]).await, 401);
    }
    assert_eq!(
        send(
            &app,
            &[
                ("authorization", &bearer(&good)),
                ("cookie", &format!("at={good}"))
            ]
        )
        .await,
        400
    );
    assert_eq!(
        send(&app, &[("authorization", &format!("Bearer {good} x"))]).await,
        400
    );
    // Rotation and an outage: fetch failures are logged, without key material. The new kid
    // makes the gate fetch again once the test issuer's cooldown (1 s) has passed.
    tokio::time::advance(Duration::from_millis(1100)).await;
    let new_kid = issuer.rotate(Algorithm::RS256);
    let rotated = issuer.token().key(&new_kid).scope("orders.read").sign();
    secrets.push(rotated.clone());
    assert_eq!(
        send(&app, &[("authorization", &bearer(&rotated))]).await,
        200
    );
    issuer.set_outage(true);
    let outage_gate = issuer.gate();
    assert!(outage_gate.validate(&good).await.is_err());
    issuer.set_outage(false);
    let jwks: serde_json::Value = serde_json::from_str(&issuer.jwks()).unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        for member in ["n", "x", "y"] {
            if let Some(value) = key[member].as_str() {
                secrets.push(value.to_owned());
            }
        }
    }

    // Opaque tokens by introspection: accepted, refused, our credentials refused, and DPoP
    // proofs beside them; neither tokens, proofs, the client secret nor claim values appear.
    let (client_id, client_secret) = issuer.introspection_client();
    secrets.push(client_secret.to_owned());
    let introspecting = Gate::builder()
        .issuer(
            issuer
                .profile()
                .introspection(issuer.introspection())
                .dpop(tokengate::DpopMode::Allowed),
        )
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    let opaque = issuer.token().subject("opaque-subject-4711").opaque();
    secrets.extend([opaque.clone(), "opaque-subject-4711".to_owned()]);
    assert!(introspecting.validate(&opaque).await.is_ok());
    assert!(
        introspecting
            .validate("tgo_not_a_token_1234")
            .await
            .is_err()
    );
    secrets.push("tgo_not_a_token_1234".to_owned());
    let wrong = Gate::builder()
        .issuer(
            issuer
                .profile()
                .introspection(tokengate::Introspection::client_secret_post(
                    client_id,
                    "wrong-secret-9876",
                )),
        )
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    secrets.push("wrong-secret-9876".to_owned());
    assert!(wrong.validate(&opaque).await.is_err());
    let client = tokengate::testing::DpopKey::generate(Algorithm::ES256);
    let bound = issuer.token().bound_to(&client).sign();
    let url = "https://api.example.com/orders";
    let proof = client.proof(&http::Method::GET, url).token(&bound).sign();
    secrets.extend([bound.clone(), proof.clone(), client.thumbprint().to_owned()]);
    let presented = tokengate::Presented::dpop(&bound, &proof, &http::Method::GET, url);
    assert!(introspecting.validate_presented(presented).await.is_ok());
    let replayed = tokengate::Presented::dpop(&bound, &proof, &http::Method::GET, url);
    assert!(introspecting.validate_presented(replayed).await.is_err());

    // The Entra preset, with a claims challenge, and a key of another cloud instance, which
    // is skipped with a warning (ENTRA-40).
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let other_cloud = entra.cloud_instance_key("microsoftonline.us");
    let gate = Gate::builder()
        .issuer(EntraApi::single_tenant(&tenant, TestEntra::CLIENT_ID).instance(entra.instance()))
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()
        .unwrap();
    let entra_app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route_layer(AuthContext::require(["c1"]).unwrap().layer())
        .layer(TokenLayer::new(gate));
    let user = entra
        .token(TokenVersion::V2, &tenant)
        .user()
        .claim("acrs", ["c1"])
        .sign();
    let step_up = entra
        .token(TokenVersion::V2, &tenant)
        .user()
        .claim("xms_cc", ["cp1"])
        .sign();
    let other_tenant = entra.add_tenant();
    let foreign = entra.token(TokenVersion::V2, &other_tenant).user().sign();
    let cloud = entra
        .token(TokenVersion::V2, &tenant)
        .user()
        .key(&other_cloud)
        .sign();
    for token in [&user, &step_up, &foreign, &cloud] {
        secrets.push(token.clone());
        secrets.extend(token.split('.').map(str::to_owned));
    }
    assert_eq!(
        send(&entra_app, &[("authorization", &bearer(&user))]).await,
        200
    );
    assert_eq!(
        send(&entra_app, &[("authorization", &bearer(&step_up))]).await,
        401
    );
    assert_eq!(
        send(&entra_app, &[("authorization", &bearer(&foreign))]).await,
        401
    );
    assert_eq!(
        send(&entra_app, &[("authorization", &bearer(&cloud))]).await,
        401
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let keys = client.get(entra.v2_keys_url(&tenant)).send().await.unwrap();
    let keys: serde_json::Value = serde_json::from_str(&keys.text().await.unwrap()).unwrap();
    for key in keys["keys"].as_array().unwrap() {
        secrets.push(key["n"].as_str().unwrap().to_owned());
        secrets.push(key["x5c"][0].as_str().unwrap().to_owned());
    }

    let text = captured.text();
    // The test means something only if events were recorded.
    for code in [
        "token_expired",
        "invalid_signature",
        "invalid_audience",
        "multiple_tokens",
        "untrusted_issuer",
        "cloud_instance_name",
        "token_inactive",
        "introspection endpoint refused our client credentials",
        "dpop_proof_replayed",
    ] {
        assert!(text.contains(code), "no event with {code}:\n{text}");
    }
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret was logged: {secret:.40}..."
        );
    }
}
