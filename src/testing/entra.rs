//! A loopback stand-in for the Microsoft Entra ID authority: [`TestEntra`].

mod cert;
mod server;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::RsaKeyPair;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::keys::{Signer, SigningKey};
use crate::Algorithm;
use crate::providers::entra::TokenVersion;

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

/// Where a key is served.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
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

struct KeyEntry {
    key: Arc<SigningKey>,
    /// The certificate, base64 (standard, padded) DER, as in `x5c`.
    x5c: String,
    scope: Scope,
    published: bool,
}

/// A `{tenant}` path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tenant {
    /// A tenant id, lowercase.
    Id(String),
    Common,
    Organizations,
    Consumers,
}

impl Tenant {
    fn parse(segment: &str) -> Option<Tenant> {
        let lower = segment.to_ascii_lowercase();
        match lower.as_str() {
            "common" => Some(Tenant::Common),
            "organizations" => Some(Tenant::Organizations),
            "consumers" => Some(Tenant::Consumers),
            _ if is_guid(&lower) => Some(Tenant::Id(lower)),
            _ => None,
        }
    }

    /// The segment in URLs.
    fn segment(&self) -> &str {
        match self {
            Tenant::Id(id) => id,
            Tenant::Common => "common",
            Tenant::Organizations => "organizations",
            Tenant::Consumers => "consumers",
        }
    }

    /// The tenant id, or `None` for the multi-tenant names, whose issuers are templates.
    fn id(&self) -> Option<&str> {
        match self {
            Tenant::Id(id) => Some(id),
            Tenant::Consumers => Some(TestEntra::CONSUMERS_TENANT),
            Tenant::Common | Tenant::Organizations => None,
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `len` random bytes.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random number generator works");
    bytes
}

/// A random version-4 GUID, lowercase, as Entra writes tenant and object ids.
fn random_guid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A new RS256 key with a self-signed certificate; `kid` is the certificate's thumbprint.
fn generate_key(scope: Scope) -> KeyEntry {
    let pair =
        RsaKeyPair::generate(KeySize::Rsa2048).expect("aws-lc-rs failed to generate a key pair");
    let (der, kid) = cert::self_signed(&pair);
    KeyEntry {
        key: Arc::new(SigningKey::new(Algorithm::RS256, kid, Signer::Rsa(pair))),
        x5c: base64_simd::STANDARD.encode_to_string(der),
        scope,
        published: true,
    }
}

impl KeyEntry {
    /// The JWK as Entra publishes it: no `alg`; `issuer` only in v2 key sets;
    /// `cloud_instance_name` only for [`Scope::Cloud`] keys.
    fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.key.kid,
            "x5t": self.key.kid,
            "n": self.key.jwk["n"],
            "e": self.key.jwk["e"],
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

    fn is_shared(&self) -> bool {
        self.published && self.scope == Scope::Shared
    }
}

/// Now as Entra writes it in errors: `2024-06-18 14:08:00Z`.
fn utc_timestamp() -> String {
    let now = token::now();
    let (year, month, day) = cert::civil_from_days(now.div_euclid(86_400));
    let secs = now.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A JSON error shaped like Entra's (`error`, `error_description` with an AADSTS code,
/// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`).
fn aadsts_error(instance: &str, error: &str, code: u32, description: &str) -> String {
    let trace_id = random_guid();
    let correlation_id = random_guid();
    let timestamp = utc_timestamp();
    json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{instance}/error?code={code}"),
    })
    .to_string()
}

impl Shared {
    fn lock_keys(&self) -> MutexGuard<'_, Vec<KeyEntry>> {
        // Every change is a single step, so a panic elsewhere cannot tear the keys.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn v1_issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}/", self.sts)
    }

    fn v2_issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}/v2.0", self.instance)
    }

    /// The `issuer` of a tenant's metadata: the tenant's own, or the `{tenantid}` template.
    fn metadata_issuer(&self, version: TokenVersion, tenant: &Tenant) -> String {
        let id = tenant.id().unwrap_or("{tenantid}");
        match version {
            TokenVersion::V1 => self.v1_issuer(id),
            TokenVersion::V2 => self.v2_issuer(id),
        }
    }

    /// The newest published shared key: the one tokens are signed with by default.
    fn current_key(&self) -> Arc<SigningKey> {
        let keys = self.lock_keys();
        let entry = keys
            .iter()
            .rev()
            .find(|e| e.is_shared())
            .expect("TestEntra always publishes a shared key");
        Arc::clone(&entry.key)
    }

    /// Any key ever generated, published or not, of any scope.
    fn key(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.lock_keys()
            .iter()
            .find(|e| e.key.kid == kid)
            .map(|e| Arc::clone(&e.key))
    }

    fn add_key(&self, scope: Scope) -> String {
        // Outside the lock: RSA generation takes a while.
        let entry = generate_key(scope);
        let kid = entry.key.kid.clone();
        self.lock_keys().push(entry);
        kid
    }

    /// A metadata document.
    fn metadata(&self, version: TokenVersion, tenant: &Tenant, appid: Option<&str>) -> String {
        let base = format!("{}/{}", self.instance, tenant.segment());
        let issuer = self.metadata_issuer(version, tenant);
        let query = appid.map_or_else(String::new, |app| {
            let app: String = url::form_urlencoded::byte_serialize(app.as_bytes()).collect();
            format!("?appid={app}")
        });
        // Entra's tenant-specific documents name a region; the multi-tenant ones have null.
        let region = match tenant {
            Tenant::Id(_) => json!("EU"),
            _ => Value::Null,
        };
        let auth_methods = [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ];
        match version {
            TokenVersion::V2 => json!({
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "token_endpoint_auth_methods_supported": auth_methods,
                "jwks_uri": format!("{base}/discovery/v2.0/keys{query}"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer,
                "request_uri_parameter_supported": false,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
                "claims_supported": [
                    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                    "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                    "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                    "c_hash", "email"
                ],
                "kerberos_endpoint": format!("{base}/kerberos"),
                "tenant_region_scope": region,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }),
            TokenVersion::V1 => json!({
                "token_endpoint": format!("{base}/oauth2/token"),
                "token_endpoint_auth_methods_supported": auth_methods,
                "jwks_uri": format!("{base}/discovery/keys{query}"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported":
                    ["code", "id_token", "code id_token", "token id_token", "token"],
                "scopes_supported": ["openid"],
                "issuer": issuer,
                "microsoft_multi_refresh_token": true,
                "authorization_endpoint": format!("{base}/oauth2/authorize"),
                "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{base}/oauth2/logout"),
                "claims_supported": [
                    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                    "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                    "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"
                ],
                "check_session_iframe": format!("{base}/oauth2/checksession"),
                "userinfo_endpoint": format!("{base}/openid/userinfo"),
                "kerberos_endpoint": format!("{base}/kerberos"),
                "tenant_region_scope": region,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }),
        }
        .to_string()
    }

    /// A key set: the shared keys, the tenant's keys and, with `appid`, that application's.
    fn key_set(&self, version: TokenVersion, tenant: &Tenant, appid: Option<&str>) -> String {
        let default_issuer = self.metadata_issuer(TokenVersion::V2, tenant);
        let keys = self.lock_keys();
        let jwks: Vec<Value> = keys
            .iter()
            .filter(|e| e.published)
            .filter_map(|e| {
                let issuer = match &e.scope {
                    Scope::Shared | Scope::Cloud(_) => default_issuer.clone(),
                    Scope::App(app) if Some(app.as_str()) == appid => default_issuer.clone(),
                    Scope::App(_) => return None,
                    // Like the personal-account keys in Entra's `common` key set: served there
                    // too, with their own tenant's literal issuer.
                    Scope::Tenant(owner)
                        if tenant.id() == Some(owner.as_str()) || *tenant == Tenant::Common =>
                    {
                        self.v2_issuer(owner)
                    }
                    Scope::TenantOnly(owner) if tenant.id() == Some(owner.as_str()) => {
                        self.v2_issuer(owner)
                    }
                    Scope::Tenant(_) | Scope::TenantOnly(_) => return None,
                };
                let issuer = (version == TokenVersion::V2).then_some(issuer);
                Some(e.jwk(issuer.as_deref()))
            })
            .collect();
        json!({ "keys": jwks }).to_string()
    }

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

    /// `9188040d-6c67-4c5b-b112-36a304b66dad`: the tenant of personal Microsoft accounts,
    /// which the `consumers` documents name as their issuer's tenant (ENTRA-11).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let url = format!("{}/consumers/v2.0/.well-known/openid-configuration", entra.instance());
    /// let metadata = fetch_json(url).await?;
    /// assert_eq!(metadata["issuer"], entra.v2_issuer(TestEntra::CONSUMERS_TENANT));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub const CONSUMERS_TENANT: &'static str = "9188040d-6c67-4c5b-b112-36a304b66dad";

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

    /// The first tenant, created at [`start`](Self::start): a random lowercase GUID.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// assert_eq!(entra.tenant().len(), 36);
    /// assert_eq!(entra.tenant(), entra.tenant().to_lowercase());
    /// # Ok(())
    /// # }
    /// ```
    pub fn tenant(&self) -> &str {
        &self.shared().first_tenant
    }

    /// A new tenant id: a random lowercase GUID. (The stand-in serves every GUID as a tenant;
    /// this only makes a fresh one, for tests with several tenants.)
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let other = entra.add_tenant();
    /// assert_ne!(other, entra.tenant());
    /// let token = entra.token(TokenVersion::V2, &other).sign();
    /// # let _ = token;
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_tenant(&self) -> String {
        let tenant = random_guid();
        self.shared()
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tenant.clone());
        tenant
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
            .map(|e| e.key.kid.clone())
            .collect()
    }

    /// Rolls the shared keys over, as Entra does from time to time (ENTRA-19): generates and
    /// publishes a new key, which becomes the current key, and unpublishes the oldest shared
    /// key. Returns the new `kid`. Unpublished keys can still sign, with
    /// [`EntraTokenBuilder::key`].
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
        let kid = entry.key.kid.clone();
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
    /// [`EntraTokenBuilder::key`].
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
    /// [`EntraTokenBuilder::key`]; [`kids`](Self::kids) does not list it.
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
                .map(|e| e.key.kid.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_recognized_and_generated_lowercase() {
        let guid = random_guid();
        assert!(is_guid(&guid), "{guid}");
        assert_eq!(guid, guid.to_lowercase());
        assert_eq!(&guid[14..15], "4");
        assert!(is_guid("9188040D-6C67-4C5B-B112-36A304B66DAD"));
        assert!(!is_guid("9188040d6c674c5bb11236a304b66dad"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert_eq!(
            Tenant::parse("9188040D-6C67-4C5B-B112-36A304B66DAD"),
            Some(Tenant::Id(TestEntra::CONSUMERS_TENANT.to_owned()))
        );
        assert_eq!(Tenant::parse("Common"), Some(Tenant::Common));
        assert_eq!(Tenant::parse("contoso.onmicrosoft.com"), None);
    }
}
