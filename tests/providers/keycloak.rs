//! Keycloak: nested realm and client roles, the payload `typ`, service accounts, audiences.

use serde_json::json;
use tokengate::providers::keycloak::Keycloak;
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate::{Requirement, TokenKind};

use super::support::{app, code, gate, insufficient, kind, problems, send, test_issuer};

const ISSUER: &str = "https://sso.example.com/realms/shop";

fn realm() -> Keycloak {
    Keycloak::new("https://sso.example.com/", "shop")
        .audience("orders-api")
        .client_roles("orders-api")
}

/// A user's access token as Keycloak issues it once an audience mapper adds `orders-api`.
fn user_token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("iss", ISSUER)
        .claim("aud", json!(["orders-api", "account"]))
        .claim("typ", "Bearer")
        .claim("azp", "shop-web")
        .claim("sid", "8a1c")
        .claim("scope", "openid profile email")
        .claim(
            "realm_access",
            json!({"roles": ["offline_access", "default-roles-shop", "clerk"]}),
        )
        .claim(
            "resource_access",
            json!({"orders-api": {"roles": ["approver"]}, "account": {"roles": ["manage-account"]}}),
        )
        .without_claim("client_id")
}

#[tokio::test]
async fn keycloak_realm_and_client_roles_pass_requirements_through_the_layer() {
    let test = test_issuer().await;
    let gate = gate(&test, realm());
    let token = user_token(&test).sign();
    let claims = gate.validate(&token).await.unwrap();
    let roles: Vec<_> = claims.roles().collect();
    assert_eq!(
        roles,
        ["offline_access", "default-roles-shop", "clerk", "approver"],
        "realm roles, then the configured client's; never another client's"
    );
    assert!(claims.has_scope("profile"));

    let approve = app(gate.clone(), Requirement::role("approver"));
    assert_eq!(send(&approve, &token).await, (200, None));
    let manage = app(gate.clone(), Requirement::role("manage-account"));
    assert_eq!(send(&manage, &token).await, (403, Some(insufficient(""))));
    let both = app(
        gate,
        Requirement::role("clerk").and(Requirement::scope("orders")),
    );
    assert_eq!(
        send(&both, &token).await,
        (403, Some(insufficient("orders")))
    );
}

/// Keycloak marks ID, refresh, offline and logout tokens in the payload `typ`: only `Bearer`
/// is an access token, and a token without the marker is not one of Keycloak's.
#[tokio::test]
async fn keycloak_tokens_other_than_bearer_are_not_access_tokens() {
    let test = test_issuer().await;
    let gate = gate(&test, realm());
    assert_eq!(code(&gate, &user_token(&test).sign()).await, "accepted");
    for typ in ["ID", "Refresh", "Offline", "Logout", "bearer", "DPoP"] {
        let token = user_token(&test).claim("typ", typ).sign();
        assert_eq!(code(&gate, &token).await, "not_an_access_token", "{typ}");
    }
    let untyped = user_token(&test).without_claim("typ").sign();
    assert_eq!(code(&gate, &untyped).await, "not_an_access_token");
    let not_a_string = user_token(&test).claim("typ", 1).sign();
    assert_eq!(code(&gate, &not_a_string).await, "not_an_access_token");
}

/// Keycloak's default `aud` is `account` (the account console): not this API.
#[tokio::test]
async fn keycloak_account_audience_is_refused() {
    let test = test_issuer().await;
    let gate = gate(&test, realm());
    let token = user_token(&test).claim("aud", "account").sign();
    assert_eq!(code(&gate, &token).await, "invalid_audience");
    let none = user_token(&test).without_claim("aud").sign();
    assert_eq!(code(&gate, &none).await, "missing_claim");
    let refused = problems(Keycloak::new("https://sso.example.com", "shop").audience("account"));
    assert!(refused.contains("account console"), "{refused}");
}

/// Service-account (client-credentials) tokens carry `client_id` (or, from older realms,
/// `clientId`): application tokens.
#[tokio::test]
async fn keycloak_service_accounts_are_app_tokens() {
    let test = test_issuer().await;
    let gate = gate(&test, realm());
    let service = user_token(&test)
        .claim("client_id", "billing-job")
        .claim("preferred_username", "service-account-billing-job")
        .sign();
    assert_eq!(kind(&gate, &service).await, TokenKind::App);
    let legacy = user_token(&test).claim("clientId", "billing-job").sign();
    assert_eq!(kind(&gate, &legacy).await, TokenKind::App);
    assert_eq!(
        kind(&gate, &user_token(&test).sign()).await,
        TokenKind::User
    );
}

/// The realm URL is built from the base (with or without a trailing slash); bad input is
/// reported by `build()`.
#[tokio::test]
async fn keycloak_configuration_problems_are_reported() {
    let refused = problems(Keycloak::new("sso.example.com", "shop").audience("a"));
    assert!(refused.contains("base URL"), "{refused}");
    for realm in ["a/b", "..", ".", ""] {
        let refused = problems(Keycloak::new("https://sso.example.com", realm).audience("a"));
        assert!(refused.contains("realm"), "{realm}: {refused}");
    }
    let refused = problems(Keycloak::new("https://sso.example.com", "shop"));
    assert!(refused.contains("no audience"), "{refused}");
    // Realm roles with no client named: a client's roles are not read.
    let test = test_issuer().await;
    let plain = gate(
        &test,
        Keycloak::new("https://sso.example.com", "shop").audience("orders-api"),
    );
    let claims = plain.validate(&user_token(&test).sign()).await.unwrap();
    assert!(claims.has_role("clerk") && !claims.has_role("approver"));
}

/// Keycloak 26.2's RFC 9068 switch: `at+jwt` with RFC 9068's claims; plain `JWT` refused.
#[tokio::test]
async fn keycloak_rfc9068_tokens() {
    let test = test_issuer().await;
    let strict = gate(&test, realm().rfc9068());
    let rfc = user_token(&test)
        .claim("client_id", "shop-web")
        .header("typ", "at+jwt")
        .sign();
    assert_eq!(code(&strict, &rfc).await, "accepted");
    let plain = user_token(&test).header("typ", "JWT").sign();
    assert_eq!(code(&strict, &plain).await, "invalid_token_type");
}
