//! One trusted issuer: what its tokens must look like and which keys sign them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::Algorithm;
use crate::keys::{
    Fetcher, IssuerRule, KeySet, KeyStore, KeysFrom, Remote, Source, VerifyingKey, parse_jwks,
    parse_pem,
};

/// The default clock-skew leeway, applied to `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The largest leeway [`build`](crate::GateBuilder::build) accepts: beyond it, expiry means little.
pub const MAX_LEEWAY: Duration = Duration::from_secs(600);

/// Which kind of JWT access token an issuer issues, and so which `typ` headers and claims it
/// must carry. Every profile refuses foreign token types (`dpop+jwt`, `logout+jwt`,
/// `secevent+jwt`, `id_token+jwt`, ...).
///
/// ```
/// use tokengate::{IssuerProfile, TokenProfile};
///
/// let strict = IssuerProfile::new("https://as.example.com").token_profile(TokenProfile::Rfc9068);
/// # let _ = strict;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProfile {
    /// Plain JWT access tokens, as Microsoft Entra ID, Okta, Keycloak and Auth0 (by default)
    /// issue them: `typ` is `JWT`, `application/jwt`, `at+jwt`, `application/at+jwt` or
    /// absent (compared case-insensitively, as media types are). `iss`, `exp` and `aud` are
    /// required.
    #[default]
    Jwt,
    /// RFC 9068 JWT access tokens: `typ` must be `at+jwt` or `application/at+jwt`; `iss`,
    /// `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` are required; `scope`, when present,
    /// must be a space-separated string.
    Rfc9068,
}

impl TokenProfile {
    /// Whether a `typ` header value is acceptable under this profile.
    pub(crate) fn accepts_typ(self, typ: Option<&str>) -> bool {
        let Some(typ) = typ else {
            return self == TokenProfile::Jwt;
        };
        let is = |name: &str| typ.eq_ignore_ascii_case(name);
        match self {
            TokenProfile::Jwt => {
                is("JWT") || is("application/jwt") || is("at+jwt") || is("application/at+jwt")
            }
            TokenProfile::Rfc9068 => is("at+jwt") || is("application/at+jwt"),
        }
    }
}

#[derive(Clone)]
enum RemoteInput {
    Discover,
    JwksUri(String),
    /// A metadata document at this URL names the issuer, which `rule` must accept; the keys
    /// are those it names, or with `keys_from` those another document names.
    Metadata {
        url: String,
        rule: IssuerRule,
        keys_from: Option<(String, IssuerRule)>,
    },
}

/// Rules of issuers that follow Microsoft Entra ID's conventions (see [`crate::entra`]).
#[derive(Clone, Debug)]
pub(crate) struct EntraRules {
    /// Tokens with neither `scp` nor `roles` are refused (ENTRA-27) unless this is false.
    pub require_scope_or_role: bool,
    /// Any work or school tenant is accepted, so the personal-account tenant is refused.
    pub any_tenant: bool,
    /// With `any_tenant`: where one tenant's own keys are (see `keys::tenants`).
    pub tenant_metadata: Option<TenantMetadata>,
    /// For v1 tokens verified with v2 keys (any tenant): the v2 metadata's templated issuer,
    /// `{instance}/{tenantid}/v2.0`. See [`key_may_sign`](Self::key_may_sign).
    pub v2_issuer: Option<String>,
}

impl EntraRules {
    /// ENTRA-17 step 3: whether `key` may sign a token with this `iss` and `tid` (not verified
    /// yet; a mismatch only refuses more). The key's own `issuer`, with `tid` for
    /// `{tenantid}`, must be `iss`, or with [`v2_issuer`](Self::v2_issuer), the v2 issuer of
    /// the same tenant: v2 keys never name a v1 issuer, so this is how a key that only another
    /// tenant uses (the personal-account tenant's, say) is kept from signing a v1 token, as
    /// IdentityModel's `ValidateIssuerSigningKey` does. Without `tid`, a key that names an
    /// issuer signs nothing.
    pub(crate) fn key_may_sign(&self, key: &VerifyingKey, iss: &str, tid: Option<&str>) -> bool {
        if key.issuer_accepts(iss, tid) {
            return true;
        }
        match (&self.v2_issuer, tid) {
            (Some(template), Some(tid)) => {
                let v2 = template.replacen("{tenantid}", tid, 1);
                key.issuer_accepts(&v2, Some(tid))
            }
            _ => false,
        }
    }
}

/// The metadata URL of one tenant and the rule its issuer must meet; `None` for a string that
/// is not a tenant id.
#[derive(Clone)]
pub(crate) struct TenantMetadata(pub Arc<TenantLocator>);

/// Maps a tenant id to its metadata URL and issuer rule.
pub(crate) type TenantLocator = dyn Fn(&str) -> Option<(Url, IssuerRule)> + Send + Sync;

impl fmt::Debug for TenantMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantMetadata")
    }
}

#[derive(Clone)]
enum KeyInput {
    Jwks(String),
    Pem {
        pem: String,
        alg: Algorithm,
        kid: Option<String>,
    },
}

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
    issuers: Vec<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_token_age: Option<Duration>,
    token_profile: TokenProfile,
    required_claims: Vec<String>,
    allow_nonce_claim: bool,
    keys: Vec<KeyInput>,
    remote: Vec<RemoteInput>,
    /// The issuer is named by the metadata document, not by the configuration: `issuers`
    /// holds only a display name.
    learned: bool,
    entra: Option<EntraRules>,
}

impl IssuerProfile {
    /// An issuer whose tokens carry exactly this `iss` (case-sensitive, trailing slash
    /// included: `https://a.example/` and `https://a.example` are different issuers).
    ///
    /// Defaults: every [`Algorithm`], a leeway of 60 s, no maximum age,
    /// [`TokenProfile::Jwt`]. Audiences and keys have no default: they must be configured.
    pub fn new(issuer: impl Into<String>) -> IssuerProfile {
        IssuerProfile {
            issuers: vec![issuer.into()],
            audiences: Vec::new(),
            algorithms: Algorithm::ALL.to_vec(),
            leeway: DEFAULT_LEEWAY,
            max_token_age: None,
            token_profile: TokenProfile::default(),
            required_claims: Vec::new(),
            allow_nonce_claim: false,
            keys: Vec::new(),
            remote: Vec::new(),
            learned: false,
            entra: None,
        }
    }

    /// An issuer named by the metadata document at `url` and accepted by `rule`, shown as
    /// `name` in statuses and logs.
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

    pub(crate) fn with_entra_rules(mut self, rules: EntraRules) -> IssuerProfile {
        self.entra = Some(rules);
        self
    }

    /// Also accepts tokens whose `iss` is exactly this other string, with the same keys and
    /// rules. For providers documented to use two spellings, such as Google's
    /// `accounts.google.com` and `https://accounts.google.com`.
    pub fn alternate_issuer(mut self, issuer: impl Into<String>) -> IssuerProfile {
        self.issuers.push(issuer.into());
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

    /// Replaces the allowed signature algorithms.
    ///
    /// A key whose JWK has no `alg` (as Microsoft Entra ID publishes them) is bound to the one
    /// allowed algorithm that fits its type and curve; for RSA keys, that needs exactly one RSA
    /// algorithm here, for example `[Algorithm::RS256]`.
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
    /// Nothing is fetched at [`build`](crate::GateBuilder::build): see [`KeyCache`] for when
    /// fetches happen and how failures are handled.
    ///
    /// [`KeyCache`]: crate::KeyCache
    pub fn discover(mut self) -> IssuerProfile {
        self.remote.push(RemoteInput::Discover);
        self
    }

    /// Fetches the keys from this JWK Set URL (https). See [`KeyCache`](crate::KeyCache).
    pub fn jwks_uri(mut self, url: impl Into<String>) -> IssuerProfile {
        self.remote.push(RemoteInput::JwksUri(url.into()));
        self
    }

    pub(crate) fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// Checks the profile and loads its keys; problems are appended to `problems`.
    pub(crate) fn compile(
        &self,
        problems: &mut Vec<String>,
        fetcher: Option<&Arc<Fetcher>>,
    ) -> Option<Issuer> {
        let before = problems.len();
        let name = self.issuers.first().cloned().unwrap_or_default();
        let mut problem = |text: String| problems.push(format!("issuer {name:?}: {text}"));

        for issuer in &self.issuers {
            if issuer.is_empty() || issuer.trim() != issuer {
                problem(format!(
                    "issuer {issuer:?} is empty or has surrounding whitespace"
                ));
            }
        }
        if self.audiences.is_empty() {
            problem("no audience configured: tokens meant for other resources would pass".into());
        }
        for audience in &self.audiences {
            if audience.is_empty() {
                problem("an audience is empty".into());
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

        let keys = self.key_store(&name, fetcher, &mut problem);

        (problems.len() == before).then(|| Issuer {
            audiences: self
                .audiences
                .iter()
                .map(|a| Box::from(a.as_str()))
                .collect(),
            algorithms: self.algorithms.clone(),
            leeway: self.leeway.as_secs_f64(),
            max_token_age: self.max_token_age.map(|age| age.as_secs_f64()),
            token_profile: self.token_profile,
            required_claims: self
                .required_claims
                .iter()
                .map(|c| Box::from(c.as_str()))
                .collect(),
            allow_nonce_claim: self.allow_nonce_claim,
            entra: self.entra.clone(),
            keys,
        })
    }

    /// Whether this issuer's keys come from the network.
    pub(crate) fn is_remote(&self) -> bool {
        !self.remote.is_empty()
    }

    /// The issuer's key store: configured keys loaded now, or a remote source checked now and
    /// fetched on first use.
    fn key_store(
        &self,
        name: &str,
        fetcher: Option<&Arc<Fetcher>>,
        problem: &mut impl FnMut(String),
    ) -> KeyStore {
        match (self.remote.as_slice(), self.keys.is_empty(), fetcher) {
            ([], true, _) => {
                problem(
                    "no keys configured (use jwks, public_key_pem, jwks_uri or discover)".into(),
                );
            }
            ([remote], true, Some(fetcher)) => {
                let source = match remote {
                    RemoteInput::Discover => fetcher.url(name).map(|_| Source::Discover),
                    RemoteInput::JwksUri(url) => fetcher.url(url).map(Source::JwksUri),
                    RemoteInput::Metadata {
                        url,
                        rule,
                        keys_from,
                    } => fetcher.url(url).and_then(|url| {
                        let keys_from = match keys_from {
                            Some((from, rule)) => Some(KeysFrom {
                                url: fetcher.url(from)?,
                                rule: rule.clone(),
                            }),
                            None => None,
                        };
                        Ok(Source::Metadata {
                            url,
                            rule: rule.clone(),
                            keys_from,
                        })
                    }),
                };
                match source {
                    Ok(source) => {
                        let remote = Remote::new(
                            name.to_owned(),
                            source,
                            self.algorithms.clone(),
                            Arc::clone(fetcher),
                        );
                        return KeyStore::Remote(Arc::new(remote));
                    }
                    Err(error) => problem(format!("key source refused: {error}")),
                }
            }
            ([_, _, ..], _, _) => problem("more than one of jwks_uri and discover".into()),
            ([_], false, _) => {
                problem("keys are configured and also fetched; choose one".into());
            }
            ([_], true, None) => problem("no HTTP client for the remote key source".into()),
            ([], false, _) => return KeyStore::Fixed(self.configured_keys(name, problem)),
        }
        KeyStore::Fixed(KeySet::default())
    }

    /// Loads the configured JWKS and PEM keys.
    fn configured_keys(&self, name: &str, problem: &mut impl FnMut(String)) -> KeySet {
        let mut loaded: Vec<VerifyingKey> = Vec::new();
        let mut skipped = Vec::new();
        // A refused key source is its own problem; "no usable key" would only repeat it.
        let mut source_refused = false;
        for input in &self.keys {
            match input {
                KeyInput::Jwks(json) => match parse_jwks(json, &self.algorithms, usize::MAX) {
                    Ok((keys, problems)) => {
                        loaded.extend(keys);
                        skipped.extend(problems);
                    }
                    Err(reason) => {
                        source_refused = true;
                        problem(format!("JWKS refused: {reason}"));
                    }
                },
                KeyInput::Pem { pem, alg, kid } => {
                    if !self.algorithms.contains(alg) {
                        problem(format!(
                            "PEM key for {alg}, which is not an allowed algorithm"
                        ));
                    }
                    match parse_pem(pem, *alg, kid.as_deref()) {
                        Ok(key) => loaded.push(key),
                        Err(reason) => {
                            source_refused = true;
                            problem(format!("PEM key refused: {reason}"));
                        }
                    }
                }
            }
        }
        let (set, shared) = KeySet::new(loaded);
        skipped.extend(shared);
        if set.len() == 0 && !source_refused {
            let reasons: Vec<String> = skipped.iter().map(ToString::to_string).collect();
            problem(format!("no usable key ({})", reasons.join("; ")));
        } else {
            for key in &skipped {
                tracing::warn!(issuer = %name, problem = %key, "tokengate: key skipped");
            }
        }
        set
    }
}

impl fmt::Debug for IssuerProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material is summarized, not printed.
        f.debug_struct("IssuerProfile")
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_token_age", &self.max_token_age)
            .field("token_profile", &self.token_profile)
            .field("required_claims", &self.required_claims)
            .field("allow_nonce_claim", &self.allow_nonce_claim)
            .field("key_sources", &self.keys.len())
            .field("remote_key_sources", &self.remote.len())
            .finish()
    }
}

/// A checked issuer profile, as the validator uses it.
#[derive(Debug)]
pub(crate) struct Issuer {
    pub audiences: Box<[Box<str>]>,
    pub algorithms: Vec<Algorithm>,
    /// Seconds.
    pub leeway: f64,
    /// Seconds.
    pub max_token_age: Option<f64>,
    pub token_profile: TokenProfile,
    pub required_claims: Box<[Box<str>]>,
    pub allow_nonce_claim: bool,
    pub entra: Option<EntraRules>,
    pub keys: KeyStore,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::parse_jwk;
    use crate::test_common::rs256;

    /// An RS256 key whose JWK has this `issuer` member, if any.
    fn key(issuer: Option<&str>) -> VerifyingKey {
        let mut jwk = rs256().jwk();
        if let Some(issuer) = issuer {
            jwk["issuer"] = serde_json::json!(issuer);
        }
        parse_jwk(&jwk.to_string(), &[Algorithm::RS256]).unwrap()
    }

    /// ENTRA-17 step 3 for v1 tokens under v2 keys: a key's issuer, with the token's `tid`,
    /// must be the token's `iss` or, where the rules name one, the v2 issuer of that `tid`.
    #[test]
    fn key_may_sign_v1_tokens_as_the_v2_issuer_of_their_tenant() {
        const ORG: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        const MSA: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let login = "https://login.microsoftonline.com";
        let v1_iss = format!("https://sts.windows.net/{ORG}/");
        let v2_iss = format!("{login}/{ORG}/v2.0");
        let templated = key(Some(&format!("{login}/{{tenantid}}/v2.0")));
        let own = key(Some(&v2_iss));
        let msa = key(Some(&format!("{login}/{MSA}/v2.0")));
        let bare = key(None);
        let plain = EntraRules {
            require_scope_or_role: true,
            any_tenant: true,
            tenant_metadata: None,
            v2_issuer: None,
        };
        let v1_under_v2 = EntraRules {
            v2_issuer: Some(format!("{login}/{{tenantid}}/v2.0")),
            ..plain.clone()
        };
        let tid = Some(ORG);
        // v2 tokens: the key's own issuer decides, with or without the v2 rule.
        for rules in [&plain, &v1_under_v2] {
            assert!(rules.key_may_sign(&templated, &v2_iss, tid));
            assert!(rules.key_may_sign(&own, &v2_iss, tid));
            assert!(!rules.key_may_sign(&msa, &v2_iss, tid));
            assert!(rules.key_may_sign(&bare, &v2_iss, tid));
        }
        // v1 tokens: no v2 key names a v1 issuer; only the v2 rule lets a tenant's keys sign.
        assert!(!plain.key_may_sign(&templated, &v1_iss, tid));
        assert!(v1_under_v2.key_may_sign(&templated, &v1_iss, tid));
        assert!(v1_under_v2.key_may_sign(&own, &v1_iss, tid));
        assert!(!v1_under_v2.key_may_sign(&msa, &v1_iss, tid));
        assert!(v1_under_v2.key_may_sign(&bare, &v1_iss, tid));
        // Another tenant's literal key, or no `tid` to fill a template with: refused.
        let other = Some("11111111-2222-4333-8444-555555555555");
        assert!(!v1_under_v2.key_may_sign(&own, &v1_iss, other));
        assert!(!v1_under_v2.key_may_sign(&templated, &v1_iss, None));
        assert!(!v1_under_v2.key_may_sign(&own, &v1_iss, None));
    }

    #[test]
    fn typ_policy() {
        let jwt = TokenProfile::Jwt;
        for ok in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("AT+JWT"),
            Some("application/at+jwt"),
            Some("application/jwt"),
        ] {
            assert!(jwt.accepts_typ(ok), "{ok:?}");
        }
        let strict = TokenProfile::Rfc9068;
        for ok in [Some("at+jwt"), Some("AT+JWT"), Some("application/at+jwt")] {
            assert!(strict.accepts_typ(ok), "{ok:?}");
        }
        for bad in [None, Some("JWT"), Some("jwt"), Some("application/jwt")] {
            assert!(!strict.accepts_typ(bad), "{bad:?}");
        }
        for foreign in [
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "id_token+jwt",
            "JWE",
            "",
            "at+jwt ",
            "JOSE",
        ] {
            assert!(!jwt.accepts_typ(Some(foreign)), "{foreign}");
            assert!(!strict.accepts_typ(Some(foreign)), "{foreign}");
        }
    }
}
