//! Discovery.

use tokengate::{Gate, IssuerProfile};

use super::idp::Idp;
use super::support::{ALGORITHMS, ORDERS, ORDERS_SERVICE, gate, key_cache, payload, profile};

#[tokio::test(flavor = "multi_thread")]
async fn discovery_finds_the_provider_and_its_keys() {
    let idp = Idp::start().await;

    // oidc-provider publishes its issuer exactly as configured: no trailing slash here, and
    // the same string is its tokens' `iss`.
    let discovery = idp.discovery().await;
    assert_eq!(discovery["issuer"], idp.issuer.as_str());
    assert!(!idp.issuer.ends_with('/'));
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", idp.issuer));

    let before = idp.stats().await;
    let gate = gate(profile(&idp), key_cache());
    assert!(!gate.is_ready(), "nothing is fetched at build");
    gate.warm_up().await.expect("keys from the provider");
    assert!(gate.is_ready());
    let status = &gate.key_status()[0];
    assert_eq!(status.issuer, idp.issuer);
    assert!(status.remote);
    assert_eq!(status.keys, ALGORITHMS.len(), "one key per algorithm");
    assert_eq!(status.last_refresh_ok, Some(true));
    let after = idp.stats().await;
    assert_eq!(
        (after.discovery - before.discovery, after.jwks - before.jwks),
        (1, 1),
        "one discovery request, one for the key set"
    );

    let token = idp.ask(&ORDERS_SERVICE).send().await;
    assert_eq!(payload(&token)["iss"], idp.issuer.as_str());
    let claims = gate.validate(&token).await.expect("a valid token");
    assert_eq!(claims.issuer(), idp.issuer);

    // Issuers are compared exactly: with a trailing slash, the provider's discovery document
    // names another issuer and is refused (OpenID Connect Discovery §4.3), and its tokens are
    // from an untrusted issuer.
    let slash = gate_with_issuer(&format!("{}/", idp.issuer));
    let error = slash
        .warm_up()
        .await
        .expect_err("a discovery document for another issuer");
    let failure = error.failures().next().unwrap().to_owned();
    assert!(
        failure.contains(&format!("names issuer {:?}", idp.issuer)),
        "{failure}"
    );
    assert!(!slash.is_ready());
    let rejection = slash.validate(&token).await.unwrap_err();
    assert_eq!(rejection.code(), "untrusted_issuer");
    idp.assert_logs_secret_free().await;
}

fn gate_with_issuer(issuer: &str) -> Gate {
    gate(
        IssuerProfile::new(issuer).audience(ORDERS).discover(),
        key_cache(),
    )
}
