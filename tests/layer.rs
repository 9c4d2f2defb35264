//! End-to-end tests of `TokenLayer`, `RequireLayer`, the axum extractors and the RFC 9728
//! metadata service: through an axum `Router` (`oneshot`), and through real HTTP/1.1 and
//! HTTP/2 servers on 127.0.0.1 (raw TCP where a client library would normalise the request).
//!
//! Every refusal is checked for its exact status, exact `WWW-Authenticate` value (parsed with
//! the strict RFC 9110 parser and the RFC 6750 §3 rules), JSON body, `Content-Type` and
//! `Cache-Control: no-store`.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use serde_json::{Value, json};
use tokengate::axum::{Verified, VerifiedClaims};
use tokengate::{
    Algorithm, Claims, Denial, Gate, IssuerProfile, KeyCacheSettings, ProtectedResource,
    RequireLayer, Requirement, TokenLayer, TokenSource,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use tokengate_testkit::{AUDIENCE, ISSUER, TestKey, b64, challenge, jwks, now, valid_claims};

// ---------------------------------------------------------------------------------------------
// Expected challenges (exact values).

const NO_ERROR: &str = "Bearer";
const MALFORMED: &str = r#"Bearer error="invalid_request", error_description="The request's access token credential is malformed.""#;
const MULTIPLE: &str = r#"Bearer error="invalid_request", error_description="The request carries more than one access token.""#;
const IN_QUERY: &str = r#"Bearer error="invalid_request", error_description="Access tokens are not accepted in the URL query.""#;
const EXPIRED: &str =
    r#"Bearer error="invalid_token", error_description="The access token has expired.""#;
const BAD_SIGNATURE: &str =
    r#"Bearer error="invalid_token", error_description="The access token signature is invalid.""#;
const BAD_AUDIENCE: &str = r#"Bearer error="invalid_token", error_description="The access token is not meant for this resource.""#;
const BAD_ISSUER: &str =
    r#"Bearer error="invalid_token", error_description="The access token issuer is not trusted.""#;
const BAD_CLAIMS: &str =
    r#"Bearer error="invalid_token", error_description="The access token claims are malformed.""#;
const INSUFFICIENT: &str = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;

fn insufficient(scope: &str) -> String {
    format!(r#"{INSUFFICIENT}, scope="{scope}""#)
}

// ---------------------------------------------------------------------------------------------
// Keys, tokens, gates.

/// The issuer's key (ES256: fast to generate).
fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

/// Another key under the same `kid`: its signatures do not verify with the issuer's key.
fn impostor() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

fn profile() -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks(&[key()]))
}

fn gate() -> Gate {
    Gate::builder()
        .issuer(profile())
        .build()
        .expect("valid gate")
}

fn token(claims: &Value) -> String {
    key().token(claims)
}

fn valid() -> String {
    token(&valid_claims())
}

fn with(changes: Value) -> Value {
    let mut claims = valid_claims();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn expired_token() -> String {
    token(&with(
        json!({"exp": now() - 3600, "iat": now() - 7200, "nbf": now() - 7200}),
    ))
}

fn scoped_token(scope: &str) -> String {
    token(&with(json!({"scope": scope})))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

// ---------------------------------------------------------------------------------------------
// Routers.

async fn me(Extension(claims): Extension<Arc<Claims>>) -> Json<Value> {
    Json(json!({
        "sub": claims.subject(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
        "roles": claims.roles().collect::<Vec<_>>(),
    }))
}

async fn verified(claims: Verified) -> Json<Value> {
    Json(json!({
        "via": "verified",
        "sub": claims.subject(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
        "issuer": claims.issuer(),
    }))
}

async fn maybe(claims: Option<Verified>) -> String {
    match claims {
        Some(claims) => format!("user {}", claims.subject().unwrap_or("?")),
        None => "anonymous".to_owned(),
    }
}

#[derive(Deserialize)]
struct Mine {
    sub: String,
    aud: String,
    scope: String,
    exp: i64,
}

async fn typed(VerifiedClaims(mine): VerifiedClaims<Mine>) -> Json<Value> {
    Json(json!({"sub": mine.sub, "aud": mine.aud, "scope": mine.scope, "exp": mine.exp}))
}

/// A claims shape no test token fits: `tenant` is required and absent.
#[derive(Deserialize)]
struct Misfit {
    // Required for the claims to fit; never read.
    #[serde(rename = "tenant")]
    _tenant: u64,
}

async fn misfit(VerifiedClaims(_): VerifiedClaims<Misfit>) -> &'static str {
    "fits"
}

async fn maybe_misfit(claims: Option<VerifiedClaims<Misfit>>) -> &'static str {
    match claims {
        Some(_) => "fits",
        None => "no claims",
    }
}

/// Which token-bearing headers the handler sees marked sensitive.
async fn sensitive(headers: HeaderMap) -> Json<Value> {
    let flag = |name: &str| headers.get(name).map(HeaderValue::is_sensitive);
    Json(json!({
        "authorization": flag("authorization"),
        "cookie": flag("cookie"),
        "x-access-token": flag("x-access-token"),
        "x-other": flag("x-other"),
    }))
}

async fn ok() -> &'static str {
    "ok"
}

fn routes() -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/verified", get(verified))
        .route("/maybe", get(maybe))
        .route("/typed", get(typed))
        .route("/misfit", get(misfit))
        .route("/maybe-misfit", get(maybe_misfit))
        .route("/sensitive", get(sensitive))
}

fn app(layer: TokenLayer) -> Router {
    routes().layer(layer)
}

/// Per-route requirements, and a nested router with a requirement of its own.
fn scoped(layer: TokenLayer) -> Router {
    let read = Router::new()
        .route("/orders", get(ok))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap());
    let admin = Router::new()
        .route("/admin", get(ok))
        .route_layer(RequireLayer::new(Requirement::role("Orders.Admin")).unwrap());
    let any = Router::new().route("/any", get(ok)).route_layer(
        RequireLayer::new(Requirement::any_scope(["x.read", "orders.write"])).unwrap(),
    );
    let all = Router::new().route("/all", get(ok)).route_layer(
        RequireLayer::new(Requirement::all_scopes(["orders.read", "orders.delete"])).unwrap(),
    );
    let either = Router::new().route("/either", get(ok)).route_layer(
        RequireLayer::new(Requirement::scope("orders.admin").or(Requirement::role("Orders.Admin")))
            .unwrap(),
    );
    let items = Router::new()
        .route("/items", get(ok))
        .route("/items/{id}", get(ok))
        .layer(RequireLayer::new(Requirement::scope("items.read")).unwrap());
    Router::new()
        .route("/open", get(ok))
        .merge(read)
        .merge(admin)
        .merge(any)
        .merge(all)
        .merge(either)
        .nest("/v2", items)
        .layer(layer)
}

fn resource() -> ProtectedResource {
    ProtectedResource::builder("https://api.example.com/orders")
        .authorization_server(ISSUER)
        .scopes_supported(["orders.read", "orders.write"])
        .resource_name("Orders API")
        .build()
        .expect("valid resource")
}

const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource/orders";

/// The protected routes behind a layer with realm and resource metadata, and the metadata
/// document outside it.
fn with_metadata(resource: &ProtectedResource) -> Router {
    let layer = TokenLayer::builder(gate())
        .realm("orders")
        .resource_metadata(resource)
        .build()
        .unwrap();
    Router::new()
        .route_service(resource.well_known_path(), resource.service())
        .merge(scoped(layer))
}

// ---------------------------------------------------------------------------------------------
// Sending and checking.

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    async fn from<B>(response: Response<B>) -> Answer
    where
        B: http_body::Body,
        B::Error: std::fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("visible ASCII"))
    }

    /// A 200 from the handler; its body.
    fn ok(&self) -> &str {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.text()
    }

    /// Checks a refusal: exact status, challenge, body and headers.
    fn refused(&self, status: u16, code: &str, challenge: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        let values: Vec<_> = self.headers.get_all(WWW_AUTHENTICATE).iter().collect();
        assert_eq!(values.len(), 1, "one WWW-Authenticate: {self:?}");
        let value = self.header(WWW_AUTHENTICATE).unwrap();
        assert_eq!(value, challenge, "WWW-Authenticate");
        let parsed = challenge::parse_bearer(value).expect("strict RFC 9110 / RFC 6750");
        assert_eq!(parsed.len(), 1);
        let parsed = &parsed[0];
        assert_eq!(parsed.scheme, "Bearer");
        self.json_refusal(code, parsed.param("error"));
        // STD-6750-7: the status goes with the error code.
        let expected = match parsed.param("error") {
            None => 401,
            Some("invalid_request") => 400,
            Some("invalid_token") => 401,
            Some("insufficient_scope") => 403,
            Some(other) => panic!("unexpected error {other}"),
        };
        assert_eq!(status, expected, "status of {challenge}");
        if let Some(description) = parsed.param("error_description") {
            assert_eq!(self.json()["error_description"], description);
        }
    }

    /// The JSON body and the headers every refusal carries.
    fn json_refusal(&self, code: &str, error: Option<&str>) {
        assert_eq!(
            self.header(CONTENT_TYPE),
            Some("application/json"),
            "{self:?}"
        );
        assert_eq!(self.header(CACHE_CONTROL), Some("no-store"), "{self:?}");
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        match error {
            Some(error) => assert_eq!(body["error"], error, "{body}"),
            None => assert!(body.get("error").is_none(), "{body}"),
        }
        let description = body["error_description"].as_str().expect("a description");
        assert!(!description.is_empty());
        assert!(self.header(RETRY_AFTER).is_none() || self.status == 503);
    }
}

fn get_req(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

async fn send(app: &Router, path: &str, headers: &[(&str, &str)]) -> Answer {
    let response = app
        .clone()
        .oneshot(get_req(path, headers))
        .await
        .expect("infallible");
    Answer::from(response).await
}

// ---------------------------------------------------------------------------------------------
// Accepted tokens.

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

// ---------------------------------------------------------------------------------------------
// Missing, foreign and malformed credentials.

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

// ---------------------------------------------------------------------------------------------
// More than one credential, and tokens in the URL.

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

// ---------------------------------------------------------------------------------------------
// Realm and RFC 9728 resource metadata.

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

// ---------------------------------------------------------------------------------------------
// Requirements.

#[tokio::test]
async fn std_6750_7_route_requirement_missing_scope_is_403() {
    let app = scoped(TokenLayer::new(gate()));
    let reader = token(&with(json!({"scope": "orders.read"})));
    let writer = token(&with(json!({"scope": "orders.write"})));
    let nobody = token(&with(json!({"scope": "profile"})));
    let auth = |t: &str| bearer(t);

    send(&app, "/orders", &[("authorization", &auth(&reader))])
        .await
        .ok();
    send(&app, "/open", &[("authorization", &auth(&nobody))])
        .await
        .ok();
    send(&app, "/orders", &[("authorization", &auth(&writer))])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.read"));
    // Without a token the layer answers first: 401, no error.
    send(&app, "/orders", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
}

#[tokio::test]
async fn std_6750_7_any_of_and_all_of() {
    let app = scoped(TokenLayer::new(gate()));
    let scopes = |s: &str| bearer(&token(&with(json!({"scope": s}))));

    // any_scope: one of them is enough.
    send(&app, "/any", &[("authorization", &scopes("x.read"))])
        .await
        .ok();
    send(&app, "/any", &[("authorization", &scopes("orders.write"))])
        .await
        .ok();
    send(&app, "/any", &[("authorization", &scopes("orders.read"))])
        .await
        .refused(
            403,
            "insufficient_scope",
            &insufficient("x.read orders.write"),
        );

    // all_scopes: every one.
    send(
        &app,
        "/all",
        &[("authorization", &scopes("orders.delete orders.read"))],
    )
    .await
    .ok();
    send(&app, "/all", &[("authorization", &scopes("orders.read"))])
        .await
        .refused(
            403,
            "insufficient_scope",
            &insufficient("orders.read orders.delete"),
        );
    // Scope names compare whole: a prefix is not the scope.
    send(
        &app,
        "/all",
        &[("authorization", &scopes("orders.read orders.del"))],
    )
    .await
    .refused(
        403,
        "insufficient_scope",
        &insufficient("orders.read orders.delete"),
    );
}

#[tokio::test]
async fn std_6750_7_role_requirements() {
    let app = scoped(TokenLayer::new(gate()));
    let admin = bearer(&token(&with(json!({"roles": ["Orders.Admin"]}))));
    let reader = bearer(&token(&with(json!({"roles": ["Orders.Reader"]}))));
    send(&app, "/admin", &[("authorization", &admin)])
        .await
        .ok();
    // A role requirement names no scope: no scope parameter.
    send(&app, "/admin", &[("authorization", &reader)])
        .await
        .refused(403, "insufficient_scope", INSUFFICIENT);
    // A scope of the role's name is not the role.
    let scoped_admin = bearer(&token(&with(json!({"scope": "Orders.Admin"}))));
    send(&app, "/admin", &[("authorization", &scoped_admin)])
        .await
        .refused(403, "insufficient_scope", INSUFFICIENT);

    // scope OR role.
    send(&app, "/either", &[("authorization", &admin)])
        .await
        .ok();
    let admin_scope = bearer(&token(&with(json!({"scope": "orders.admin"}))));
    send(&app, "/either", &[("authorization", &admin_scope)])
        .await
        .ok();
    send(&app, "/either", &[("authorization", &reader)])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.admin"));
}

#[tokio::test]
async fn std_6750_7_nested_router_requirement() {
    let app = scoped(TokenLayer::new(gate()));
    let items = bearer(&token(&with(json!({"scope": "items.read"}))));
    let plain = bearer(&valid());
    send(&app, "/v2/items", &[("authorization", &items)])
        .await
        .ok();
    send(&app, "/v2/items/42", &[("authorization", &items)])
        .await
        .ok();
    for path in ["/v2/items", "/v2/items/42"] {
        send(&app, path, &[("authorization", &plain)])
            .await
            .refused(403, "insufficient_scope", &insufficient("items.read"));
    }
    // The nested requirement does not leak to sibling routes.
    send(&app, "/orders", &[("authorization", &plain)])
        .await
        .ok();
}

#[tokio::test]
async fn std_6750_7_gate_requirement_is_403() {
    let gate = Gate::builder()
        .issuer(profile())
        .require(Requirement::scope("orders.admin"))
        .build()
        .unwrap();
    let app = app(TokenLayer::new(gate));
    send(&app, "/me", &[("authorization", &bearer(&valid()))])
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.admin"));
    let admin = token(&with(json!({"scope": "orders.admin"})));
    send(&app, "/me", &[("authorization", &bearer(&admin))])
        .await
        .ok();
    // A bad token is still a bad token, not a scope problem.
    let expired = token(&with(
        json!({"scope": "orders.admin", "exp": now() - 3600, "iat": now() - 7200}),
    ));
    send(&app, "/me", &[("authorization", &bearer(&expired))])
        .await
        .refused(401, "token_expired", EXPIRED);
}

#[tokio::test]
async fn require_layer_without_token_layer_is_a_bare_500() {
    // A server bug (layers in the wrong order), not the client's: fail closed, say nothing.
    let app = Router::new()
        .route("/orders", get(ok))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap());
    let answer = send(&app, "/orders", &[("authorization", &bearer(&valid()))]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.body.is_empty());
    assert!(answer.headers.get(WWW_AUTHENTICATE).is_none());
}

// ---------------------------------------------------------------------------------------------
// Optional authentication.

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through() {
    let layer = TokenLayer::builder(gate())
        .optional()
        .realm("orders")
        .build()
        .unwrap();
    let app = routes().layer(layer.clone());
    assert_eq!(send(&app, "/maybe", &[]).await.ok(), "anonymous");
    assert_eq!(
        send(&app, "/maybe", &[("authorization", &bearer(&valid()))])
            .await
            .ok(),
        "user user-1"
    );
    // Basic is no bearer credential: anonymous.
    assert_eq!(
        send(&app, "/maybe", &[("authorization", "Basic dXNlcjpwYXNz")])
            .await
            .ok(),
        "anonymous"
    );
    // A bad token is refused, optional or not.
    let expired = token(&with(json!({"exp": now() - 3600, "iat": now() - 7200})));
    send(&app, "/maybe", &[("authorization", &bearer(&expired))])
        .await
        .refused(
            401,
            "token_expired",
            &EXPIRED.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    send(&app, "/maybe", &[("authorization", "Bearer a b")])
        .await
        .refused(
            400,
            "malformed_credentials",
            &MALFORMED.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    send(&app, "/maybe?access_token=x", &[]).await.refused(
        400,
        "token_in_query",
        &IN_QUERY.replace("Bearer ", "Bearer realm=\"orders\", "),
    );
    // A handler that needs claims answers 401 with the layer's challenge.
    send(&app, "/verified", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    send(&app, "/typed", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    // Option<VerifiedClaims<T>>: None without a token, 401 if the claims do not fit.
    assert_eq!(send(&app, "/maybe-misfit", &[]).await.ok(), "no claims");
    send(
        &app,
        "/maybe-misfit",
        &[("authorization", &bearer(&valid()))],
    )
    .await
    .refused(
        401,
        "malformed_claims",
        &BAD_CLAIMS.replace("Bearer ", "Bearer realm=\"orders\", "),
    );
    // So does a route requirement.
    let scoped = scoped(layer);
    send(&scoped, "/orders", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    send(&scoped, "/open", &[]).await.ok();
}

// ---------------------------------------------------------------------------------------------
// Typed claims.

#[tokio::test]
async fn typed_claims_extraction() {
    let app = app(TokenLayer::new(gate()));
    let claims = valid_claims();
    let answer = send(
        &app,
        "/typed",
        &[("authorization", &bearer(&token(&claims)))],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"sub": "user-1", "aud": AUDIENCE, "scope": "orders.read orders.write", "exp": claims["exp"]})
    );
    // A valid token whose claims do not fit the handler's type.
    send(&app, "/misfit", &[("authorization", &bearer(&valid()))])
        .await
        .refused(401, "malformed_claims", BAD_CLAIMS);
    // A shape that fits once the claim is there.
    let tenant = token(&with(json!({"tenant": 7})));
    assert_eq!(
        send(&app, "/misfit", &[("authorization", &bearer(&tenant))])
            .await
            .ok(),
        "fits"
    );
}

// ---------------------------------------------------------------------------------------------
// The on_rejection hook.

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

// ---------------------------------------------------------------------------------------------
// Token sources.

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

// ---------------------------------------------------------------------------------------------
// Keys unavailable.

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
    // Dropped here: nothing listens on the port.
}

#[tokio::test]
async fn keys_unavailable_is_503_with_retry_after() {
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks_uri(format!("http://127.0.0.1:{}/jwks", closed_port())),
        )
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .connect_timeout(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    let app = app(TokenLayer::builder(gate).realm("orders").build().unwrap());
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let answer = send(&app, "/me", &[("authorization", &bearer(&valid()))]).await;
        assert_eq!(answer.status, 503, "{answer:?}");
        assert!(answer.header(WWW_AUTHENTICATE).is_none(), "{answer:?}");
        let retry: u64 = answer
            .header(RETRY_AFTER)
            .expect("Retry-After")
            .parse()
            .expect("an integer");
        assert!((1..=600).contains(&retry), "{retry}");
        answer.json_refusal("keys_unavailable", None);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Without a token nothing needs keys: the usual 401.
    send(&app, "/me", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    // A request refused before keys are needed is not a 503 either.
    let issuer = token(&with(json!({"iss": "https://evil.example.com/"})));
    send(&app, "/me", &[("authorization", &bearer(&issuer))])
        .await
        .refused(
            401,
            "untrusted_issuer",
            &BAD_ISSUER.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
}

// ---------------------------------------------------------------------------------------------
// Sensitive headers.

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

// ---------------------------------------------------------------------------------------------
// Builder checks.

#[test]
fn builder_refuses_bad_settings_and_lists_every_problem() {
    let err = TokenLayer::builder(gate())
        .token_sources([])
        .realm("a\"b")
        .build()
        .unwrap_err();
    let problems: Vec<_> = err.problems().map(str::to_owned).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("no token source"), "{problems:?}");
    assert!(problems[1].contains("realm"), "{problems:?}");

    let err = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::authorization_header(),
            TokenSource::cookie("bad name"),
            TokenSource::header(AUTHORIZATION),
            TokenSource::header(COOKIE),
            TokenSource::cookie(""),
        ])
        .realm("back\\slash")
        .build()
        .unwrap_err();
    let problems: Vec<_> = err.problems().map(str::to_owned).collect();
    assert_eq!(problems.len(), 6, "{problems:#?}");
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(has("given twice"), "{problems:#?}");
    assert!(has("\"bad name\""), "{problems:#?}");
    assert!(has("\"authorization\""), "{problems:#?}");
    assert!(has("\"cookie\""), "{problems:#?}");
    assert!(has("cookie \"\""), "{problems:#?}");
    assert!(has("realm"), "{problems:#?}");
    // Every problem is in the message.
    let message = err.to_string();
    for problem in &problems {
        assert!(message.contains(problem.as_str()), "{message}");
    }

    for realm in ["", "caf\u{e9}", "tab\there", "new\nline"] {
        assert!(
            TokenLayer::builder(gate()).realm(realm).build().is_err(),
            "{realm:?}"
        );
    }
    // Good settings build.
    TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("__Host-at"),
            TokenSource::header(HeaderName::from_static("x-access-token")),
        ])
        .realm("orders API")
        .resource_metadata(&resource())
        .optional()
        .build()
        .expect("valid settings");
}

// ---------------------------------------------------------------------------------------------
// Real servers.

/// Serves `app` over HTTP/1.1 with axum on 127.0.0.1.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, app)
}

fn serve_on(listener: TcpListener, app: Router) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Serves `app` over HTTP/2 (prior knowledge) with hyper on 127.0.0.1.
async fn serve_h2(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let app = app.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        app.clone().oneshot(request.map(Body::new))
                    });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Sends a GET with exactly these header lines over a fresh TCP connection and parses the
/// HTTP/1.1 answer.
async fn raw(addr: SocketAddr, path: &str, lines: &[String]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for line in lines {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
        .await
        .expect("answer in time")
        .unwrap();
    parse_http1(&bytes)
}

fn parse_http1(bytes: &[u8]) -> Answer {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = std::str::from_utf8(&bytes[..end]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut words = status_line.splitn(3, ' ');
    assert_eq!(words.next(), Some("HTTP/1.1"), "{status_line}");
    let status = StatusCode::from_bytes(words.next().unwrap().as_bytes()).unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    let mut body = bytes[end + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        body = dechunk(&body);
    } else if let Some(length) = headers.get("content-length") {
        let length: usize = length.to_str().unwrap().parse().unwrap();
        assert_eq!(body.len(), length, "body length");
    }
    Answer {
        status,
        headers,
        body: Bytes::from(body),
    }
}

fn dechunk(mut input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = input.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&input[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap(), 16).unwrap();
        input = &input[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}

fn line(name: &str, value: &str) -> String {
    format!("{name}: {value}")
}

#[tokio::test]
async fn http1_server_accepts_and_refuses() {
    let addr = serve(scoped(TokenLayer::new(gate()))).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let get = |path: &str, auth: Option<String>| {
        let mut request = Request::builder().uri(format!("http://{addr}{path}"));
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let answer = Answer::from(get("/orders", Some(bearer(&valid()))).await.unwrap()).await;
    assert_eq!(answer.ok(), "ok");
    Answer::from(get("/orders", None).await.unwrap())
        .await
        .refused(401, "missing_token", NO_ERROR);
    let writer = token(&with(json!({"scope": "orders.write"})));
    Answer::from(get("/orders", Some(bearer(&writer))).await.unwrap())
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.read"));
    let forged = impostor().token(&valid_claims());
    Answer::from(get("/orders", Some(bearer(&forged))).await.unwrap())
        .await
        .refused(401, "invalid_signature", BAD_SIGNATURE);
}

#[tokio::test]
async fn atk_39_raw_http1_two_authorization_headers() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    raw(
        addr,
        "/me",
        &[
            line("Authorization", &bearer(&token)),
            line("Authorization", &bearer(&token)),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    raw(
        addr,
        "/me",
        &[
            line("Authorization", "Basic dXNlcjpwYXNz"),
            line("authorization", &bearer(&token)),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    // One header, as a control.
    let answer = raw(addr, "/me", &[line("Authorization", &bearer(&token))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["sub"], "user-1");
}

#[tokio::test]
async fn atk_40_raw_http1_whitespace_and_syntax() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    // Accepted: lower-case scheme, several spaces, OWS around the field value (not part of
    // it, RFC 9110 §5.5), a header name in any case.
    for lines in [
        vec![format!("Authorization: bearer {token}")],
        vec![format!("Authorization: Bearer   {token}")],
        vec![format!("Authorization:    Bearer {token}   ")],
        vec![format!("Authorization:\tBearer {token}\t")],
        vec![format!("AUTHORIZATION: Bearer {token}")],
    ] {
        let answer = raw(addr, "/me", &lines).await;
        assert_eq!(answer.status, 200, "{lines:?}: {answer:?}");
        assert_eq!(answer.json()["sub"], "user-1");
    }
    // Refused as malformed: a tab after the scheme, the scheme alone, characters outside
    // b64token.
    for value in [
        format!("Bearer\t{token}"),
        format!("Bearer \t{token}"),
        "Bearer".to_owned(),
        format!("Bearer {token}\tx"),
        format!("Bearer {token}%"),
        format!("Bearer {}", token.replace('.', ",")),
    ] {
        raw(addr, "/me", &[line("Authorization", &value)])
            .await
            .refused(400, "malformed_credentials", MALFORMED);
    }
    // Basic: no bearer credential.
    raw(addr, "/me", &[line("Authorization", "Basic dXNlcjpwYXNz")])
        .await
        .refused(401, "missing_token", NO_ERROR);
    // No Authorization at all.
    raw(addr, "/me", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
}

#[tokio::test]
async fn std_6750_3_4_raw_http1_query_tokens() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    raw(
        addr,
        &format!("/me?access_token={token}"),
        &[line("Authorization", &bearer(&token))],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    raw(addr, &format!("/me?access_token={token}"), &[])
        .await
        .refused(400, "token_in_query", IN_QUERY);
}

#[tokio::test]
async fn std_6750_4_raw_http1_header_and_cookie() {
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let addr = serve(app(layer)).await;
    let token = valid();
    raw(
        addr,
        "/me",
        &[
            line("Authorization", &bearer(&token)),
            line("Cookie", &format!("at={token}")),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    // Two Cookie header lines (HTTP/1.1 allows only one, but servers see both).
    raw(
        addr,
        "/me",
        &[
            line("Cookie", &format!("at={token}")),
            line("Cookie", &format!("at={token}")),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    let answer = raw(addr, "/me", &[line("Cookie", &format!("a=1; at={token}"))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn std_9728_5_discovery_over_a_real_server() {
    // The identifier is this server's own URL, so the challenge's URL can be fetched.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let identifier = format!("http://127.0.0.1:{port}/api");
    let resource = ProtectedResource::builder(identifier.clone())
        .authorization_server(ISSUER)
        .build()
        .unwrap();
    let layer = TokenLayer::builder(gate())
        .resource_metadata(&resource)
        .build()
        .unwrap();
    let protected = Router::new().route("/api", get(ok)).layer(layer);
    let app = Router::new()
        .route_service(resource.well_known_path(), resource.service())
        .merge(protected);
    let addr = serve_on(listener, app);

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let fetch =
        |url: String| client.request(Request::builder().uri(url).body(Full::default()).unwrap());
    let answer = Answer::from(fetch(format!("http://{addr}/api")).await.unwrap()).await;
    let metadata_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/api");
    answer.refused(
        401,
        "missing_token",
        &format!(r#"Bearer resource_metadata="{metadata_url}""#),
    );
    let parsed = challenge::parse_bearer(answer.header(WWW_AUTHENTICATE).unwrap()).unwrap();
    let url = parsed[0].param("resource_metadata").unwrap().to_owned();
    assert_eq!(url, resource.metadata_url());

    let document = Answer::from(fetch(url).await.unwrap()).await;
    assert_eq!(document.status, 200, "{document:?}");
    assert_eq!(document.header(CONTENT_TYPE), Some("application/json"));
    assert_eq!(document.json()["resource"], identifier);
    assert_eq!(document.json()["authorization_servers"], json!([ISSUER]));
}

#[tokio::test]
async fn authorization_is_sensitive_behind_a_real_server() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let answer = raw(
        addr,
        "/sensitive",
        &[line("Authorization", &bearer(&valid()))],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["authorization"], true);
}

#[tokio::test]
async fn http2_server_accepts_and_refuses() {
    let addr = serve_h2(scoped(TokenLayer::new(gate()))).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let send = |path: &str, auth: &[String]| {
        let mut request = Request::builder().uri(format!("http://{addr}{path}"));
        for value in auth {
            request = request.header(AUTHORIZATION, value);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let token = valid();
    let answer = Answer::from(send("/orders", &[bearer(&token)]).await.unwrap()).await;
    assert_eq!(answer.ok(), "ok");
    Answer::from(send("/orders", &[]).await.unwrap())
        .await
        .refused(401, "missing_token", NO_ERROR);
    Answer::from(
        send("/orders", &[bearer(&token), bearer(&token)])
            .await
            .unwrap(),
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    Answer::from(
        send("/orders", &[format!("Bearer\t{token}")])
            .await
            .unwrap(),
    )
    .await
    .refused(400, "malformed_credentials", MALFORMED);
    let nobody = bearer(&scoped_token("profile"));
    Answer::from(send("/v2/items", &[nobody]).await.unwrap())
        .await
        .refused(403, "insufficient_scope", &insufficient("items.read"));
}

#[tokio::test]
async fn http2_cookie_crumbs() {
    // HTTP/2 clients may split the Cookie header into one field per cookie (RFC 9113
    // §8.2.3); the token is found in whichever field it is.
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let addr = serve_h2(app(layer)).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let send = |cookies: &[String]| {
        let mut request = Request::builder().uri(format!("http://{addr}/me"));
        for value in cookies {
            request = request.header(COOKIE, value);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let token = valid();
    let answer = Answer::from(
        send(&[
            "theme=dark".to_owned(),
            format!("at={token}"),
            "lang=en".to_owned(),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["sub"], "user-1");
    Answer::from(
        send(&[format!("at={token}"), format!("at={token}")])
            .await
            .unwrap(),
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

// ---------------------------------------------------------------------------------------------
// Keys fetched while the request waits.

#[tokio::test]
async fn remote_keys_fetched_during_requests() {
    let issuer = tokengate::testing::TestIssuer::with_algorithms([Algorithm::ES256])
        .await
        .unwrap();
    let app = app(TokenLayer::builder(issuer.gate())
        .realm("orders")
        .build()
        .unwrap());
    let token = issuer.token().subject("alice").scope("orders.read").sign();
    // The first requests find no keys, wait for one shared fetch, then reach the handler.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let app = app.clone();
        let auth = bearer(&token);
        tasks.spawn(async move { send(&app, "/me", &[("authorization", &auth)]).await });
    }
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(
            answer.json(),
            json!({"sub": "alice", "scopes": ["orders.read"], "roles": []})
        );
    }
    assert_eq!(issuer.jwks_requests(), 1);
    // A kid the issuer never published, within the cooldown: the keys are current, so the
    // token is at fault.
    let unknown = issuer.token().header("kid", "nope").sign();
    send(&app, "/me", &[("authorization", &bearer(&unknown))])
        .await
        .refused(
            401,
            "unknown_key",
            r#"Bearer realm="orders", error="invalid_token", error_description="The access token signing key is not known.""#,
        );
    // A signature that fails with the current keys.
    let tampered = issuer.token().tampered().sign();
    send(&app, "/me", &[("authorization", &bearer(&tampered))])
        .await
        .refused(
            401,
            "invalid_signature",
            &BAD_SIGNATURE.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn extractors_without_token_layer_are_a_bare_500() {
    // Without a TokenLayer no one is treated as anonymous, or told their token is missing.
    let app = routes();
    for (path, headers) in [
        ("/verified", vec![("authorization", bearer(&valid()))]),
        ("/typed", vec![]),
        ("/maybe", vec![]),
        ("/maybe", vec![("authorization", bearer(&valid()))]),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = send(&app, path, &headers).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(answer.body.is_empty(), "{path}");
    }
}

// ---------------------------------------------------------------------------------------------
// Review follow-ups: key-bound tokens, caches, gRPC detection, bad requirements.

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
    // A real gRPC call: trailers-only, whatever the case of the media type.
    let request = Request::post("/me")
        .header("content-type", "Application/GRPC+proto")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
}

#[test]
fn require_layer_refuses_a_scope_with_a_space() {
    let error = RequireLayer::new(Requirement::scope("orders.read orders.write")).unwrap_err();
    let problems: Vec<&str> = error.problems().collect();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("RequireLayer: "), "{problems:?}");
    assert!(problems[0].contains("space"), "{problems:?}");
    assert!(RequireLayer::new(Requirement::any_scope(Vec::<String>::new())).is_err());
    assert!(RequireLayer::new(Requirement::all_roles(Vec::<String>::new())).is_err());
    assert!(RequireLayer::new(Requirement::scope("orders.read")).is_ok());
}
