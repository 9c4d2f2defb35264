//! Glewlwyd's `aud` when the client names no resource: the requested scopes, space-joined.
//!
//! # The way forward
//!
//! Without a `resource` parameter in the token request, Glewlwyd writes the requested scopes,
//! joined with spaces in the order requested, as `aud` (for example
//! `"aud": "orders.read orders.write"`). That is one string naming no API, and it changes with
//! the scopes asked for, so tokengate refuses such tokens as `invalid_audience` (401, with an
//! `invalid_token` challenge). Do not configure a scope string as the audience. Instead, use
//! resource indicators (RFC 8707):
//!
//! 1. In Glewlwyd's OIDC plugin, set `resource-allowed` to true and list, in `resource-scope`,
//!    the API identifiers each scope may be used with, e.g.
//!    `{"orders.read": ["https://api.example.test/orders"]}` (https, or http on loopback).
//! 2. Clients send `resource=https://api.example.test/orders` with every token request.
//!    Glewlwyd then sets `aud` to exactly that identifier (and refuses a resource not listed
//!    for the requested scopes with `invalid_target`).
//! 3. Configure the same identifier as the API's audience:
//!    `IssuerProfile::new(issuer).audience("https://api.example.test/orders").discover()`.

use http::StatusCode;
use serde_json::json;

use super::api::{Api, BAD_AUDIENCE};
use super::gate::{gate, loopback_keys, profile};
use super::provider::{Glewlwyd, ORDERS, ORDERS_SERVICE};
use tokengate_testkit::token_parts::payload;

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_list_audience_is_refused_and_a_resource_indicator_accepted() {
    let glewlwyd = Glewlwyd::start().await;
    let api = Api::serve(gate(profile(&glewlwyd), loopback_keys())).await;

    let no_resource = glewlwyd
        .token(&ORDERS_SERVICE)
        .scope("orders.write orders.read")
        .resource(None)
        .send()
        .await;
    assert_eq!(payload(&no_resource)["aud"], "orders.write orders.read");
    api.get("/orders", &no_resource).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "invalid_audience",
        BAD_AUDIENCE,
    );

    // The way forward: the API's identifier as `resource`, which becomes `aud`.
    let with_resource = glewlwyd
        .token(&ORDERS_SERVICE)
        .scope("orders.write orders.read")
        .resource(Some(ORDERS))
        .send()
        .await;
    assert_eq!(payload(&with_resource)["aud"], ORDERS);
    let answer = api.get("/orders", &with_resource).await;
    answer.assert_ok();
    assert_eq!(answer.json()["audiences"], json!([ORDERS]));

    // A resource not listed for the scopes gets no token at all.
    let (status, body) = glewlwyd
        .token(&ORDERS_SERVICE)
        .resource(Some("https://api.example.test/billing"))
        .try_send()
        .await
        .expect_err("a resource not allowed for the scope");
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_target"}))
    );
    glewlwyd.assert_logs_secret_free().await;
}
