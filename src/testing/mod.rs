//! A test issuer for your own tests (feature `testing`): how to test an API that tokengate
//! protects without a real identity provider.
//!
//! [`TestIssuer`] generates key pairs, mints access tokens with any claims and headers (valid
//! ones by default, deliberately broken ones on request), and serves OpenID Connect discovery
//! and its JWK Set over plain HTTP on `127.0.0.1`, so that a [`Gate`] configured for it fetches
//! keys exactly as it would from a real provider. It can rotate and remove keys and simulate an
//! outage, to test how your API behaves when the provider misbehaves.
//!
//! [`TestKey`] is the key pair such issuers sign with: use it directly for tests that configure
//! keys statically, or that need tokens no builder makes (any header, any claims text).
//!
//! ```
//! use tokengate::testing::TestIssuer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! // In a `#[tokio::test]`:
//! let issuer = TestIssuer::start().await?;
//! let gate = issuer.gate(); // or your own Gate, configured with `issuer.profile()`
//!
//! let token = issuer.token().subject("alice").scope("orders.read").sign();
//! let claims = gate.validate(&token).await.expect("a valid token");
//! assert_eq!(claims.subject(), Some("alice"));
//!
//! let expired = issuer.token().expired().sign();
//! assert_eq!(gate.validate(&expired).await.unwrap_err().code(), "token_expired");
//! # Ok(())
//! # }
//! ```
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! tokengate = { version = "0.2", features = ["testing"] }
//! ```
//!
//! The keys are generated per issuer and never leave the process; nothing here is meant for
//! production use.

mod dpop;
#[cfg(feature = "entra")]
mod entra;
mod issue;
mod keys;
mod mtls;
mod opaque;
mod server;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings};

pub use dpop::{DpopKey, ProofBuilder};
#[cfg(feature = "entra")]
pub use entra::{EntraTokenBuilder, TestEntra};
pub use keys::TestKey;
pub use mtls::TestClientCertificate;
pub use token::TokenBuilder;

/// The default audience of minted tokens, and the audience of [`TestIssuer::profile`].
const AUDIENCE: &str = "api://tokengate-test";

/// A test identity provider on `127.0.0.1`: keys, tokens, OpenID Connect discovery and a JWK
/// Set, all in-process.
///
/// It serves, over plain HTTP:
///
/// * `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`: a
///   metadata document with `issuer`, `jwks_uri`, `id_token_signing_alg_values_supported` (the
///   algorithms of the published keys), `response_types_supported` and
///   `subject_types_supported`;
/// * `/jwks`: the JWK Set of the published keys, each with `kty`, `kid`, `use` (`sig`), `alg`
///   and its public parameters;
/// * `/introspect`: RFC 7662 introspection of its tokens ([`introspection`](Self::introspection));
/// * `/token`: an OAuth 2.0 token endpoint for the `client_credentials` grant (a `POST`ed form
///   with the client id by HTTP Basic or `client_id`, any id and secret accepted; `scope` and
///   `audience` optional): a token with [`token`](Self::token)'s defaults, `sub` and
///   `client_id` the client id;
/// * `/mint`: a `POST`ed JSON object of claims laid over those defaults (`null` removes a
///   claim), signed with the current key for `?alg=` (default the first algorithm); the token
///   as plain text;
/// * `404` for any other path.
///
/// Neither `/token` nor `/mint` authenticates anyone: this issuer is for tests and local
/// development on loopback, never for anything reachable from elsewhere.
///
/// Cloning is cheap and every clone shares the same keys and server. The server runs on the
/// Tokio runtime that [`start`](Self::start) was awaited on, one task per connection, and
/// stops when the last clone (including those held by [`TokenBuilder`]s) is dropped.
///
/// Supported algorithms: every [`Algorithm`] (RSA keys are 2048 bits; ES256, ES384 and ES512
/// use P-256, P-384 and P-521; EdDSA uses Ed25519).
///
/// ```
/// use std::time::Duration;
/// use tokengate::Algorithm;
/// use tokengate::testing::TestIssuer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let issuer = TestIssuer::with_algorithms([Algorithm::RS256, Algorithm::ES256]).await?;
/// let gate = issuer.gate();
///
/// let token = issuer.token().alg(Algorithm::ES256).roles(["Orders.Admin"]).sign();
/// let claims = gate.validate(&token).await.expect("a valid token");
/// assert!(claims.has_role("Orders.Admin"));
/// assert_eq!(issuer.jwks_requests(), 1);
///
/// // The provider goes down: a gate that holds no keys yet cannot judge tokens.
/// issuer.set_outage(true);
/// let fresh = issuer.gate();
/// let refused = fresh.validate(&token).await.unwrap_err();
/// assert_eq!(refused.code(), "keys_unavailable");
/// // The gate that already holds the keys keeps working.
/// assert!(gate.validate(&token).await.is_ok());
/// issuer.set_outage(false);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TestIssuer {
    inner: Arc<Inner>,
}

/// Owns the server task: dropped with the last [`TestIssuer`] clone, which stops the server.
struct Inner {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Aborting the accept loop also drops, and so aborts, its connection tasks.
        self.server.abort();
    }
}

/// What the issuer handle and the server share.
struct Shared {
    issuer: String,
    /// The algorithm of tokens that do not choose one.
    default_alg: Algorithm,
    keys: Mutex<Keys>,
    outage: AtomicBool,
    delay_nanos: AtomicU64,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
    introspection_requests: AtomicUsize,
    /// Opaque tokens, for the introspection endpoint.
    opaque: opaque::Opaque,
}

/// Every key generated, published or not, in creation order.
#[derive(Default)]
struct Keys {
    entries: Vec<Entry>,
    /// How many keys each algorithm has had, for the next `kid`.
    generated: HashMap<Algorithm, u32>,
}

struct Entry {
    key: Arc<TestKey>,
    published: bool,
}

impl Keys {
    /// Adds `key` under the next `kid` for its algorithm, published; with `retire_older`,
    /// unpublishes every other key of that algorithm.
    fn insert(&mut self, key: TestKey, retire_older: bool) -> Arc<TestKey> {
        let alg = key.alg();
        let count = self.generated.entry(alg).or_insert(0);
        *count += 1;
        let kid = format!("test-{}-{count}", alg.name().to_ascii_lowercase());
        let key = Arc::new(key.with_kid(kid));
        if retire_older {
            for entry in self.entries.iter_mut().filter(|e| e.key.alg() == alg) {
                entry.published = false;
            }
        }
        self.entries.push(Entry {
            key: Arc::clone(&key),
            published: true,
        });
        key
    }

    /// The newest published key for `alg`.
    fn current(&self, alg: Algorithm) -> Option<Arc<TestKey>> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.published && e.key.alg() == alg)
            .map(|e| Arc::clone(&e.key))
    }

    fn published(&self) -> impl Iterator<Item = &TestKey> {
        self.entries.iter().filter(|e| e.published).map(|e| &*e.key)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Keys> {
        // Every change to the keys is a single step, so a panic elsewhere cannot tear them.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Generates a key (outside the lock: RSA generation takes a while) and publishes it.
    fn add_key(&self, alg: Algorithm, retire_older: bool) -> Arc<TestKey> {
        let key = TestKey::generate(alg, "");
        self.lock().insert(key, retire_older)
    }

    /// The current key for `alg`, added and published first if there is none.
    fn current_or_add(&self, alg: Algorithm) -> Arc<TestKey> {
        if let Some(key) = self.lock().current(alg) {
            return key;
        }
        let key = TestKey::generate(alg, "");
        let mut keys = self.lock();
        // Another builder may have added one meanwhile; one current key is enough.
        match keys.current(alg) {
            Some(key) => key,
            None => keys.insert(key, false),
        }
    }

    /// Whether a published key for `alg` exists.
    pub(super) fn has_key_for(&self, alg: Algorithm) -> bool {
        self.lock().current(alg).is_some()
    }

    /// Any key this issuer generated, published or not.
    fn key(&self, kid: &str) -> Option<Arc<TestKey>> {
        self.lock()
            .entries
            .iter()
            .find(|e| e.key.kid() == kid)
            .map(|e| Arc::clone(&e.key))
    }

    fn jwks_uri(&self) -> String {
        format!("{}{}", self.issuer, server::JWKS_PATH)
    }

    /// The JWK Set of the published keys.
    fn jwks(&self) -> String {
        let keys: Vec<serde_json::Value> = self.lock().published().map(TestKey::jwk).collect();
        json!({ "keys": keys }).to_string()
    }

    /// The discovery (and RFC 8414) metadata document.
    fn metadata(&self) -> String {
        let keys = self.lock();
        let algorithms: Vec<&str> = Algorithm::ALL
            .iter()
            .filter(|&&alg| keys.published().any(|k| k.alg() == alg))
            .map(|alg| alg.name())
            .collect();
        drop(keys);
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri(),
            "introspection_endpoint": format!("{}{}", self.issuer, server::INTROSPECT_PATH),
            "token_endpoint": format!("{}{}", self.issuer, server::TOKEN_PATH),
            "grant_types_supported": ["client_credentials"],
            "id_token_signing_alg_values_supported": algorithms,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
        })
        .to_string()
    }

    fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_nanos.load(Ordering::Relaxed))
    }
}

impl TestIssuer {
    /// Starts a test issuer with one RS256 key, serving on `127.0.0.1` at a free port.
    ///
    /// Needs a Tokio runtime (with I/O and timers enabled, as `#[tokio::test]` and
    /// `#[tokio::main]` have them): the server runs on it.
    ///
    /// # Errors
    ///
    /// When no port on `127.0.0.1` can be bound.
    pub async fn start() -> io::Result<TestIssuer> {
        TestIssuer::with_algorithms([Algorithm::RS256]).await
    }

    /// Starts a test issuer with one key for each of these algorithms (duplicates count once).
    /// Tokens that choose no algorithm are signed with the first one.
    ///
    /// Needs a Tokio runtime, as [`start`](Self::start) does.
    ///
    /// # Errors
    ///
    /// When no algorithm is given ([`io::ErrorKind::InvalidInput`]), or when no port on
    /// `127.0.0.1` can be bound.
    pub async fn with_algorithms(
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> io::Result<TestIssuer> {
        TestIssuer::on_port(0, algorithms).await
    }

    /// [`with_algorithms`](Self::with_algorithms) on this port of `127.0.0.1` (`0` for a free
    /// one): for a test issuer that other programs reach at a known address, such as
    /// `tokengate dev-issuer`. Never any other interface.
    ///
    /// ```
    /// use tokengate::Algorithm;
    /// use tokengate::testing::TestIssuer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let issuer = TestIssuer::on_port(0, [Algorithm::ES256]).await?;
    /// assert!(issuer.issuer().starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`with_algorithms`](Self::with_algorithms); also when the port is taken.
    pub async fn on_port(
        port: u16,
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> io::Result<TestIssuer> {
        let mut distinct: Vec<Algorithm> = Vec::new();
        for alg in algorithms {
            if !distinct.contains(&alg) {
                distinct.push(alg);
            }
        }
        let Some(&default_alg) = distinct.first() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "TestIssuer::with_algorithms needs at least one algorithm",
            ));
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{port}"),
            default_alg,
            keys: Mutex::new(Keys::default()),
            outage: AtomicBool::new(false),
            delay_nanos: AtomicU64::new(0),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            introspection_requests: AtomicUsize::new(0),
            opaque: opaque::Opaque::default(),
        });
        for alg in distinct {
            shared.add_key(alg, false);
        }
        let server = tokio::spawn(server::run(listener, Arc::clone(&shared)));
        Ok(TestIssuer {
            inner: Arc::new(Inner { shared, server }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The issuer identifier, `http://127.0.0.1:PORT` (no trailing slash): the `iss` of
    /// minted tokens and the base URL of the server.
    pub fn issuer(&self) -> &str {
        &self.shared().issuer
    }

    /// `api://tokengate-test`: the default `aud` of minted tokens.
    pub fn audience(&self) -> &str {
        AUDIENCE
    }

    /// The URL of the JWK Set: [`issuer`](Self::issuer) + `/jwks`.
    pub fn jwks_uri(&self) -> String {
        self.shared().jwks_uri()
    }

    /// The URL of the OpenID Connect discovery document: [`issuer`](Self::issuer) +
    /// `/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}{}", self.issuer(), server::OIDC_PATH)
    }

    /// An issuer profile for this issuer: its `iss`, its [`audience`](Self::audience), every
    /// [`Algorithm`], keys by discovery. Adjust it like any [`IssuerProfile`], and use it with
    /// [`key_cache`](Self::key_cache) (plain `http` on loopback must be allowed).
    pub fn profile(&self) -> IssuerProfile {
        IssuerProfile::new(self.issuer())
            .audience(AUDIENCE)
            .algorithms(Algorithm::ALL.iter().copied())
            .discover()
    }

    /// Key-cache settings for this issuer: [`KeyCacheSettings::default`] with
    /// [`allow_http_loopback`](KeyCacheSettings::allow_http_loopback) and a cooldown of one second, so
    /// that a test which sends a made-up `kid` sees the next rotation within a second (under the
    /// default settings a rotation is picked up within seconds too, but not for a cooldown
    /// after a refresh that found nothing).
    pub fn key_cache(&self) -> KeyCacheSettings {
        KeyCacheSettings::default()
            .allow_http_loopback()
            .cooldown(Duration::from_secs(1))
    }

    /// A new [`Gate`] for this issuer: [`profile`](Self::profile) with
    /// [`key_cache`](Self::key_cache). Each call builds a gate with its own, empty key cache.
    ///
    /// # Panics
    ///
    /// If the configuration is refused, with the [`ConfigError`](crate::ConfigError)'s text;
    /// it never is.
    pub fn gate(&self) -> Gate {
        Gate::builder()
            .issuer(self.profile())
            .key_cache(self.key_cache())
            .build()
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// The JWK Set currently published, as JSON text: for tests that configure keys statically
    /// with [`IssuerProfile::jwks`] rather than by discovery.
    pub fn jwks(&self) -> String {
        self.shared().jwks()
    }

    /// A token builder with valid default claims: `iss` [`issuer`](Self::issuer), `aud`
    /// [`audience`](Self::audience), `sub` `test-user`, `client_id` `test-client`, `iat` now,
    /// `exp` in one hour, and a random `jti`. See [`TokenBuilder`].
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(self.clone())
    }

    /// Generates and publishes a new key for `alg`, which becomes the current key for `alg`
    /// (the one [`TokenBuilder::alg`] signs with). Older keys stay published. Returns its
    /// `kid`, such as `test-rs256-2`.
    pub fn add_key(&self, alg: Algorithm) -> String {
        self.shared().add_key(alg, false).kid().to_owned()
    }

    /// Rotates the keys of `alg`: [`add_key`](Self::add_key), and unpublishes every older key
    /// of `alg`. Returns the new key's `kid`. Older keys can still sign, with
    /// [`TokenBuilder::key`].
    pub fn rotate(&self, alg: Algorithm) -> String {
        self.shared().add_key(alg, true).kid().to_owned()
    }

    /// Unpublishes the key with this `kid`; returns whether it was published. The private key
    /// is kept, so tests can still sign with it ([`TokenBuilder::key`]). If it was the current
    /// key of its algorithm, the newest other published key of that algorithm becomes current,
    /// or, when there is none, a new key is added on the next token that needs one.
    pub fn remove_key(&self, kid: &str) -> bool {
        let mut keys = self.shared().lock();
        match keys
            .entries
            .iter_mut()
            .find(|e| e.key.kid() == kid && e.published)
        {
            Some(entry) => {
                entry.published = false;
                true
            }
            None => false,
        }
    }

    /// Simulates an outage: while `true`, discovery and the JWK Set are answered with
    /// `503 Service Unavailable`.
    pub fn set_outage(&self, outage: bool) {
        self.shared().outage.store(outage, Ordering::Relaxed);
    }

    /// Simulates a slow provider: every response waits this long first (`Duration::ZERO`, the
    /// default, for none). Applies to requests that arrive after the call.
    pub fn set_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.shared().delay_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How many requests for the JWK Set the server has received, answered or not.
    pub fn jwks_requests(&self) -> usize {
        self.shared().jwks_requests.load(Ordering::SeqCst)
    }

    /// How many requests for a discovery document (either well-known location) the server
    /// has received, answered or not.
    pub fn discovery_requests(&self) -> usize {
        self.shared().discovery_requests.load(Ordering::SeqCst)
    }

    /// How many calls the introspection endpoint (`/introspect`) has had.
    pub fn introspection_requests(&self) -> usize {
        self.shared().introspection_requests.load(Ordering::SeqCst)
    }

    /// Introspection settings for this issuer's endpoint (`/introspect`, named in its
    /// metadata), with the client it accepts (`client_secret_basic`); use with
    /// [`profile`](Self::profile) and [`key_cache`](Self::key_cache) (plain `http` on loopback).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokengate::Gate;
    /// use tokengate::testing::TestIssuer;
    ///
    /// let issuer = TestIssuer::start().await?;
    /// let gate = Gate::builder()
    ///     .issuer(issuer.profile().introspection(issuer.introspection()))
    ///     .key_cache(issuer.key_cache())
    ///     .build()?;
    /// let token = issuer.token().scope("orders.read").opaque();
    /// assert!(gate.validate(&token).await?.has_scope("orders.read"));
    ///
    /// issuer.revoke(&token);
    /// // Refused once the cached answer is older than `Introspection::max_age` (60 s).
    /// # Ok(())
    /// # }
    /// ```
    pub fn introspection(&self) -> crate::Introspection {
        crate::Introspection::client_secret_basic(opaque::CLIENT_ID, opaque::CLIENT_SECRET)
    }

    /// The client id and secret the introspection endpoint accepts, for other client
    /// authentication methods (`client_secret_post`).
    pub fn introspection_client(&self) -> (&'static str, &'static str) {
        (opaque::CLIENT_ID, opaque::CLIENT_SECRET)
    }

    /// Revokes an opaque token: the endpoint calls it inactive from now on. Whether it was
    /// one of this issuer's.
    pub fn revoke(&self, token: &str) -> bool {
        self.shared().opaque.revoke(token)
    }
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: no key material.
        let keys = self.shared().lock();
        let published: Vec<&str> = keys.published().map(TestKey::kid).collect();
        let unpublished = keys.entries.len() - published.len();
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer())
            .field("audience", &self.audience())
            .field("published_keys", &published)
            .field("unpublished_keys", &unpublished)
            .field("outage", &self.shared().outage.load(Ordering::Relaxed))
            .field("delay", &self.shared().delay())
            .finish()
    }
}
