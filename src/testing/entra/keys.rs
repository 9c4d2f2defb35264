//! The stand-in's signing keys: RSA 2048 with a self-signed certificate each, shared by every
//! tenant, or served only for one application, one tenant or another cloud instance.

use std::sync::{Arc, MutexGuard, PoisonError};

use serde_json::{Value, json};

use super::{Shared, TestEntra, cert};
use crate::Algorithm;
use crate::testing::TestKey;

/// Where a key is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// In every tenant's key sets.
    Shared,
    /// Only with `?appid=` this application.
    App(String),
    /// In this tenant's key sets and in `common`'s.
    Tenant(String),
    /// In this tenant's key sets only.
    TenantOnly(String),
    /// In every tenant's key sets, naming this `cloud_instance_name`.
    Cloud(String),
}

pub(super) struct KeyEntry {
    pub(super) key: Arc<TestKey>,
    /// The certificate, base64 (standard, padded) DER, as in `x5c`.
    x5c: String,
    pub(super) scope: Scope,
    pub(super) published: bool,
}

/// A new RS256 key with a self-signed certificate; `kid` is the certificate's thumbprint.
fn generate_key(scope: Scope) -> KeyEntry {
    let key = TestKey::generate(Algorithm::RS256, "");
    let (der, kid) = cert::self_signed(&key);
    KeyEntry {
        key: Arc::new(key.with_kid(kid)),
        x5c: base64_simd::STANDARD.encode_to_string(der),
        scope,
        published: true,
    }
}

impl KeyEntry {
    /// The JWK as Entra publishes it: no `alg`; `issuer` only in v2 key sets;
    /// `cloud_instance_name` only for [`Scope::Cloud`] keys.
    pub(super) fn jwk(&self, issuer: Option<&str>) -> Value {
        let public = self.key.jwk_without_alg();
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.key.kid(),
            "x5t": self.key.kid(),
            "n": public["n"],
            "e": public["e"],
            "x5c": [self.x5c],
        });
        if let Some(issuer) = issuer {
            jwk["issuer"] = json!(issuer);
        }
        if let Scope::Cloud(name) = &self.scope {
            jwk["cloud_instance_name"] = json!(name);
        }
        jwk
    }

    pub(super) fn is_shared(&self) -> bool {
        self.published && self.scope == Scope::Shared
    }
}

impl Shared {
    pub(super) fn lock_keys(&self) -> MutexGuard<'_, Vec<KeyEntry>> {
        // Every change is a single step, so a panic elsewhere cannot tear the keys.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The newest published shared key: the one tokens are signed with by default.
    pub(super) fn current_key(&self) -> Arc<TestKey> {
        let keys = self.lock_keys();
        let entry = keys
            .iter()
            .rev()
            .find(|e| e.is_shared())
            .expect("TestEntra always publishes a shared key");
        Arc::clone(&entry.key)
    }

    /// Any key ever generated, published or not, of any scope.
    pub(super) fn key(&self, kid: &str) -> Option<Arc<TestKey>> {
        self.lock_keys()
            .iter()
            .find(|e| e.key.kid() == kid)
            .map(|e| Arc::clone(&e.key))
    }

    pub(super) fn add_key(&self, scope: Scope) -> String {
        // Outside the lock: RSA generation takes a while.
        let entry = generate_key(scope);
        let kid = entry.key.kid().to_owned();
        self.lock_keys().push(entry);
        kid
    }
}

impl TestEntra {
    /// The `kid`s of the shared keys every tenant's key sets serve, oldest first. The last
    /// one is the current key, which tokens are signed with by default. (App-specific and
    /// tenant keys are not listed.)
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let kids = entra.kids();
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).sign();
    /// # let header = |t: &str| -> serde_json::Value {
    /// #     let part = t.split('.').next().unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # };
    /// assert_eq!(header(&token)["kid"], kids[1].as_str());
    /// # Ok(())
    /// # }
    /// ```
    pub fn kids(&self) -> Vec<String> {
        self.shared()
            .lock_keys()
            .iter()
            .filter(|e| e.is_shared())
            .map(|e| e.key.kid().to_owned())
            .collect()
    }

    /// Rolls the shared keys over, as Entra does from time to time (ENTRA-19): generates and
    /// publishes a new key, which becomes the current key, and unpublishes the oldest shared
    /// key. Returns the new `kid`. Unpublished keys can still sign, with
    /// [`EntraTokenBuilder::key`](super::EntraTokenBuilder::key).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let before = entra.kids();
    /// let new = entra.rotate_keys();
    /// assert_eq!(entra.kids(), [before[1].clone(), new]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn rotate_keys(&self) -> String {
        let shared = self.shared();
        let entry = generate_key(Scope::Shared);
        let kid = entry.key.kid().to_owned();
        let mut keys = shared.lock_keys();
        if let Some(oldest) = keys.iter_mut().find(|e| e.is_shared()) {
            oldest.published = false;
        }
        keys.push(entry);
        kid
    }

    /// Creates an app-specific signing key for the application `app_id` (ENTRA-15: apps with
    /// a custom signing key, for claims mapping), and returns its `kid`. It is served only by
    /// key sets fetched with `?appid={app_id}`, never by the plain ones; sign with it with
    /// [`EntraTokenBuilder::key`](super::EntraTokenBuilder::key).
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
    /// let kid = entra.app_specific_key(TestEntra::CLIENT_ID);
    /// let keys = format!("{}?appid={}", entra.v2_keys_url(tenant), TestEntra::CLIENT_ID);
    /// let gate = Gate::builder()
    ///     .issuer(
    ///         IssuerProfile::new(entra.v2_issuer(tenant))
    ///             .audience(TestEntra::CLIENT_ID)
    ///             .algorithms([Algorithm::RS256])
    ///             .jwks_uri(keys),
    ///     )
    ///     .key_cache(KeyCacheSettings::default().allow_http_loopback())
    ///     .build()?;
    /// let token = entra.token(TokenVersion::V2, tenant).key(&kid).sign();
    /// assert!(gate.validate(&token).await.is_ok());
    /// assert!(!entra.kids().contains(&kid));
    /// # Ok(())
    /// # }
    /// ```
    pub fn app_specific_key(&self, app_id: &str) -> String {
        self.shared().add_key(Scope::App(app_id.to_owned()))
    }

    /// Creates a signing key of one tenant only, and returns its `kid`. It is served by that
    /// tenant's key sets and by `common`'s, where its v2 `issuer` is the tenant's literal v2
    /// issuer rather than the template, like the personal-account keys in Entra's `common`
    /// key set (ENTRA-14). For tests of the signing-key issuer check (ENTRA-17).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    /// let keys = fetch_json(entra.v2_keys_url("common")).await?;
    /// let key = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str());
    /// assert_eq!(key.unwrap()["issuer"], entra.v2_issuer(TestEntra::CONSUMERS_TENANT));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub fn tenant_key(&self, tenant: &str) -> String {
        let tenant = if tenant.eq_ignore_ascii_case("consumers") {
            TestEntra::CONSUMERS_TENANT.to_owned()
        } else {
            tenant.to_ascii_lowercase()
        };
        self.shared().add_key(Scope::Tenant(tenant))
    }

    /// Creates a signing key served only by that tenant's own key sets, not by the
    /// tenant-independent ones, and returns its `kid`: a key that has become specific to one
    /// tenant, which Microsoft warns can happen to any key (ENTRA-21). Its v2 `issuer` is the
    /// tenant's literal v2 issuer.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let tenant = entra.tenant().to_owned();
    /// let kid = entra.tenant_only_key(&tenant);
    /// let client = reqwest::Client::builder().no_proxy().build()?;
    /// let own = client.get(entra.v2_keys_url(&tenant)).send().await?.text().await?;
    /// let common = client.get(entra.v2_keys_url("common")).send().await?.text().await?;
    /// assert!(own.contains(&kid) && !common.contains(&kid));
    /// # Ok(())
    /// # }
    /// ```
    pub fn tenant_only_key(&self, tenant: &str) -> String {
        self.shared()
            .add_key(Scope::TenantOnly(tenant.to_ascii_lowercase()))
    }

    /// Creates a signing key that names a cloud instance, and returns its `kid`: every
    /// tenant's key sets serve it (v1 and v2, with the same `issuer` as the shared keys), with
    /// `"cloud_instance_name": cloud_instance_name`. Entra's metadata names its own cloud
    /// instance (`microsoftonline.com` here), and a key of another cloud must not verify
    /// tokens (ENTRA-40). Tokens are not signed with it unless asked, with
    /// [`EntraTokenBuilder::key`](super::EntraTokenBuilder::key); [`kids`](Self::kids) does not
    /// list it.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let kid = entra.cloud_instance_key("microsoftonline.us");
    /// let keys = fetch_json(entra.v1_keys_url(entra.tenant())).await?;
    /// let key = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str());
    /// assert_eq!(key.unwrap()["cloud_instance_name"], "microsoftonline.us");
    /// assert!(!entra.kids().contains(&kid));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub fn cloud_instance_key(&self, cloud_instance_name: &str) -> String {
        self.shared()
            .add_key(Scope::Cloud(cloud_instance_name.to_owned()))
    }
}
