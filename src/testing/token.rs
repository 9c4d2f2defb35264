//! Minting tokens: valid by default, broken on request.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::keys::{b64, random_hex};
use super::{Shared, TestIssuer};
use crate::Algorithm;

/// Which key signs.
#[derive(Debug)]
enum KeyChoice {
    /// The current key for the issuer's first algorithm.
    Default,
    /// The current key for this algorithm.
    Alg(Algorithm),
    /// This key, published or not.
    Kid(String),
}

/// Builds one signed access token for a [`TestIssuer`] (from [`TestIssuer::token`]).
///
/// It starts with valid claims: `iss` (the issuer), `aud` (its audience), `sub`
/// `test-user`, `client_id` `test-client`, `iat` (now), `exp` (in one hour) and `jti` (16
/// random bytes in hex); and with the header `{"alg": ..., "typ": "at+jwt", "kid": ...}` of
/// the key that signs (the shape of RFC 9068). Every method changes one thing, in the order
/// called; anything can be changed or removed, to test how an API handles tokens that are
/// wrong in one precise way. The signature is always computed over exactly the header and
/// claims built here, serialized as compact JSON with members in a stable order.
///
/// ```
/// use std::time::Duration;
/// use tokengate::Algorithm;
/// use tokengate::testing::TestIssuer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let issuer = TestIssuer::start().await?;
/// let gate = issuer.gate();
///
/// let token = issuer
///     .token()
///     .alg(Algorithm::EdDSA) // a key for EdDSA is added and published
///     .subject("alice")
///     .scope("orders.read orders.write")
///     .claim("tid", "tenant-1")
///     .expires_in(Duration::from_secs(300))
///     .sign();
/// let claims = gate.validate(&token).await.expect("a valid token");
/// assert_eq!(claims.tenant_id(), Some("tenant-1"));
///
/// let wrong_audience = issuer.token().audience("api://another").sign();
/// let refused = gate.validate(&wrong_audience).await.unwrap_err();
/// assert_eq!(refused.code(), "invalid_audience");
///
/// let tampered = issuer.token().tampered().sign();
/// let refused = gate.validate(&tampered).await.unwrap_err();
/// assert_eq!(refused.code(), "invalid_signature");
///
/// let no_expiry = issuer.token().without_claim("exp").sign();
/// let refused = gate.validate(&no_expiry).await.unwrap_err();
/// assert_eq!(refused.code(), "missing_claim");
/// # Ok(())
/// # }
/// ```
#[must_use = "a token builder does nothing until `sign` is called"]
pub struct TokenBuilder {
    issuer: TestIssuer,
    key: KeyChoice,
    claims: Map<String, Value>,
    /// Changes to the default header, in order: a value to set, or `None` to remove.
    header: Vec<(String, Option<Value>)>,
    tampered: bool,
}

/// Seconds since the epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// `now + lifetime`, in whole seconds, saturating.
fn after(now: i64, lifetime: Duration) -> i64 {
    now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
}

/// A JSON value for a claim or header, or a panic naming it (not its value).
fn to_json(kind: &str, name: &str, value: impl Serialize) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|error| panic!("the {kind} {name:?} cannot be written as JSON: {error}"))
}

/// The default claims of a minted token: see [`TestIssuer::token`].
pub(super) fn default_claims(issuer: &str) -> Map<String, Value> {
    let now = now();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(super::AUDIENCE));
    claims.insert("sub".into(), json!("test-user"));
    claims.insert("client_id".into(), json!("test-client"));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(after(now, Duration::from_secs(3600))));
    claims.insert("jti".into(), json!(random_hex(16)));
    claims
}

/// Signs `claims` with the current key for `alg` under the default header (`alg`, `typ`
/// `at+jwt`, `kid`): the tokens of the HTTP endpoints.
pub(super) fn sign_claims(shared: &Shared, alg: Algorithm, claims: Map<String, Value>) -> String {
    let key = shared.current_or_add(alg);
    let header = json!({"alg": key.alg().name(), "typ": "at+jwt", "kid": key.kid()});
    let token = key.token_with_header(&header, &Value::Object(claims.clone()));
    shared.opaque.insert_signed(token.clone(), claims);
    token
}

impl TokenBuilder {
    pub(super) fn new(issuer: TestIssuer) -> TokenBuilder {
        let claims = default_claims(issuer.issuer());
        TokenBuilder {
            issuer,
            key: KeyChoice::Default,
            claims,
            header: Vec::new(),
            tampered: false,
        }
    }

    /// Signs with the current key for `alg`: the newest published one. If the issuer has none,
    /// one is generated and published when the token is signed.
    pub fn alg(mut self, alg: Algorithm) -> Self {
        self.key = KeyChoice::Alg(alg);
        self
    }

    /// Signs with the key with this `kid`, published or removed (see
    /// [`TestIssuer::remove_key`] and [`TestIssuer::rotate`]). The header's `alg` and `kid` are
    /// that key's.
    ///
    /// [`sign`](Self::sign) panics if the issuer never had such a key.
    pub fn key(mut self, kid: &str) -> Self {
        self.key = KeyChoice::Kid(kid.to_owned());
        self
    }

    /// Sets a claim, or replaces it where it is.
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON (a map with non-string keys, say).
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        let value = to_json("claim", name, value);
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim, default or not.
    pub fn without_claim(mut self, name: &str) -> Self {
        // `retain` keeps the order of the others, whichever `Map` serde_json is built with.
        self.claims.retain(|claim, _| claim != name);
        self
    }

    /// Sets a header parameter, or replaces it (`alg`, `typ` and `kid` included: the
    /// signature is still made with the chosen key's own algorithm).
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON.
    pub fn header(mut self, name: &str, value: impl Serialize) -> Self {
        let value = to_json("header parameter", name, value);
        self.header.push((name.to_owned(), Some(value)));
        self
    }

    /// Removes a header parameter (`alg`, `typ` and `kid` included).
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.push((name.to_owned(), None));
        self
    }

    /// Sets `sub`.
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// Sets `aud` to this one audience.
    pub fn audience(self, aud: &str) -> Self {
        self.claim("aud", aud)
    }

    /// Sets `scope`: a space-separated string, such as `"orders.read orders.write"`.
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// Sets `roles`: an array of strings.
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.claim("roles", roles)
    }

    /// Sets `exp` to now plus `lifetime` (whole seconds).
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let exp = after(now(), lifetime);
        self.claim("exp", exp)
    }

    /// Binds the token to a DPoP key (RFC 9449 §6.1): `cnf.jkt` is the key's thumbprint.
    pub fn bound_to(self, key: &super::DpopKey) -> Self {
        self.confirm("jkt", key.thumbprint().to_owned())
    }

    /// Binds the token to a client certificate (RFC 8705 §3.1): `cnf["x5t#S256"]` is its
    /// SHA-256 thumbprint.
    pub fn bound_to_certificate(self, certificate: &super::TestClientCertificate) -> Self {
        self.confirm("x5t#S256", certificate.client_certificate().thumbprint())
    }

    /// Adds a member to `cnf`.
    fn confirm(mut self, name: &str, value: String) -> Self {
        let cnf = self
            .claims
            .entry("cnf")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(members) = cnf {
            members.insert(name.to_owned(), Value::String(value));
        }
        self
    }

    /// Makes the token expired beyond any leeway: `iat` two hours ago, `exp` one hour ago.
    pub fn expired(self) -> Self {
        let now = now();
        self.claim("iat", now - 7200).claim("exp", now - 3600)
    }

    /// Flips one bit of the signature (the lowest bit of its first byte), which stays
    /// well-formed base64url: the token is refused as `invalid_signature`.
    pub fn tampered(mut self) -> Self {
        self.tampered = true;
        self
    }

    /// Issues the token as an opaque string (`tgo_` and 32 random hex digits) instead of
    /// signing it: its claims are known only to the issuer's introspection endpoint (which
    /// knows the claims of signed tokens too, for `Introspection::jwts_too`)
    /// ([`TestIssuer::introspection`]), until it expires or is
    /// [revoked](TestIssuer::revoke). Header changes and the signing key do not apply.
    pub fn opaque(self) -> String {
        let token = format!("tgo_{}", random_hex(16));
        self.issuer
            .shared()
            .opaque
            .insert(token.clone(), self.claims);
        token
    }

    /// Signs the token: a compact JWS, `header.claims.signature`.
    ///
    /// # Panics
    ///
    /// If a [`key`](Self::key) was chosen that the issuer never had.
    pub fn sign(self) -> String {
        let shared = self.issuer.shared();
        let key = match &self.key {
            KeyChoice::Default => shared.current_or_add(shared.default_alg),
            KeyChoice::Alg(alg) => shared.current_or_add(*alg),
            KeyChoice::Kid(kid) => shared
                .key(kid)
                .unwrap_or_else(|| panic!("TokenBuilder::key: the test issuer has no key {kid:?}")),
        };
        let mut header = Map::new();
        header.insert("alg".into(), json!(key.alg().name()));
        header.insert("typ".into(), json!("at+jwt"));
        header.insert("kid".into(), json!(key.kid()));
        for (name, value) in self.header {
            match value {
                Some(value) => {
                    header.insert(name, value);
                }
                None => {
                    header.retain(|parameter, _| *parameter != name);
                }
            }
        }
        let claims = self.claims;
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string()),
            b64(Value::Object(claims.clone()).to_string())
        );
        let mut signature = key.sign(input.as_bytes());
        if self.tampered
            && let Some(first) = signature.first_mut()
        {
            *first ^= 1;
        }
        let token = format!("{input}.{}", b64(signature));
        // The introspection endpoint knows signed tokens too (for `Introspection::jwts_too`),
        // until they are revoked.
        shared.opaque.insert_signed(token.clone(), claims);
        token
    }
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: claim values may be personal data in a user's tests.
        let header: Vec<&str> = self.header.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("TokenBuilder")
            .field("issuer", &self.issuer.issuer())
            .field("key", &self.key)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field("header_changes", &header)
            .field("tampered", &self.tampered)
            .finish()
    }
}
