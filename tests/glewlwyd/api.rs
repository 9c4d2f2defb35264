//! The API under test: axum behind `TokenLayer`, served by hyper on 127.0.0.1; what it answers,
//! and the exact challenges expected.

use std::net::SocketAddr;
use std::time::UNIX_EPOCH;

use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tokengate::axum::Verified;
use tokengate::{Gate, RequireLayer, Requirement, TokenLayer};
use tokengate_testkit::challenge;
use tokio::net::TcpListener;

pub(crate) const BAD_AUDIENCE: &str = r#"Bearer error="invalid_token", error_description="The access token is not meant for this resource.""#;
pub(crate) const BAD_SIGNATURE: &str =
    r#"Bearer error="invalid_token", error_description="The access token signature is invalid.""#;
pub(crate) const UNKNOWN_KEY: &str = r#"Bearer error="invalid_token", error_description="The access token signing key is not known.""#;
const INSUFFICIENT: &str = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;

/// The challenge of a token that lacks `scope`.
pub(crate) fn insufficient(scope: &str) -> String {
    format!(r#"{INSUFFICIENT}, scope="{scope}""#)
}

/// What the handler read from the verified claims.
async fn orders(claims: Verified) -> Json<Value> {
    let unix = |time: std::time::SystemTime| time.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let kind: Option<&str> = claims.claim("type").expect("a string `type`");
    Json(json!({
        "issuer": claims.issuer(),
        "subject": claims.subject(),
        "client_id": claims.client_id(),
        "audiences": claims.audiences().collect::<Vec<_>>(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
        "not_before": claims.not_before().map(unix),
        "issued_at": claims.issued_at().map(unix),
        "type": kind,
    }))
}

async fn ok() -> &'static str {
    "ok"
}

/// `/orders` for any valid token; `/orders/write` needs the scope `orders.write`.
fn app(gate: Gate) -> Router {
    let write = Router::new()
        .route("/orders/write", get(ok))
        .route_layer(RequireLayer::new(Requirement::scope("orders.write")).unwrap());
    Router::new()
        .route("/orders", get(orders))
        .merge(write)
        .layer(TokenLayer::new(gate))
}

/// An API behind `gate`; stops with the test's runtime.
pub(crate) struct Api {
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Api {
    pub(crate) async fn serve(gate: Gate) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = app(gate);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Api { addr, http }
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Answer {
        let response = self
            .http
            .get(format!("http://{}{path}", self.addr))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .expect("a response from the API");
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
        };
        Answer {
            status: response.status(),
            challenge: header(WWW_AUTHENTICATE),
            cache_control: header(CACHE_CONTROL),
            body: response.text().await.unwrap(),
        }
    }
}

/// What the API answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) challenge: Option<String>,
    cache_control: Option<String>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The refusal's code (`code` of the JSON body), `?` if there is none.
    pub(crate) fn code(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|body| body["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned())
    }

    #[track_caller]
    pub(crate) fn assert_ok(&self) {
        assert_eq!(self.status, StatusCode::OK, "refused: {self:?}");
    }

    /// The exact refusal: status, challenge (strictly parsed), body code, `no-store`.
    #[track_caller]
    pub(crate) fn assert_refused(&self, status: StatusCode, code: &str, challenge: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert_eq!(self.challenge.as_deref(), Some(challenge), "{self:?}");
        challenge::parse_bearer(challenge).expect("an RFC 6750 challenge");
        assert_eq!(self.cache_control.as_deref(), Some("no-store"), "{self:?}");
    }
}
