//! Token sources: a cookie, and a custom header.

use http::HeaderName;
use tokengate::{TokenLayer, TokenSource};

use super::support::{
    EXPIRED, MALFORMED, MULTIPLE, NO_ERROR, app, bearer, expired_token, gate, send, valid,
};

#[tokio::test]
async fn cookie_source() {
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let app = app(layer);
    let token = valid();
    for cookie in [
        format!("at={token}"),
        format!("theme=dark; at={token}; lang=en"),
        format!("at=\"{token}\""),
    ] {
        let answer = send(&app, "/me", &[("cookie", &cookie)]).await;
        assert_eq!(answer.status, 200, "{cookie}: {answer:?}");
        assert_eq!(answer.json()["sub"], "user-1");
    }
    // Basic beside the cookie is not a second bearer credential.
    let cookie = format!("at={token}");
    send(
        &app,
        "/me",
        &[("cookie", &cookie), ("authorization", "Basic dXNlcjpwYXNz")],
    )
    .await
    .ok();
    // Other cookies only, or an empty (cleared) one: no token.
    for cookie in ["theme=dark; xat=1", "at=", "at=\"\""] {
        send(&app, "/me", &[("cookie", cookie)])
            .await
            .refused(401, "missing_token", NO_ERROR);
    }
    // A malformed cookie value.
    for cookie in ["at=a b", "at=a,b", "at=\"a"] {
        send(&app, "/me", &[("cookie", cookie)]).await.refused(
            400,
            "malformed_credentials",
            MALFORMED,
        );
    }
    // A bad token in the cookie.
    let expired = expired_token();
    send(&app, "/me", &[("cookie", &format!("at={expired}"))])
        .await
        .refused(401, "token_expired", EXPIRED);
}

#[tokio::test]
async fn custom_header_source() {
    let header = HeaderName::from_static("x-access-token");
    let layer = TokenLayer::builder(gate())
        .token_sources([TokenSource::header(header)])
        .build()
        .unwrap();
    let app = app(layer);
    let token = valid();
    let answer = send(&app, "/me", &[("x-access-token", &token)]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["sub"], "user-1");
    // The whole value is the token: no scheme.
    send(&app, "/me", &[("x-access-token", &bearer(&token))])
        .await
        .refused(400, "malformed_credentials", MALFORMED);
    // The Authorization header is not a source here.
    send(&app, "/me", &[("authorization", &bearer(&token))])
        .await
        .refused(401, "missing_token", NO_ERROR);
    send(
        &app,
        "/me",
        &[("x-access-token", &token), ("x-access-token", &token)],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
}
