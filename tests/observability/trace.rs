//! The caller in the request's span (`TokenLayerBuilder::trace_fields`): the chosen fields,
//! recorded into the span of the layer outside, on the fast path and after a key fetch; the
//! subject only when asked for.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use tokengate::TokenLayer;
use tokengate::layer::TraceFields;
use tokengate::testing::TestIssuer;
use tokengate_testkit::capture;
use tower::ServiceExt;
use tracing::Instrument;
use tracing::field::Empty;

async fn handled(app: &Router, token: &str) -> u16 {
    let span = tracing::info_span!(
        "request",
        enduser.id = Empty,
        tokengate.client_id = Empty,
        tokengate.tenant_id = Empty,
        tokengate.token_kind = Empty,
    );
    let request = Request::get("/orders")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).instrument(span).await.unwrap();
    response.status().as_u16()
}

fn app(layer: TokenLayer) -> Router {
    Router::new()
        .route(
            "/orders",
            get(|| async {
                tracing::info!("handler ran");
                "orders"
            }),
        )
        .layer(layer)
}

/// The handler's event, with the fields of the span it ran in.
fn handler_lines(captured: &capture::Captured) -> Vec<String> {
    let text = captured.text();
    text.lines()
        .filter(|line| line.contains("handler ran"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pseudonymous_fields_leave_the_subject_out() {
    let (captured, _guard) = capture::scoped();
    let issuer = TestIssuer::start().await.unwrap();
    // No warm-up: the first request waits for the keys (the slow path), the second is a
    // cache hit (the fast path); both record.
    let layer = TokenLayer::builder(issuer.gate())
        .trace_fields(TraceFields::pseudonymous())
        .build()
        .unwrap();
    let app = app(layer);
    let token = issuer
        .token()
        .subject("person-8c2e")
        .claim("client_id", "client-4d1a")
        .claim("tid", "tenant-77b0")
        .sign();
    assert_eq!(handled(&app, &token).await, 200);
    assert_eq!(handled(&app, &token).await, 200);
    let lines = handler_lines(&captured);
    assert_eq!(lines.len(), 2, "{}", captured.text());
    for line in &lines {
        assert!(
            line.contains("tokengate.client_id=\"client-4d1a\""),
            "{line}"
        );
        assert!(
            line.contains("tokengate.tenant_id=\"tenant-77b0\""),
            "{line}"
        );
        assert!(line.contains("tokengate.token_kind="), "{line}");
        assert!(
            !line.contains("person-8c2e") && !line.contains("enduser.id"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn the_subject_when_asked_for() {
    let (captured, _guard) = capture::scoped();
    let issuer = TestIssuer::start().await.unwrap();
    let layer = TokenLayer::builder(issuer.gate())
        .trace_fields(TraceFields::none().subject())
        .build()
        .unwrap();
    let token = issuer
        .token()
        .subject("person-8c2e")
        .claim("client_id", "client-4d1a")
        .sign();
    assert_eq!(handled(&app(layer), &token).await, 200);
    let lines = handler_lines(&captured);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains("enduser.id=\"person-8c2e\""),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("client-4d1a"), "{}", lines[0]);
}

#[tokio::test]
async fn nothing_by_default() {
    let (captured, _guard) = capture::scoped();
    let issuer = TestIssuer::start().await.unwrap();
    let token = issuer
        .token()
        .subject("person-8c2e")
        .claim("client_id", "client-4d1a")
        .sign();
    assert_eq!(
        handled(&app(TokenLayer::new(issuer.gate())), &token).await,
        200
    );
    let lines = handler_lines(&captured);
    assert_eq!(lines.len(), 1);
    assert!(!lines[0].contains("person-8c2e") && !lines[0].contains("client-4d1a"));
}
