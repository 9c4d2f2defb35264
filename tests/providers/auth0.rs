//! Auth0: the trailing-slash issuer, RBAC permissions, namespaced roles, M2M tokens.

use serde_json::json;
use tokengate::providers::auth0::Auth0;
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate::{Algorithm, Requirement, TokenKind};

use super::support::{app, code, gate, insufficient, kind, problems, send, test_issuer};

const ISSUER: &str = "https://example.eu.auth0.com/";
const API: &str = "https://api.example.com/orders";

fn tenant() -> Auth0 {
    Auth0::new("example.eu.auth0.com")
        .audience(API)
        .roles_claim("https://example.com/roles")
}

/// A user's token for the API with `openid` requested (so `/userinfo` is an audience too),
/// RBAC permissions on, and roles added by an Action.
fn user_token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("iss", ISSUER)
        .claim("sub", "auth0|64b7f1c2e4")
        .claim("aud", json!([API, "https://example.eu.auth0.com/userinfo"]))
        .claim("azp", "Xy12ab34Cd56")
        .claim("scope", "openid profile read:orders")
        .claim("permissions", json!(["read:orders", "approve:orders"]))
        .claim("https://example.com/roles", json!(["Approver"]))
        .without_claim("client_id")
}

/// RBAC `permissions` are the user's roles; `scope` is what the client asked for and got: a
/// permission the client did not request does not meet a scope requirement.
#[tokio::test]
async fn auth0_permissions_and_namespaced_roles_pass_requirements_through_the_layer() {
    let test = test_issuer().await;
    let gate = gate(&test, tenant());
    let token = user_token(&test).sign();
    let approve = app(gate.clone(), Requirement::role("approve:orders"));
    assert_eq!(send(&approve, &token).await, (200, None));
    let not_requested = app(gate.clone(), Requirement::scope("approve:orders"));
    assert_eq!(
        send(&not_requested, &token).await,
        (403, Some(insufficient("approve:orders")))
    );
    let read = app(gate.clone(), Requirement::scope("read:orders"));
    assert_eq!(send(&read, &token).await, (200, None));
    let role = app(gate.clone(), Requirement::role("Approver"));
    assert_eq!(send(&role, &token).await, (200, None));
    let delete = app(gate.clone(), Requirement::scope("delete:orders"));
    assert_eq!(
        send(&delete, &token).await,
        (403, Some(insufficient("delete:orders")))
    );
    // Without the namespaced claim there are no roles.
    let plain = user_token(&test)
        .without_claim("https://example.com/roles")
        .sign();
    assert_eq!(send(&role, &plain).await, (403, Some(insufficient(""))));
}

/// The issuer is exact, trailing slash included; the audience must be the API identifier.
#[tokio::test]
async fn auth0_issuer_and_audience_are_exact() {
    let test = test_issuer().await;
    let gate = gate(&test, tenant());
    assert_eq!(code(&gate, &user_token(&test).sign()).await, "accepted");
    let no_slash = user_token(&test)
        .claim("iss", "https://example.eu.auth0.com")
        .sign();
    assert_eq!(code(&gate, &no_slash).await, "untrusted_issuer");
    let userinfo_only = user_token(&test)
        .claim("aud", "https://example.eu.auth0.com/userinfo")
        .sign();
    assert_eq!(code(&gate, &userinfo_only).await, "invalid_audience");
}

/// Machine-to-machine tokens (`sub` `{client id}@clients`) are application tokens.
#[tokio::test]
async fn auth0_m2m_tokens_are_app_tokens() {
    let test = test_issuer().await;
    let gate = gate(&test, tenant());
    let m2m = user_token(&test)
        .claim("sub", "Xy12ab34Cd56@clients")
        .claim("gty", "client-credentials")
        .sign();
    assert_eq!(kind(&gate, &m2m).await, TokenKind::App);
    assert_eq!(
        kind(&gate, &user_token(&test).sign()).await,
        TokenKind::User
    );
}

/// RS256 and PS256 only: the API's HS256 signing secret cannot be used, nor ES256.
#[tokio::test]
async fn auth0_algorithms() {
    let test = TestIssuer::with_algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
        .await
        .unwrap();
    let gate = gate(&test, tenant());
    for (alg, expected) in [
        (Algorithm::RS256, "accepted"),
        (Algorithm::PS256, "accepted"),
        (Algorithm::ES256, "unsupported_algorithm"),
    ] {
        let token = user_token(&test).alg(alg).sign();
        assert_eq!(code(&gate, &token).await, expected, "{alg:?}");
    }
}

#[test]
fn auth0_configuration_problems_are_reported() {
    let refused = problems(Auth0::new("https://example.auth0.com/").audience(API));
    assert!(refused.contains("not a host name"), "{refused}");
    let refused = problems(Auth0::new("example.auth0.com"));
    assert!(refused.contains("no audience"), "{refused}");
}
