//! The inventory API at the provider: its opaque tokens, its resource-server clients (one per
//! client authentication method, `private_key_jwt` with a key made here), and the provider's
//! own introspection and revocation endpoints, called as a client would.

use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use http::StatusCode;
use http::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, Introspection, IssuerProfile};

use super::idp::Idp;
use super::support::{OAuthClient, ORDERS_SERVICE, key_cache};

/// The API whose tokens the provider issues opaque (server.mjs).
pub(crate) const INVENTORY: &str = "https://api.example.test/inventory";

/// The inventory API's clients at the provider: they get no tokens, and may introspect the
/// access tokens meant for the inventory API.
pub(crate) const INVENTORY_API: OAuthClient = OAuthClient {
    id: "inventory-api",
    secret: "inventory-api-secret-6b2d90f4e17a3c58",
    basic: true,
};
pub(crate) const INVENTORY_API_POST: OAuthClient = OAuthClient {
    id: "inventory-api-post",
    secret: "inventory-api-post-secret-0c8e3a5d9f264b71",
    basic: false,
};
/// Its answers are RFC 9701 JWTs (ES256) when it asks for them.
pub(crate) const INVENTORY_API_SIGNED: OAuthClient = OAuthClient {
    id: "inventory-api-signed",
    secret: "inventory-api-signed-secret-9e4a1c7b2d58f063",
    basic: true,
};
/// Authenticates with `private_key_jwt`, with the key the test makes (`ClientKey`).
const INVENTORY_API_JWT: &str = "inventory-api-jwt";

/// An ES256 key of `inventory-api-jwt`: PKCS#8 for tokengate, the public JWK for the provider.
pub(crate) struct ClientKey {
    pkcs8: Vec<u8>,
    kid: String,
    jwk: String,
    /// The private scalar, base64url: a secret for the log check.
    d: String,
}

impl ClientKey {
    pub(crate) fn generate(kid: &str) -> ClientKey {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
        let pkcs8 = pair.to_pkcs8v1().expect("PKCS#8").as_ref().to_vec();
        let b64 = |bytes: &[u8]| base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes);
        // The uncompressed point: 0x04, x, y.
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
            "kid": kid, "alg": "ES256", "use": "sig",
        });
        let d = pair
            .private_key()
            .as_be_bytes()
            .expect("the private scalar");
        ClientKey {
            pkcs8,
            kid: kid.to_owned(),
            jwk: jwk.to_string(),
            d: b64(d.as_ref()),
        }
    }

    pub(crate) fn introspection(&self) -> Introspection {
        Introspection::private_key_jwt(
            INVENTORY_API_JWT,
            self.pkcs8.clone(),
            Algorithm::ES256,
            Some(self.kid.clone()),
        )
    }
}

/// A provider that knows `key` as `inventory-api-jwt`'s; the resource servers' secrets noted.
pub(crate) async fn start(key: &ClientKey) -> Idp {
    let idp = Idp::start_with_introspection_key(&key.jwk).await;
    let mut secrets = idp.secrets();
    for secret in [
        INVENTORY_API.secret,
        INVENTORY_API_POST.secret,
        INVENTORY_API_SIGNED.secret,
        &key.d,
    ] {
        secrets.add(secret);
    }
    drop(secrets);
    idp
}

pub(crate) fn introspection(client: &OAuthClient) -> Introspection {
    if client.basic {
        Introspection::client_secret_basic(client.id, client.secret)
    } else {
        Introspection::client_secret_post(client.id, client.secret)
    }
}

/// The provider, found by discovery, for the inventory API, introspecting with `settings`
/// (the endpoint from discovery too).
pub(crate) fn profile(idp: &Idp, settings: Introspection) -> IssuerProfile {
    IssuerProfile::new(&idp.issuer)
        .audience(INVENTORY)
        .discover()
        .introspection(settings)
}

pub(crate) fn gate(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(key_cache())
        .build()
        .expect("valid gate")
}

impl Idp {
    /// An opaque token of `orders-service` for the inventory API.
    pub(crate) async fn inventory_token(&self) -> String {
        self.ask(&ORDERS_SERVICE)
            .resource(INVENTORY)
            .scope("inventory.read inventory.write")
            .send_opaque()
            .await
    }

    /// A POST of `form` to the endpoint discovery names `endpoint`, authenticated as `client`.
    async fn post_as(&self, client: &OAuthClient, endpoint: &str, form: &[(&str, &str)]) -> Value {
        let text = self
            .send_as(client, endpoint, form, "application/json")
            .await;
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// `post_as` asking for `accept`: the answer's text (asserted 200).
    async fn send_as(
        &self,
        client: &OAuthClient,
        endpoint: &str,
        form: &[(&str, &str)],
        accept: &str,
    ) -> String {
        let url = self.discovery().await[endpoint]
            .as_str()
            .unwrap()
            .to_owned();
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(form);
        if !client.basic {
            body.extend_pairs([("client_id", client.id), ("client_secret", client.secret)]);
        }
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, accept);
        if client.basic {
            request = request.basic_auth(client.id, Some(client.secret));
        }
        let response = request.body(body.finish()).send().await.expect(endpoint);
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{endpoint}: {text}");
        text
    }

    /// The provider's introspection answer for `token`, asked as `client`.
    pub(crate) async fn introspect_as(&self, client: &OAuthClient, token: &str) -> Value {
        self.post_as(client, "introspection_endpoint", &[("token", token)])
            .await
    }

    /// The provider's answer for `token` asked as `client` with `Accept:
    /// application/token-introspection+jwt` (RFC 9701 §4): the text as sent.
    pub(crate) async fn introspect_jwt_as(&self, client: &OAuthClient, token: &str) -> String {
        let form = [("token", token)];
        self.send_as(
            client,
            "introspection_endpoint",
            &form,
            "application/token-introspection+jwt",
        )
        .await
    }

    /// Revokes `token` (RFC 7009) as the client it was issued to.
    pub(crate) async fn revoke(&self, client: &OAuthClient, token: &str) {
        let form = [("token", token), ("token_type_hint", "access_token")];
        self.post_as(client, "revocation_endpoint", &form).await;
    }
}
