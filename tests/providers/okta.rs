//! Okta custom authorization servers: `scp` arrays, `cid`, groups, the org server refused.

use serde_json::json;
use tokengate::Requirement;
use tokengate::providers::okta::Okta;
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate_testkit::capture;

use super::support::{app, code, gate, problems, send, test_issuer};

const ISSUER: &str = "https://example.okta.com/oauth2/default";

fn server() -> Okta {
    Okta::new("example.okta.com", "default")
        .audience("api://default")
        .groups_as_roles()
}

/// An access token of the `default` server as Okta documents one.
fn token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("ver", 1)
        .claim("jti", "AT.3fV0k9vEw")
        .claim("iss", ISSUER)
        .claim("aud", "api://default")
        .claim("cid", "0oa1b2c3d4")
        .claim("uid", "00u1a2b3c4")
        .claim("sub", "user@example.com")
        .claim("scp", json!(["openid", "orders.read"]))
        .claim("groups", json!(["Everyone", "Approvers"]))
        .without_claim("client_id")
}

#[tokio::test]
async fn okta_scp_arrays_cid_and_groups() {
    let test = test_issuer().await;
    let gate = gate(&test, server());
    let claims = gate.validate(&token(&test).sign()).await.unwrap();
    assert!(claims.has_scope("orders.read"));
    assert_eq!(claims.client_id(), Some("0oa1b2c3d4"));
    assert!(claims.has_role("Approvers"));
    let read = app(
        gate,
        Requirement::scope("orders.read").and(Requirement::role("Approvers")),
    );
    assert_eq!(send(&read, &token(&test).sign()).await, (200, None));
}

/// Tokens of the org authorization server (`https://{domain}`) are for Okta's own APIs:
/// refused as `untrusted_issuer`, and the log says why (naming the issuer, not the token).
#[tokio::test]
async fn okta_org_authorization_server_tokens_are_refused_with_a_hint() {
    let captured = capture::global();
    let test = test_issuer().await;
    let gate = gate(&test, server());
    let org = token(&test).claim("iss", "https://example.okta.com").sign();
    assert_eq!(code(&gate, &org).await, "untrusted_issuer");
    let logs = captured.text();
    assert!(
        logs.contains("Okta org authorization server"),
        "no hint logged: {logs}"
    );
    assert!(!logs.contains(&org[..40]), "the token was logged");
}

#[test]
fn okta_configuration_problems_are_reported() {
    let refused =
        problems(Okta::new("example-admin.okta.com", "default").audience("api://default"));
    assert!(refused.contains("admin console"), "{refused}");
    let refused = problems(Okta::new("example.okta.com", "").audience("api://default"));
    assert!(refused.contains("org authorization"), "{refused}");
}
