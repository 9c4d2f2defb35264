//! Shared by the tests: the expected challenges (exact values); keys, tokens and gates; the
//! routers under test; sending a request and checking the answer.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokengate::axum::{Verified, VerifiedClaims};
use tokengate::{
    Algorithm, Claims, Gate, IssuerProfile, ProtectedResource, RequireLayer, Requirement,
    TokenLayer,
};
use tower::ServiceExt;

use tokengate_testkit::{AUDIENCE, ISSUER, TestKey, challenge, jwks, now, valid_claims};

pub(crate) const NO_ERROR: &str = "Bearer";
pub(crate) const MALFORMED: &str = r#"Bearer error="invalid_request", error_description="The request's access token credential is malformed.""#;
pub(crate) const MULTIPLE: &str = r#"Bearer error="invalid_request", error_description="The request carries more than one access token.""#;
pub(crate) const IN_QUERY: &str = r#"Bearer error="invalid_request", error_description="Access tokens are not accepted in the URL query.""#;
pub(crate) const EXPIRED: &str =
    r#"Bearer error="invalid_token", error_description="The access token has expired.""#;
pub(crate) const BAD_SIGNATURE: &str =
    r#"Bearer error="invalid_token", error_description="The access token signature is invalid.""#;
pub(crate) const BAD_AUDIENCE: &str = r#"Bearer error="invalid_token", error_description="The access token is not meant for this resource.""#;
pub(crate) const BAD_ISSUER: &str =
    r#"Bearer error="invalid_token", error_description="The access token issuer is not trusted.""#;
pub(crate) const BAD_CLAIMS: &str =
    r#"Bearer error="invalid_token", error_description="The access token claims are malformed.""#;
pub(crate) const INSUFFICIENT: &str = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;

pub(crate) fn insufficient(scope: &str) -> String {
    format!(r#"{INSUFFICIENT}, scope="{scope}""#)
}

/// The issuer's key (ES256: fast to generate).
fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

/// Another key under the same `kid`: its signatures do not verify with the issuer's key.
pub(crate) fn impostor() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

pub(crate) fn profile() -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks(&[key()]))
}

pub(crate) fn gate() -> Gate {
    Gate::builder()
        .issuer(profile())
        .build()
        .expect("valid gate")
}

pub(crate) fn token(claims: &Value) -> String {
    key().token(claims)
}

pub(crate) fn valid() -> String {
    token(&valid_claims())
}

pub(crate) fn with(changes: Value) -> Value {
    let mut claims = valid_claims();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

pub(crate) fn expired_token() -> String {
    token(&with(
        json!({"exp": now() - 3600, "iat": now() - 7200, "nbf": now() - 7200}),
    ))
}

pub(crate) fn scoped_token(scope: &str) -> String {
    token(&with(json!({"scope": scope})))
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

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

pub(crate) async fn ok() -> &'static str {
    "ok"
}

pub(crate) fn routes() -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/verified", get(verified))
        .route("/maybe", get(maybe))
        .route("/typed", get(typed))
        .route("/misfit", get(misfit))
        .route("/maybe-misfit", get(maybe_misfit))
        .route("/sensitive", get(sensitive))
}

pub(crate) fn app(layer: TokenLayer) -> Router {
    routes().layer(layer)
}

/// Per-route requirements, and a nested router with a requirement of its own.
pub(crate) fn scoped(layer: TokenLayer) -> Router {
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

pub(crate) fn resource() -> ProtectedResource {
    ProtectedResource::builder("https://api.example.com/orders")
        .authorization_server(ISSUER)
        .scopes_supported(["orders.read", "orders.write"])
        .resource_name("Orders API")
        .build()
        .expect("valid resource")
}

pub(crate) const METADATA_URL: &str =
    "https://api.example.com/.well-known/oauth-protected-resource/orders";

/// The protected routes behind a layer with realm and resource metadata, and the metadata
/// document outside it.
pub(crate) fn with_metadata(resource: &ProtectedResource) -> Router {
    let layer = TokenLayer::builder(gate())
        .realm("orders")
        .resource_metadata(resource)
        .build()
        .unwrap();
    Router::new()
        .route_service(resource.well_known_path(), resource.service())
        .merge(scoped(layer))
}

#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) async fn from<B>(response: Response<B>) -> Answer
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

    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("visible ASCII"))
    }

    /// A 200 from the handler; its body.
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.text()
    }

    /// Checks a refusal: exact status, challenge, body and headers.
    pub(crate) fn refused(&self, status: u16, code: &str, challenge: &str) {
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
    pub(crate) fn json_refusal(&self, code: &str, error: Option<&str>) {
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

pub(crate) async fn send(app: &Router, path: &str, headers: &[(&str, &str)]) -> Answer {
    let response = app
        .clone()
        .oneshot(get_req(path, headers))
        .await
        .expect("infallible");
    Answer::from(response).await
}
