//! The claim setters of [`EntraTokenBuilder`]: scopes, roles, the caller, any claim, the
//! audience, the issuer and the lifetime.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::{EntraTokenBuilder, after, now, to_json};
use crate::providers::entra::TokenVersion;

impl EntraTokenBuilder {
    /// Sets `scp`: the space-separated short names of delegated scopes, as Entra writes them
    /// (`"Orders.Read Orders.Write"`, not `api://.../Orders.Read`).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).scp("Files.Read").sign();
    /// assert_eq!(decode_claims(&token)["scp"], "Files.Read");
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn scp(self, scp: &str) -> Self {
        self.set("scp", json!(scp))
    }

    /// Sets `roles`: an array of app roles (in user tokens, the user's assigned roles; in
    /// app-only tokens, the application permissions).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).roles(["Admin"]).sign();
    /// let claims = decode_claims(&token);
    /// assert_eq!(claims["roles"], serde_json::json!(["Admin"]));
    /// assert_eq!(claims["scp"], "access_as_user");
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.set("roles", json!(roles))
    }

    /// Sets the calling application's id: `azp` (v2) or `appid` (v1). The default is
    /// [`TestEntra::CALLER_ID`](super::TestEntra::CALLER_ID).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let caller = "11111111-2222-4333-8444-555555555555";
    /// let v1 = entra.token(TokenVersion::V1, entra.tenant()).caller(caller).sign();
    /// assert_eq!(decode_claims(&v1)["appid"], caller);
    /// let v2 = entra.token(TokenVersion::V2, entra.tenant()).caller(caller).sign();
    /// assert_eq!(decode_claims(&v2)["azp"], caller);
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn caller(self, app_id: &str) -> Self {
        let name = match self.version {
            TokenVersion::V1 => "appid",
            TokenVersion::V2 => "azp",
        };
        self.set(name, json!(app_id))
    }

    /// Sets a claim, or replaces it.
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON (a map with non-string keys, say).
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra
    ///     .token(TokenVersion::V2, entra.tenant())
    ///     .claim("acrs", ["c1"])
    ///     .claim("xms_cc", ["cp1"])
    ///     .sign();
    /// assert_eq!(decode_claims(&token)["acrs"], serde_json::json!(["c1"]));
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn claim(self, name: &str, value: impl Serialize) -> Self {
        let value = to_json("claim", name, value);
        self.set(name, value)
    }

    /// Removes a claim, default or not.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).without_claim("tid").sign();
    /// assert!(decode_claims(&token).get("tid").is_none());
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn without_claim(self, name: &str) -> Self {
        self.remove(&[name])
    }

    /// Sets `aud` to this one audience.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// // v1 tokens may carry an App ID URI or the client id (ENTRA-6).
    /// let token = entra
    ///     .token(TokenVersion::V1, entra.tenant())
    ///     .audience(TestEntra::CLIENT_ID)
    ///     .sign();
    /// assert_eq!(decode_claims(&token)["aud"], TestEntra::CLIENT_ID);
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn audience(self, aud: &str) -> Self {
        self.set("aud", json!(aud))
    }

    /// Sets `iss`.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let tenant = entra.tenant();
    /// // The issuer of another tenant than `tid`: refused by multi-tenant validation (ENTRA-17).
    /// let token = entra
    ///     .token(TokenVersion::V2, tenant)
    ///     .issuer(&entra.v2_issuer(&entra.add_tenant()))
    ///     .sign();
    /// assert_ne!(decode_claims(&token)["iss"], entra.v2_issuer(tenant));
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn issuer(self, iss: &str) -> Self {
        self.set("iss", json!(iss))
    }

    /// Sets `exp` to now plus `lifetime` (whole seconds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// // Under continuous access evaluation, Entra issues tokens for up to 28 hours.
    /// let token = entra
    ///     .token(TokenVersion::V2, entra.tenant())
    ///     .expires_in(Duration::from_secs(28 * 3600))
    ///     .sign();
    /// let claims = decode_claims(&token);
    /// // From `iat`, 5 minutes more: Entra dates `iat` early.
    /// let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    /// assert!((28 * 3600 + 299..=28 * 3600 + 301).contains(&lifetime));
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let exp = after(now(), lifetime);
        self.set("exp", json!(exp))
    }

    /// Makes the token expired beyond any leeway: `iat` and `nbf` two hours ago, `exp` one
    /// hour ago.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).expired().sign();
    /// let claims = decode_claims(&token);
    /// assert!(claims["exp"].as_i64().unwrap() < claims["iat"].as_i64().unwrap() + 3601);
    /// # Ok(())
    /// # }
    /// # fn decode_claims(token: &str) -> serde_json::Value {
    /// #     let part = token.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # }
    /// ```
    pub fn expired(self) -> Self {
        let now = now();
        self.set("iat", json!(now - 7200))
            .set("nbf", json!(now - 7200))
            .set("exp", json!(now - 3600))
    }
}
