//! Per-route scopes (`RequireLayer`) on Glewlwyd's space-separated `scope` claim.

use http::StatusCode;

use super::api::{Api, insufficient};
use super::gate::{gate, loopback_keys, profile};
use super::provider::{EDGE_WORKER, Glewlwyd, ORDERS_SERVICE};

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_scope_passes_and_a_missing_one_is_refused() {
    let glewlwyd = Glewlwyd::start().await;
    let api = Api::serve(gate(profile(&glewlwyd), loopback_keys())).await;

    let read = glewlwyd
        .token(&ORDERS_SERVICE)
        .scope("orders.read")
        .send()
        .await;
    api.get("/orders", &read).await.assert_ok();
    api.get("/orders/write", &read).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );

    for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
        let write = glewlwyd
            .token(client)
            .scope("orders.read orders.write")
            .send()
            .await;
        api.get("/orders/write", &write).await.assert_ok();
    }
    glewlwyd.assert_logs_secret_free().await;
}
