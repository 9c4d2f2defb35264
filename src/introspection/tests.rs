//! The calls in flight: shared, and gone once no request waits on them, answered or not.

use std::time::Duration;

use crate::Gate;
use crate::testing::TestIssuer;

/// The endpoint configured, so that the issuer's delay holds the call itself, not discovery.
fn gate(issuer: &TestIssuer) -> Gate {
    let settings = issuer
        .introspection()
        .endpoint(format!("{}/introspect", issuer.issuer()))
        .timeout(Duration::from_secs(30));
    Gate::builder()
        .issuer(issuer.profile().introspection(settings))
        .key_cache(issuer.key_cache())
        .build()
        .unwrap()
}

#[tokio::test]
async fn cancelled_requests_leave_no_flight_behind() {
    let issuer = TestIssuer::start().await.unwrap();
    let gate = gate(&issuer);
    issuer.set_delay(Duration::from_secs(5));
    let token = issuer.token().opaque();
    let waiting = {
        let gate = gate.clone();
        tokio::spawn(async move { gate.validate(&token).await })
    };
    while issuer.introspection_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(gate.introspector(0).unwrap().flights(), 1);
    waiting.abort();
    let _ = waiting.await;
    assert_eq!(gate.introspector(0).unwrap().flights(), 0);
}

#[tokio::test]
async fn answered_flights_leave_too() {
    let issuer = TestIssuer::start().await.unwrap();
    let gate = gate(&issuer);
    let token = issuer.token().opaque();
    gate.validate(&token).await.unwrap();
    gate.validate("tgo_unknown").await.unwrap_err();
    assert_eq!(gate.introspector(0).unwrap().flights(), 0);
}
