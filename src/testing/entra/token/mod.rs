//! Minting Entra-shaped access tokens.

mod claims;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{TestEntra, TokenVersion, random_bytes};
use crate::testing::keys::b64;

/// The default scope of delegated tokens: Entra puts the short scope name in `scp`.
const DEFAULT_SCOPE: &str = "access_as_user";
const USER_NAME: &str = "Test User";
const USER_LOGIN: &str = "test.user@example.com";

/// Seconds since the epoch.
pub(super) fn now() -> i64 {
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

/// A pairwise `sub` as Entra writes it: 32 bytes, base64url (43 characters).
pub(super) fn pairwise_sub() -> String {
    b64(random_bytes(32))
}

/// A JSON value for a claim or header, or a panic naming it (not its value).
fn to_json(kind: &str, name: &str, value: impl Serialize) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|error| panic!("the {kind} {name:?} cannot be written as JSON: {error}"))
}

/// How far Entra dates `iat` and `nbf` before issuance, in seconds.
const BACKDATING: i64 = 300;

/// Builds one signed Entra access token (from [`TestEntra::token`]).
///
/// It starts as a valid **delegated user token** of its [`TokenVersion`], with the claims
/// Entra puts in real tokens:
///
/// * both versions: `aud`, `iss`, `iat` and `nbf` (5 minutes ago: Entra dates them early, for
///   clock skew), `exp` (in one hour), `aio`, `oid`
///   (the test user's), `sub` (pairwise, different from `oid`), `tid`, `uti`, `rh`, `scp`
///   (`access_as_user`) and `name`;
/// * v2 (`ver` `"2.0"`): `aud` [`TestEntra::CLIENT_ID`], `iss`
///   [`TestEntra::v2_issuer`]`(tid)`, `azp` [`TestEntra::CALLER_ID`], `azpacr` `"1"`,
///   `preferred_username`;
/// * v1 (`ver` `"1.0"`): `aud` `api://{CLIENT_ID}`, `iss` [`TestEntra::v1_issuer`]`(tid)`,
///   `appid` [`TestEntra::CALLER_ID`], `appidacr` `"1"`, `unique_name`, `upn`, `acr` `"1"`,
///   `amr` `["pwd"]`.
///
/// The header is `{"typ": "JWT", "alg": "RS256", "kid": ...}`, plus `x5t` (equal to `kid`)
/// in v1, for the current key ([`TestEntra::kids`]'s last) unless [`key`](Self::key) picks
/// another. [`app`](Self::app) turns the token into an app-only one. Every method changes one
/// thing, in the order called, so tokens that are wrong in one precise way are easy to make.
/// Claim values are never printed (`Debug` shows claim names only).
///
/// ```
/// use std::time::Duration;
/// use tokengate::providers::entra::TokenVersion;
/// use tokengate::testing::TestEntra;
/// use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let entra = TestEntra::start().await?;
/// let tenant = entra.tenant();
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new(entra.v2_issuer(tenant))
///             .audience(TestEntra::CLIENT_ID)
///             .algorithms([Algorithm::RS256])
///             .jwks_uri(entra.v2_keys_url(tenant)),
///     )
///     .key_cache(KeyCacheSettings::default().allow_http_loopback())
///     .build()?;
///
/// let token = entra
///     .token(TokenVersion::V2, tenant)
///     .scp("Orders.Read Orders.Write")
///     .claim("xms_cc", ["cp1"])
///     .expires_in(Duration::from_secs(300))
///     .sign();
/// let claims = gate.validate(&token).await?;
/// assert!(claims.has_scope("Orders.Write"));
///
/// let expired = entra.token(TokenVersion::V2, tenant).expired().sign();
/// assert_eq!(gate.validate(&expired).await.unwrap_err().code(), "token_expired");
///
/// let graph = entra.token(TokenVersion::V2, tenant).audience("00000003-0000-0000-c000-000000000000");
/// assert_eq!(gate.validate(&graph.sign()).await.unwrap_err().code(), "invalid_audience");
/// # Ok(())
/// # }
/// ```
#[must_use = "a token builder does nothing until `sign` is called"]
pub struct EntraTokenBuilder {
    entra: TestEntra,
    version: TokenVersion,
    /// The key to sign with; `None` for the current key.
    key: Option<String>,
    claims: Map<String, Value>,
    /// Changes to the default header, in order: a value to set, or `None` to remove.
    header: Vec<(String, Option<Value>)>,
}

impl EntraTokenBuilder {
    pub(super) fn new(entra: TestEntra, version: TokenVersion, tenant: &str) -> Self {
        let now = now();
        let mut claims = Map::new();
        let mut set = |name: &str, value: Value| {
            claims.insert(name.to_owned(), value);
        };
        // Real Entra tokens carry `iat` = `nbf` = issuance minus 5 minutes.
        set("iat", json!(now - BACKDATING));
        set("nbf", json!(now - BACKDATING));
        set("exp", json!(after(now, Duration::from_secs(3600))));
        set("tid", json!(tenant));
        // Opaque, internal claims: random values of the real shapes.
        set(
            "aio",
            json!(base64_simd::STANDARD.encode_to_string(random_bytes(23))),
        );
        set("rh", json!(format!("0.{}.", b64(random_bytes(39)))));
        set("uti", json!(b64(random_bytes(16))));
        match version {
            TokenVersion::V2 => {
                set("aud", json!(TestEntra::CLIENT_ID));
                set("iss", json!(entra.v2_issuer(tenant)));
                set("azp", json!(TestEntra::CALLER_ID));
                set("azpacr", json!("1"));
                set("ver", json!("2.0"));
            }
            TokenVersion::V1 => {
                set("aud", json!(format!("api://{}", TestEntra::CLIENT_ID)));
                set("iss", json!(entra.v1_issuer(tenant)));
                set("appid", json!(TestEntra::CALLER_ID));
                set("appidacr", json!("1"));
                set("ver", json!("1.0"));
            }
        }
        EntraTokenBuilder {
            entra,
            version,
            key: None,
            claims,
            header: Vec::new(),
        }
        .user()
    }

    fn set(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }

    fn remove(mut self, names: &[&str]) -> Self {
        self.claims
            .retain(|claim, _| !names.contains(&claim.as_str()));
        self
    }

    /// Makes it a delegated user token, as the default is: `scp` `access_as_user`, the test
    /// user's `oid`, a pairwise `sub` different from `oid`, `name`, and `preferred_username`
    /// (v2) or `unique_name`, `upn`, `acr` and `amr` (v1); removes `roles` and `idtyp`. Use
    /// it to undo [`app`](Self::app).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).user().sign();
    /// let claims = decode_claims(&token);
    /// assert_eq!(claims["scp"], "access_as_user");
    /// assert_ne!(claims["sub"], claims["oid"]);
    /// assert!(claims.get("preferred_username").is_some());
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn user(self) -> Self {
        let principals = &self.entra.shared().principals;
        let (oid, sub) = (principals.user_oid.clone(), principals.user_sub.clone());
        let builder = self
            .remove(&["roles", "idtyp"])
            .set("oid", json!(oid))
            .set("sub", json!(sub))
            .set("scp", json!(DEFAULT_SCOPE))
            .set("name", json!(USER_NAME));
        match builder.version {
            TokenVersion::V2 => builder.set("preferred_username", json!(USER_LOGIN)),
            TokenVersion::V1 => builder
                .set("unique_name", json!(USER_LOGIN))
                .set("upn", json!(USER_LOGIN))
                .set("acr", json!("1"))
                .set("amr", json!(["pwd"])),
        }
    }

    /// Makes it an app-only token (client credentials): `roles` these app roles, `idtyp`
    /// `app`, `sub` equal to `oid` (the calling application's service principal), and no
    /// `scp` nor user claims (`name`, `preferred_username`, `unique_name`, `upn`, `acr`,
    /// `amr`). With no roles, `roles` is left out, as Entra does for apps that were granted
    /// none (ENTRA-27).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V1, entra.tenant()).app(["Orders.Read.All"]).sign();
    /// let claims = decode_claims(&token);
    /// assert_eq!(claims["roles"], serde_json::json!(["Orders.Read.All"]));
    /// assert_eq!(claims["idtyp"], "app");
    /// assert_eq!(claims["sub"], claims["oid"]);
    /// assert!(claims.get("scp").is_none());
    ///
    /// let no_roles = entra.token(TokenVersion::V2, entra.tenant()).app([] as [&str; 0]).sign();
    /// assert!(decode_claims(&no_roles).get("roles").is_none());
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn app<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        let oid = self.entra.shared().principals.app_oid.clone();
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        let builder = self
            .remove(&[
                "scp",
                "roles",
                "name",
                "preferred_username",
                "unique_name",
                "upn",
                "acr",
                "amr",
            ])
            .set("oid", json!(oid))
            .set("sub", json!(oid))
            .set("idtyp", json!("app"));
        if roles.is_empty() {
            builder
        } else {
            builder.set("roles", json!(roles))
        }
    }

    /// Sets a header parameter, or replaces it (`alg`, `typ`, `kid` and `x5t` included: the
    /// signature is still made with the chosen key, RS256).
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// // Microsoft Graph tokens carry a `nonce` in the header (ENTRA-23).
    /// let token = entra.token(TokenVersion::V1, entra.tenant()).header("nonce", "abc").sign();
    /// assert_eq!(decode_header(&token)["nonce"], "abc");
    /// # Ok(())
    /// # }
    /// # fn decode_header(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').next().unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn header(mut self, name: &str, value: impl Serialize) -> Self {
        let value = to_json("header parameter", name, value);
        self.header.push((name.to_owned(), Some(value)));
        self
    }

    /// Removes a header parameter (`alg`, `typ`, `kid` and `x5t` included).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// // A 2014-style v1 token, with `x5t` and no `kid`.
    /// let token = entra.token(TokenVersion::V1, entra.tenant()).without_header("kid").sign();
    /// let header = decode_header(&token);
    /// assert!(header.get("kid").is_none() && header.get("x5t").is_some());
    /// # Ok(())
    /// # }
    /// # fn decode_header(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').next().unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.push((name.to_owned(), None));
        self
    }

    /// Signs with the key with this `kid`: any key the stand-in ever generated, published or
    /// not (rotated away), shared, [app-specific](TestEntra::app_specific_key) or
    /// [of one tenant](TestEntra::tenant_key). The header's `kid` (and `x5t` in v1) are that
    /// key's.
    ///
    /// [`sign`](Self::sign) panics if the stand-in never had such a key.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let oldest = entra.kids()[0].clone();
    /// let token = entra.token(TokenVersion::V1, entra.tenant()).key(&oldest).sign();
    /// assert_eq!(decode_header(&token)["kid"], oldest.as_str());
    /// assert_eq!(decode_header(&token)["x5t"], oldest.as_str());
    /// # Ok(())
    /// # }
    /// # fn decode_header(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').next().unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn key(mut self, kid: &str) -> Self {
        self.key = Some(kid.to_owned());
        self
    }

    /// Signs the token with RS256: a compact JWS, `header.claims.signature`, over exactly the
    /// header and claims built here (compact JSON, members in a stable order).
    ///
    /// # Panics
    ///
    /// If a [`key`](Self::key) was chosen that the stand-in never had.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).sign();
    /// let header = decode_header(&token);
    /// assert_eq!(header["typ"], "JWT");
    /// assert_eq!(header["alg"], "RS256");
    /// assert!(header.get("x5t").is_none()); // v2 headers carry only `kid`
    /// # Ok(())
    /// # }
    /// # fn decode_header(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').next().unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn sign(self) -> String {
        let shared = self.entra.shared();
        let key = match &self.key {
            None => shared.current_key(),
            Some(kid) => shared
                .key(kid)
                .unwrap_or_else(|| panic!("EntraTokenBuilder::key: TestEntra has no key {kid:?}")),
        };
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        header.insert("alg".into(), json!(key.alg().name()));
        header.insert("kid".into(), json!(key.kid()));
        if self.version == TokenVersion::V1 {
            header.insert("x5t".into(), json!(key.kid()));
        }
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
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string()),
            b64(Value::Object(self.claims).to_string())
        );
        let signature = key.sign(input.as_bytes());
        format!("{input}.{}", b64(signature))
    }
}

impl fmt::Debug for EntraTokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: claim values may be personal data in a user's tests.
        let header: Vec<&str> = self.header.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("EntraTokenBuilder")
            .field("instance", &self.entra.instance())
            .field("version", &self.version)
            .field("key", &self.key)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field("header_changes", &header)
            .finish()
    }
}
