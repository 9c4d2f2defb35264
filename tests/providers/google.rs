//! Google-signed and Firebase ID tokens, accepted as bearer credentials only through their
//! presets.

use serde_json::json;
use tokengate::providers::google::{FirebaseIdTokens, GoogleIdTokens};
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate::{Gate, IssuerProfile, TokenKind};

use super::support::{code, gate, kind, test_issuer};

const RUN_URL: &str = "https://orders-abc123-ew.a.run.app";

/// A Google ID token for a Cloud Run service, from a service account.
fn google_token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("iss", "https://accounts.google.com")
        .claim("aud", RUN_URL)
        .claim("azp", "1122334455")
        .claim("sub", "1122334455")
        .claim("email", "caller@my-project.iam.gserviceaccount.com")
        .claim("email_verified", true)
        .without_claim("client_id")
        .without_claim("jti")
}

#[tokio::test]
async fn google_id_tokens_are_accepted_by_their_preset_only() {
    let test = test_issuer().await;
    let gate = gate(&test, GoogleIdTokens::new(RUN_URL));
    let token = google_token(&test)
        .claim("nonce", "n-1")
        .claim("at_hash", "h")
        .sign();
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(
        kind(&gate, &token).await,
        TokenKind::App,
        "a service account"
    );
    let user = google_token(&test).claim("email", "ann@gmail.com").sign();
    assert_eq!(kind(&gate, &user).await, TokenKind::User);
    // The legacy issuer spelling Google documents.
    let legacy = google_token(&test)
        .claim("iss", "accounts.google.com")
        .sign();
    assert_eq!(code(&gate, &legacy).await, "accepted");
    // Another service's audience.
    let other = google_token(&test)
        .claim("aud", "https://other.a.run.app")
        .sign();
    assert_eq!(code(&gate, &other).await, "invalid_audience");

    // The same ID token at a plain issuer profile is refused: ID tokens are no access tokens.
    let plain = Gate::builder()
        .issuer(
            IssuerProfile::new("https://accounts.google.com")
                .audience(RUN_URL)
                .jwks(test.jwks()),
        )
        .build()
        .unwrap();
    assert_eq!(code(&plain, &token).await, "not_an_access_token");
}

#[tokio::test]
async fn google_hosted_domain_restricts_accounts() {
    let test = test_issuer().await;
    let gate = gate(
        &test,
        GoogleIdTokens::new(RUN_URL).hosted_domain("example.com"),
    );
    let member = google_token(&test).claim("hd", "example.com").sign();
    assert_eq!(code(&gate, &member).await, "accepted");
    for hd in [json!("other.com"), json!(null), json!(["example.com"])] {
        let token = google_token(&test).claim("hd", hd.clone()).sign();
        assert_eq!(code(&gate, &token).await, "invalid_audience", "{hd}");
    }
    let without = google_token(&test).sign();
    assert_eq!(code(&gate, &without).await, "invalid_audience");
}

/// A Firebase ID token: issuer and audience from the project id; `sub` is the user id.
fn firebase_token(test: &TestIssuer) -> TokenBuilder {
    test.token()
        .claim("iss", "https://securetoken.google.com/my-shop")
        .claim("aud", "my-shop")
        .claim("sub", "Xq1zUser")
        .claim("user_id", "Xq1zUser")
        .claim("auth_time", 1_767_225_600)
        .claim(
            "firebase",
            json!({"sign_in_provider": "password", "identities": {}}),
        )
        .without_claim("client_id")
        .without_claim("jti")
}

#[tokio::test]
async fn firebase_id_tokens() {
    let test = test_issuer().await;
    let gate = gate(&test, FirebaseIdTokens::new("my-shop"));
    assert_eq!(code(&gate, &firebase_token(&test).sign()).await, "accepted");
    assert_eq!(
        kind(&gate, &firebase_token(&test).sign()).await,
        TokenKind::User
    );
    for (name, value, expected) in [
        ("sub", json!(""), "malformed_claims"),
        ("sub", json!("x".repeat(129)), "malformed_claims"),
        ("aud", json!("other-project"), "invalid_audience"),
        // A session cookie's issuer is another one.
        (
            "iss",
            json!("https://session.firebase.google.com/my-shop"),
            "untrusted_issuer",
        ),
        // Custom tokens are for the Identity Toolkit, not for APIs.
        (
            "aud",
            json!(
                "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
            ),
            "invalid_audience",
        ),
    ] {
        let token = firebase_token(&test).claim(name, value).sign();
        assert_eq!(code(&gate, &token).await, expected, "{name}");
    }
    let no_iat = firebase_token(&test).without_claim("iat").sign();
    assert_eq!(code(&gate, &no_iat).await, "missing_claim");
}
