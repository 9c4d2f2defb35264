//! [`GateBuilder`]: every setting of a [`Gate`], checked at once by [`build`](GateBuilder::build).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{DEFAULT_MAX_TOKEN_SIZE, Gate, GateInner};
use crate::cache::TokenCacheSettings;
use crate::dpop::{Dpop, DpopMode};
use crate::error::ConfigError;
use crate::issuer::{IssuerProfile, IssuerTable, Issuers};
use crate::keys::{Fetcher, KeyCacheSettings};
use crate::observe::{Signals, Verdicts};
use crate::policy::Requirement;

/// No access token is this large; a larger cap is a configuration mistake.
const MAX_TOKEN_SIZE_LIMIT: usize = 16 * 1024 * 1024;

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
    issuers: Vec<Issuers>,
    token_cache: TokenCacheSettings,
    max_token_size: usize,
    requirements: Vec<Requirement>,
    key_cache: KeyCacheSettings,
    http_client: Option<reqwest::Client>,
    dpop: Option<Dpop>,
}

impl GateBuilder {
    pub(super) fn new() -> GateBuilder {
        GateBuilder {
            issuers: Vec::new(),
            token_cache: TokenCacheSettings::default(),
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            requirements: Vec::new(),
            key_cache: KeyCacheSettings::default(),
            http_client: None,
            dpop: None,
        }
    }

    /// Trusts an issuer: an [`IssuerProfile`], or a provider preset (such as
    /// `providers::entra::EntraApi`), which may configure several. Several issuers may be
    /// configured; each token is matched to one by its `iss`, and verified only with that
    /// issuer's keys.
    pub fn issuer(mut self, issuer: impl Into<Issuers>) -> GateBuilder {
        self.issuers.push(issuer.into());
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
    /// [`KeyCacheSettings::default`]).
    pub fn key_cache(mut self, key_cache: KeyCacheSettings) -> GateBuilder {
        self.key_cache = key_cache;
        self
    }

    /// The HTTP client for discovery and key sets: yours, with its proxy, private CA, client
    /// certificate or `User-Agent`. Its connect timeout and redirect policy are its own;
    /// tokengate still applies [`KeyCacheSettings::request_timeout`] to each request, and uses a
    /// response only if it arrived over https from the origin it asked (a redirect through
    /// plain http could otherwise have sent the client anywhere).
    ///
    /// The client is reqwest's, deliberately: proxies, private roots and client certificates
    /// are its configuration, and a wrapper of ours would only hide it. tokengate re-exports
    /// the crate as [`tokengate::reqwest`](crate::reqwest) so that the client is built with the
    /// version it uses; a new major version of reqwest is a breaking change of tokengate.
    ///
    /// ```
    /// use tokengate::{Gate, IssuerProfile};
    ///
    /// let client = tokengate::reqwest::Client::builder()
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

    /// The verified-token cache (on by default): see [`TokenCacheSettings`] for what it
    /// remembers and why a hit is as safe as a signature check.
    /// `TokenCacheSettings::disabled()` turns it off.
    pub fn token_cache(mut self, cache: TokenCacheSettings) -> GateBuilder {
        self.token_cache = cache;
        self
    }

    /// How DPoP proofs are checked (default [`Dpop::new`]), for the issuers that accept
    /// DPoP-bound tokens ([`IssuerProfile::dpop`]). Giving settings while no issuer accepts
    /// DPoP is a configuration error.
    pub fn dpop(mut self, dpop: Dpop) -> GateBuilder {
        self.dpop = Some(dpop);
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
        if self.issuers.is_empty() {
            problems.push("no issuer configured".to_owned());
        }
        let mut profiles = Vec::new();
        for issuers in self.issuers {
            let (more, found) = issuers.into_parts();
            profiles.extend(more);
            problems.extend(found);
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

        let modes: Vec<DpopMode> = profiles.iter().map(IssuerProfile::dpop_mode).collect();
        let dpop = if modes.iter().any(|&mode| mode != DpopMode::Off) {
            let dpop = self.dpop.unwrap_or_default();
            problems.extend(dpop.problems());
            dpop.compile()
                .map_err(|problem| problems.push(problem))
                .ok()
        } else {
            if self.dpop.is_some() {
                problems.push(
                    "dpop settings given, but no issuer accepts DPoP-bound tokens \
                     (IssuerProfile::dpop)"
                        .to_owned(),
                );
            }
            None
        };
        problems.extend(self.key_cache.problems());
        problems.extend(self.token_cache.problems());
        let fetcher = if profiles.iter().any(IssuerProfile::needs_http) {
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
        let mut metadata = HashSet::new();
        let mut foreign = HashMap::new();
        for profile in &profiles {
            for (iss, hint) in profile.foreign() {
                foreign.insert(Box::from(iss.as_str()), Box::from(hint.as_str()));
            }
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
                    profile.name()
                ));
            }
            for name in profile.names().iter().filter(|_| !profile.is_learned()) {
                if by_issuer
                    .insert(Box::from(name.as_str()), issuers.len())
                    .is_some()
                {
                    problems.push(format!("issuer {name:?} is configured twice"));
                }
            }
            // On any problem the build fails, so indexes need only be right when all compile.
            if let Some(issuer) = profile.compile(&mut problems, fetcher.as_ref(), &self.key_cache)
            {
                issuers.push(issuer);
                names.push(profile.name().to_owned());
            }
        }
        let opaque: Box<[usize]> = issuers
            .iter()
            .enumerate()
            .filter(|(_, issuer)| {
                issuer
                    .introspection
                    .as_ref()
                    .is_some_and(|i| i.settings().opaque)
            })
            .map(|(index, _)| index)
            .collect();
        let unprefixed = opaque.iter().filter(|&&index| {
            issuers[index]
                .introspection
                .as_ref()
                .is_some_and(|i| i.settings().token_prefix.is_none())
        });
        let prefixes: Vec<&str> = opaque
            .iter()
            .filter_map(|&index| {
                let introspection = issuers[index].introspection.as_ref()?;
                introspection.settings().token_prefix.as_deref()
            })
            .collect();
        for (i, a) in prefixes.iter().enumerate() {
            for b in &prefixes[i + 1..] {
                if a.starts_with(b) || b.starts_with(a) {
                    problems.push(format!(
                        "token prefixes {a:?} and {b:?} overlap: a token could go to either issuer"
                    ));
                }
            }
        }
        if opaque.len() > 1 && unprefixed.count() > 0 {
            problems.push(
                "several issuers introspect opaque tokens: give each a token_prefix, so that a \
                 token goes to its own issuer only"
                    .to_owned(),
            );
        }
        let introspect_jwts = issuers.iter().any(|issuer| {
            issuer
                .introspection
                .as_ref()
                .is_some_and(|i| i.settings().jwts)
        });
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(Gate {
            inner: Arc::new(GateInner {
                verdicts: Verdicts::new(&names),
                signals: Signals::default(),
                issuers: IssuerTable::new(issuers, names, by_issuer, learned, foreign),
                retry_hint: self.key_cache.cooldown,
                cache: self.token_cache.build(),
                max_token_size: self.max_token_size,
                requirement: self
                    .requirements
                    .into_iter()
                    .reduce(Requirement::and)
                    .map(Arc::new),
                dpop,
                bearer: modes.iter().any(|&mode| mode != DpopMode::Required),
                introspect_jwts,
                opaque,
            }),
        })
    }
}
