//! Headers: token-bearing request headers marked sensitive, and the caching headers of answers.

use axum::body::Body;
use http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE};
use http::{HeaderName, HeaderValue, Request, StatusCode};
use serde_json::json;
use tokengate::{TokenLayer, TokenSource};
use tower::ServiceExt;

use super::support::{Answer, app, bearer, gate, routes, send, valid};

#[tokio::test]
async fn authorization_is_marked_sensitive() {
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
            TokenSource::header(HeaderName::from_static("x-access-token")),
        ])
        .optional()
        .build()
        .unwrap();
    let app = app(layer);
    let value = HeaderValue::from_str(&bearer(&valid())).unwrap();
    assert!(!value.is_sensitive());
    let request = Request::builder()
        .uri("/sensitive")
        .header(AUTHORIZATION, value)
        .header(COOKIE, "theme=dark")
        .header("x-other", "visible")
        .body(Body::empty())
        .unwrap();
    let answer = Answer::from(app.clone().oneshot(request).await.unwrap()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"authorization": true, "cookie": true, "x-access-token": null, "x-other": false})
    );
    // Marked even when the request is anonymous (Basic is not a bearer credential).
    let answer = send(
        &app,
        "/sensitive",
        &[
            ("authorization", "Basic dXNlcjpwYXNz"),
            ("x-access-token", &valid()),
        ],
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"authorization": true, "cookie": null, "x-access-token": true, "x-other": null})
    );

    // With the default layer: Authorization, not the cookie.
    let app = routes().layer(TokenLayer::new(gate()));
    let token = bearer(&valid());
    let answer = send(
        &app,
        "/sensitive",
        &[("authorization", &token), ("cookie", "at=1")],
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"authorization": true, "cookie": false, "x-access-token": null, "x-other": null})
    );
}

#[tokio::test]
async fn cookie_authenticated_responses_are_private_and_vary() {
    let cookie_layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let answer = send(
        &app(cookie_layer),
        "/me",
        &[("cookie", &format!("at={}", valid()))],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(CACHE_CONTROL), Some("private"));
    assert_eq!(
        answer.header(http::header::VARY),
        Some("authorization, cookie")
    );

    // Optional: the anonymous answer differs from a user's, so caches must keep them apart.
    let optional = TokenLayer::builder(gate()).optional().build().unwrap();
    let answer = send(&app(optional), "/maybe", &[]).await;
    assert_eq!(answer.ok(), "anonymous");
    assert_eq!(answer.header(http::header::VARY), Some("authorization"));
    assert_eq!(answer.header(CACHE_CONTROL), None);

    // The default layer leaves responses alone: shared caches do not store answers to
    // requests with Authorization.
    let answer = send(
        &app(TokenLayer::new(gate())),
        "/me",
        &[("authorization", &bearer(&valid()))],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(http::header::VARY), None);
    assert_eq!(answer.header(CACHE_CONTROL), None);
}
