//! Requirements: per-route `RequireLayer`s, nested routers and a gate-wide requirement (STD-6750-7).

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use http::header::WWW_AUTHENTICATE;
use serde_json::json;
use tokengate::{Gate, RequireLayer, Requirement, TokenLayer};

use tokengate_testkit::now;

use super::support::{
    EXPIRED, INSUFFICIENT, NO_ERROR, app, bearer, gate, insufficient, ok, profile, scoped, send,
    token, valid, with,
};

#[tokio::test]
async fn std_6750_7_route_requirement_missing_scope_is_403() {
    let app = scoped(TokenLayer::new(gate()));
    let reader = token(&with(json!({"scope": "orders.read"})));
    let writer = token(&with(json!({"scope": "orders.write"})));
    let nobody = token(&with(json!({"scope": "profile"})));
    let auth = |t: &str| bearer(t);

    send(&app, "/orders", &[("authorization", &auth(&reader))])
        .await
        .ok();
    send(&app, "/open", &[("authorization", &auth(&nobody))])
        .await
        .ok();
    send(&app, "/orders", &[("authorization", &auth(&writer))])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.read"));
    // Without a token the layer answers first: 401, no error.
    send(&app, "/orders", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
}

#[tokio::test]
async fn std_6750_7_any_of_and_all_of() {
    let app = scoped(TokenLayer::new(gate()));
    let scopes = |s: &str| bearer(&token(&with(json!({"scope": s}))));

    // any_scope: one of them is enough.
    send(&app, "/any", &[("authorization", &scopes("x.read"))])
        .await
        .ok();
    send(&app, "/any", &[("authorization", &scopes("orders.write"))])
        .await
        .ok();
    send(&app, "/any", &[("authorization", &scopes("orders.read"))])
        .await
        .refused(
            403,
            "insufficient_scope",
            &insufficient("x.read orders.write"),
        );

    // all_scopes: every one.
    send(
        &app,
        "/all",
        &[("authorization", &scopes("orders.delete orders.read"))],
    )
    .await
    .ok();
    send(&app, "/all", &[("authorization", &scopes("orders.read"))])
        .await
        .refused(
            403,
            "insufficient_scope",
            &insufficient("orders.read orders.delete"),
        );
    // Scope names compare whole: a prefix is not the scope.
    send(
        &app,
        "/all",
        &[("authorization", &scopes("orders.read orders.del"))],
    )
    .await
    .refused(
        403,
        "insufficient_scope",
        &insufficient("orders.read orders.delete"),
    );
}

#[tokio::test]
async fn std_6750_7_role_requirements() {
    let app = scoped(TokenLayer::new(gate()));
    let admin = bearer(&token(&with(json!({"roles": ["Orders.Admin"]}))));
    let reader = bearer(&token(&with(json!({"roles": ["Orders.Reader"]}))));
    send(&app, "/admin", &[("authorization", &admin)])
        .await
        .ok();
    // A role requirement names no scope: no scope parameter.
    send(&app, "/admin", &[("authorization", &reader)])
        .await
        .refused(403, "insufficient_scope", INSUFFICIENT);
    // A scope of the role's name is not the role.
    let scoped_admin = bearer(&token(&with(json!({"scope": "Orders.Admin"}))));
    send(&app, "/admin", &[("authorization", &scoped_admin)])
        .await
        .refused(403, "insufficient_scope", INSUFFICIENT);

    // scope OR role.
    send(&app, "/either", &[("authorization", &admin)])
        .await
        .ok();
    let admin_scope = bearer(&token(&with(json!({"scope": "orders.admin"}))));
    send(&app, "/either", &[("authorization", &admin_scope)])
        .await
        .ok();
    send(&app, "/either", &[("authorization", &reader)])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.admin"));
}

#[tokio::test]
async fn std_6750_7_nested_router_requirement() {
    let app = scoped(TokenLayer::new(gate()));
    let items = bearer(&token(&with(json!({"scope": "items.read"}))));
    let plain = bearer(&valid());
    send(&app, "/v2/items", &[("authorization", &items)])
        .await
        .ok();
    send(&app, "/v2/items/42", &[("authorization", &items)])
        .await
        .ok();
    for path in ["/v2/items", "/v2/items/42"] {
        send(&app, path, &[("authorization", &plain)])
            .await
            .refused(403, "insufficient_scope", &insufficient("items.read"));
    }
    // The nested requirement does not leak to sibling routes.
    send(&app, "/orders", &[("authorization", &plain)])
        .await
        .ok();
}

#[tokio::test]
async fn std_6750_7_gate_requirement_is_403() {
    let gate = Gate::builder()
        .issuer(profile())
        .require(Requirement::scope("orders.admin"))
        .build()
        .unwrap();
    let app = app(TokenLayer::new(gate));
    send(&app, "/me", &[("authorization", &bearer(&valid()))])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.admin"));
    let admin = token(&with(json!({"scope": "orders.admin"})));
    send(&app, "/me", &[("authorization", &bearer(&admin))])
        .await
        .ok();
    // A bad token is still a bad token, not a scope problem.
    let expired = token(&with(
        json!({"scope": "orders.admin", "exp": now() - 3600, "iat": now() - 7200}),
    ));
    send(&app, "/me", &[("authorization", &bearer(&expired))])
        .await
        .refused(401, "token_expired", EXPIRED);
}

#[tokio::test]
async fn require_layer_without_token_layer_is_a_bare_500() {
    // A server bug (layers in the wrong order), not the client's: fail closed, say nothing.
    let app = Router::new()
        .route("/orders", get(ok))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap());
    let answer = send(&app, "/orders", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.body.is_empty());
    assert!(answer.headers.get(WWW_AUTHENTICATE).is_none());
}
