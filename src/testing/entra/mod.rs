//! A loopback stand-in for the Microsoft Entra ID authority: [`TestEntra`].

mod cert;
mod documents;
mod keys;
mod server;
mod tenants;
mod token;
mod urls;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::providers::entra::TokenVersion;
use documents::aadsts_error;
use keys::{KeyEntry, Scope};
use tenants::{Tenant, random_guid};

pub use token::EntraTokenBuilder;

/// A loopback stand-in for the Microsoft Entra ID authority: Entra-shaped OpenID Connect
/// metadata, key sets and access tokens, served over plain HTTP on `127.0.0.1`, so that tests
/// of an API that accepts Entra tokens run without the internet and without a tenant.
///
/// It listens on two ports, because real v1 and v2 issuers live on different hosts:
///
/// * the **instance** ([`instance`](Self::instance), `http://127.0.0.1:P1`), which stands for
///   the login host `https://login.microsoftonline.com`: it serves the metadata and keys
///   below, and is the host of v2 issuers ([`v2_issuer`](Self::v2_issuer),
///   `{instance}/{tid}/v2.0`);
/// * the **v1 STS host** (`http://127.0.0.1:P2`), which stands for `https://sts.windows.net`:
///   it is only the host of v1 issuers ([`v1_issuer`](Self::v1_issuer),
///   `http://127.0.0.1:P2/{tid}/`, trailing slash included). It serves nothing: every request
///   to it is answered `404` and counted ([`sts_requests`](Self::sts_requests)), so a test can
///   check that a validator never fetches anything from a token's `iss` (ENTRA-3).
///
/// On the instance, for `GET` (other methods get `405`, other paths `404`), where `{tenant}`
/// is a tenant id (a GUID; any GUID is accepted, in any case), `common`, `organizations` or
/// `consumers` (the personal-account tenant, [`CONSUMERS_TENANT`](Self::CONSUMERS_TENANT)):
///
/// | Path | Serves |
/// |---|---|
/// | `/{tenant}/v2.0/.well-known/openid-configuration` | v2 metadata: `issuer` is the tenant's v2 issuer, or for `common` and `organizations` the template `{instance}/{tenantid}/v2.0`; `jwks_uri` is `{instance}/{tenant}/discovery/v2.0/keys` |
/// | `/{tenant}/.well-known/openid-configuration` | v1 metadata: `issuer` is the tenant's v1 issuer, or the template `http://127.0.0.1:P2/{tenantid}/`; `jwks_uri` is `{instance}/{tenant}/discovery/keys` |
/// | `/{tenant}/discovery/v2.0/keys` | the key set, each key with the `issuer` of the v2 metadata |
/// | `/{tenant}/discovery/keys` | the same keys without `issuer` |
///
/// The metadata has every member of Entra's real documents (`authorization_endpoint`,
/// `token_endpoint`, `id_token_signing_alg_values_supported` `["RS256"]`,
/// `subject_types_supported` `["pairwise"]`, `cloud_instance_name`, `tenant_region_scope`,
/// ...), with Entra's URLs moved to the instance. The endpoints other than the keys are
/// named but not served. Keys are RSA 2048 for RS256, shaped like Entra's: `kty`, `use`
/// (`sig`), `kid`, `x5t` (equal to `kid`), `n`, `e` and `x5c`, and no `alg`. `x5c` holds a
/// real self-signed certificate for the key (subject `CN=tokengate TestEntra (not a Microsoft
/// certificate)`), and `kid` is its SHA-1 thumbprint in base64url, as in Entra.
///
/// Every tenant serves the same keys ([`kids`](Self::kids)), as Entra does, plus
/// [`tenant_key`](Self::tenant_key)s and [`cloud_instance_key`](Self::cloud_instance_key)s.
/// With `?appid={app_id}` (ENTRA-15), the metadata's `jwks_uri` carries the same query, and
/// the key sets add the [`app_specific_key`](Self::app_specific_key)s of that application. A
/// `{tenant}` that is neither a GUID nor one of the three names is answered `400` with a JSON
/// error shaped like Entra's (`invalid_tenant`, `AADSTS90002`).
///
/// Cloning is cheap and every clone shares the same keys and servers. The servers run on the
/// Tokio runtime that [`start`](Self::start) was awaited on, and stop when the last clone
/// (including those held by [`EntraTokenBuilder`]s) is dropped. Keys are generated per
/// instance, never leave the process and are never printed (`Debug` shows key ids only).
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
///         IssuerProfile::new(entra.v2_issuer(tenant))
///             .audience(TestEntra::CLIENT_ID)
///             .algorithms([Algorithm::RS256]) // Entra's keys carry no `alg`
///             .jwks_uri(entra.v2_keys_url(tenant)),
///     )
///     .key_cache(KeyCacheSettings::default().allow_http_loopback())
///     .build()?;
///
/// let token = entra.token(TokenVersion::V2, tenant).user().sign();
/// let claims = gate.validate(&token).await?;
/// assert_eq!(claims.tenant_id(), Some(tenant));
/// assert!(claims.has_scope("access_as_user"));
///
/// let app = entra.token(TokenVersion::V2, tenant).app(["Orders.Read.All"]).sign();
/// assert!(gate.validate(&app).await?.has_role("Orders.Read.All"));
/// assert_eq!(entra.requests(&format!("/{tenant}/discovery/v2.0/keys")), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TestEntra {
    inner: Arc<Inner>,
}

/// Owns the server tasks: dropped with the last [`TestEntra`] clone, which stops them.
struct Inner {
    shared: Arc<Shared>,
    servers: [JoinHandle<()>; 2],
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Aborting an accept loop also drops, and so aborts, its connection tasks.
        for server in &self.servers {
            server.abort();
        }
    }
}

/// What the handle, the builders and the servers share.
struct Shared {
    /// `http://127.0.0.1:P1`, the login host.
    instance: String,
    /// `http://127.0.0.1:P2`, the v1 STS host.
    sts: String,
    first_tenant: String,
    tenants: Mutex<Vec<String>>,
    keys: Mutex<Vec<KeyEntry>>,
    outage: AtomicBool,
    /// Requests to the instance, by path and by path with query.
    requests: Mutex<HashMap<String, usize>>,
    sts_requests: AtomicUsize,
    /// The default principals of minted tokens.
    principals: Principals,
}

/// The ids of the default user and the default application (service principal).
struct Principals {
    user_oid: String,
    /// Pairwise, per application: different from `user_oid`, as in Entra.
    user_sub: String,
    app_oid: String,
}

/// `len` random bytes.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator works");
    bytes
}

impl Shared {
    fn count(&self, path: &str, query: Option<&str>) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry(path.to_owned()).or_insert(0) += 1;
        if let Some(query) = query {
            *requests.entry(format!("{path}?{query}")).or_insert(0) += 1;
        }
    }
}

impl TestEntra {
    /// The application (client) id of the API that minted tokens are for: the default `aud`
    /// of v2 tokens, and of v1 tokens as `api://{CLIENT_ID}`.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).sign();
    /// # let claims = |t: &str| -> serde_json::Value {
    /// #     let part = t.split('.').nth(1).unwrap();
    /// #     serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
    /// # };
    /// assert_eq!(claims(&token)["aud"], TestEntra::CLIENT_ID);
    /// # Ok(())
    /// # }
    /// ```
    pub const CLIENT_ID: &'static str = "6f1e3c2a-9b4d-4e7f-8a15-2c3d4e5f6a7b";

    /// The application (client) id of the application that calls the API: `azp` of v2
    /// tokens, `appid` of v1 tokens.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let gate = entra_gate(&entra);
    /// let token = entra.token(TokenVersion::V2, entra.tenant()).sign();
    /// let claims = gate.validate(&token).await.unwrap();
    /// assert_eq!(claims.client_id(), Some(TestEntra::CALLER_ID));
    /// # Ok(())
    /// # }
    /// # fn entra_gate(entra: &TestEntra) -> tokengate::Gate {
    /// #     tokengate::Gate::builder()
    /// #         .issuer(tokengate::IssuerProfile::new(entra.v2_issuer(entra.tenant()))
    /// #             .audience(TestEntra::CLIENT_ID)
    /// #             .algorithms([tokengate::Algorithm::RS256])
    /// #             .jwks_uri(entra.v2_keys_url(entra.tenant())))
    /// #         .key_cache(tokengate::KeyCacheSettings::default().allow_http_loopback())
    /// #         .build().unwrap()
    /// # }
    /// ```
    pub const CALLER_ID: &'static str = "0c9a8b7d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";

    /// Starts the stand-in: binds the instance and the v1 STS host on `127.0.0.1` (ports
    /// chosen by the system), creates a first tenant ([`tenant`](Self::tenant)) and two
    /// shared signing keys.
    ///
    /// Needs a Tokio runtime with I/O and timers enabled (as `#[tokio::test]` and
    /// `#[tokio::main]` have them): the servers run on it.
    ///
    /// # Errors
    ///
    /// When no port on `127.0.0.1` can be bound.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// assert!(entra.instance().starts_with("http://127.0.0.1:"));
    /// assert_eq!(entra.kids().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> io::Result<TestEntra> {
        let instance = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let sts = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let first_tenant = random_guid();
        let shared = Arc::new(Shared {
            instance: format!("http://127.0.0.1:{}", instance.local_addr()?.port()),
            sts: format!("http://127.0.0.1:{}", sts.local_addr()?.port()),
            tenants: Mutex::new(vec![first_tenant.clone()]),
            first_tenant,
            keys: Mutex::new(Vec::new()),
            outage: AtomicBool::new(false),
            requests: Mutex::new(HashMap::new()),
            sts_requests: AtomicUsize::new(0),
            principals: Principals {
                user_oid: random_guid(),
                user_sub: token::pairwise_sub(),
                app_oid: random_guid(),
            },
        });
        shared.add_key(Scope::Shared);
        shared.add_key(Scope::Shared);
        let servers = [
            tokio::spawn(server::run(
                instance,
                Arc::clone(&shared),
                server::Host::Instance,
            )),
            tokio::spawn(server::run(sts, Arc::clone(&shared), server::Host::Sts)),
        ];
        Ok(TestEntra {
            inner: Arc::new(Inner { shared, servers }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// A token builder for `tenant` (a tenant id; `consumers` stands for
    /// [`CONSUMERS_TENANT`](Self::CONSUMERS_TENANT)), with valid, Entra-shaped defaults for
    /// `version`: a delegated user token signed with the current key. See
    /// [`EntraTokenBuilder`]. The two versions differ as in Entra (ENTRA-1, ENTRA-2):
    ///
    /// | | [`V1`](TokenVersion::V1) | [`V2`](TokenVersion::V2) |
    /// |---|---|---|
    /// | `iss` | [`v1_issuer`](Self::v1_issuer): `http://127.0.0.1:P2/{tid}/` (the STS host) | [`v2_issuer`](Self::v2_issuer): `{instance}/{tid}/v2.0` |
    /// | `ver` | `"1.0"` | `"2.0"` |
    /// | default `aud` | `api://{CLIENT_ID}` | [`CLIENT_ID`](Self::CLIENT_ID) |
    /// | client | `appid`, `appidacr` | `azp`, `azpacr` |
    /// | header | `typ`, `alg`, `kid`, `x5t` | `typ`, `alg`, `kid` |
    /// | metadata | `{instance}/{tenant}/.well-known/openid-configuration` | `{instance}/{tenant}/v2.0/.well-known/openid-configuration` |
    /// | keys | `{instance}/{tenant}/discovery/keys` | `{instance}/{tenant}/discovery/v2.0/keys` |
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let token = entra
    ///     .token(TokenVersion::V1, entra.tenant())
    ///     .scp("Orders.Read Orders.Write")
    ///     .expires_in(Duration::from_secs(600))
    ///     .sign();
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn token(&self, version: TokenVersion, tenant: &str) -> EntraTokenBuilder {
        let tenant = if tenant.eq_ignore_ascii_case("consumers") {
            TestEntra::CONSUMERS_TENANT
        } else {
            tenant
        };
        EntraTokenBuilder::new(self.clone(), version, tenant)
    }

    /// How many requests the instance has received for `path`, answered or not. `path` is
    /// either a bare path (`/{tenant}/discovery/v2.0/keys`), which counts every request for
    /// it whatever its query, or a path with its exact query
    /// (`/{tenant}/discovery/v2.0/keys?appid=...`), which counts only those.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let client = reqwest::Client::builder().no_proxy().build()?;
    /// client.get(format!("{}?appid=app-1", entra.v2_keys_url("common"))).send().await?;
    /// assert_eq!(entra.requests("/common/discovery/v2.0/keys"), 1);
    /// assert_eq!(entra.requests("/common/discovery/v2.0/keys?appid=app-1"), 1);
    /// assert_eq!(entra.requests("/common/discovery/keys"), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self, path: &str) -> usize {
        let requests = self
            .shared()
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        requests.get(path).copied().unwrap_or(0)
    }

    /// How many requests the v1 STS host has received. It serves nothing (every request is
    /// answered `404`), so a validator that never fetches from a token's `iss` leaves this
    /// at zero.
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let client = reqwest::Client::builder().no_proxy().build()?;
    /// let url = format!("{}.well-known/openid-configuration", entra.v1_issuer(entra.tenant()));
    /// assert_eq!(client.get(url).send().await?.status(), 404);
    /// assert_eq!(entra.sts_requests(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sts_requests(&self) -> usize {
        self.shared().sts_requests.load(Ordering::SeqCst)
    }

    /// Simulates an outage of the login host: while `true`, every request to the instance
    /// is answered `503 Service Unavailable` (and still counted).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let client = reqwest::Client::builder().no_proxy().build()?;
    /// entra.set_outage(true);
    /// assert_eq!(client.get(entra.v2_keys_url("common")).send().await?.status(), 503);
    /// entra.set_outage(false);
    /// assert_eq!(client.get(entra.v2_keys_url("common")).send().await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_outage(&self, outage: bool) {
        self.shared().outage.store(outage, Ordering::Relaxed);
    }
}

impl fmt::Debug for TestEntra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: no key material.
        let shared = self.shared();
        let tenants = shared
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let keys = shared.lock_keys();
        let kid = |scope: fn(&Scope) -> bool| -> Vec<String> {
            keys.iter()
                .filter(|e| e.published && scope(&e.scope))
                .map(|e| e.key.kid().to_owned())
                .collect()
        };
        f.debug_struct("TestEntra")
            .field("instance", &shared.instance)
            .field("v1_sts", &shared.sts)
            .field("tenants", &tenants)
            .field("shared_keys", &kid(|s| *s == Scope::Shared))
            .field("app_keys", &kid(|s| matches!(s, Scope::App(_))))
            .field("tenant_keys", &kid(|s| matches!(s, Scope::Tenant(_))))
            .field("cloud_keys", &kid(|s| matches!(s, Scope::Cloud(_))))
            .field("outage", &shared.outage.load(Ordering::Relaxed))
            .finish()
    }
}
