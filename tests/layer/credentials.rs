//! Finding the credential: accepted tokens; missing, foreign and malformed credentials; more than
//! one credential, and tokens in the URL (RFC 6750 §2, ATK-36, ATK-39, ATK-40).

use axum::body::Body;
use http::Request;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::json;
use tokengate::{TokenLayer, TokenSource};
use tower::ServiceExt;

use tokengate_testkit::{ISSUER, b64, now, valid_claims};

use super::support::{
    Answer, BAD_AUDIENCE, BAD_ISSUER, BAD_SIGNATURE, EXPIRED, IN_QUERY, MALFORMED, MULTIPLE,
    NO_ERROR, app, bearer, gate, impostor, send, token, valid, with,
};

#[tokio::test]
async fn std_6750_1_valid_token_reaches_handler_with_claims() {
    let app = app(TokenLayer::new(gate()));
    let answer = send(&app, "/me", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"sub": "user-1", "scopes": ["orders.read", "orders.write"], "roles": []})
    );
    assert!(answer.header(WWW_AUTHENTICATE).is_none());

    let answer = send(&app, "/verified", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"via": "verified", "sub": "user-1", "scopes": ["orders.read", "orders.write"], "issuer": ISSUER})
    );
}

#[tokio::test]
async fn std_6750_1_roles_reach_handler() {
    let app = app(TokenLayer::new(gate()));
    let token = token(&with(
        json!({"roles": ["Orders.Admin", "Reader"], "sub": "app-7"}),
    ));
    let answer = send(&app, "/me", &[("authorization", &bearer(&token))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["roles"], json!(["Orders.Admin", "Reader"]));
    assert_eq!(answer.json()["sub"], "app-7");
}

#[tokio::test]
async fn atk_40_scheme_is_case_insensitive() {
    let app = app(TokenLayer::new(gate()));
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {}", valid());
        let answer = send(&app, "/me", &[("authorization", &value)]).await;
        assert_eq!(answer.status, 200, "{scheme}: {answer:?}");
        assert_eq!(answer.json()["sub"], "user-1");
    }
    // 1*SP: several spaces are fine too.
    let value = format!("Bearer   {}", valid());
    send(&app, "/me", &[("authorization", &value)]).await.ok();
}

#[tokio::test]
async fn std_6750_6_no_credentials_no_error() {
    let app = app(TokenLayer::new(gate()));
    send(&app, "/me", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
    // The Verified extractor never runs: the layer answers.
    send(&app, "/verified", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
}

#[tokio::test]
async fn atk_40_other_schemes_are_no_credentials() {
    let app = app(TokenLayer::new(gate()));
    for value in [
        "Basic dXNlcjpwYXNz",
        "DPoP abc.def.ghi",
        "Bearerx abc",
        "Negotiate YII=",
    ] {
        send(&app, "/me", &[("authorization", value)])
            .await
            .refused(401, "missing_token", NO_ERROR);
    }
}

#[tokio::test]
async fn atk_40_malformed_bearer_credentials_are_400() {
    let app = app(TokenLayer::new(gate()));
    let token = valid();
    for value in [
        format!("Bearer\t{token}"),
        "Bearer".to_owned(),
        "bearer".to_owned(),
        "Bearer,x".to_owned(),
        format!("Bearer {token} extra"),
        format!("Bearer {token},"),
        format!("Bearer \"{token}\""),
        "Bearer abc$def".to_owned(),
        "Bearer a=b".to_owned(),
        "Bearer ==".to_owned(),
        "Bearer abc!".to_owned(),
    ] {
        let answer = send(&app, "/me", &[("authorization", &value)]).await;
        assert_eq!(answer.status, 400, "{value:?}: {answer:?}");
        answer.refused(400, "malformed_credentials", MALFORMED);
    }
}

#[tokio::test]
async fn std_6750_7_bad_tokens_are_401_invalid_token() {
    let app = app(TokenLayer::new(gate()));
    let now = now();
    let expired = token(&with(
        json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}),
    ));
    let forged = impostor().token(&valid_claims());
    // The payload changed after signing.
    let good = valid();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(with(json!({"sub": "admin"})).to_string());
    let tampered = parts.join(".");
    let audience = token(&with(json!({"aud": "api://payments"})));
    let issuer = token(&with(json!({"iss": "https://evil.example.com/"})));
    for (what, token, code, challenge) in [
        ("expired", expired, "token_expired", EXPIRED),
        ("forged", forged, "invalid_signature", BAD_SIGNATURE),
        ("tampered", tampered, "invalid_signature", BAD_SIGNATURE),
        ("audience", audience, "invalid_audience", BAD_AUDIENCE),
        ("issuer", issuer, "untrusted_issuer", BAD_ISSUER),
    ] {
        let answer = send(&app, "/me", &[("authorization", &bearer(&token))]).await;
        assert_eq!(answer.status, 401, "{what}: {answer:?}");
        answer.refused(401, code, challenge);
    }
    // Not a JWT at all, though a well-formed b64token.
    send(&app, "/me", &[("authorization", "Bearer abc")])
        .await
        .refused(
            401,
            "malformed_token",
            r#"Bearer error="invalid_token", error_description="The access token is not a well-formed JWT.""#,
        );
}

#[tokio::test]
async fn atk_36_key_bound_token_sent_as_bearer_is_401() {
    let app = app(TokenLayer::new(gate()));
    let bound = token(&with(
        json!({"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}),
    ));
    send(&app, "/me", &[("authorization", &bearer(&bound))])
        .await
        .refused(
            401,
            "sender_constrained_token",
            r#"Bearer error="invalid_token", error_description="The access token is bound to a key and is not accepted as a bearer token.""#,
        );
}

#[tokio::test]
async fn atk_39_two_authorization_headers_are_400() {
    let app = app(TokenLayer::new(gate()));
    let token = bearer(&valid());
    for second in [token.as_str(), "Basic dXNlcjpwYXNz", "DPoP abc"] {
        let request = Request::builder()
            .uri("/me")
            .header(AUTHORIZATION, &token)
            .header(AUTHORIZATION, second)
            .body(Body::empty())
            .unwrap();
        assert_eq!(request.headers().get_all(AUTHORIZATION).iter().count(), 2);
        let answer = Answer::from(app.clone().oneshot(request).await.unwrap()).await;
        answer.refused(400, "multiple_tokens", MULTIPLE);
    }
}

#[tokio::test]
async fn std_6750_4_header_and_cookie_are_400() {
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let app = app(layer);
    let token = valid();
    let cookie = format!("at={token}");
    send(
        &app,
        "/me",
        &[("authorization", &bearer(&token)), ("cookie", &cookie)],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    // Two cookies of that name are two credentials too.
    let twice = format!("at={token}; at={token}");
    send(&app, "/me", &[("cookie", &twice)])
        .await
        .refused(400, "multiple_tokens", MULTIPLE);
}

#[tokio::test]
async fn std_6750_4_header_and_query_are_400() {
    let app = app(TokenLayer::new(gate()));
    let token = valid();
    let path = format!("/me?access_token={token}");
    send(&app, &path, &[("authorization", &bearer(&token))])
        .await
        .refused(400, "multiple_tokens", MULTIPLE);
}

#[tokio::test]
async fn std_6750_3_token_in_query_is_400() {
    let app = app(TokenLayer::new(gate()));
    let token = valid();
    for path in [
        format!("/me?access_token={token}"),
        format!("/me?page=2&access_token={token}"),
        "/me?access_token".to_owned(),
        "/me?access_token=".to_owned(),
    ] {
        send(&app, &path, &[])
            .await
            .refused(400, "token_in_query", IN_QUERY);
    }
    // A parameter that merely ends in access_token is not one.
    send(
        &app,
        "/me?my_access_token=1",
        &[("authorization", &bearer(&token))],
    )
    .await
    .ok();
}

#[tokio::test]
async fn atk_39_bearer_plus_dpop_proof_is_400() {
    let app = app(TokenLayer::new(gate()));
    send(
        &app,
        "/me",
        &[
            ("authorization", &bearer(&valid())),
            ("dpop", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln"),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
}

#[tokio::test]
async fn std_6750_4_percent_encoded_query_parameter_name() {
    // `access%5Ftoken` is `access_token` once the query is form-decoded (RFC 6750 §2.3 uses
    // application/x-www-form-urlencoded), as frameworks' query extractors decode it.
    let app = app(TokenLayer::new(gate()));
    let token = valid();
    for path in [
        format!("/me?access%5Ftoken={token}"),
        format!("/me?access%5ftoken={token}"),
        format!("/me?%61ccess_token={token}"),
    ] {
        send(&app, &path, &[("authorization", &bearer(&token))])
            .await
            .refused(400, "multiple_tokens", MULTIPLE);
        send(&app, &path, &[])
            .await
            .refused(400, "token_in_query", IN_QUERY);
    }
}
