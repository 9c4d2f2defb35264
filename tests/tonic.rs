//! tonic compatibility: `TokenLayer` (and `RequireLayer`) on a tonic server serving the gRPC
//! health service, called with tonic_health's client over HTTP/2 on 127.0.0.1.
//!
//! A gRPC call (`content-type: application/grpc`) is refused with a gRPC trailers-only answer:
//! `grpc-status` 16 (`Unauthenticated`) for a missing, bad or malformed credential, 7
//! (`PermissionDenied`) for a missing scope, 14 (`Unavailable`) without keys, the description
//! in `grpc-message`, and the same `WWW-Authenticate` challenge as over plain HTTP.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use http_body_util::BodyExt;

use serde_json::{Value, json};
use tokengate::{
    Algorithm, Gate, IssuerProfile, KeyCacheSettings, RequireLayer, Requirement, TokenLayer,
};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::HealthReporter;
use tower::{Layer, ServiceExt};

use tokengate_testkit::{AUDIENCE, ISSUER, TestKey, challenge, jwks, now, valid_claims};

fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

fn impostor() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "es-1"))
}

fn gate() -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[key()])),
        )
        .build()
        .expect("valid gate")
}

fn with(changes: Value) -> Value {
    let mut claims = valid_claims();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn valid() -> String {
    key().token(&valid_claims())
}

/// A tonic server with the health service behind `TokenLayer` (and, with `require`, a
/// `RequireLayer` inside it); the reporter must live as long as the server.
async fn serve(require: Option<Requirement>) -> (SocketAddr, HealthReporter) {
    serve_gate(gate(), require).await
}

async fn serve_gate(gate: Gate, require: Option<Requirement>) -> (SocketAddr, HealthReporter) {
    let (reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let addr = incoming.local_addr().unwrap();
    let builder = Server::builder().layer(TokenLayer::new(gate));
    match require {
        Some(requirement) => {
            let server = builder.layer(RequireLayer::new(requirement).unwrap());
            tokio::spawn(async move { server.serve_with_incoming(health, incoming).await });
        }
        None => {
            tokio::spawn(async move { builder.serve_with_incoming(health, incoming).await });
        }
    }
    (addr, reporter)
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect");
    HealthClient::new(channel)
}

async fn check(
    client: &mut HealthClient<Channel>,
    authorization: Option<&str>,
) -> Result<HealthCheckResponse, tonic::Status> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(value) = authorization {
        let value: MetadataValue<_> = value.parse().expect("ASCII metadata");
        request.metadata_mut().insert("authorization", value);
    }
    client.check(request).await.map(tonic::Response::into_inner)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Checks a refusal's gRPC status: code, message and the challenge in the metadata.
fn refused(status: &tonic::Status, code: Code, message: &str, challenge: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), message, "{status:?}");
    let value = status
        .metadata()
        .get("www-authenticate")
        .expect("WWW-Authenticate")
        .to_str()
        .unwrap();
    assert_eq!(value, challenge);
    challenge::parse_bearer(value).expect("strict RFC 9110 / RFC 6750");
}

const MISSING: &str = "The request carries no access token.";

#[tokio::test]
async fn valid_token_is_served() {
    let (addr, _reporter) = serve(None).await;
    let mut client = client(addr).await;
    let response = check(&mut client, Some(&bearer(&valid())))
        .await
        .expect("served");
    assert_eq!(response.status(), ServingStatus::Serving);
    // Lower-case scheme too.
    let response = check(&mut client, Some(&format!("bearer {}", valid())))
        .await
        .expect("served");
    assert_eq!(response.status(), ServingStatus::Serving);
}

#[tokio::test]
async fn no_token_is_unauthenticated() {
    let (addr, _reporter) = serve(None).await;
    let mut client = client(addr).await;
    let status = check(&mut client, None).await.unwrap_err();
    refused(&status, Code::Unauthenticated, MISSING, "Bearer");
    let status = check(&mut client, Some("Basic dXNlcjpwYXNz"))
        .await
        .unwrap_err();
    refused(&status, Code::Unauthenticated, MISSING, "Bearer");
    // The connection is still good afterwards.
    check(&mut client, Some(&bearer(&valid())))
        .await
        .expect("served");
}

#[tokio::test]
async fn bad_token_is_unauthenticated() {
    let (addr, _reporter) = serve(None).await;
    let mut client = client(addr).await;
    let expired = key().token(&with(
        json!({"exp": now() - 3600, "iat": now() - 7200, "nbf": now() - 7200}),
    ));
    let forged = impostor().token(&valid_claims());
    let audience = key().token(&with(json!({"aud": "api://payments"})));
    for (token, description) in [
        (expired, "The access token has expired."),
        (forged, "The access token signature is invalid."),
        (audience, "The access token is not meant for this resource."),
        (
            "abc".to_owned(),
            "The access token is not a well-formed JWT.",
        ),
    ] {
        let status = check(&mut client, Some(&bearer(&token))).await.unwrap_err();
        refused(
            &status,
            Code::Unauthenticated,
            description,
            &format!(r#"Bearer error="invalid_token", error_description="{description}""#),
        );
    }
}

#[tokio::test]
async fn malformed_credentials_are_unauthenticated() {
    let (addr, _reporter) = serve(None).await;
    let mut client = client(addr).await;
    let description = "The request's access token credential is malformed.";
    for value in ["Bearer".to_owned(), format!("Bearer\t{}", valid())] {
        let status = check(&mut client, Some(&value)).await.unwrap_err();
        refused(
            &status,
            Code::Unauthenticated,
            description,
            &format!(r#"Bearer error="invalid_request", error_description="{description}""#),
        );
    }
}

#[tokio::test]
async fn require_layer_is_permission_denied() {
    let (addr, _reporter) = serve(Some(Requirement::scope("health.read"))).await;
    let mut client = client(addr).await;
    // orders.read and orders.write only.
    let status = check(&mut client, Some(&bearer(&valid())))
        .await
        .unwrap_err();
    let description = "The access token does not grant the required scope or role.";
    refused(
        &status,
        Code::PermissionDenied,
        description,
        &format!(
            r#"Bearer error="insufficient_scope", error_description="{description}", scope="health.read""#
        ),
    );
    let allowed = key().token(&with(json!({"scope": "health.read"})));
    let response = check(&mut client, Some(&bearer(&allowed)))
        .await
        .expect("served");
    assert_eq!(response.status(), ServingStatus::Serving);
    // Without a token the outer layer answers first.
    let status = check(&mut client, None).await.unwrap_err();
    refused(&status, Code::Unauthenticated, MISSING, "Bearer");
}

#[tokio::test]
async fn keys_unavailable_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks_uri(format!("http://127.0.0.1:{port}/jwks")),
        )
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()
        .unwrap();
    let (addr, _reporter) = serve_gate(gate, None).await;
    let mut client = client(addr).await;
    let status = check(&mut client, Some(&bearer(&valid())))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        status.message(),
        "The token issuer's keys are temporarily unavailable."
    );
    // No challenge: the token was not judged.
    assert!(status.metadata().get("www-authenticate").is_none());
}

/// The trailers-only answer itself, as an HTTP response.
#[tokio::test]
async fn refusal_is_a_trailers_only_grpc_response() {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let service = TokenLayer::new(gate()).layer(health);
    let request = http::Request::builder()
        .method("POST")
        .version(http::Version::HTTP_2)
        .uri("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::empty())
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), service.oneshot(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/grpc");
    assert_eq!(headers["grpc-status"], "16");
    assert_eq!(headers["grpc-message"], MISSING);
    assert_eq!(headers["www-authenticate"], "Bearer");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(body.is_empty(), "{body:?}");

    // A plain HTTP request to the same service gets the HTTP answer.
    let (_reporter, health) = tonic_health::server::health_reporter();
    let service = TokenLayer::new(gate()).layer(health);
    let request = http::Request::builder()
        .method("POST")
        .uri("/grpc.health.v1.Health/Check")
        .body(tonic::body::Body::empty())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().get("grpc-status").is_none());
}
