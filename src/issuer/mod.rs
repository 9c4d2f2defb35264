//! One trusted issuer: what its tokens must look like and which keys sign them.

mod issuers;
mod select;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::claims::{ClaimPath, ClaimPolicy, ClaimSources, TokenProfile};
use crate::dpop::DpopMode;
use crate::introspection::{Introspection, Introspector};
use crate::keys::{Fetcher, IssuerRule, KeyConfig, KeyInput, KeyRules, KeyStore, RemoteInput};
use crate::provider::ProviderRules;
use crate::{Algorithm, KeyCacheSettings};

pub use issuers::Issuers;
pub(crate) use select::{IssuerTable, Selection};

/// The default clock-skew leeway, applied to `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The largest leeway [`build`](crate::GateBuilder::build) accepts: beyond it, expiry means little.
pub const MAX_LEEWAY: Duration = Duration::from_secs(600);

/// A trusted token issuer and the rules for its tokens.
///
/// Built with chained methods and checked as a whole by
/// [`GateBuilder::build`](crate::GateBuilder::build), which reports every problem at once.
/// Nothing here touches the network.
///
/// ```
/// use std::time::Duration;
/// use tokengate::{Algorithm, IssuerProfile};
///
/// # let jwks = r#"{"keys":[]}"#;
/// let issuer = IssuerProfile::new("https://login.example.com/")
///     .audience("api://orders")
///     .algorithms([Algorithm::RS256])
///     .leeway(Duration::from_secs(30))
///     .jwks(jwks);
/// # let _ = issuer;
/// ```
#[derive(Clone)]
pub struct IssuerProfile {
    /// The accepted `iss` values; the first names the issuer in statuses and logs.
    names: Vec<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_token_age: Option<Duration>,
    token_profile: TokenProfile,
    required_claims: Vec<String>,
    allow_nonce_claim: bool,
    client_ids: Vec<String>,
    id_tokens: bool,
    sources: ClaimSources,
    keys: Vec<KeyInput>,
    remote: Vec<RemoteInput>,
    /// The issuer is named by the metadata document, not by the configuration: `names`
    /// holds only a display name.
    learned: bool,
    /// What the issuer's provider preset adds to the standard rules.
    rules: Option<Arc<dyn ProviderRules>>,
    /// What a preset found wrong in its own settings, reported by `build()`.
    problems: Vec<String>,
    /// Whether DPoP-bound tokens are accepted, or required.
    dpop: DpopMode,
    /// How opaque tokens are introspected, if they are.
    introspection: Option<Introspection>,
    /// Issuers a preset knows tokens may wrongly come from, with what to tell the developer.
    foreign: Vec<(String, String)>,
}

impl IssuerProfile {
    /// An issuer whose tokens carry exactly this `iss` (case-sensitive, trailing slash
    /// included: `https://a.example/` and `https://a.example` are different issuers).
    ///
    /// Defaults: every [`Algorithm`], a leeway of 60 s, no maximum age,
    /// [`TokenProfile::Jwt`]. Audiences and keys have no default: they must be configured.
    pub fn new(issuer: impl Into<String>) -> IssuerProfile {
        IssuerProfile {
            names: vec![issuer.into()],
            audiences: Vec::new(),
            algorithms: Algorithm::ALL.to_vec(),
            leeway: DEFAULT_LEEWAY,
            max_token_age: None,
            token_profile: TokenProfile::default(),
            required_claims: Vec::new(),
            allow_nonce_claim: false,
            client_ids: Vec::new(),
            id_tokens: false,
            sources: ClaimSources::default(),
            dpop: DpopMode::Off,
            introspection: None,
            keys: Vec::new(),
            remote: Vec::new(),
            learned: false,
            rules: None,
            problems: Vec::new(),
            foreign: Vec::new(),
        }
    }

    /// An issuer whose tokens this one's users may send by mistake (Okta's org authorization
    /// server beside a custom one, say): its tokens stay `untrusted_issuer`, and the refusal
    /// logs `hint`.
    pub(crate) fn foreign_issuer(mut self, iss: String, hint: String) -> IssuerProfile {
        self.foreign.push((iss, hint));
        self
    }

    /// See [`foreign_issuer`](Self::foreign_issuer).
    pub(crate) fn foreign(&self) -> &[(String, String)] {
        &self.foreign
    }

    /// A problem a preset found in its own settings, reported by `build()` with the others.
    pub(crate) fn with_problem(mut self, problem: String) -> IssuerProfile {
        self.problems.push(problem);
        self
    }

    /// An issuer named by the metadata document at `url` and accepted by `rule`, shown as
    /// `name` in statuses and logs (for presets).
    pub(crate) fn learned_from(name: String, url: String, rule: IssuerRule) -> IssuerProfile {
        let mut profile = IssuerProfile::new(name);
        profile.remote.push(RemoteInput::Metadata {
            url,
            rule,
            keys_from: None,
        });
        profile.learned = true;
        profile
    }

    /// For an issuer [`learned_from`](Self::learned_from) metadata: its keys are those the
    /// metadata document at `url` names, whose issuer `rule` must accept.
    pub(crate) fn keys_from_metadata(mut self, url: String, rule: IssuerRule) -> IssuerProfile {
        for remote in &mut self.remote {
            if let RemoteInput::Metadata { keys_from, .. } = remote {
                *keys_from = Some((url.clone(), rule.clone()));
            }
        }
        self
    }

    /// What a provider preset adds to the standard rules of this issuer.
    pub(crate) fn with_rules(mut self, rules: Arc<dyn ProviderRules>) -> IssuerProfile {
        self.rules = Some(rules);
        self
    }

    /// Where the metadata that names the issuer is, for issuers learned from it.
    pub(crate) fn metadata_url(&self) -> Option<&str> {
        self.remote.iter().find_map(|remote| match remote {
            RemoteInput::Metadata { url, .. } => Some(url.as_str()),
            _ => None,
        })
    }

    /// Whether the issuer string comes from metadata rather than the configuration.
    pub(crate) fn is_learned(&self) -> bool {
        self.learned
    }

    /// Also accepts tokens whose `iss` is exactly this other string, with the same keys and
    /// rules. For providers documented to use two spellings, such as Google's
    /// `accounts.google.com` and `https://accounts.google.com`.
    pub fn alternate_issuer(mut self, issuer: impl Into<String>) -> IssuerProfile {
        self.names.push(issuer.into());
        self
    }

    /// Adds an accepted audience. A token is accepted when any of its `aud` values equals any
    /// configured audience exactly: no prefix, case or trailing-slash tolerance.
    pub fn audience(mut self, audience: impl Into<String>) -> IssuerProfile {
        self.audiences.push(audience.into());
        self
    }

    /// Adds several accepted audiences (see [`audience`](Self::audience)).
    pub fn audiences<I, S>(mut self, audiences: I) -> IssuerProfile
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences.extend(audiences.into_iter().map(Into::into));
        self
    }

    /// Accepts tokens that carry no `aud` when their `client_id` is one of these, compared
    /// exactly. For AWS Cognito, whose access tokens name the app client in `client_id` and
    /// have no audience; a token that has `aud` is still judged by its `aud` alone. Either
    /// audiences or client ids must be configured.
    ///
    /// ```
    /// use tokengate::IssuerProfile;
    ///
    /// let pool = IssuerProfile::new("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E")
    ///     .client_ids(["5pa2m3ol2kq0aok0b8b4fkg3vc"])
    ///     .require_claim("token_use")
    ///     .discover();
    /// # let _ = pool;
    /// ```
    pub fn client_ids<I, S>(mut self, client_ids: I) -> IssuerProfile
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_ids
            .extend(client_ids.into_iter().map(Into::into));
        self
    }

    /// Reads the granted scopes from this claim (a space-separated string or an array of
    /// strings) instead of `scope` and `scp`. Call it again to add sources: the values of all
    /// of them are the token's scopes, for [`Claims::scopes`](crate::Claims::scopes) and every
    /// [`Requirement`](crate::Requirement). Read once, when the token is verified.
    ///
    /// ```
    /// use tokengate::IssuerProfile;
    ///
    /// // An issuer that writes granted scopes in `scp` and more in `extra_scopes`.
    /// let issuer = IssuerProfile::new("https://login.example.com/")
    ///     .audience("https://api.example.com")
    ///     .scopes_from("scp")
    ///     .scopes_from("extra_scopes")
    ///     .discover();
    /// # let _ = issuer;
    /// ```
    pub fn scopes_from(mut self, claim: impl Into<ClaimPath>) -> IssuerProfile {
        let sources = self.sources.scopes.take().unwrap_or_default();
        self.sources.scopes = Some(push(sources, claim.into()));
        self
    }

    /// Reads the roles from this claim (an array of strings, or one string: one role, spaces
    /// and all) instead of `roles`. Call it again to add sources: the values of all of them are the
    /// token's roles, for [`Claims::roles`](crate::Claims::roles) and every
    /// [`Requirement`](crate::Requirement). Read once, when the token is verified.
    ///
    /// ```
    /// use tokengate::{ClaimPath, IssuerProfile};
    ///
    /// // Keycloak: realm roles, and the roles of this API's own client.
    /// let keycloak = IssuerProfile::new("https://sso.example.com/realms/shop")
    ///     .audience("orders-api")
    ///     .roles_from(ClaimPath::nested(["realm_access", "roles"]))
    ///     .roles_from(ClaimPath::nested(["resource_access", "orders-api", "roles"]))
    ///     .discover();
    /// # let _ = keycloak;
    /// ```
    pub fn roles_from(mut self, claim: impl Into<ClaimPath>) -> IssuerProfile {
        let sources = self.sources.roles.take().unwrap_or_default();
        self.sources.roles = Some(push(sources, claim.into()));
        self
    }

    /// OpenID Connect ID tokens are this issuer's bearer credentials: their markers (`nonce`,
    /// `at_hash`, ..., `token_use: id`) do not refuse them. Only for presets whose provider
    /// documents ID tokens as the credential (Google, Firebase), and only on the user's
    /// explicit choice.
    pub(crate) fn accept_id_tokens(mut self) -> IssuerProfile {
        self.id_tokens = true;
        self
    }

    /// Replaces the allowed signature algorithms.
    ///
    /// A key whose JWK has no `alg` (as Microsoft Entra ID publishes them) is bound to the one
    /// allowed algorithm that fits its type and curve. An RSA key is bound to RS256 when every
    /// RSA algorithm is allowed (the default), or else to the one RSA algorithm listed here;
    /// with two to five RSA algorithms listed, such keys are not used, and
    /// [`build`](crate::GateBuilder::build) (configured keys) or
    /// [`warm_up`](crate::Gate::warm_up) (fetched ones) says so. Either way the key verifies
    /// that one algorithm only.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> IssuerProfile {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock-skew leeway for `exp`, `nbf` and `iat` (default 60 s, at most 10 minutes).
    pub fn leeway(mut self, leeway: Duration) -> IssuerProfile {
        self.leeway = leeway;
        self
    }

    /// Refuses tokens issued longer ago than this (plus leeway); requires `iat`. Off by
    /// default: Entra tokens under continuous access evaluation live up to 28 hours.
    pub fn max_token_age(mut self, age: Duration) -> IssuerProfile {
        self.max_token_age = Some(age);
        self
    }

    /// Which kind of access token this issuer issues (default [`TokenProfile::Jwt`]).
    pub fn token_profile(mut self, profile: TokenProfile) -> IssuerProfile {
        self.token_profile = profile;
        self
    }

    /// Requires a claim to be present and not `null`, in addition to `iss`, `exp`, `aud` and
    /// the profile's own.
    pub fn require_claim(mut self, name: impl Into<String>) -> IssuerProfile {
        self.required_claims.push(name.into());
        self
    }

    /// Accepts access tokens that carry a `nonce` claim.
    ///
    /// By default a `nonce` marks an OpenID Connect ID token and the token is refused as
    /// `not_an_access_token`. Keycloak before version 24 copied the `nonce` into access tokens
    /// (keycloak/keycloak#26893); enable this for such an issuer. `at_hash`, `c_hash` and
    /// `s_hash` are still refused.
    pub fn allow_nonce_claim(mut self) -> IssuerProfile {
        self.allow_nonce_claim = true;
        self
    }

    /// Adds the keys of a JWK Set document (`{"keys":[...]}`), parsed at
    /// [`build`](crate::GateBuilder::build). Keys that are unusable (symmetric, private, too
    /// small, for encryption, bound to an algorithm not allowed here, ...) are skipped with a
    /// warning; an issuer left without any usable key is a configuration error.
    pub fn jwks(mut self, jwks: impl Into<String>) -> IssuerProfile {
        self.keys.push(KeyInput::Jwks(jwks.into()));
        self
    }

    /// Adds a PEM public key (`PUBLIC KEY`, or `RSA PUBLIC KEY`) for one algorithm, without a
    /// key id. It verifies tokens without a `kid`, and tokens whose `kid` names no other key.
    pub fn public_key_pem(mut self, pem: impl Into<String>, alg: Algorithm) -> IssuerProfile {
        self.keys.push(KeyInput::Pem {
            pem: pem.into(),
            alg,
            kid: None,
        });
        self
    }

    /// Adds a PEM public key for one algorithm, selected by tokens whose `kid` equals `kid`.
    pub fn public_key_pem_with_kid(
        mut self,
        kid: impl Into<String>,
        pem: impl Into<String>,
        alg: Algorithm,
    ) -> IssuerProfile {
        self.keys.push(KeyInput::Pem {
            pem: pem.into(),
            alg,
            kid: Some(kid.into()),
        });
        self
    }

    /// Fetches the keys from the issuer's `jwks_uri`, found by OpenID Connect discovery at
    /// `{issuer}/.well-known/openid-configuration`, or where that does not exist, by RFC 8414
    /// at `https://{host}/.well-known/oauth-authorization-server{path}`. The document must
    /// name exactly this issuer, or it is refused (OpenID Connect Discovery §4.3).
    ///
    /// Nothing is fetched at [`build`](crate::GateBuilder::build): see [`KeyCacheSettings`] for when
    /// fetches happen and how failures are handled.
    ///
    /// [`KeyCacheSettings`]: crate::KeyCacheSettings
    pub fn discover(mut self) -> IssuerProfile {
        self.remote.push(RemoteInput::Discover);
        self
    }

    /// Fetches the keys from this JWK Set URL (https). See [`KeyCacheSettings`](crate::KeyCacheSettings).
    pub fn jwks_uri(mut self, url: impl Into<String>) -> IssuerProfile {
        self.remote.push(RemoteInput::JwksUri(url.into()));
        self
    }

    /// Accepts DPoP-bound tokens (RFC 9449) from this issuer, or only them (default
    /// [`DpopMode::Off`]: bearer tokens only). Proofs are checked as the gate's
    /// [`Dpop`](crate::Dpop) settings say; the [`TokenLayer`](crate::TokenLayer) needs to know
    /// its public URL for them ([`public_url`](crate::TokenLayerBuilder::public_url)).
    ///
    /// ```
    /// use tokengate::{DpopMode, IssuerProfile};
    ///
    /// let issuer = IssuerProfile::new("https://sso.example.com/realms/shop")
    ///     .audience("orders-api")
    ///     .discover()
    ///     .dpop(DpopMode::Required);
    /// # let _ = issuer;
    /// ```
    pub fn dpop(mut self, mode: DpopMode) -> IssuerProfile {
        self.dpop = mode;
        self
    }

    /// See [`dpop`](Self::dpop).
    pub(crate) fn dpop_mode(&self) -> DpopMode {
        self.dpop
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The name shown in statuses and logs.
    pub(crate) fn name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }

    /// Whether this issuer's keys come from the network.
    pub(crate) fn is_remote(&self) -> bool {
        !self.remote.is_empty()
    }

    /// Whether the issuer needs HTTP: remote keys or introspection.
    pub(crate) fn needs_http(&self) -> bool {
        self.is_remote() || self.introspection.is_some()
    }

    /// Introspects this issuer's opaque tokens (RFC 7662): tokens that are not a compact JWS
    /// go to its introspection endpoint, and its answer is held to the same contract as a JWT's
    /// claims (see [`Introspection`]). Several introspecting issuers need a
    /// [`token_prefix`](Introspection::token_prefix) each.
    ///
    /// ```
    /// use tokengate::{Introspection, IssuerProfile};
    ///
    /// let issuer = IssuerProfile::new("https://sso.example.com/")
    ///     .audience("orders-api")
    ///     .discover()
    ///     .introspection(Introspection::client_secret_post("orders-api", "s3cret"));
    /// # let _ = issuer;
    /// ```
    pub fn introspection(mut self, introspection: Introspection) -> IssuerProfile {
        self.introspection = Some(introspection);
        self
    }

    /// Checks the profile and loads its keys; problems are appended to `problems`.
    pub(crate) fn compile(
        &self,
        problems: &mut Vec<String>,
        fetcher: Option<&Arc<Fetcher>>,
        key_cache: &KeyCacheSettings,
    ) -> Option<Issuer> {
        let before = problems.len();
        let name = self.name().to_owned();
        let mut problem = |text: String| problems.push(format!("issuer {name:?}: {text}"));

        for text in &self.problems {
            problem(text.clone());
        }
        for issuer in &self.names {
            if issuer.is_empty() || issuer.trim() != issuer {
                problem(format!(
                    "issuer {issuer:?} is empty or has surrounding whitespace"
                ));
            }
        }
        if self.audiences.is_empty() && self.client_ids.is_empty() {
            problem("no audience configured: tokens meant for other resources would pass".into());
        }
        for audience in &self.audiences {
            if audience.is_empty() {
                problem("an audience is empty".into());
            }
        }
        if self.client_ids.iter().any(String::is_empty) {
            problem("a client id is empty".into());
        }
        let paths = [&self.sources.scopes, &self.sources.roles];
        for path in paths.into_iter().flatten().flat_map(|paths| paths.iter()) {
            if let Some(text) = path.problem() {
                problem(text);
            }
        }
        if self.algorithms.is_empty() {
            problem("no algorithm allowed".into());
        }
        if self.leeway > MAX_LEEWAY {
            problem(format!(
                "leeway {:?} exceeds the maximum of 10 minutes",
                self.leeway
            ));
        }
        if self.max_token_age == Some(Duration::ZERO) {
            problem("max_token_age is zero".into());
        }
        for claim in &self.required_claims {
            let printable = claim
                .bytes()
                .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E));
            if claim.is_empty() || !printable {
                problem(format!(
                    "required claim name {claim:?} must be printable ASCII without quotes or backslashes"
                ));
            }
        }

        let key_rules: Option<Arc<dyn KeyRules>> =
            self.rules.clone().map(|rules| rules as Arc<dyn KeyRules>);
        let keys = KeyConfig {
            name: &name,
            keys: &self.keys,
            remote: &self.remote,
            algorithms: &self.algorithms,
            rules: key_rules.as_ref(),
            settings: key_cache,
        }
        .store(fetcher, &mut problem);
        let introspection = self.introspection.as_ref().and_then(|settings| {
            let mut found = Vec::new();
            let introspector = Introspector::new(&name, settings, fetcher, &mut found);
            for text in found {
                problem(text);
            }
            introspector
        });

        (problems.len() == before).then(|| Issuer {
            claims: ClaimPolicy {
                audiences: self
                    .audiences
                    .iter()
                    .map(|a| Box::from(a.as_str()))
                    .collect(),
                leeway: self.leeway.as_secs_f64(),
                max_token_age: self.max_token_age.map(|age| age.as_secs_f64()),
                token_profile: self.token_profile,
                required_claims: self
                    .required_claims
                    .iter()
                    .map(|c| Box::from(c.as_str()))
                    .collect(),
                allow_nonce_claim: self.allow_nonce_claim,
                client_ids: self
                    .client_ids
                    .iter()
                    .map(|c| Box::from(c.as_str()))
                    .collect(),
                id_tokens: self.id_tokens,
                sources: (!self.sources.is_standard()).then(|| self.sources.clone()),
                dpop: self.dpop,
            },
            algorithms: self.algorithms.clone(),
            rules: self.rules.clone(),
            keys,
            introspection,
        })
    }
}

/// `paths` with `path` added.
fn push(paths: Box<[ClaimPath]>, path: ClaimPath) -> Box<[ClaimPath]> {
    let mut paths = paths.into_vec();
    paths.push(path);
    paths.into_boxed_slice()
}

impl fmt::Debug for IssuerProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material is summarized, not printed.
        f.debug_struct("IssuerProfile")
            .field("issuers", &self.names)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_token_age", &self.max_token_age)
            .field("token_profile", &self.token_profile)
            .field("required_claims", &self.required_claims)
            .field("allow_nonce_claim", &self.allow_nonce_claim)
            .field("client_ids", &self.client_ids)
            .field("id_tokens", &self.id_tokens)
            .field("scopes_from", &self.sources.scopes)
            .field("roles_from", &self.sources.roles)
            .field("key_sources", &self.keys.len())
            .field("remote_key_sources", &self.remote.len())
            .field("provider_rules", &self.rules)
            .finish()
    }
}

/// A checked issuer profile, as the validator uses it.
pub(crate) struct Issuer {
    pub claims: ClaimPolicy,
    pub algorithms: Vec<Algorithm>,
    pub rules: Option<Arc<dyn ProviderRules>>,
    pub keys: KeyStore,
    /// Where its opaque tokens are introspected, if they are.
    pub introspection: Option<Introspector>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("claims", &self.claims)
            .field("algorithms", &self.algorithms)
            .field("rules", &self.rules)
            .field("keys", &self.keys)
            .field(
                "introspection",
                &self.introspection.as_ref().map(Introspector::settings),
            )
            .finish()
    }
}
