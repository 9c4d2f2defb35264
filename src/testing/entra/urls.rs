//! Issuers, and the URLs of metadata documents and key sets.

use super::{Shared, Tenant, TestEntra, TokenVersion};

impl Shared {
    pub(super) fn v1_issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}/", self.sts)
    }

    pub(super) fn v2_issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}/v2.0", self.instance)
    }

    /// The `issuer` of a tenant's metadata: the tenant's own, or the `{tenantid}` template.
    pub(super) fn metadata_issuer(&self, version: TokenVersion, tenant: &Tenant) -> String {
        let id = tenant.id().unwrap_or("{tenantid}");
        match version {
            TokenVersion::V1 => self.v1_issuer(id),
            TokenVersion::V2 => self.v2_issuer(id),
        }
    }
}

impl TestEntra {
    /// The instance, `http://127.0.0.1:P1` (no trailing slash): the stand-in for
    /// `https://login.microsoftonline.com`, which serves metadata and keys and hosts v2
    /// issuers.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let tenant = entra.tenant();
    /// assert_eq!(entra.v2_issuer(tenant), format!("{}/{tenant}/v2.0", entra.instance()));
    /// assert!(!entra.instance().ends_with('/'));
    /// # Ok(())
    /// # }
    /// ```
    pub fn instance(&self) -> &str {
        &self.shared().instance
    }

    /// The v1 issuer of a tenant, `http://127.0.0.1:P2/{tenant}/` (trailing slash included):
    /// the stand-in for `https://sts.windows.net/{tid}/`, on the v1 STS host, a different
    /// port than the [`instance`](Self::instance).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let issuer = entra.v1_issuer(entra.tenant());
    /// assert!(issuer.starts_with("http://127.0.0.1:") && issuer.ends_with('/'));
    /// assert!(!issuer.starts_with(entra.instance()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn v1_issuer(&self, tenant: &str) -> String {
        self.shared().v1_issuer(tenant)
    }

    /// The v2 issuer of a tenant, `{instance}/{tenant}/v2.0` (no trailing slash): the
    /// stand-in for `https://login.microsoftonline.com/{tid}/v2.0`, also the v2 authority.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// assert_eq!(
    ///     entra.v2_issuer("72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ///     format!("{}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", entra.instance()),
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn v2_issuer(&self, tenant: &str) -> String {
        self.shared().v2_issuer(tenant)
    }

    /// The URL of a tenant's v1 metadata, `{instance}/{tenant}/.well-known/openid-configuration`
    /// (`tenant` may also be `common`, `organizations` or `consumers`).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let url = entra.v1_metadata_url("common");
    /// let metadata = fetch_json(url).await?;
    /// assert_eq!(metadata["issuer"], entra.v1_issuer("{tenantid}"));
    /// assert_eq!(metadata["jwks_uri"], entra.v1_keys_url("common"));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub fn v1_metadata_url(&self, tenant: &str) -> String {
        format!(
            "{}/{tenant}/.well-known/openid-configuration",
            self.instance()
        )
    }

    /// The URL of a tenant's v2 metadata,
    /// `{instance}/{tenant}/v2.0/.well-known/openid-configuration`: the v2 issuer plus
    /// `/.well-known/openid-configuration`, as OpenID Connect discovery finds it.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let tenant = entra.tenant();
    /// let url = entra.v2_metadata_url(tenant);
    /// assert_eq!(url, format!("{}/.well-known/openid-configuration", entra.v2_issuer(tenant)));
    /// let metadata = fetch_json(url).await?;
    /// assert_eq!(metadata["issuer"], entra.v2_issuer(tenant));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub fn v2_metadata_url(&self, tenant: &str) -> String {
        format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            self.instance()
        )
    }

    /// The URL of a tenant's v1 key set, `{instance}/{tenant}/discovery/keys`: the `jwks_uri`
    /// of its v1 metadata.
    ///
    /// ```
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
    ///         IssuerProfile::new(entra.v1_issuer(tenant))
    ///             .audience(format!("api://{}", TestEntra::CLIENT_ID))
    ///             .algorithms([Algorithm::RS256])
    ///             .jwks_uri(entra.v1_keys_url(tenant)),
    ///     )
    ///     .key_cache(KeyCacheSettings::default().allow_http_loopback())
    ///     .build()?;
    /// let token = entra.token(TokenVersion::V1, tenant).sign();
    /// assert!(gate.validate(&token).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn v1_keys_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/discovery/keys", self.instance())
    }

    /// The URL of a tenant's v2 key set, `{instance}/{tenant}/discovery/v2.0/keys`: the
    /// `jwks_uri` of its v2 metadata.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let keys = fetch_json(entra.v2_keys_url("common")).await?;
    /// assert_eq!(keys["keys"][0]["issuer"], entra.v2_issuer("{tenantid}"));
    /// assert!(keys["keys"][0].get("alg").is_none());
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub fn v2_keys_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/discovery/v2.0/keys", self.instance())
    }
}
