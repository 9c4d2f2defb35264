//! A protected router per preset, and sending tokens to it.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use http::header::WWW_AUTHENTICATE;
use tokengate::testing::TestIssuer;
use tokengate::{Gate, Issuers, RequireLayer, Requirement, TokenKind, TokenLayer};
use tower::ServiceExt;

/// A test issuer with one RS256 key, which every preset allows.
pub(crate) async fn test_issuer() -> TestIssuer {
    TestIssuer::start().await.expect("a loopback port")
}

/// A gate for `issuers`, whose keys are the test issuer's.
pub(crate) fn gate(test: &TestIssuer, issuers: impl Into<Issuers>) -> Gate {
    Gate::builder()
        .issuer(issuers.into().with_test_keys(test.jwks()))
        .build()
        .expect("a valid preset configuration")
}

/// The problems `build` reports for `issuers`.
pub(crate) fn problems(issuers: impl Into<Issuers>) -> String {
    let error = Gate::builder()
        .issuer(issuers)
        .build()
        .expect_err("the configuration must be refused");
    error.problems().collect::<Vec<_>>().join("\n")
}

/// The stable code of `token`'s refusal, or `accepted`.
pub(crate) async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

/// The token kind of an accepted token.
pub(crate) async fn kind(gate: &Gate, token: &str) -> TokenKind {
    gate.validate(token).await.expect("accepted").token_kind()
}

/// `/route` behind `RequireLayer::new(requirement)` and the gate's `TokenLayer`.
pub(crate) fn app(gate: Gate, requirement: Requirement) -> Router {
    Router::new()
        .route("/route", get(|| async { "ok" }))
        .route_layer(RequireLayer::new(requirement).expect("a valid requirement"))
        .layer(TokenLayer::new(gate))
}

/// The status and challenge of `GET /route` with `token`.
pub(crate) async fn send(app: &Router, token: &str) -> (u16, Option<String>) {
    let request = Request::get("/route")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge)
}

/// The challenge of a requirement refusal that names these scopes (none: no `scope`).
pub(crate) fn insufficient(scopes: &str) -> String {
    let base = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;
    if scopes.is_empty() {
        base.to_owned()
    } else {
        format!(r#"{base}, scope="{scopes}""#)
    }
}
