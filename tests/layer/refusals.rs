//! How refusals are answered: the `on_rejection` hook, and the gRPC form only for gRPC requests.

use axum::body::Body;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, StatusCode, Version};
use serde_json::json;
use tokengate::layer::GrpcAnswers;
use tokengate::{Denial, Gate, TokenLayer};
use tower::ServiceExt;

use tokengate_testkit::challenge;

use super::support::{NO_ERROR, app, bearer, gate, routes, scoped, send, token, valid, with};

fn hooked(gate: Gate) -> TokenLayer {
    TokenLayer::builder(gate)
        .realm("orders")
        .on_rejection(|denial: Denial| {
            let code = denial.rejection().code();
            let mut response = denial.default_response();
            response
                .headers_mut()
                .insert("x-error-code", HeaderValue::from_static(code));
            *response.body_mut() = Bytes::from(format!("custom {code} {}", denial.status()));
            if code == "insufficient_scope" {
                *response.status_mut() = StatusCode::NOT_FOUND;
            }
            response
        })
        .build()
        .unwrap()
}

/// A hook may answer with any body that converts into bytes: here a `String`, built from
/// scratch rather than from the default response.
#[tokio::test]
async fn on_rejection_hook_may_answer_with_a_string_body() {
    let layer = TokenLayer::builder(gate())
        .on_rejection(|denial: Denial| {
            http::Response::builder()
                .status(denial.status())
                .header("content-type", "text/plain")
                .body(format!("no entry: {}", denial.rejection().code()))
                .unwrap()
        })
        .build()
        .unwrap();
    let app = scoped(layer);
    let answer = send(&app, "/orders", &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.text(), "no entry: missing_token");
    assert_eq!(answer.header("content-type"), Some("text/plain"));
    // Nothing of the default answer is added behind the hook's back.
    assert!(answer.header(WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn on_rejection_hook_changes_the_answer() {
    let app = scoped(hooked(gate()));
    let answer = send(&app, "/orders", &[]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.text(), "custom missing_token 401 Unauthorized");
    assert_eq!(answer.header("x-error-code"), Some("missing_token"));
    // The hook started from the default response: its challenge is still there.
    assert_eq!(
        answer.header(WWW_AUTHENTICATE),
        Some(r#"Bearer realm="orders""#)
    );

    let answer = send(&app, "/orders", &[("authorization", "Bearer")]).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("x-error-code"), Some("malformed_credentials"));

    // Inside a RequireLayer, the same hook answers.
    let writer = token(&with(json!({"scope": "orders.write"})));
    let answer = send(&app, "/orders", &[("authorization", &bearer(&writer))]).await;
    assert_eq!(answer.status, 404, "{answer:?}");
    assert_eq!(answer.text(), "custom insufficient_scope 403 Forbidden");
    assert_eq!(answer.header("x-error-code"), Some("insufficient_scope"));
    let challenge = answer.header(WWW_AUTHENTICATE).unwrap();
    challenge::parse_bearer(challenge).unwrap();
    assert!(challenge.contains(r#"scope="orders.read""#), "{challenge}");

    // And for the axum extractors inside the layer.
    let plain = routes().layer(hooked(gate()));
    let answer = send(&plain, "/misfit", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.text(), "custom malformed_claims 401 Unauthorized");
    // Accepted requests do not see the hook.
    let answer = send(&plain, "/me", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("x-error-code").is_none());
}

#[tokio::test]
async fn grpc_form_only_for_grpc_posts() {
    let app = app(TokenLayer::new(gate()));
    // A GET that claims to be gRPC still gets the HTTP answer.
    send(&app, "/me", &[("content-type", "application/grpc")])
        .await
        .refused(401, "missing_token", NO_ERROR);
    // gRPC-Web clients read HTTP statuses.
    let request = Request::post("/me")
        .header("content-type", "application/grpc-web+proto")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A gRPC content type over HTTP/1.1 is no gRPC call (gRPC needs HTTP/2): a plain 401,
    // visible to HTTP monitoring.
    let grpc_post = |version| {
        Request::post("/me")
            .version(version)
            .header("content-type", "Application/GRPC+proto")
            .body(Body::empty())
            .unwrap()
    };
    let response = app
        .clone()
        .oneshot(grpc_post(Version::HTTP_11))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("grpc-status").is_none());
    // A real gRPC call: trailers-only, whatever the case of the media type.
    let response = app.oneshot(grpc_post(Version::HTTP_2)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn grpc_answers_is_the_layers_choice() {
    let request = |version| {
        Request::post("/me")
            .version(version)
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap()
    };
    // A proxy that forwards gRPC over HTTP/1.1: the gRPC form there too, from the layer and
    // from the layers and extractors inside it.
    let always = app(TokenLayer::builder(gate())
        .grpc_answers(GrpcAnswers::Always)
        .build()
        .unwrap());
    let response = always.oneshot(request(Version::HTTP_11)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "16");
    // A REST-only service: HTTP statuses always.
    let never = app(TokenLayer::builder(gate())
        .grpc_answers(GrpcAnswers::Never)
        .build()
        .unwrap());
    let response = never.oneshot(request(Version::HTTP_2)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
