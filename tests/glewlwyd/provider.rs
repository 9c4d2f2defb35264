//! A Glewlwyd configured as the tests need it: scopes, an OIDC plugin instance signing with
//! keys generated for this test (RSA and Ed25519), two confidential clients allowed the
//! client-credentials grant; token requests; key rotation; the log check that ends each test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokengate_testkit::capture;

use super::admin::Admin;
use super::gate::{gate, loopback_keys, profile};
use super::proxy::{self, Counts};
use super::server::Server;
use super::signing_keys::{SigningKey, private_jwks};
use tokengate_testkit::token_parts::altered_signature;

/// The API the tests protect, as a resource indicator (RFC 8707).
pub(crate) const ORDERS: &str = "https://api.example.test/orders";
/// The scopes Glewlwyd knows; each may be used with [`ORDERS`].
pub(crate) const SCOPES: [&str; 2] = ["orders.read", "orders.write"];
/// The OIDC plugin instance's name, the last segment of the issuer.
const PLUGIN: &str = "oidc";
/// The kids of the keys every instance starts with.
pub(crate) const RSA_KID: &str = "rsa-1";
pub(crate) const ED25519_KID: &str = "ed25519-1";

/// A confidential client of Glewlwyd, allowed every scope of [`SCOPES`].
pub(crate) struct OAuthClient {
    pub(crate) id: &'static str,
    secret: &'static str,
    /// `client_secret_basic`; otherwise `client_secret_post`.
    basic: bool,
    /// The key its tokens are signed with (Glewlwyd's client property `sign_kid`); `None`:
    /// the plugin's default, the first key of `jwks-private`.
    sign_kid: Option<&'static str>,
}

/// Signs with the default key (RS256).
pub(crate) const ORDERS_SERVICE: OAuthClient = OAuthClient {
    id: "orders-service",
    secret: "orders-service-secret-5c0e9b27d4a1f863",
    basic: true,
    sign_kid: None,
};

/// Signs with the Ed25519 key (EdDSA).
pub(crate) const EDGE_WORKER: OAuthClient = OAuthClient {
    id: "edge-worker",
    secret: "edge-worker-secret-a83f16d2c07b49e5",
    basic: false,
    sign_kid: Some(ED25519_KID),
};

impl OAuthClient {
    fn registration(&self) -> Value {
        let mut client = json!({
            "client_id": self.id, "name": self.id, "enabled": true, "confidential": true,
            "password": self.secret, "authorization_type": ["client_credentials"],
            "scope": SCOPES, "redirect_uri": [],
            // Without it every token request is a bare 403.
            "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
        });
        if let Some(kid) = self.sign_kid {
            client["sign_kid"] = json!(kid);
        }
        client
    }
}

/// A running, configured Glewlwyd, stopped when dropped.
pub(crate) struct Glewlwyd {
    /// `http://127.0.0.1:PORT/api/oidc`: an issuer with a path. The port is the counting
    /// proxy's ([`Glewlwyd::counts`]), which is what Glewlwyd's `external_url` names.
    pub(crate) issuer: String,
    /// Glewlwyd itself, for the tests' own requests, which the proxy does not count.
    pub(crate) direct: String,
    /// The key set requests that reached Glewlwyd through the issuer's URLs.
    pub(crate) counts: Arc<Counts>,
    pub(crate) http: reqwest::Client,
    /// `jwks-private`, the signing key first.
    keys: Mutex<Vec<SigningKey>>,
    admin: Admin,
    /// What this test handled and must not find in the logs.
    secrets: Mutex<capture::Secrets>,
    _server: Server,
}

impl Glewlwyd {
    /// Starts and configures an instance (a second or two).
    pub(crate) async fn start() -> Glewlwyd {
        // Before anything logs.
        capture::global();
        let (listener, public) = proxy::bind().await;
        let server =
            tokio::task::spawn_blocking(move || Server::start(&format!("http://{public}")))
                .await
                .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        let upstream: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
        let counts = proxy::serve(listener, upstream);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        let admin = Admin::login(&format!("{}/api", server.url), &http).await;
        for scope in SCOPES {
            admin.add_scope(scope).await;
        }
        admin.allow_client_property("sign_kid").await;
        let issuer = format!("http://{public}/api/{PLUGIN}");
        let keys = vec![SigningKey::rs256(RSA_KID), SigningKey::eddsa(ED25519_KID)];
        admin.add_plugin(plugin(&issuer, &keys)).await;
        for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
            admin.add_client(client.registration()).await;
        }

        let mut secrets = capture::Secrets::default();
        secrets.jwks(&private_jwks(&keys));
        secrets.add(admin.cookie.split_once('=').expect("name=value").1);
        for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
            secrets.add(client.secret);
        }
        Glewlwyd {
            issuer,
            direct: server.url.clone(),
            counts,
            http,
            keys: Mutex::new(keys),
            admin,
            secrets: Mutex::new(secrets),
            _server: server,
        }
    }

    pub(crate) fn secrets(&self) -> MutexGuard<'_, capture::Secrets> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A client-credentials token request for `orders.read` and the [`ORDERS`] resource.
    pub(crate) fn token<'a>(&'a self, client: &'a OAuthClient) -> TokenRequest<'a> {
        TokenRequest {
            glewlwyd: self,
            client,
            scope: "orders.read",
            resource: Some(ORDERS),
        }
    }

    /// Rotation as Glewlwyd's documentation describes it, without a restart: the new key
    /// first in `jwks-private` (so it signs from now on, the old one stays published), the
    /// plugin's settings replaced, then the plugin reset.
    pub(crate) async fn rotate(&self, new: SigningKey) {
        let keys = {
            let mut keys = self.keys.lock().unwrap();
            keys.insert(0, new);
            keys.clone()
        };
        self.secrets().jwks(&private_jwks(&keys));
        self.admin
            .replace_plugin(PLUGIN, plugin(&self.issuer, &keys))
            .await;
    }

    /// The key set as Glewlwyd serves it (fetched directly, not counted).
    pub(crate) async fn jwks(&self) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}/api/{PLUGIN}/jwks", self.direct))
            .send()
            .await
            .expect("the key set");
        assert_eq!(response.status(), StatusCode::OK);
        response
    }

    /// The discovery document (fetched directly, not counted).
    pub(crate) async fn discovery(&self) -> Value {
        let url = format!(
            "{}/api/{PLUGIN}/.well-known/openid-configuration",
            self.direct
        );
        let response = self.http.get(url).send().await.expect("discovery");
        assert_eq!(response.status(), StatusCode::OK);
        serde_json::from_str(&response.text().await.unwrap()).expect("JSON")
    }

    /// The log check that ends every test. tokengate first refuses a token of this instance
    /// with an altered signature (logging `access token rejected` with this issuer), so that
    /// the check cannot pass on a log without this test's events; then none of the secrets
    /// this test handled (tokens and their claim values, client secrets, the private keys,
    /// the admin session) may be in the capture.
    pub(crate) async fn assert_logs_secret_free(&self) {
        let token = self.token(&ORDERS_SERVICE).send().await;
        let forged = altered_signature(&token);
        self.secrets().token(&forged);
        let rejection = gate(profile(self), loopback_keys())
            .validate(&forged)
            .await
            .expect_err("an altered signature");
        assert_eq!(rejection.code(), "invalid_signature");
        let refusal = format!(
            "access token rejected code=\"invalid_signature\" issuer={}\n",
            self.issuer
        );
        capture::assert_secret_free(&self.secrets(), &[&refusal]);
    }
}

/// The OIDC plugin instance: client credentials only, the key set published, and every scope
/// usable with the [`ORDERS`] resource (RFC 8707 resource indicators).
fn plugin(issuer: &str, keys: &[SigningKey]) -> Value {
    let resources: serde_json::Map<String, Value> = SCOPES
        .iter()
        .map(|scope| (scope.to_string(), json!([ORDERS])))
        .collect();
    json!({
        "module": "oidc", "name": PLUGIN, "display_name": "tokengate tests", "enabled": true,
        "parameters": {
            "iss": issuer,
            "jwks-private": private_jwks(keys),
            "jwks-show": true,
            "client-sign_kid-parameter": "sign_kid",
            "access-token-duration": 3600,
            "refresh-token-duration": 1_209_600,
            "code-duration": 600,
            "allow-non-oidc": true,
            "auth-type-client-enabled": true,
            // Glewlwyd refuses a list without `openid`.
            "allowed-scope": ["openid", SCOPES[0], SCOPES[1]],
            "resource-allowed": true,
            "resource-scope": resources,
        }
    })
}

/// A client-credentials token request.
pub(crate) struct TokenRequest<'a> {
    glewlwyd: &'a Glewlwyd,
    client: &'a OAuthClient,
    scope: &'a str,
    resource: Option<&'a str>,
}

impl<'a> TokenRequest<'a> {
    pub(crate) fn scope(mut self, scope: &'a str) -> Self {
        self.scope = scope;
        self
    }

    pub(crate) fn resource(mut self, resource: Option<&'a str>) -> Self {
        self.resource = resource;
        self
    }

    /// The access token; fails the test unless Glewlwyd issues one.
    pub(crate) async fn send(self) -> String {
        match self.try_send().await {
            Ok(token) => token,
            Err((status, body)) => panic!("token endpoint: {status} {body}"),
        }
    }

    /// The access token, or Glewlwyd's refusal (status and JSON body).
    pub(crate) async fn try_send(self) -> Result<String, (StatusCode, Value)> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials")
            .append_pair("scope", self.scope);
        if let Some(resource) = self.resource {
            form.append_pair("resource", resource);
        }
        if !self.client.basic {
            form.append_pair("client_id", self.client.id)
                .append_pair("client_secret", self.client.secret);
        }
        let mut request = self
            .glewlwyd
            .http
            .post(format!("{}/api/{PLUGIN}/token", self.glewlwyd.direct))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.finish());
        if self.client.basic {
            request = request.basic_auth(self.client.id, Some(self.client.secret));
        }
        let response = request.send().await.expect("a token response");
        let status = response.status();
        let body: Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        if status != StatusCode::OK {
            return Err((status, body));
        }
        // Glewlwyd writes the token type in lowercase (RFC 6749 §5.1: case-insensitive).
        assert_eq!(body["token_type"], "bearer");
        let token = body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned();
        self.glewlwyd.secrets().token(&token);
        Ok(token)
    }
}
