//! AWS Cognito: access tokens without `aud`, judged by `client_id` and `token_use`; groups;
//! ID tokens only on request.

use serde_json::json;
use tokengate::providers::cognito::Cognito;
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate::{Requirement, TokenKind};

use super::support::{app, code, gate, insufficient, kind, problems, send, test_issuer};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E";
const CLIENT: &str = "5pa2m3ol2kq0aok0b8b4fkg3vc";

fn pool() -> Cognito {
    Cognito::new("eu-west-1", "eu-west-1_Ab12Cd34E").client_id(CLIENT)
}

/// An access token as Cognito issues it: no `aud` at all.
fn access_token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("iss", ISSUER)
        .without_claim("aud")
        .claim("client_id", CLIENT)
        .claim("token_use", "access")
        .claim("scope", "aws.cognito.signin.user.admin orders/read")
        .claim("cognito:groups", json!(["approvers"]))
        .claim("username", "jdoe")
        .claim("origin_jti", "b1c2")
        .claim("auth_time", 1_767_225_600)
}

/// An ID token: `aud` is the app client, `token_use` is `id`, the user in `cognito:username`.
fn id_token(test: &TestIssuer) -> TokenBuilder {
    access_token(test)
        .claim("aud", CLIENT)
        .claim("token_use", "id")
        .without_claim("client_id")
        .without_claim("scope")
        .without_claim("username")
        .claim("cognito:username", "jdoe")
        .claim("email", "jdoe@example.com")
        .claim("at_hash", "x1y2")
}

#[tokio::test]
async fn cognito_access_tokens_without_aud_pass_client_and_group_requirements() {
    let test = test_issuer().await;
    let gate = gate(&test, pool());
    let token = access_token(&test).sign();
    let route = app(
        gate.clone(),
        Requirement::scope("orders/read").and(Requirement::role("approvers")),
    );
    assert_eq!(send(&route, &token).await, (200, None));
    let admins = app(gate.clone(), Requirement::role("admins"));
    assert_eq!(send(&admins, &token).await, (403, Some(insufficient(""))));
    let claims = gate.validate(&token).await.unwrap();
    assert_eq!(claims.client_id(), Some(CLIENT));
    assert_eq!(claims.audiences().count(), 0);
}

/// Another app client of the same pool, or no client at all: refused.
#[tokio::test]
async fn cognito_client_id_must_be_configured() {
    let test = test_issuer().await;
    let gate = gate(&test, pool());
    let other = access_token(&test)
        .claim("client_id", "7other0client")
        .sign();
    assert_eq!(code(&gate, &other).await, "invalid_audience");
    let none = access_token(&test).without_claim("client_id").sign();
    assert_eq!(code(&gate, &none).await, "missing_claim");
    // A token with an `aud` is judged by it: the client id there is not an audience.
    let with_aud = access_token(&test).claim("aud", "something-else").sign();
    assert_eq!(code(&gate, &with_aud).await, "invalid_audience");
}

/// `token_use` must be `access`: ID tokens, and tokens without the marker, are refused
/// unless ID tokens are asked for.
#[tokio::test]
async fn cognito_id_tokens_are_refused_unless_asked_for() {
    let test = test_issuer().await;
    let gate = gate(&test, pool());
    assert_eq!(
        code(&gate, &id_token(&test).sign()).await,
        "not_an_access_token"
    );
    let unmarked = access_token(&test).without_claim("token_use").sign();
    assert_eq!(code(&gate, &unmarked).await, "not_an_access_token");

    let with_id = gate_with_id_tokens(&test);
    assert_eq!(code(&with_id, &id_token(&test).sign()).await, "accepted");
    assert_eq!(
        kind(&with_id, &id_token(&test).sign()).await,
        TokenKind::User
    );
    assert_eq!(
        code(&with_id, &access_token(&test).sign()).await,
        "accepted"
    );
    // An ID token for another app client is still refused.
    let other = id_token(&test).claim("aud", "7other0client").sign();
    assert_eq!(code(&with_id, &other).await, "invalid_audience");
    // Logout tokens are never ID tokens.
    let logout = id_token(&test).claim("events", json!({})).sign();
    assert_eq!(code(&with_id, &logout).await, "not_an_access_token");
}

fn gate_with_id_tokens(test: &TestIssuer) -> tokengate::Gate {
    gate(test, pool().accept_id_tokens())
}

/// Client-credentials tokens (no `username`) are application tokens.
#[tokio::test]
async fn cognito_m2m_tokens_are_app_tokens() {
    let test = test_issuer().await;
    let gate = gate(&test, pool());
    let m2m = access_token(&test)
        .without_claim("username")
        .claim("sub", CLIENT)
        .sign();
    assert_eq!(kind(&gate, &m2m).await, TokenKind::App);
    assert_eq!(
        kind(&gate, &access_token(&test).sign()).await,
        TokenKind::User
    );
}

#[test]
fn cognito_configuration_problems_are_reported() {
    let refused = problems(Cognito::new("eu-west-1", "us-east-1_Ab12Cd34E").client_id(CLIENT));
    assert!(refused.contains("not a pool id of region"), "{refused}");
    let refused = problems(Cognito::new("eu-west-1", "eu-west-1_Ab12Cd34E"));
    assert!(refused.contains("no app client id"), "{refused}");
}
