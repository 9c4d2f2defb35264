//! Secret-free logs (STD-6750-8) through every kind of answer Glewlwyd's tokens get.

use http::StatusCode;
use tokengate_testkit::capture;

use super::api::Api;
use super::gate::{gate, loopback_keys, profile};
use super::provider::{EDGE_WORKER, Glewlwyd, ORDERS_SERVICE};
use super::signing_keys::SigningKey;
use tokengate_testkit::token_parts::altered_signature;

/// Accepted tokens (RS256 and EdDSA), a scope-list audience, a missing scope, an altered
/// signature and a rotated key's token all go through the API at TRACE level; then none of
/// the tokens (nor their segments or claim values), the client secrets, the private keys
/// (old and new) or the admin session may be in the capture, which must hold tokengate's
/// refusals of this test.
#[tokio::test(flavor = "multi_thread")]
async fn logs_hold_no_tokens_client_secrets_or_key_material() {
    let glewlwyd = Glewlwyd::start().await;
    let api = Api::serve(gate(profile(&glewlwyd), loopback_keys())).await;

    for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
        let token = glewlwyd.token(client).send().await;
        api.get("/orders", &token).await.assert_ok();
        let write = api.get("/orders/write", &token).await;
        assert_eq!(write.status, StatusCode::FORBIDDEN);
        let forged = altered_signature(&token);
        glewlwyd.secrets().token(&forged);
        assert_eq!(
            api.get("/orders", &forged).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let scope_list = glewlwyd.token(&ORDERS_SERVICE).resource(None).send().await;
    let refused = api.get("/orders", &scope_list).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    glewlwyd.rotate(SigningKey::rs256("rsa-2")).await;
    let rotated = glewlwyd.token(&ORDERS_SERVICE).send().await;
    api.get("/orders", &rotated).await;

    let rejected = |code: &str| {
        format!(
            "access token rejected code=\"{code}\" issuer={}\n",
            glewlwyd.issuer
        )
    };
    capture::assert_secret_free(
        &glewlwyd.secrets(),
        &[
            &rejected("invalid_audience"),
            &rejected("invalid_signature"),
            "request refused by a route requirement code=\"insufficient_scope\"",
        ],
    );
    glewlwyd.assert_logs_secret_free().await;
}
