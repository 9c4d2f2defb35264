//! The axum extractors: optional authentication (`Option<Verified>`), typed claims
//! (`VerifiedClaims<T>`), and extractors without a `TokenLayer`.

use http::StatusCode;
use serde_json::json;
use tokengate::TokenLayer;

use tokengate_testkit::{AUDIENCE, now, valid_claims};

use super::support::{
    BAD_CLAIMS, EXPIRED, IN_QUERY, MALFORMED, app, bearer, gate, routes, scoped, send, token,
    valid, with,
};

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through() {
    let layer = TokenLayer::builder(gate())
        .optional()
        .realm("orders")
        .build()
        .unwrap();
    let app = routes().layer(layer.clone());
    assert_eq!(send(&app, "/maybe", &[]).await.ok(), "anonymous");
    assert_eq!(
        send(&app, "/maybe", &[("authorization", &bearer(&valid()))])
            .await
            .ok(),
        "user user-1"
    );
    // Basic is no bearer credential: anonymous.
    assert_eq!(
        send(&app, "/maybe", &[("authorization", "Basic dXNlcjpwYXNz")])
            .await
            .ok(),
        "anonymous"
    );
    // A bad token is refused, optional or not.
    let expired = token(&with(json!({"exp": now() - 3600, "iat": now() - 7200})));
    send(&app, "/maybe", &[("authorization", &bearer(&expired))])
        .await
        .refused(
            401,
            "token_expired",
            &EXPIRED.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    send(&app, "/maybe", &[("authorization", "Bearer a b")])
        .await
        .refused(
            400,
            "malformed_credentials",
            &MALFORMED.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    send(&app, "/maybe?access_token=x", &[]).await.refused(
        400,
        "token_in_query",
        &IN_QUERY.replace("Bearer ", "Bearer realm=\"orders\", "),
    );
    // A handler that needs claims answers 401 with the layer's challenge.
    send(&app, "/verified", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    send(&app, "/typed", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    // Option<VerifiedClaims<T>>: None without a token, 401 if the claims do not fit.
    assert_eq!(send(&app, "/maybe-misfit", &[]).await.ok(), "no claims");
    send(
        &app,
        "/maybe-misfit",
        &[("authorization", &bearer(&valid()))],
    )
    .await
    .refused(
        401,
        "malformed_claims",
        &BAD_CLAIMS.replace("Bearer ", "Bearer realm=\"orders\", "),
    );
    // So does a route requirement.
    let scoped = scoped(layer);
    send(&scoped, "/orders", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    send(&scoped, "/open", &[]).await.ok();
}

#[tokio::test]
async fn typed_claims_extraction() {
    let app = app(TokenLayer::new(gate()));
    let claims = valid_claims();
    let answer = send(
        &app,
        "/typed",
        &[("authorization", &bearer(&token(&claims)))],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"sub": "user-1", "aud": AUDIENCE, "scope": "orders.read orders.write", "exp": claims["exp"]})
    );
    // A valid token whose claims do not fit the handler's type.
    send(&app, "/misfit", &[("authorization", &bearer(&valid()))])
        .await
        .refused(401, "malformed_claims", BAD_CLAIMS);
    // A shape that fits once the claim is there.
    let tenant = token(&with(json!({"tenant": 7})));
    assert_eq!(
        send(&app, "/misfit", &[("authorization", &bearer(&tenant))])
            .await
            .ok(),
        "fits"
    );
}

#[tokio::test]
async fn extractors_without_token_layer_are_a_bare_500() {
    // Without a TokenLayer no one is treated as anonymous, or told their token is missing.
    let app = routes();
    for (path, headers) in [
        ("/verified", vec![("authorization", bearer(&valid()))]),
        ("/typed", vec![]),
        ("/maybe", vec![]),
        ("/maybe", vec![("authorization", bearer(&valid()))]),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = send(&app, path, &headers).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(answer.body.is_empty(), "{path}");
    }
}
