//! Token requests: the client-credentials grant, as each test asks for it.

use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::Value;
use tokengate::Algorithm;

use super::idp::Idp;
use super::support::{OAuthClient, ORDERS, payload};

impl Idp {
    /// A client-credentials token request.
    pub(crate) fn ask<'a>(&'a self, client: &'a OAuthClient) -> Ask<'a> {
        Ask {
            idp: self,
            client,
            resource: ORDERS,
            scope: "orders.read",
            alg: Algorithm::RS256,
            kid: None,
            ttl: None,
        }
    }
}

/// A token request: which client asks, for which resource and scopes, and (through the
/// provider's test-only headers) which key signs the token and how long it lives.
pub(crate) struct Ask<'a> {
    idp: &'a Idp,
    client: &'a OAuthClient,
    resource: &'a str,
    scope: &'a str,
    alg: Algorithm,
    kid: Option<&'a str>,
    ttl: Option<u64>,
}

impl<'a> Ask<'a> {
    /// The resource indicator (RFC 8707); none when empty.
    pub(crate) fn resource(mut self, resource: &'a str) -> Self {
        self.resource = resource;
        self
    }

    pub(crate) fn scope(mut self, scope: &'a str) -> Self {
        self.scope = scope;
        self
    }

    pub(crate) fn alg(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self
    }

    pub(crate) fn kid(mut self, kid: &'a str) -> Self {
        self.kid = Some(kid);
        self
    }

    pub(crate) fn ttl(mut self, seconds: u64) -> Self {
        self.ttl = Some(seconds);
        self
    }

    /// The token request, sent to `endpoint` by `http`: what [`send`](Self::send) sends, for
    /// tests that add a DPoP proof or send it over TLS with a client certificate.
    pub(crate) fn request(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
    ) -> reqwest::RequestBuilder {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !self.resource.is_empty() {
            form.append_pair("resource", self.resource);
        }
        if !self.scope.is_empty() {
            form.append_pair("scope", self.scope);
        }
        if !self.client.basic {
            form.append_pair("client_id", self.client.id)
                .append_pair("client_secret", self.client.secret);
        }
        let mut request = http
            .post(endpoint)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-interop-alg", self.alg.name())
            .body(form.finish());
        if self.client.basic {
            request = request.basic_auth(self.client.id, Some(self.client.secret));
        }
        if let Some(kid) = self.kid {
            request = request.header("x-interop-kid", kid);
        }
        if let Some(ttl) = self.ttl {
            request = request.header("x-interop-ttl", ttl.to_string());
        }
        request
    }

    /// Sends the request to the token endpoint; the access token, a JWT.
    pub(crate) async fn send(self) -> String {
        let body = self.token_response().await;
        self.issued(&body, "Bearer")
    }

    /// Sends the request to the token endpoint; the access token, an opaque bearer token
    /// (for a resource whose tokens are opaque, or for none), noted as a secret.
    pub(crate) async fn send_opaque(self) -> String {
        let body = self.token_response().await;
        assert_eq!(body["token_type"], "Bearer", "{body}");
        let token = body["access_token"].as_str().expect("an access_token");
        assert!(
            token.len() >= 32 && !token.contains('.'),
            "not an opaque token: {token:.12}..."
        );
        self.idp.secrets().add(token);
        token.to_owned()
    }

    /// A successful token response.
    async fn token_response(&self) -> Value {
        let request = self.request(&self.idp.http, &self.idp.token_endpoint);
        let response = request.send().await.expect("token request");
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "token endpoint: {body}");
        serde_json::from_str(&body).expect("token response JSON")
    }

    /// The access token of a token response, which must have this `token_type`; noted as a
    /// secret.
    pub(crate) fn issued(&self, body: &Value, token_type: &str) -> String {
        assert_eq!(body["token_type"], token_type, "{body}");
        if let Some(ttl) = self.ttl {
            assert_eq!(body["expires_in"], ttl);
        }
        let token = body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned();
        // Every token carries a claim value made to be looked for in the logs.
        let marker = payload(&token)["marker"].as_str().map(str::to_owned);
        assert!(
            marker.is_some_and(|marker| marker.starts_with("claim-marker-")),
            "no marker claim in {}",
            payload(&token)
        );
        self.idp.secrets().token(&token);
        token
    }
}
