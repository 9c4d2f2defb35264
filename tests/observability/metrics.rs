//! Every metric moves when it should and not otherwise, with bounded labels that never carry
//! a token or a claim value (feature `metrics`). Each test has a debugging recorder of its own
//! thread; its snapshots drain, so each one holds what happened since the last.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get as route;
use http::{Request, Version};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tokengate::testing::{DpopKey, TestIssuer};
use tokengate::{
    Algorithm, Dpop, DpopMode, Gate, IssuerProfile, Presented, RequireLayer, Requirement,
    TokenLayer,
};
use tower::ServiceExt;

use super::get;

/// One snapshot: per metric name, each series' labels and value.
struct Snapshot(Vec<(String, BTreeMap<String, String>, DebugValue)>);

impl Snapshot {
    fn take(snapshotter: &Snapshotter) -> Snapshot {
        let series = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|label| (label.key().to_owned(), label.value().to_owned()))
                    .collect();
                (key.name().to_owned(), labels, value)
            })
            .collect();
        Snapshot(series)
    }

    /// The sum of a counter over the series whose labels include `labels`.
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels)
            .map(|value| match value {
                DebugValue::Counter(count) => *count,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.matching(name, labels).last().map(|value| match value {
            DebugValue::Gauge(value) => value.into_inner(),
            other => panic!("{name} is not a gauge: {other:?}"),
        })
    }

    fn samples(&self, name: &str) -> usize {
        self.matching(name, &[])
            .map(|value| match value {
                DebugValue::Histogram(values) => values.len(),
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .sum()
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a DebugValue> + 'a {
        self.0
            .iter()
            .filter(move |(n, series, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| series.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| value)
    }

    /// Every label value recorded.
    fn label_values(&self) -> Vec<&str> {
        self.0
            .iter()
            .flat_map(|(_, labels, _)| labels.values().map(String::as_str))
            .collect()
    }
}

fn recorder() -> (DebuggingRecorder, Snapshotter) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    (recorder, snapshotter)
}

const VALIDATIONS: &str = "tokengate_validations_total";
const REFUSALS: &str = "tokengate_refusals_total";
const CACHE: &str = "tokengate_token_cache_lookups_total";
const DURATION: &str = "tokengate_validation_duration_seconds";
const REFRESHES: &str = "tokengate_key_refreshes_total";
const SIGNALS: &str = "tokengate_signals_total";

#[tokio::test]
async fn verdicts_by_issuer_outcome_and_code_with_cache_and_latency() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let stranger = TestIssuer::start().await.unwrap();
    let gate = issuer.gate();
    gate.warm_up().await.unwrap();
    Snapshot::take(&snapshotter); // the warm-up's own figures

    let token = issuer.token().sign();
    gate.validate(&token).await.unwrap(); // a miss, then verified
    gate.validate(&token).await.unwrap(); // a hit
    gate.validate(&issuer.token().tampered().sign())
        .await
        .unwrap_err();
    gate.validate(&stranger.token().sign()).await.unwrap_err();
    let seen = Snapshot::take(&snapshotter);
    let iss = issuer.issuer();
    let accepted = [("issuer", iss), ("outcome", "accepted"), ("code", "ok")];
    assert_eq!(seen.counter(VALIDATIONS, &accepted), 2);
    let forged = [
        ("issuer", iss),
        ("outcome", "refused"),
        ("code", "invalid_signature"),
    ];
    assert_eq!(seen.counter(VALIDATIONS, &forged), 1);
    let untrusted = [("issuer", "unknown"), ("code", "untrusted_issuer")];
    assert_eq!(seen.counter(VALIDATIONS, &untrusted), 1);
    assert_eq!(seen.counter(VALIDATIONS, &[]), 4);
    assert_eq!(seen.counter(CACHE, &[("result", "hit")]), 1);
    assert_eq!(seen.counter(CACHE, &[("result", "miss")]), 3);
    assert_eq!(seen.samples(DURATION), 4);
    assert_eq!(seen.counter(SIGNALS, &[("signal", "forged_signature")]), 1);
    // No request here went through a layer: no refusal answered.
    assert_eq!(seen.counter(REFUSALS, &[]), 0);

    // Nothing moves without validations.
    let quiet = Snapshot::take(&snapshotter);
    assert_eq!(quiet.counter(VALIDATIONS, &[]), 0);
    assert_eq!(quiet.samples(DURATION), 0);
}

#[tokio::test]
async fn every_refusal_of_the_layers_whatever_its_form() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let app = Router::new()
        .route("/orders", route(|| async { "orders" }))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap())
        .layer(TokenLayer::new(issuer.gate()));
    let good = issuer.token().scope("orders.read").sign();
    let unscoped = issuer.token().scope("other").sign();
    assert_eq!(
        get(&app, &[("authorization", &format!("Bearer {good}"))]).await,
        200
    );
    assert_eq!(get(&app, &[]).await, 401);
    assert_eq!(
        get(&app, &[("authorization", &format!("Bearer {unscoped}"))]).await,
        403
    );
    // A gRPC call over HTTP/2: refused in gRPC's form (HTTP 200), counted all the same.
    let call = Request::post("/orders")
        .version(Version::HTTP_2)
        .header("content-type", "application/grpc")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(call).await.unwrap();
    assert_eq!(response.headers()["grpc-status"], "16");
    // The same over HTTP/1.1 is no gRPC call: a plain 401, counted as such.
    let probe = Request::post("/orders")
        .header("content-type", "application/grpc")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.clone().oneshot(probe).await.unwrap().status(), 401);
    let seen = Snapshot::take(&snapshotter);
    let missing = [("code", "missing_token"), ("status", "401")];
    assert_eq!(
        seen.counter(REFUSALS, &[("form", "http"), missing[0], missing[1]]),
        2
    );
    assert_eq!(
        seen.counter(REFUSALS, &[("form", "grpc"), missing[0], missing[1]]),
        1
    );
    let scope = [
        ("code", "insufficient_scope"),
        ("status", "403"),
        ("form", "http"),
    ];
    assert_eq!(seen.counter(REFUSALS, &scope), 1);
    assert_eq!(seen.counter(REFUSALS, &[]), 4);
    // The gate accepted both tokens (the scope is the route's requirement).
    assert_eq!(seen.counter(VALIDATIONS, &[("outcome", "accepted")]), 2);
}

#[tokio::test]
async fn key_refreshes_by_cause_and_result_with_the_key_set() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let iss = issuer.issuer();

    // The first request that needs the keys.
    let gate = issuer.gate();
    gate.validate(&issuer.token().sign()).await.unwrap();
    let seen = Snapshot::take(&snapshotter);
    let first = [("issuer", iss), ("cause", "first_use"), ("result", "ok")];
    assert_eq!(seen.counter(REFRESHES, &first), 1);
    assert_eq!(seen.counter(REFRESHES, &[]), 1);
    assert_eq!(seen.gauge("tokengate_keys", &[("issuer", iss)]), Some(1.0));
    let fetched = seen
        .gauge(
            "tokengate_key_set_fetched_timestamp_seconds",
            &[("issuer", iss)],
        )
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - fetched).abs() < 60.0, "{fetched} vs {now}");

    // Warm-up, on another gate.
    issuer.gate().warm_up().await.unwrap();
    let seen = Snapshot::take(&snapshotter);
    assert_eq!(
        seen.counter(REFRESHES, &[("cause", "warm_up"), ("result", "ok")]),
        1
    );

    // A rotated key: the unknown kid fetches the new set.
    let kid = issuer.rotate(Algorithm::RS256);
    gate.validate(&issuer.token().key(&kid).sign())
        .await
        .unwrap();
    let seen = Snapshot::take(&snapshotter);
    assert_eq!(
        seen.counter(REFRESHES, &[("cause", "key_miss"), ("result", "ok")]),
        1
    );
    assert_eq!(seen.gauge("tokengate_keys", &[("issuer", iss)]), Some(1.0));

    // The provider down: a failed fetch, and the key gauges not set (a snapshot drains them
    // to 0).
    issuer.set_outage(true);
    tokio::time::sleep(Duration::from_millis(1100)).await; // the test issuer's 1 s cooldown
    let unknown = issuer.token().header("kid", "made-up").sign();
    gate.validate(&unknown).await.unwrap_err();
    let seen = Snapshot::take(&snapshotter);
    assert_eq!(
        seen.counter(REFRESHES, &[("cause", "key_miss"), ("result", "error")]),
        1
    );
    assert_eq!(seen.gauge("tokengate_keys", &[]).unwrap_or(0.0), 0.0);
}

/// A fetch a request starts (here: the keys that check signed introspection answers) is
/// `first_use`, never `warm_up`, which only `Gate::warm_up` is.
#[tokio::test]
async fn fetches_requests_start_are_not_warm_ups() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let gate = Gate::builder()
        .issuer(
            issuer
                .profile()
                .introspection(issuer.introspection().jwt_answers()),
        )
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    gate.validate(&issuer.token().opaque()).await.unwrap();
    let seen = Snapshot::take(&snapshotter);
    assert_eq!(seen.counter(REFRESHES, &[("cause", "first_use")]), 1);
    assert_eq!(seen.counter(REFRESHES, &[("cause", "warm_up")]), 0);
}

#[tokio::test]
async fn dpop_replay_checks_and_introspection() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let client = DpopKey::generate(Algorithm::ES256);
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(issuer.issuer())
                .audience(issuer.audience())
                .jwks(issuer.jwks())
                .dpop(DpopMode::Allowed),
        )
        .dpop(Dpop::new())
        .build()
        .unwrap();
    let token = issuer.token().bound_to(&client).sign();
    let uri = "https://api.example.com/orders";
    let proof = client.proof(&http::Method::GET, uri).token(&token).sign();
    let presented = || Presented::dpop(&token, &proof, &http::Method::GET, uri);
    gate.validate_presented(presented()).await.unwrap();
    let replayed = gate.validate_presented(presented()).await.unwrap_err();
    assert_eq!(replayed.code(), "dpop_proof_replayed");
    let seen = Snapshot::take(&snapshotter);
    let replay = "tokengate_dpop_replay_checks_total";
    assert_eq!(seen.counter(replay, &[("result", "new")]), 1);
    assert_eq!(seen.counter(replay, &[("result", "replayed")]), 1);

    let opaque_gate = Gate::builder()
        .issuer(
            IssuerProfile::new(issuer.issuer())
                .audience(issuer.audience())
                .jwks(issuer.jwks())
                .introspection(issuer.introspection()),
        )
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    let opaque = issuer.token().opaque();
    opaque_gate.validate(&opaque).await.unwrap();
    opaque_gate.validate(&opaque).await.unwrap();
    issuer.revoke(&opaque);
    let revoked = issuer.token().opaque();
    issuer.revoke(&revoked);
    opaque_gate.validate(&revoked).await.unwrap_err();
    let seen = Snapshot::take(&snapshotter);
    let calls = "tokengate_introspection_requests_total";
    assert_eq!(
        seen.counter(calls, &[("issuer", issuer.issuer()), ("result", "active")]),
        1
    );
    assert_eq!(seen.counter(calls, &[("result", "inactive")]), 1);
    let cache = "tokengate_introspection_cache_lookups_total";
    assert_eq!(seen.counter(cache, &[("result", "hit")]), 1);
    assert_eq!(seen.samples("tokengate_introspection_duration_seconds"), 2);
}

/// Labels are bounded: configured issuers or `unknown`, stable codes, fixed words. No token,
/// no subject, no claim value, whatever the traffic.
#[tokio::test]
async fn no_label_carries_a_token_or_a_claim_value() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let issuer = TestIssuer::start().await.unwrap();
    let app = Router::new()
        .route("/orders", route(|| async { "orders" }))
        .layer(TokenLayer::new(issuer.gate()));
    let subject = "subject-91d4";
    let tokens = [
        issuer.token().subject(subject).sign(),
        issuer.token().subject(subject).tampered().sign(),
        issuer.token().subject(subject).expired().sign(),
        issuer
            .token()
            .subject(subject)
            .header("kid", "kid-5e0b")
            .sign(),
        issuer
            .token()
            .subject(subject)
            .claim("iss", "https://evil.example/iss-77")
            .sign(),
        issuer
            .token()
            .subject(subject)
            .header("alg", "HS256")
            .sign(),
        "opaque-3ac9".to_owned(),
    ];
    for token in &tokens {
        get(&app, &[("authorization", &format!("Bearer {token}"))]).await;
    }
    let seen = Snapshot::take(&snapshotter);
    let values = seen.label_values();
    assert!(values.len() > 10, "{values:?}");
    for value in values {
        let bounded = value == issuer.issuer()
            || value == "unknown"
            || value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        assert!(bounded, "label value {value:?}");
        for secret in ["subject-91d4", "kid-5e0b", "evil.example", "opaque-3ac9"] {
            assert!(!value.contains(secret), "{value:?}");
        }
        assert!(
            tokens
                .iter()
                .all(|token| !token.contains(value) || value.len() < 8)
        );
    }
}
