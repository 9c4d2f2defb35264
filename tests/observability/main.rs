//! What tokengate tells operators: signals of suspicious use (WARN events), the caller in the
//! request's span, and, with feature `metrics` (`cargo test --features metrics --test
//! observability`), every metric. Each test runs on a current-thread runtime with a subscriber
//! (and a metrics recorder) of its own thread, so tests side by side see only their own.

#[cfg(feature = "metrics")]
mod metrics;
mod signals;
mod trace;

use axum::Router;
use axum::body::Body;
use http::Request;
use tokengate_testkit::capture::Captured;
use tower::ServiceExt;

/// The WARN events of one signal.
pub(crate) fn warnings(captured: &Captured, signal: &str) -> Vec<String> {
    captured
        .text()
        .lines()
        .filter(|line| line.contains(" WARN ") && line.contains("tokengate::signals"))
        .filter(|line| line.contains(&format!("signal=\"{signal}\"")))
        .map(str::to_owned)
        .collect()
}

/// Every WARN event of a signal, whatever the signal.
pub(crate) fn all_signals(captured: &Captured) -> Vec<String> {
    captured
        .text()
        .lines()
        .filter(|line| line.contains("tokengate::signals"))
        .map(str::to_owned)
        .collect()
}

/// The status of a GET with these headers.
pub(crate) async fn get(app: &Router, headers: &[(&str, &str)]) -> u16 {
    let mut request = Request::get("/orders");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    response.status().as_u16()
}
