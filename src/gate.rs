//! The validator handle: built once, cloned cheaply, shared across threads.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::{Entry, TokenCache, Verified};
use crate::claims::{self, Claims, Fields, RawClaims, Times};
use crate::entra::EntraApi;
use crate::error::{ConfigError, Rejection};
use crate::issuer::{Issuer, IssuerProfile};
use crate::jws::{self, Header, HeaderText, Signature};
use crate::keys::{Fetcher, KeyCache, KeySet, KeyStatus, Miss, Remote, TenantKeys, VerifyingKey};
use crate::policy::Requirement;

/// The default [`max_token_size`](GateBuilder::max_token_size): 64 KiB.
///
/// An Entra token at its group limit (200 group ids before the overage claim replaces them)
/// is about 12 KB; Microsoft's own libraries accept up to 250 KiB.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 64 * 1024;

/// No access token is this large; a larger cap is a configuration mistake.
const MAX_TOKEN_SIZE_LIMIT: usize = 16 * 1024 * 1024;

/// Validates access tokens: the framework-free core of tokengate.
///
/// A `Gate` holds the configured issuers with their keys. Cloning it is cheap (one `Arc`), and
/// every clone shares the same state. [`validate`](Gate::validate) runs the whole pipeline:
///
/// 1. size cap, then strict compact-JWS parsing (no trust yet);
/// 2. the unverified `iss` chooses among the configured issuers only (it is never turned into
///    a URL);
/// 3. the issuer's algorithm allowlist and `typ` policy;
/// 4. the key, by `kid`, from that issuer's keys only; the token's `alg` must equal the key's;
/// 5. the signature;
/// 6. the claims: not another kind of token, audience, expiry, not-before, issued-at with
///    leeway, maximum age, required claims;
/// 7. the [`require`](GateBuilder::require)d scopes and roles, if any.
///
/// ```
/// use tokengate::{Gate, IssuerProfile};
///
/// # const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"doc-key-1",
/// #   "x":"yVWIuJ7T2PLM2VQLvV4UGXTrH_ztqVFztfzO5Weiquo","y":"huspzQOl6LHhixZ38s-3Mdqb2HT3F9xJczjAkJDw0_A"}]}"#;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tokengate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new("https://login.example.com/")
///             .audience("api://orders")
///             .jwks(JWKS),
///     )
///     .build()?;
///
/// let rejection = gate.validate("not a token").await.unwrap_err();
/// assert_eq!(rejection.code(), "malformed_token");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

struct GateInner {
    issuers: Vec<Issuer>,
    /// Each issuer's primary name, for status and errors.
    names: Vec<String>,
    /// Exact issuer string to index in `issuers`.
    by_issuer: HashMap<Box<str>, usize>,
    /// Issuers whose string their metadata names (see `IssuerProfile::learned_from`).
    learned: Box<[usize]>,
    /// When to retry, if metadata that names issuers could not be fetched.
    retry_hint: Duration,
    /// Tokens verified before.
    cache: Option<Verified>,
    max_token_size: usize,
    requirement: Option<Arc<Requirement>>,
    /// Single tenants' keys, for Entra APIs that accept any tenant.
    tenants: TenantKeys,
}

/// Which keys the pipeline verifies with.
#[derive(Clone, Copy)]
enum Keys<'a> {
    /// The issuer's current keys; a miss may be cured by a refresh.
    Current,
    /// The issuer's keys just refreshed.
    Refreshed(&'a KeySet),
    /// One tenant's own keys (see `keys::tenants`). Tokens verified with them are not cached:
    /// the cache checks keys against the issuer's own set.
    Tenant(&'a KeySet),
}

impl Gate {
    /// Starts a configuration.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            issuers: Vec::new(),
            entra: Vec::new(),
            token_cache: TokenCache::default(),
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            requirements: Vec::new(),
            key_cache: KeyCache::default(),
            http_client: None,
        }
    }

    /// Validates a token (the credential only, without a `Bearer ` prefix) at the current
    /// time.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate(&self, token: &str) -> Result<Arc<Claims>, Rejection> {
        self.validate_at(token, SystemTime::now()).await
    }

    /// Validates a token as if the time were `now`: for tests, and for replaying recorded
    /// tokens inside their lifetime.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] saying why the token is not accepted.
    pub async fn validate_at(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<Arc<Claims>, Rejection> {
        // Everything but a key-set refresh is synchronous, so this future stays small and the
        // common path never suspends.
        match self.validate_now(token, now) {
            Ok(claims) => Ok(claims),
            Err(stop) => self.resume(token, Some(now), stop).await,
        }
    }

    /// The synchronous part of validation: the answer, or the need to look for newer keys
    /// (then [`resume`](Self::resume) finishes). Lets the layer avoid a boxed future on the
    /// common path.
    pub(crate) fn validate_now(&self, token: &str, now: SystemTime) -> Result<Arc<Claims>, Stop> {
        self.validate_current(token, now)
    }

    /// Finishes a validation that stopped at [`validate_now`](Self::validate_now), at `now`
    /// or, if `None`, at the time the refresh is done.
    pub(crate) async fn resume(
        &self,
        token: &str,
        now: Option<SystemTime>,
        stop: Stop,
    ) -> Result<Arc<Claims>, Rejection> {
        let stop = match stop {
            Stop::IssuersUnknown { iss } => {
                self.learn_issuers(&iss).await;
                let now = now.unwrap_or_else(SystemTime::now);
                match self.validate_current(token, now) {
                    Ok(claims) => return Ok(claims),
                    Err(Stop::IssuersUnknown { .. }) => {
                        // The token may come from an issuer whose metadata is out of reach.
                        let rejection = Rejection::KeysUnavailable {
                            retry_after: self.inner.retry_hint,
                        };
                        self.note(&rejection, None);
                        return Err(rejection);
                    }
                    Err(stop) => stop,
                }
            }
            stop => stop,
        };
        let (issuer, rejection) = match stop {
            Stop::Rejected(rejection) => return Err(rejection),
            Stop::KeysMayBeOld { issuer, rejection } => (issuer, rejection),
            // Every issuer is named now, so the pipeline cannot stop here again.
            Stop::IssuersUnknown { .. } => return Err(Rejection::UntrustedIssuer),
        };
        let at = || now.unwrap_or_else(SystemTime::now);
        // A tenant whose own keys are held answers without a refresh of the shared set, also
        // while that set cannot be fetched.
        if let Some(claims) = self.held_tenant_keys(token, at(), issuer) {
            return Ok(claims);
        }
        let mut seen = None;
        let result = match self.inner.issuers[issuer].keys.after_miss().await {
            // The token is parsed again: rare, and only after a refresh.
            Miss::Refreshed(newer) => self
                .pipeline(token, at(), Keys::Refreshed(&newer), &mut seen)
                .map_err(Stop::into_rejection),
            Miss::Unchanged => Err(rejection),
            Miss::Unavailable { retry_after } => Err(Rejection::KeysUnavailable { retry_after }),
        };
        let result = match result {
            Err(Rejection::UnknownKey) => self
                .with_tenant_keys(token, at(), issuer)
                .await
                .unwrap_or(Err(Rejection::UnknownKey)),
            result => result,
        };
        if let Err(rejection) = &result {
            self.note(rejection, Some(issuer));
        }
        result
    }

    /// For an Entra API that accepts any tenant, a token whose key the tenant-independent set
    /// lacks is checked with its tenant's own keys (ENTRA-21); `None` if there are none to
    /// check with, and the first answer stands.
    async fn with_tenant_keys(
        &self,
        token: &str,
        now: SystemTime,
        index: usize,
    ) -> Option<Result<Arc<Claims>, Rejection>> {
        let store = self.tenant_store(token, index, true)?;
        let mut seen = None;
        let first =
            store.with_current(|keys| self.pipeline(token, now, Keys::Tenant(keys), &mut seen));
        match first {
            Err(Stop::Rejected(Rejection::UnknownKey)) => match store.after_miss().await {
                Miss::Refreshed(newer) => Some(
                    self.pipeline(token, now, Keys::Tenant(&newer), &mut seen)
                        .map_err(Stop::into_rejection),
                ),
                Miss::Unchanged | Miss::Unavailable { .. } => None,
            },
            first => Some(first.map_err(Stop::into_rejection)),
        }
    }

    /// The claims, if the token's tenant has its own keys held already and they verify it.
    fn held_tenant_keys(&self, token: &str, now: SystemTime, index: usize) -> Option<Arc<Claims>> {
        let store = self.tenant_store(token, index, false)?;
        let mut seen = None;
        store
            .with_current(|keys| self.pipeline(token, now, Keys::Tenant(keys), &mut seen))
            .ok()
    }

    /// The key store of the token's tenant, for an Entra API that accepts any tenant; a new
    /// one only if `admit` and the rate of admissions allows.
    fn tenant_store(&self, token: &str, index: usize, admit: bool) -> Option<Arc<Remote>> {
        let issuer = &self.inner.issuers[index];
        let metadata = issuer.entra.as_ref()?.tenant_metadata.as_ref()?;
        let parent = issuer.keys.remote()?;
        // The tenant id is not verified yet: it only chooses where to look for the key, and is
        // checked against the key's issuer and `iss` like any other.
        let payload = jws::decode_text(jws::split(token).ok()?.payload).ok()?;
        let mut raw = RawClaims::default();
        raw.parse_into(&payload).ok()?;
        let tenant = raw.tid.as_deref()?;
        let tenants = &self.inner.tenants;
        tenants.store(index, tenant, parent, admit, || (metadata.0)(tenant))
    }

    /// The issuer, among those named by metadata, whose string is `iss`; if some metadata has
    /// not been fetched yet, the caller must fetch it ([`Stop::IssuersUnknown`]) and retry.
    fn learned_issuer(&self, iss: &str) -> Result<usize, Stop> {
        let inner = &*self.inner;
        let mut unknown = false;
        for &index in &inner.learned {
            let keys = &inner.issuers[index].keys;
            match keys.learned().as_deref() {
                Some(Some(learned)) if matches_learned(learned, iss) => return Ok(index),
                // Only an issuer this metadata could name waits for it: a failing tenant must
                // not hold up every other token.
                Some(None) if keys.could_name(iss) => unknown = true,
                _ => {}
            }
        }
        if unknown {
            Err(Stop::IssuersUnknown {
                iss: Box::from(iss),
            })
        } else {
            Err(Rejection::UntrustedIssuer.into())
        }
    }

    /// Fetches the metadata not fetched yet that could name `iss` (each limited by its
    /// cooldown, as any fetch).
    async fn learn_issuers(&self, iss: &str) {
        let inner = &*self.inner;
        let unknown = |index: &&usize| {
            let keys = &inner.issuers[**index].keys;
            matches!(keys.learned().as_deref(), Some(None)) && keys.could_name(iss)
        };
        let started: Vec<_> = inner
            .learned
            .iter()
            .filter(unknown)
            .map(|&index| inner.issuers[index].keys.start_warm_up())
            .collect();
        for warm_up in started {
            // A failure is logged by the store; what matters here is what is known after.
            let _ = warm_up.finish().await;
        }
    }

    /// One event per refused token: the stable code and the configured issuer it claimed,
    /// never the token, its claims or key material.
    fn note(&self, rejection: &Rejection, issuer: Option<usize>) {
        match issuer {
            Some(index) => tracing::debug!(
                code = rejection.code(),
                issuer = %self.inner.names[index],
                "access token rejected"
            ),
            None => tracing::debug!(code = rejection.code(), "access token rejected"),
        }
    }

    /// Fetches every issuer's keys now, where they come from the network and are not loaded
    /// yet, instead of on first use. Call it at start-up to fail fast or to be ready for the
    /// first request.
    ///
    /// # Errors
    ///
    /// [`WarmUpError`], naming each issuer whose keys could not be had and why; validation
    /// still works for the others, and retries the failed ones on later requests.
    ///
    /// ```no_run
    /// # async fn start(gate: tokengate::Gate) {
    /// if let Err(error) = gate.warm_up().await {
    ///     eprintln!("starting without some keys: {error}");
    /// }
    /// # }
    /// ```
    pub async fn warm_up(&self) -> Result<(), WarmUpError> {
        // Every fetch starts before any is waited on: they run at once.
        let started: Vec<_> = self
            .inner
            .issuers
            .iter()
            .map(|issuer| issuer.keys.start_warm_up())
            .collect();
        let mut failures = Vec::new();
        for (warm_up, name) in started.into_iter().zip(&self.inner.names) {
            if let Err(reason) = warm_up.finish().await {
                failures.push(format!("issuer {name:?}: {reason}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(WarmUpError { failures })
        }
    }

    /// Where each issuer's keys stand, for health checks.
    ///
    /// ```
    /// # fn health(gate: &tokengate::Gate) {
    /// for status in gate.key_status() {
    ///     println!("{}: {} keys, usable: {}, last refresh ok: {:?}",
    ///         status.issuer, status.keys, status.usable, status.last_refresh_ok);
    /// }
    /// # }
    /// ```
    pub fn key_status(&self) -> Vec<KeyStatus> {
        self.inner
            .issuers
            .iter()
            .zip(&self.inner.names)
            .map(|(issuer, name)| issuer.keys.status(name))
            .collect()
    }

    /// How many tokens the verified-token cache holds (after its pending evictions).
    #[cfg(test)]
    pub(crate) fn cache_entries(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, Verified::entries)
    }

    /// Whether every issuer has usable keys: the readiness probe.
    pub fn is_ready(&self) -> bool {
        self.key_status().iter().all(|status| status.usable)
    }

    /// The cache, then the pipeline with the issuer's current keys; notes a final rejection.
    fn validate_current(&self, token: &str, now: SystemTime) -> Result<Arc<Claims>, Stop> {
        // The size cap comes first, as in the pipeline: an oversized string is not even hashed.
        if token.len() <= self.inner.max_token_size
            && let Some(answer) = self.cached(token, now)
        {
            return answer;
        }
        let mut issuer = None;
        let result = self.pipeline(token, now, Keys::Current, &mut issuer);
        if let Err(Stop::Rejected(rejection)) = &result {
            self.note(rejection, issuer);
        }
        result
    }

    /// The pipeline; `seen` is set to the configured issuer the token names, once known.
    fn pipeline(
        &self,
        token: &str,
        now: SystemTime,
        keys: Keys,
        seen: &mut Option<usize>,
    ) -> Result<Arc<Claims>, Stop> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_size {
            return Err(Rejection::TokenTooLarge.into());
        }
        let segments = jws::split(token)?;
        let header_text = HeaderText::decode(segments.header)?;
        let header = Header::parse(header_text.as_str())?;
        let payload = jws::decode_text(segments.payload)?;
        let mut raw = RawClaims::default();
        raw.parse_into(&payload)?;

        let iss = raw
            .iss
            .as_deref()
            .ok_or_else(|| Rejection::missing("iss"))?;
        let index = match inner.by_issuer.get(iss) {
            Some(index) => *index,
            None => self.learned_issuer(iss)?,
        };
        *seen = Some(index);
        let issuer = &inner.issuers[index];
        let alg = header
            .alg
            .filter(|alg| issuer.algorithms.contains(alg))
            .ok_or(Rejection::UnsupportedAlgorithm)?;
        if !issuer.token_profile.accepts_typ(header.typ.as_deref()) {
            return Err(Rejection::InvalidTokenType.into());
        }
        let signature = Signature::decode(segments.signature)?;

        let kid = header.kid.as_deref();
        let entra = issuer.entra.as_ref();
        let verify = |key: &VerifyingKey| {
            if let Some(rules) = entra
                && !rules.key_may_sign(key, iss, raw.tid.as_deref())
            {
                return Err(Rejection::KeyIssuerMismatch);
            }
            Ok((
                key.verify(segments.signing_input, signature.as_bytes()),
                key.id(),
            ))
        };
        let selected = match keys {
            Keys::Refreshed(keys) | Keys::Tenant(keys) => keys.select(kid, alg).and_then(verify),
            // A lock-free read of the current set, released before returning.
            Keys::Current => issuer
                .keys
                .with_current(|keys| keys.select(kid, alg).and_then(verify)),
        };
        let (rejection, key_id) = match selected {
            Ok((true, id)) => (None, Some(id)),
            Ok((false, _)) => (Some(Rejection::InvalidSignature), None),
            Err(rejection) => (Some(rejection), None),
        };
        match rejection {
            None => {}
            // No key for the token, or one that does not verify it (a new key without a kid,
            // or under a reused kid): a newer fetched set may have it, limited by the cooldown.
            Some(
                rejection @ (Rejection::UnknownKey
                | Rejection::MissingKeyId
                | Rejection::InvalidSignature),
            ) if matches!(keys, Keys::Current) && issuer.keys.is_remote() => {
                return Err(Stop::KeysMayBeOld {
                    issuer: index,
                    rejection,
                });
            }
            Some(rejection) => return Err(rejection.into()),
        }

        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        claims::check(&raw, issuer, now)?;
        let times = raw.exp.map(|exp| Times {
            exp,
            nbf: raw.nbf,
            iat: raw.iat,
            leeway: issuer.leeway,
            max_age: issuer.max_token_age,
        });
        let fields = Fields::new(&mut raw, &payload);
        drop(raw);
        let claims = Arc::new(fields.with_json(payload));
        let cache = inner
            .cache
            .as_ref()
            .filter(|_| !matches!(keys, Keys::Tenant(_)));
        if let (Some(cache), Some(times), Some(key)) = (cache, times, key_id) {
            let entry = Entry {
                claims: Arc::clone(&claims),
                issuer: index,
                key,
                times,
                drop_at: Duration::ZERO,
            };
            cache.insert(token, entry, now);
        }
        if let Some(requirement) = &inner.requirement {
            requirement.check_shared(&claims)?;
        }
        Ok(claims)
    }

    /// A verified token answered from the cache, if it is there, current at `now`, and its key
    /// is still in its issuer's key set.
    fn cached(&self, token: &str, now: SystemTime) -> Option<Result<Arc<Claims>, Stop>> {
        let inner = &*self.inner;
        let entry = inner.cache.as_ref()?.get(token)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        if !entry.current_at(now) {
            return None;
        }
        let issuer = &inner.issuers[entry.issuer];
        if !issuer.keys.with_current(|keys| keys.contains(entry.key)) {
            return None;
        }
        let claims = Arc::clone(&entry.claims);
        if let Some(requirement) = &inner.requirement
            && let Err(rejection) = requirement.check_shared(&claims)
        {
            self.note(&rejection, Some(entry.issuer));
            return Some(Err(rejection.into()));
        }
        Some(Ok(claims))
    }
}

/// Whether `iss` is the issuer a metadata document named: exactly, or, for Entra's
/// multi-tenant metadata (`https://login.microsoftonline.com/{tenantid}/v2.0`), with a tenant
/// id in place of `{tenantid}` (ENTRA-13; `tid` is checked against it after the signature).
fn matches_learned(learned: &str, iss: &str) -> bool {
    match learned.split_once("{tenantid}") {
        None => learned == iss,
        Some((prefix, suffix)) => iss
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(crate::claims::is_guid),
    }
}

/// Why the synchronous pipeline stopped short of claims.
pub(crate) enum Stop {
    Rejected(Rejection),
    /// The issuer's current keys have none that verifies the token; a refresh might.
    KeysMayBeOld {
        issuer: usize,
        rejection: Rejection,
    },
    /// No configured issuer is `iss`, but metadata not fetched yet could name it.
    IssuersUnknown {
        iss: Box<str>,
    },
}

impl Stop {
    fn into_rejection(self) -> Rejection {
        match self {
            Stop::Rejected(rejection) | Stop::KeysMayBeOld { rejection, .. } => rejection,
            Stop::IssuersUnknown { .. } => Rejection::UntrustedIssuer,
        }
    }
}

impl From<Rejection> for Stop {
    fn from(rejection: Rejection) -> Stop {
        Stop::Rejected(rejection)
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("issuers", &self.inner.by_issuer.keys().collect::<Vec<_>>())
            .field("max_token_size", &self.inner.max_token_size)
            .field("requirement", &self.inner.requirement)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Gate`]. [`build`](GateBuilder::build) checks everything at once.
///
/// ```
/// use tokengate::{Gate, IssuerProfile, Requirement};
///
/// # let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// let result = Gate::builder()
///     .issuer(IssuerProfile::new("https://login.example.com/").audience("api://orders").jwks(jwks))
///     .max_token_size(16 * 1024)
///     .require(Requirement::any_scope(["orders.read", "orders.admin"]))
///     .build();
/// assert!(result.is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct GateBuilder {
    issuers: Vec<IssuerProfile>,
    entra: Vec<EntraApi>,
    token_cache: TokenCache,
    max_token_size: usize,
    requirements: Vec<Requirement>,
    key_cache: KeyCache,
    http_client: Option<reqwest::Client>,
}

impl GateBuilder {
    /// Trusts an issuer. Several issuers may be configured; each token is matched to one by
    /// its exact `iss`, and verified only with that issuer's keys.
    pub fn issuer(mut self, issuer: IssuerProfile) -> GateBuilder {
        self.issuers.push(issuer);
        self
    }

    /// Refuses tokens longer than this many bytes before decoding anything (default
    /// [`DEFAULT_MAX_TOKEN_SIZE`]; between 64 bytes and 16 MiB).
    pub fn max_token_size(mut self, bytes: usize) -> GateBuilder {
        self.max_token_size = bytes;
        self
    }

    /// Requires these scopes or roles of every token; a token without them is refused with
    /// `insufficient_scope`. Calling it again adds a requirement: every one must be met.
    /// Individual resources can check more with [`Requirement::check`].
    pub fn require(mut self, requirement: Requirement) -> GateBuilder {
        self.requirements.push(requirement);
        self
    }

    /// How keys from the network are fetched, cached and refreshed (default
    /// [`KeyCache::default`]).
    pub fn key_cache(mut self, key_cache: KeyCache) -> GateBuilder {
        self.key_cache = key_cache;
        self
    }

    /// The HTTP client for discovery and key sets: yours, with its proxy, private CA, client
    /// certificate or `User-Agent`. Its connect timeout and redirect policy are its own;
    /// tokengate still applies [`KeyCache::request_timeout`] to each request, and uses a
    /// response only if it arrived over https from the origin it asked (a redirect through
    /// plain http could otherwise have sent the client anywhere).
    ///
    /// ```
    /// use tokengate::{Gate, IssuerProfile};
    ///
    /// let client = reqwest::Client::builder()
    ///     .user_agent("orders-api/1.4")
    ///     .build()
    ///     .expect("a client");
    /// let gate = Gate::builder()
    ///     .issuer(IssuerProfile::new("https://login.example.com/").audience("api://orders").discover())
    ///     .http_client(client)
    ///     .build();
    /// assert!(gate.is_ok());
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> GateBuilder {
        self.http_client = Some(client);
        self
    }

    /// The verified-token cache (on by default): see [`TokenCache`] for what it remembers and
    /// why a hit is as safe as a signature check. `TokenCache::disabled()` turns it off.
    pub fn token_cache(mut self, cache: TokenCache) -> GateBuilder {
        self.token_cache = cache;
        self
    }

    /// Adds an API registered in Microsoft Entra ID: its issuers (per tenant and token
    /// version), audiences, keys and rules; see [`EntraApi`].
    ///
    /// ```
    /// use tokengate::Gate;
    /// use tokengate::entra::EntraApi;
    ///
    /// let gate = Gate::builder()
    ///     .entra(
    ///         EntraApi::multi_tenant("6e74172b-be56-4843-9ff4-e66a39bb12e3")
    ///             .tenants(["72f988bf-86f1-41af-91ab-2d7cd011db47", "contoso.onmicrosoft.com"]),
    ///     )
    ///     .build();
    /// assert!(gate.is_ok());
    /// ```
    pub fn entra(mut self, api: EntraApi) -> GateBuilder {
        self.entra.push(api);
        self
    }

    /// Checks the whole configuration and loads the configured keys. Makes no network
    /// request.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] listing every problem found.
    pub fn build(self) -> Result<Gate, ConfigError> {
        let mut problems = Vec::new();
        if self.issuers.is_empty() && self.entra.is_empty() {
            problems.push("no issuer configured".to_owned());
        }
        let mut profiles = self.issuers.clone();
        for api in &self.entra {
            profiles.extend(api.profiles(&mut problems));
        }
        if !(64..=MAX_TOKEN_SIZE_LIMIT).contains(&self.max_token_size) {
            problems.push(format!(
                "max_token_size {} is outside 64 bytes to 16 MiB",
                self.max_token_size
            ));
        }
        for problem in self.requirements.iter().filter_map(Requirement::problem) {
            problems.push(problem.to_owned());
        }

        problems.extend(self.key_cache.problems());
        problems.extend(self.token_cache.problems());
        let fetcher = if profiles.iter().any(IssuerProfile::is_remote) {
            match Fetcher::new(self.key_cache.clone(), self.http_client.clone()) {
                Ok(fetcher) => Some(Arc::new(fetcher)),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            }
        } else {
            None
        };

        let mut by_issuer = HashMap::new();
        let mut learned = Vec::new();
        let mut issuers = Vec::new();
        let mut names = Vec::new();
        let mut metadata = std::collections::HashSet::new();
        for profile in &profiles {
            if profile.is_learned() {
                learned.push(issuers.len());
            }
            // Two configurations for the same tenant and version would both claim its tokens,
            // with different audiences or rules: which one judged a token would be chance.
            if let Some(url) = profile.metadata_url()
                && !metadata.insert(url)
            {
                problems.push(format!(
                    "{}: configured twice (metadata {url})",
                    profile.issuers()[0]
                ));
            }
            for name in profile.issuers().iter().filter(|_| !profile.is_learned()) {
                if by_issuer
                    .insert(Box::from(name.as_str()), issuers.len())
                    .is_some()
                {
                    problems.push(format!("issuer {name:?} is configured twice"));
                }
            }
            // On any problem the build fails, so indexes need only be right when all compile.
            if let Some(issuer) = profile.compile(&mut problems, fetcher.as_ref()) {
                issuers.push(issuer);
                names.push(profile.issuers()[0].clone());
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(Gate {
            inner: Arc::new(GateInner {
                issuers,
                names,
                by_issuer,
                learned: learned.into_boxed_slice(),
                retry_hint: self.key_cache.cooldown,
                cache: self.token_cache.build(),
                max_token_size: self.max_token_size,
                tenants: TenantKeys::default(),
                requirement: self
                    .requirements
                    .into_iter()
                    .reduce(Requirement::and)
                    .map(Arc::new),
            }),
        })
    }
}

/// Some issuers' keys could not be loaded by [`Gate::warm_up`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarmUpError {
    failures: Vec<String>,
}

impl WarmUpError {
    /// One sentence per issuer whose keys could not be had.
    pub fn failures(&self) -> impl ExactSizeIterator<Item = &str> {
        self.failures.iter().map(String::as_str)
    }
}

impl fmt::Display for WarmUpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::error::write_list(f, "keys could not be loaded", &self.failures)
    }
}

impl std::error::Error for WarmUpError {}
