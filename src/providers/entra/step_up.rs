//! Step-up with Conditional Access authentication contexts, Entra's claims challenge, and
//! continuous access evaluation's answer to revoked tokens (ENTRA-31..36).

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::challenge::{ClaimsChallenge, is_quotable};
use crate::claims::Claims;
use crate::error::{ConfigError, Rejection};
use crate::layer::{ClaimsCheck, RequireLayer};

/// The default `authorization_uri` of a claims challenge: the global `common` endpoint.
pub const COMMON_AUTHORIZATION_URI: &str =
    "https://login.microsoftonline.com/common/oauth2/authorize";

/// Entra's claims from the token that step-up and continuous access evaluation read, found
/// without parsing the whole claims again after the first lookup
/// ([`Claims::claim`]).
///
/// ```
/// use tokengate::Claims;
/// use tokengate::providers::entra::EntraClaims;
///
/// fn can_step_up(claims: &Claims) -> bool {
///     claims.client_capabilities().iter().any(|cc| cc.eq_ignore_ascii_case("cp1"))
/// }
/// ```
pub trait EntraClaims {
    /// The satisfied Conditional Access authentication contexts (`acrs`, such as `c1`);
    /// empty when absent or not strings.
    fn auth_contexts(&self) -> Vec<String>;

    /// The client capabilities (`xms_cc`, an optional claim the API requests): `cp1` means
    /// the client can handle claims challenges. Empty when absent or not strings.
    fn client_capabilities(&self) -> Vec<String>;
}

impl EntraClaims for Claims {
    fn auth_contexts(&self) -> Vec<String> {
        strings(self, "acrs")
    }

    fn client_capabilities(&self) -> Vec<String> {
        strings(self, "xms_cc")
    }
}

/// A claim that is a string or an array of strings; empty otherwise.
fn strings(claims: &Claims, name: &str) -> Vec<String> {
    match claims.claim::<serde_json::Value>(name) {
        Ok(Some(serde_json::Value::String(one))) => vec![one],
        Ok(Some(serde_json::Value::Array(items))) if items.iter().all(|v| v.is_string()) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the client declared it handles claims challenges (ENTRA-34: "values aren't
/// case-sensitive"; MSAL.js sends `CP1`).
fn handles_claims_challenges(claims: &Claims) -> bool {
    claims
        .client_capabilities()
        .iter()
        .any(|cc| cc.eq_ignore_ascii_case("cp1"))
}

/// Where a claims challenge sends the client: its `realm` and `authorization_uri`
/// (ENTRA-33). [`common`](Self::common) by default.
///
/// ```
/// use tokengate::providers::entra::{ChallengeTarget, GLOBAL_INSTANCE};
///
/// let target = ChallengeTarget::tenant(GLOBAL_INSTANCE, "72f988bf-86f1-41af-91ab-2d7cd011db47");
/// assert!(target.is_ok());
/// assert!(ChallengeTarget::tenant(GLOBAL_INSTANCE, "a\"b").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeTarget {
    realm: Box<str>,
    authorization_uri: Box<str>,
}

impl Default for ChallengeTarget {
    fn default() -> ChallengeTarget {
        ChallengeTarget::common()
    }
}

impl ChallengeTarget {
    /// Through `common`: `realm=""` and [`COMMON_AUTHORIZATION_URI`].
    pub fn common() -> ChallengeTarget {
        ChallengeTarget {
            realm: Box::from(""),
            authorization_uri: Box::from(COMMON_AUTHORIZATION_URI),
        }
    }

    /// Through one tenant: `realm` becomes `tenant`, `authorization_uri`
    /// `{instance}/{tenant}/oauth2/authorize`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `tenant` or `instance` hold characters a challenge cannot quote
    /// (`"`, `\`, controls).
    pub fn tenant(instance: &str, tenant: &str) -> Result<ChallengeTarget, ConfigError> {
        let uri = format!(
            "{}/{tenant}/oauth2/authorize",
            instance.trim_end_matches('/')
        );
        if !is_quotable(tenant) || !is_quotable(&uri) {
            return Err(ConfigError::new(vec![format!(
                "Entra claims challenge: {tenant:?} or {instance:?} cannot be quoted in a challenge"
            )]));
        }
        Ok(ChallengeTarget {
            realm: Box::from(tenant),
            authorization_uri: uri.into_boxed_str(),
        })
    }

    fn challenge(&self, request: &serde_json::Value) -> Rejection {
        Rejection::InsufficientClaims {
            challenge: Arc::new(ClaimsChallenge::new(
                &self.realm,
                &self.authorization_uri,
                request,
            )),
        }
    }

    /// Continuous access evaluation's answer to a revoked token, for
    /// [`RevocationLayerBuilder::on_revoked`](crate::layer::RevocationLayerBuilder::on_revoked):
    /// a client that declared the `cp1` capability (`xms_cc`) gets Entra's claims challenge
    /// asking for a token issued after the revocation (`error="insufficient_claims"`,
    /// `claims` the base64 of `{"access_token":{"nbf":{"essential":true,"value":"<unix time>"}}}`,
    /// the moment rounded up to whole seconds), the answer Microsoft resources give (ENTRA-36);
    /// other clients get `token_revoked`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokengate::{Claims, Revocation, RevocationLayer};
    /// use tokengate::providers::entra::ChallengeTarget;
    ///
    /// # fn layer() -> Result<(), tokengate::ConfigError> {
    /// let check = |_: Arc<Claims>| async { Revocation::NotRevoked };
    /// let revocation = RevocationLayer::builder(check)
    ///     .backdated_iat(Duration::from_secs(300))
    ///     .on_revoked(ChallengeTarget::common().revocation_answer())
    ///     .build()?;
    /// # let _ = revocation;
    /// # Ok(())
    /// # }
    /// ```
    pub fn revocation_answer(
        &self,
    ) -> impl Fn(&Claims, SystemTime) -> Rejection + Send + Sync + 'static {
        let target = self.clone();
        move |claims: &Claims, since: SystemTime| {
            if !handles_claims_challenges(claims) {
                return Rejection::TokenRevoked;
            }
            let since = since.duration_since(UNIX_EPOCH).unwrap_or_default();
            let seconds = since.as_secs() + u64::from(since.subsec_nanos() > 0);
            target.challenge(&serde_json::json!({
                "access_token": {"nbf": {"essential": true, "value": seconds.to_string()}}
            }))
        }
    }
}

/// Requires Conditional Access authentication contexts (step-up, ENTRA-35): every id given
/// (`c1` .. `c99`, from configuration, as Microsoft advises) must be in the token's `acrs`.
///
/// When one is missing, a client that declared the `cp1` capability (`xms_cc`, an optional
/// claim the API must request) gets Entra's claims challenge, a 401 that tells it what to ask
/// for (ENTRA-33, ENTRA-34):
///
/// ```text
/// WWW-Authenticate: Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"
/// ```
///
/// (`claims` is the base64 of `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`);
/// other clients get a plain `403 insufficient_scope` (code `missing_auth_context`), since they
/// could not act on a challenge. Use it as a route layer, or call [`check`](Self::check):
///
/// ```
/// use axum::{Router, routing::post};
/// use tokengate::TokenLayer;
/// use tokengate::providers::entra::AuthContext;
///
/// # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
/// let step_up = AuthContext::require(["c1"])?;
/// let app = Router::new()
///     .route("/payments", post(|| async { "paid" }))
///     .route_layer(step_up.layer())
///     .layer(TokenLayer::new(gate));
/// # Ok(app)
/// # }
/// ```
#[derive(Clone)]
pub struct AuthContext {
    inner: Arc<Inner>,
}

struct Inner {
    ids: Vec<Box<str>>,
    target: ChallengeTarget,
}

impl AuthContext {
    /// Requires every one of these authentication context ids; challenges go through
    /// [`ChallengeTarget::common`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `ids` is empty, or an id is not `c` followed by 1 to 2 digits
    /// (Entra's ids `c1` to `c99`).
    pub fn require<I, S>(ids: I) -> Result<AuthContext, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<Box<str>> = ids
            .into_iter()
            .map(|id| id.into().into_boxed_str())
            .collect();
        let mut problems = Vec::new();
        if ids.is_empty() {
            problems.push("AuthContext::require: no authentication context id".to_owned());
        }
        for id in &ids {
            let digits = id.strip_prefix('c').unwrap_or_default();
            if !(1..=2).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(format!(
                    "AuthContext::require: {id:?} is not an authentication context id (c1 to c99)"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(AuthContext {
            inner: Arc::new(Inner {
                ids,
                target: ChallengeTarget::common(),
            }),
        })
    }

    /// Sends claims challenges to `target` (a tenant-specific flow, ENTRA-33) instead of
    /// `common`.
    pub fn target(self, target: ChallengeTarget) -> AuthContext {
        AuthContext {
            inner: Arc::new(Inner {
                ids: self.inner.ids.clone(),
                target,
            }),
        }
    }

    /// A tower layer that applies [`check`](Self::check) to the claims a
    /// [`TokenLayer`](crate::TokenLayer) verified.
    pub fn layer(&self) -> RequireLayer {
        RequireLayer::with_check(Arc::new(self.clone()))
    }

    /// Whether the token satisfies every required authentication context.
    ///
    /// # Errors
    ///
    /// `insufficient_claims` (a 401 claims challenge) for a client with the `cp1` capability,
    /// `missing_auth_context` (403) for others.
    pub fn check(&self, claims: &Claims) -> Result<(), Rejection> {
        let acrs = claims.auth_contexts();
        let missing: Vec<&str> = self
            .inner
            .ids
            .iter()
            .map(|id| &**id)
            .filter(|id| !acrs.iter().any(|acr| acr == id))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if !handles_claims_challenges(claims) {
            return Err(Rejection::MissingAuthContext);
        }
        let request = match missing.as_slice() {
            [one] => {
                serde_json::json!({"access_token": {"acrs": {"essential": true, "value": one}}})
            }
            many => {
                serde_json::json!({"access_token": {"acrs": {"essential": true, "values": many}}})
            }
        };
        Err(self.inner.target.challenge(&request))
    }
}

impl ClaimsCheck for AuthContext {
    fn check(&self, claims: &Claims) -> Result<(), Rejection> {
        AuthContext::check(self, claims)
    }
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("ids", &self.inner.ids)
            .field("target", &self.inner.target)
            .finish()
    }
}
