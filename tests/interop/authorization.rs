//! Audience, and per-route scopes and roles.

use http::StatusCode;
use tokengate::{Algorithm, IssuerProfile};
use tokengate_testkit::challenge;

use super::idp::Idp;
use super::support::{
    Api, BAD_AUDIENCE, BILLING, ORDERS_SERVICE, REPORTING_JOB, gate, insufficient, key_cache,
    payload, profile,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_token_for_another_resource_is_refused() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let billing = idp
        .ask(&ORDERS_SERVICE)
        .resource(BILLING)
        .scope("billing.read")
        .alg(Algorithm::ES384)
        .send()
        .await;
    assert_eq!(payload(&billing)["aud"], BILLING);
    api.get("/orders", &billing).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "invalid_audience",
        BAD_AUDIENCE,
    );

    // The token itself is good: the billing API takes it.
    let billing_gate = gate(
        IssuerProfile::new(&idp.issuer).audience(BILLING).discover(),
        key_cache(),
    );
    let claims = billing_gate.validate(&billing).await.expect("for billing");
    assert!(claims.has_scope("billing.read"));
    idp.assert_logs_secret_free().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn per_route_scopes_and_roles() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let read = idp.ask(&ORDERS_SERVICE).scope("orders.read").send().await;
    api.get("/orders", &read).await.assert_ok();
    api.get("/orders/write", &read).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    api.get("/reports", &read).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("reports.read"),
    );
    // The role comes from the provider's extra claims.
    api.get("/admin", &read).await.assert_ok();

    let write = idp
        .ask(&ORDERS_SERVICE)
        .scope("orders.read orders.write")
        .alg(Algorithm::ES256)
        .send()
        .await;
    api.get("/orders/write", &write).await.assert_ok();

    let reports = idp
        .ask(&REPORTING_JOB)
        .scope("orders.read reports.read")
        .alg(Algorithm::EdDSA)
        .send()
        .await;
    api.get("/reports", &reports).await.assert_ok();
    api.get("/orders/write", &reports).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    let no_role = api.get("/admin", &reports).await;
    assert_eq!(no_role.status, StatusCode::FORBIDDEN);
    assert_eq!(no_role.code(), "insufficient_scope");
    challenge::parse_bearer(no_role.challenge.as_deref().unwrap()).unwrap();

    // A token without any scope (none asked for) passes the token check, not the scope checks.
    let bare = idp.ask(&ORDERS_SERVICE).scope("").send().await;
    assert!(payload(&bare).get("scope").is_none());
    api.get("/orders", &bare).await.assert_ok();
    api.get("/orders/write", &bare).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    idp.assert_logs_secret_free().await;
}
