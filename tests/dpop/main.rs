//! Sender-constrained tokens through the layer (RFC 9449 DPoP, RFC 8705 mTLS): every ATK-36
//! and ATK-37 case by name, the challenges, nonces, the policy per issuer and per route, and a
//! replay store that cannot answer.

mod certificates;
mod policy;
mod proofs;

use std::sync::Arc;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::{Method, Request, Response, StatusCode};
use tokengate::testing::{DpopKey, ProofBuilder, TestIssuer};
use tokengate::{Algorithm, Claims, Dpop, DpopMode, Gate, TokenLayer, TokenLayerBuilder};
use tower::ServiceExt;

use tokengate_testkit::challenge::{Challenge, parse};

/// The URL clients call the API under.
pub(crate) const PUBLIC: &str = "https://api.example.com";
pub(crate) const ORDERS: &str = "https://api.example.com/orders";

/// A test issuer and a client key.
pub(crate) struct World {
    pub(crate) issuer: TestIssuer,
    pub(crate) client: DpopKey,
}

impl World {
    pub(crate) async fn new() -> World {
        World {
            issuer: TestIssuer::start().await.expect("test issuer"),
            client: DpopKey::generate(Algorithm::ES256),
        }
    }

    /// A gate whose issuer has this mode, with these DPoP settings.
    pub(crate) fn gate_with(&self, mode: DpopMode, dpop: Dpop) -> Gate {
        Gate::builder()
            .issuer(
                tokengate::IssuerProfile::new(self.issuer.issuer())
                    .audience(self.issuer.audience())
                    .jwks(self.issuer.jwks())
                    .dpop(mode),
            )
            .dpop(dpop)
            .build()
            .expect("valid gate")
    }

    pub(crate) fn gate(&self, mode: DpopMode) -> Gate {
        self.gate_with(mode, Dpop::new())
    }

    /// A token bound to the client key.
    pub(crate) fn bound(&self) -> String {
        self.issuer.token().bound_to(&self.client).sign()
    }

    /// A proof of the client key for `GET /orders` presenting `token`, to change one thing.
    pub(crate) fn proof_for(&self, token: &str) -> ProofBuilder<'_> {
        self.client.proof(&Method::GET, ORDERS).token(token)
    }

    /// A valid proof of the client key for `GET /orders` presenting `token`.
    pub(crate) fn proof(&self, token: &str) -> String {
        self.proof_for(token).sign()
    }
}

/// The app: `GET /orders` answers the subject, `POST /orders` too.
pub(crate) fn app(layer: TokenLayer) -> Router {
    async fn subject(Extension(claims): Extension<Arc<Claims>>) -> String {
        claims.subject().unwrap_or("?").to_owned()
    }
    Router::new()
        .route("/orders", get(subject).merge(post(subject)))
        .layer(layer)
}

pub(crate) fn layer(gate: Gate) -> TokenLayerBuilder {
    TokenLayer::builder(gate).public_url(PUBLIC)
}

/// Sends a request with these headers.
pub(crate) async fn send(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// `GET /orders` with `Authorization: DPoP <token>` and `DPoP: <proof>`.
pub(crate) async fn get_dpop(app: &Router, token: &str, proof: &str) -> Response<Body> {
    send(
        app,
        Method::GET,
        "/orders",
        &[("authorization", &format!("DPoP {token}")), ("dpop", proof)],
    )
    .await
}

/// The code of a refusal's JSON body.
pub(crate) async fn code(response: Response<Body>) -> String {
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    json["code"].as_str().unwrap_or("(no code)").to_owned()
}

/// The challenges of a response, parsed strictly.
pub(crate) fn challenges(response: &Response<Body>) -> Vec<Challenge> {
    let value = response
        .headers()
        .get("www-authenticate")
        .expect("a challenge")
        .to_str()
        .unwrap();
    parse(value).unwrap_or_else(|error| panic!("{value:?}: {error}"))
}

/// Expects a refusal with this status and code; returns its challenges.
pub(crate) async fn refused(
    response: Response<Body>,
    status: StatusCode,
    expected: &str,
) -> Vec<Challenge> {
    assert_eq!(response.status(), status, "{expected}");
    let challenges = if status == StatusCode::SERVICE_UNAVAILABLE {
        Vec::new()
    } else {
        challenges(&response)
    };
    assert_eq!(code(response).await, expected);
    challenges
}

/// Expects the request to pass, as the test issuer's default subject.
pub(crate) async fn accepted(response: Response<Body>) {
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..], b"test-user");
}

/// The one challenge of `scheme`.
pub(crate) fn scheme<'a>(challenges: &'a [Challenge], scheme: &str) -> &'a Challenge {
    let found: Vec<_> = challenges
        .iter()
        .filter(|c| c.scheme.eq_ignore_ascii_case(scheme))
        .collect();
    assert_eq!(found.len(), 1, "{challenges:?}");
    found[0]
}
