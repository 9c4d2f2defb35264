//! Finding the key set through issuer metadata: OpenID Connect discovery, the RFC 8414
//! fallback, and metadata that must be refused (STD-DISC-1..2, ATK-43).

use serde_json::json;
use tokengate::{Algorithm, IssuerProfile};
use tokengate_testkit::provider::{Fault, OIDC_PATH, Provider, RFC8414_PATH};
use tokengate_testkit::{jwks, key_for};

use crate::{cache, claims_for, code, gate_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_the_key_set() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 1));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_falls_back_to_rfc8414_metadata() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.oidc = false);
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(
        (
            provider.hits(OIDC_PATH),
            provider.hits(RFC8414_PATH),
            provider.jwks_hits()
        ),
        (1, 1, 1)
    );
}

/// ATK-43: metadata naming another issuer is refused, and its jwks_uri never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_43_discovery_naming_another_issuer_is_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    for issuer in [
        "https://evil.example.com",
        &format!("{}/", provider.issuer()),
        &provider.issuer().to_uppercase(),
    ] {
        provider.set(|s| s.issuer = Some(issuer.to_owned()));
        let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
        let token = key.token(&claims_for(&provider.issuer()));
        assert_eq!(code(&gate, &token).await, "keys_unavailable", "{issuer}");
        let error = gate.warm_up().await.unwrap_err().to_string();
        assert!(error.contains("names issuer"), "{error}");
        let status = &gate.key_status()[0];
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("not the configured one")),
            "{status:?}"
        );
    }
    assert_eq!(provider.jwks_hits(), 0);
}

/// A discovery document is a JSON object (RFC 8414 §3.2): the same members as an array, which
/// a derived deserializer would read in field order, are refused and the key set never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_as_a_json_array_is_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let array = json!([provider.issuer(), provider.jwks_uri()]).to_string();
    provider.set(|s| s.fault = Fault::Discovery(array));
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 0));
    // The same members as an object load.
    let object = json!({
        "issuer": provider.issuer(),
        "jwks_uri": provider.jwks_uri(),
    });
    provider.set(|s| s.fault = Fault::Discovery(object.to_string()));
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    assert_eq!(code(&gate, &token).await, "accepted");
}
