//! What the provider issues (as configured in tests/idp/server.mjs), the expected challenges (exact
//! values), tokens looked at without validating them, and the gates and the API under test.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use http::header::{AUTHORIZATION, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use serde::Deserialize;
use serde_json::{Value, json};
use tokengate::axum::{Verified, VerifiedClaims};
use tokengate::{
    Algorithm, Gate, IssuerProfile, KeyCacheSettings, RequireLayer, Requirement, TokenLayer,
};
use tokengate_testkit::challenge;
use tokio::net::TcpListener;

use super::idp::Idp;

/// The API these tests protect: a resource indicator (RFC 8707), which becomes `aud`.
pub(crate) const ORDERS: &str = "https://api.example.test/orders";
/// Another API of the same provider.
pub(crate) const BILLING: &str = "https://api.example.test/billing";

/// Every algorithm the provider has a key for.
pub(crate) const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// A confidential client of the provider.
pub(crate) struct OAuthClient {
    pub(crate) id: &'static str,
    pub(crate) secret: &'static str,
    /// `client_secret_basic`; otherwise `client_secret_post`.
    pub(crate) basic: bool,
}

/// May ask for orders.read, orders.write and billing.read; holds the role `orders.admin`.
pub(crate) const ORDERS_SERVICE: OAuthClient = OAuthClient {
    id: "orders-service",
    secret: "orders-service-secret-3f9c2a7e61d84b0c",
    basic: true,
};

/// May ask for orders.read and reports.read; holds no role.
pub(crate) const REPORTING_JOB: OAuthClient = OAuthClient {
    id: "reporting-job",
    secret: "reporting-job-secret-8d1e5b2f07a94c63",
    basic: false,
};

/// May ask for orders.read; gets DPoP-bound tokens only (`dpop_bound_access_tokens`).
pub(crate) const DPOP_AGENT: OAuthClient = OAuthClient {
    id: "dpop-agent",
    secret: "dpop-agent-secret-5a0e7c93b14f2d68",
    basic: true,
};

/// May ask for orders.read; gets certificate-bound tokens only
/// (`tls_client_certificate_bound_access_tokens`), so it asks over TLS with a certificate.
pub(crate) const MTLS_AGENT: OAuthClient = OAuthClient {
    id: "mtls-agent",
    secret: "mtls-agent-secret-c27b94e0d6a8513f",
    basic: true,
};

pub(crate) const EXPIRED: &str =
    r#"Bearer error="invalid_token", error_description="The access token has expired.""#;
pub(crate) const BAD_AUDIENCE: &str = r#"Bearer error="invalid_token", error_description="The access token is not meant for this resource.""#;
pub(crate) const UNKNOWN_KEY: &str = r#"Bearer error="invalid_token", error_description="The access token signing key is not known.""#;
const INSUFFICIENT: &str = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;

pub(crate) fn insufficient(scope: &str) -> String {
    format!(r#"{INSUFFICIENT}, scope="{scope}""#)
}

pub(crate) use tokengate_testkit::token_parts::{altered_signature, header, payload};

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Keys over plain http from loopback, at most one fetch a second.
pub(crate) fn key_cache() -> KeyCacheSettings {
    KeyCacheSettings::default()
        .allow_http_loopback()
        .cooldown(Duration::from_secs(1))
        .min_ttl(Duration::from_secs(1))
}

/// The provider, found by discovery, for the orders API.
pub(crate) fn profile(idp: &Idp) -> IssuerProfile {
    IssuerProfile::new(&idp.issuer).audience(ORDERS).discover()
}

pub(crate) fn gate(profile: IssuerProfile, cache: KeyCacheSettings) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(cache)
        .build()
        .expect("valid gate")
}

async fn orders(claims: Verified) -> String {
    format!("orders of {}", claims.client_id().unwrap_or("?"))
}

/// Claims of oidc-provider's tokens beyond those `Claims` knows: RFC 9068's `jti` and `iat`,
/// and the provider's `extraTokenClaims`.
#[derive(Deserialize)]
pub(crate) struct Extra {
    jti: String,
    iat: i64,
    tenant: String,
    env: Env,
}

#[derive(Deserialize)]
struct Env {
    name: String,
    region: String,
}

async fn claims(claims: Verified, VerifiedClaims(extra): VerifiedClaims<Extra>) -> Json<Value> {
    Json(json!({
        "issuer": claims.issuer(),
        "subject": claims.subject(),
        "client_id": claims.client_id(),
        "audiences": claims.audiences().collect::<Vec<_>>(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
        "roles": claims.roles().collect::<Vec<_>>(),
        "kind": format!("{:?}", claims.token_kind()),
        "jti": extra.jti,
        "iat": extra.iat,
        "tenant": extra.tenant,
        "env": [extra.env.name, extra.env.region],
    }))
}

async fn ok() -> &'static str {
    "ok"
}

/// `/orders` and `/claims` for any valid token; `/orders/write` needs `orders.write`,
/// `/reports` `reports.read`, `/admin` the role `orders.admin`.
pub(crate) fn app(layer: TokenLayer) -> Router {
    let guarded = |path: &str, requirement: Requirement| {
        Router::new()
            .route(path, get(ok))
            .route_layer(RequireLayer::new(requirement).unwrap())
    };
    Router::new()
        .route("/orders", get(orders))
        .route("/claims", get(claims))
        .merge(guarded("/orders/write", Requirement::scope("orders.write")))
        .merge(guarded("/reports", Requirement::scope("reports.read")))
        .merge(guarded("/admin", Requirement::role("orders.admin")))
        .layer(layer)
}

/// An API behind a `TokenLayer`, served by axum (hyper) on 127.0.0.1; stops with the test's
/// runtime.
pub(crate) struct Api {
    /// `http://127.0.0.1:PORT` (or `https://` for the TLS server of the mTLS tests).
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Api {
    pub(crate) async fn serve(gate: Gate) -> Api {
        Api::serve_with(|_| TokenLayer::new(gate)).await
    }

    /// Serves the layer `layer` makes for the API's own URL (DPoP needs its `public_url`).
    pub(crate) async fn serve_with(layer: impl FnOnce(&str) -> TokenLayer) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = app(layer(&base));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Api { base, http }
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(
            path,
            &[(AUTHORIZATION.as_str(), &format!("Bearer {token}"))],
        )
        .await
    }

    /// A GET of `path` with these headers.
    pub(crate) async fn send(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("a response from the API");
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let challenge = header(WWW_AUTHENTICATE);
        let cache_control = header(CACHE_CONTROL);
        let retry_after = header(RETRY_AFTER);
        let body = response.text().await.unwrap();
        Answer {
            status,
            challenge,
            cache_control,
            retry_after,
            body,
        }
    }
}

/// What the API answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) challenge: Option<String>,
    cache_control: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub(crate) fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("?").to_owned()
    }

    #[track_caller]
    pub(crate) fn assert_ok(&self) {
        assert_eq!(self.status, StatusCode::OK, "refused: {}", self.body);
    }

    /// The exact refusal: status, challenge (strictly parsed), body code, `no-store`.
    #[track_caller]
    pub(crate) fn assert_refused(&self, status: StatusCode, code: &str, challenge: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert_eq!(self.challenge.as_deref(), Some(challenge), "{self:?}");
        challenge::parse_bearer(challenge).expect("an RFC 6750 challenge");
        assert_eq!(self.cache_control.as_deref(), Some("no-store"));
    }
}
