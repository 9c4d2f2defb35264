//! The test issuer's HTTP server: discovery and the JWK Set over HTTP/1.1 on 127.0.0.1, with
//! hyper, one task per connection.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::Shared;

pub(super) const JWKS_PATH: &str = "/jwks";
pub(super) const OIDC_PATH: &str = "/.well-known/openid-configuration";
pub(super) const RFC8414_PATH: &str = "/.well-known/oauth-authorization-server";
pub(super) const INTROSPECT_PATH: &str = "/introspect";
pub(super) const TOKEN_PATH: &str = "/token";
pub(super) const MINT_PATH: &str = "/mint";

/// Accepts connections until the task is aborted; each connection is served by its own task,
/// which ends with this one (the `JoinSet` aborts them when dropped).
pub(super) async fn run(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        // Forget connections that have ended.
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, say: try again shortly rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(respond(&shared, request).await) }
            });
            // A connection that fails or is closed early concerns nobody else.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What a path serves.
#[derive(Clone, Copy)]
enum Resource {
    Metadata,
    Jwks,
}

async fn respond(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    match request.uri().path() {
        INTROSPECT_PATH => return introspect(shared, request).await,
        TOKEN_PATH | MINT_PATH => return issue(shared, request).await,
        _ => {}
    }
    let resource = match request.uri().path() {
        OIDC_PATH | RFC8414_PATH => {
            shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
            Some(Resource::Metadata)
        }
        JWKS_PATH => {
            shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
            Some(Resource::Jwks)
        }
        _ => None,
    };
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let Some(resource) = resource else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, http::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    if shared.outage.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    let body = match resource {
        Resource::Metadata => shared.metadata(),
        Resource::Jwks => shared.jwks(),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// RFC 7662 §2: `POST` a form with the token, from an authenticated client.
async fn introspect(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    shared.introspection_requests.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if request.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    if shared.outage.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    let basic = super::opaque::basic(request.headers().get(http::header::AUTHORIZATION));
    // RFC 9701: a signed answer for a client that asks for one.
    let signed = request
        .headers()
        .get(http::header::ACCEPT)
        .is_some_and(|accept| accept.as_bytes() == b"application/token-introspection+jwt");
    let Ok(body) = http_body_util::BodyExt::collect(request.into_body()).await else {
        return plain(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    match shared.opaque.introspect(basic, &body.to_bytes(), now) {
        Some(answer) if signed => {
            let key = shared.current_or_add(shared.default_alg);
            let header = serde_json::json!({
                "alg": key.alg().name(),
                "kid": key.kid(),
                "typ": "token-introspection+jwt",
            });
            let inner: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            let claims = serde_json::json!({
                "iss": shared.issuer,
                "aud": super::opaque::CLIENT_ID,
                "iat": now,
                "token_introspection": inner,
            });
            let mut response = Response::new(Full::new(Bytes::from(
                key.token_with_header(&header, &claims),
            )));
            response.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("application/token-introspection+jwt"),
            );
            response
        }
        Some(answer) => {
            let mut response = Response::new(Full::new(Bytes::from(answer)));
            response.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            response
        }
        None => plain(StatusCode::UNAUTHORIZED, "client authentication failed"),
    }
}

/// The token endpoint and `/mint`: `POST` only.
async fn issue(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if request.method() != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, http::HeaderValue::from_static("POST"));
        return response;
    }
    if shared.outage.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    let mint = request.uri().path() == MINT_PATH;
    let query = request.uri().query().map(str::to_owned);
    let basic = super::opaque::basic(request.headers().get(http::header::AUTHORIZATION));
    // Claims or a form: 64 KiB is plenty, and bounds what a request can make us hold.
    let limited = http_body_util::Limited::new(request.into_body(), 64 * 1024);
    let Ok(body) = http_body_util::BodyExt::collect(limited).await else {
        return plain(
            StatusCode::BAD_REQUEST,
            "unreadable body, or larger than 64 KiB",
        );
    };
    let body = body.to_bytes();
    let (status, content_type, text) = if mint {
        super::issue::mint(shared, query.as_deref(), &body)
    } else {
        super::issue::token(shared, basic, &body)
    };
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    // RFC 6749 §5.1: token responses are not cached.
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
