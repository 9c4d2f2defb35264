//! How keys travel: https only, no redirect to plain http, and with a user's own HTTP client,
//! no response that came over plain http or from another origin (STD-DISC-3, ATK-38).

use tokengate::{Algorithm, Gate, IssuerProfile};
use tokengate_testkit::provider::{Fault, OIDC_PATH, Provider, TestCertificate};
use tokengate_testkit::{AUDIENCE, TestKey, jwks, key_for};

use crate::{by_uri, cache, claims_for, code};

/// STD-DISC-3: no redirect away from https is followed by tokengate's own client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_38_redirects_away_from_https_are_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.fault = Fault::Redirect("http://keys.example.com/jwks".to_owned()));
    let gate = by_uri(&provider, cache());
    assert_eq!(
        code(&gate, &key.token(&claims_for(&provider.issuer()))).await,
        "keys_unavailable"
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("redirect")),
        "{status:?}"
    );
}

/// A client of the user's own (here: trusting a private CA) works over https, and whatever
/// its redirect policy, a response that came over plain http is not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_client_over_https_and_no_downgrade() {
    let key = key_for(Algorithm::ES256);
    let certificate = TestCertificate::generate();
    let secure = Provider::start_tls(jwks(&[key]), &certificate).await;
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .discover(),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    let token = key.token(&claims_for(&secure.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((secure.hits(OIDC_PATH), secure.jwks_hits()), (1, 1));

    // The https provider redirects to a plain-http copy of the key set.
    let plain = Provider::start(jwks(&[key])).await;
    secure.set(|s| s.fault = Fault::Redirect(plain.jwks_uri()));
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .jwks_uri(secure.jwks_uri()),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert_eq!(
        plain.jwks_hits(),
        1,
        "the user's client followed the redirect..."
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("plain http")),
        "...but the response was not used: {status:?}"
    );
    // tokengate's own client does not trust the private CA: the certificate is checked.
    let strict = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .discover(),
        )
        .build()
        .unwrap();
    assert_eq!(code(&strict, &token).await, "keys_unavailable");
}

/// A user's client that follows https -> http -> https to another origin: whoever sat on
/// the plain hop chose that origin, so its keys are not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_client_redirected_through_http_to_another_origin_is_refused() {
    let certificate = TestCertificate::generate();
    let real = key_for(Algorithm::ES256);
    let attacker_key = TestKey::generate(Algorithm::ES256, "evil");
    let secure = Provider::start_tls(jwks(&[real]), &certificate).await;
    let attacker = Provider::start_tls(jwks(&[&attacker_key]), &certificate).await;
    let plain = Provider::start(String::new()).await;
    plain.set(|s| s.fault = Fault::Redirect(attacker.jwks_uri()));
    secure.set(|s| s.fault = Fault::Redirect(plain.jwks_uri()));
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .jwks_uri(secure.jwks_uri()),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    let forged = attacker_key.token(&claims_for(&secure.issuer()));
    assert_eq!(code(&gate, &forged).await, "keys_unavailable");
    assert_eq!(
        (plain.jwks_hits(), attacker.jwks_hits()),
        (1, 1),
        "the client went all the way"
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("another origin")),
        "{status:?}"
    );
}
