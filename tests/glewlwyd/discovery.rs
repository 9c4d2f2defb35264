//! Finding Glewlwyd: an issuer with a path, and a key set it says not to store.

use http::header::CACHE_CONTROL;
use tokengate::{Gate, KeyCacheSettings};

use super::api::Api;
use super::gate::{gate, loopback_keys, profile};
use super::provider::{EDGE_WORKER, Glewlwyd, ORDERS_SERVICE};

/// Glewlwyd's issuer is `{external_url}/api/{plugin}`; discovery appends
/// `/.well-known/openid-configuration` to it (OpenID Connect Discovery §4), path and all.
#[tokio::test(flavor = "multi_thread")]
async fn an_issuer_with_a_path_is_found_by_discovery() {
    let glewlwyd = Glewlwyd::start().await;
    let issuer = url::Url::parse(&glewlwyd.issuer).unwrap();
    assert_eq!(issuer.path(), "/api/oidc");
    let discovery = glewlwyd.discovery().await;
    assert_eq!(discovery["issuer"], glewlwyd.issuer.as_str());
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/jwks", glewlwyd.issuer).as_str()
    );

    // Plain http is refused but for loopback, and only when allowed: at build, or when the
    // keys are first fetched.
    let https_only = Gate::builder()
        .issuer(profile(&glewlwyd))
        .key_cache(KeyCacheSettings::default())
        .build();
    let refused = match https_only {
        Err(error) => error.to_string(),
        Ok(gate) => gate
            .warm_up()
            .await
            .expect_err("discovery over plain http without allow_http_loopback")
            .to_string(),
    };
    assert!(refused.contains("https is required"), "{refused}");
    assert_eq!(
        glewlwyd.counts.discovery(),
        0,
        "nothing sent over plain http"
    );

    let gate = gate(profile(&glewlwyd), loopback_keys());
    let api = Api::serve(gate.clone()).await;
    let token = glewlwyd.token(&ORDERS_SERVICE).send().await;
    let answer = api.get("/orders", &token).await;
    answer.assert_ok();
    assert_eq!(answer.json()["issuer"], glewlwyd.issuer.as_str());
    assert_eq!(
        (glewlwyd.counts.discovery(), glewlwyd.counts.jwks()),
        (1, 1),
        "the keys were found through the issuer's discovery document"
    );
    let status = &gate.key_status()[0];
    assert_eq!(status.issuer, glewlwyd.issuer);
    assert_eq!((status.keys, status.last_refresh_ok), (2, Some(true)));
    glewlwyd.assert_logs_secret_free().await;
}

/// Glewlwyd sends its key set with `Cache-Control: no-store`. A resource server that took
/// that literally would fetch the keys for every token; tokengate holds them for `min_ttl`.
#[tokio::test(flavor = "multi_thread")]
async fn a_no_store_key_set_is_fetched_once_not_per_request() {
    let glewlwyd = Glewlwyd::start().await;
    let jwks = glewlwyd.jwks().await;
    let cache_control = jwks
        .headers()
        .get(CACHE_CONTROL)
        .map(|v| v.to_str().unwrap());
    assert_eq!(cache_control, Some("no-store"));

    let gate = gate(profile(&glewlwyd), loopback_keys());
    let api = Api::serve(gate.clone()).await;
    // Every token is new (its own `jti`), so none is answered from the verified-token cache:
    // each needs a key, from both keys of the set in turn.
    for round in 0..6 {
        for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
            let token = glewlwyd.token(client).send().await;
            let answer = api.get("/orders", &token).await;
            assert_eq!(
                answer.status,
                http::StatusCode::OK,
                "round {round}: {answer:?}"
            );
        }
    }
    assert_eq!(
        (glewlwyd.counts.discovery(), glewlwyd.counts.jwks()),
        (1, 1),
        "12 tokens, one key set fetch"
    );
    assert_eq!(gate.key_status()[0].keys, 2);
    glewlwyd.assert_logs_secret_free().await;
}
