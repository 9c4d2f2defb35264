//! What the log tells a developer about a near miss, without token content: one WARN per
//! kind per minute. One test per process-wide hint, alone in this binary, as the rate limits
//! are process-wide.

use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::testing::{TestEntra, TestIssuer};
use tokengate::{Gate, IssuerProfile, KeyCacheSettings};
use tokengate_testkit::capture;

async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

async fn test_issuer() -> TestIssuer {
    TestIssuer::start().await.unwrap()
}

/// An issuer configured without the trailing slash the provider writes: refused, and a
/// rate-limited WARN names the configured issuer and what differs.
#[tokio::test]
async fn issuer_differing_only_by_a_trailing_slash_is_named_in_the_log() {
    let captured = capture::global();
    let test = test_issuer().await;
    let configured = "https://near-miss.example.com/tenant";
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(configured)
                .audience(test.audience())
                .jwks(test.jwks()),
        )
        .build()
        .unwrap();
    let token = test.token().claim("iss", format!("{configured}/")).sign();
    for _ in 0..3 {
        assert_eq!(code(&gate, &token).await, "untrusted_issuer");
    }
    let logs = captured.text();
    let hints: Vec<_> = logs
        .lines()
        .filter(|line| line.contains("only by a trailing slash"))
        .collect();
    assert_eq!(hints.len(), 1, "one hint per minute: {logs}");
    assert!(hints[0].contains("WARN"), "{}", hints[0]);
    assert!(hints[0].contains(configured), "{}", hints[0]);
    assert!(!logs.contains(&token[..40]), "the token was logged");
}

/// A token for Azure AD Graph sent to an Entra API: `invalid_audience`, with one WARN that
/// says it was meant for Graph, however many are sent.
#[tokio::test]
async fn azure_ad_graph_tokens_are_explained_once() {
    let captured = capture::global();
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant();
    let api = EntraApi::single_tenant(tenant, TestEntra::CLIENT_ID).instance(entra.instance());
    let gate = Gate::builder()
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .issuer(api)
        .build()
        .unwrap();
    let token = entra
        .token(TokenVersion::V1, tenant)
        .audience("https://graph.windows.net")
        .sign();
    for _ in 0..3 {
        assert_eq!(code(&gate, &token).await, "invalid_audience");
    }
    let logs = captured.text();
    let hints: Vec<_> = logs
        .lines()
        .filter(|line| line.contains("Azure AD Graph was sent"))
        .collect();
    assert_eq!(hints.len(), 1, "{logs}");
    assert!(hints[0].contains("WARN"), "{}", hints[0]);
    assert!(!logs.contains(&token[..40]), "the token was logged");
}
