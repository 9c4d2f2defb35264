//! Realm and RFC 9728 resource metadata: the challenge's parameters and the metadata document.

use axum::body::Body;
use http::Request;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::json;
use tower::ServiceExt;

use tokengate_testkit::{ISSUER, challenge, now};

use super::support::{Answer, METADATA_URL, bearer, resource, send, token, with, with_metadata};

#[tokio::test]
async fn std_9728_5_challenges_carry_realm_and_resource_metadata() {
    let resource = resource();
    assert_eq!(resource.metadata_url(), METADATA_URL);
    let app = with_metadata(&resource);
    let rm = format!(r#"resource_metadata="{METADATA_URL}""#);

    // No token: realm and resource_metadata, still no error (STD-6750-6).
    let answer = send(&app, "/orders", &[]).await;
    answer.refused(
        401,
        "missing_token",
        &format!(r#"Bearer realm="orders", {rm}"#),
    );
    let parsed = challenge::parse_bearer(answer.header(WWW_AUTHENTICATE).unwrap()).unwrap();
    assert_eq!(parsed[0].names(), ["realm", "resource_metadata"]);
    assert_eq!(parsed[0].param("resource_metadata"), Some(METADATA_URL));

    // A bad token.
    let expired = token(&with(json!({"exp": now() - 3600, "iat": now() - 7200})));
    send(&app, "/orders", &[("authorization", &bearer(&expired))])
        .await
        .refused(
            401,
            "token_expired",
            &format!(
                r#"Bearer realm="orders", error="invalid_token", error_description="The access token has expired.", {rm}"#
            ),
        );

    // A malformed request.
    send(&app, "/orders", &[("authorization", "Bearer")])
        .await
        .refused(
            400,
            "malformed_credentials",
            &format!(
                r#"Bearer realm="orders", error="invalid_request", error_description="The request's access token credential is malformed.", {rm}"#
            ),
        );

    // A route requirement answers with the same realm and metadata.
    let token = token(&with(json!({"scope": "other"})));
    send(&app, "/orders", &[("authorization", &bearer(&token))])
        .await
        .refused(
            403,
            "insufficient_scope",
            &format!(
                r#"Bearer realm="orders", error="insufficient_scope", error_description="The access token does not grant the required scope or role.", scope="orders.read", {rm}"#
            ),
        );
}

#[tokio::test]
async fn std_9728_1_3_4_metadata_document_is_served() {
    let resource = resource();
    assert_eq!(
        resource.well_known_path(),
        "/.well-known/oauth-protected-resource/orders"
    );
    let app = with_metadata(&resource);
    // Public: no token needed.
    let answer = send(&app, resource.well_known_path(), &[]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header(CONTENT_TYPE), Some("application/json"));
    assert!(answer.header(WWW_AUTHENTICATE).is_none());
    let document = answer.json();
    assert_eq!(document["resource"], "https://api.example.com/orders");
    assert_eq!(document["resource"], resource.resource());
    assert_eq!(document["authorization_servers"], json!([ISSUER]));
    assert_eq!(
        document["scopes_supported"],
        json!(["orders.read", "orders.write"])
    );
    assert_eq!(document["bearer_methods_supported"], json!(["header"]));
    assert_eq!(document["resource_name"], "Orders API");

    // The URL in the challenge leads to this document.
    let challenge = send(&app, "/orders", &[]).await;
    let parsed = challenge::parse_bearer(challenge.header(WWW_AUTHENTICATE).unwrap()).unwrap();
    let url = parsed[0].param("resource_metadata").unwrap();
    let path = url.strip_prefix("https://api.example.com").unwrap();
    assert_eq!(path, resource.well_known_path());

    // Only GET and HEAD.
    let post = Request::builder()
        .method("POST")
        .uri(resource.well_known_path())
        .body(Body::empty())
        .unwrap();
    let answer = Answer::from(app.clone().oneshot(post).await.unwrap()).await;
    assert_eq!(answer.status, 405);
}
