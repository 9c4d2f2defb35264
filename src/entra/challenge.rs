//! Step-up with Conditional Access authentication contexts, and Entra's claims challenge
//! (ENTRA-31..36).

use std::fmt;
use std::sync::Arc;

use crate::claims::Claims;
use crate::error::Rejection;

/// The default `authorization_uri` of a claims challenge: the global `common` endpoint.
pub const COMMON_AUTHORIZATION_URI: &str =
    "https://login.microsoftonline.com/common/oauth2/authorize";

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
/// use tokengate::entra::AuthContext;
///
/// # fn app(gate: tokengate::Gate) -> Router {
/// let step_up = AuthContext::require(["c1"]);
/// Router::new()
///     .route("/payments", post(|| async { "paid" }))
///     .route_layer(step_up.layer())
///     .layer(TokenLayer::new(gate))
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

/// Where a claims challenge sends the client: its `realm` and `authorization_uri`.
#[derive(Clone, Debug)]
pub(crate) struct ChallengeTarget {
    realm: Box<str>,
    authorization_uri: Box<str>,
}

impl ChallengeTarget {
    /// Through `common`: `realm=""` and [`COMMON_AUTHORIZATION_URI`].
    pub(crate) fn common() -> ChallengeTarget {
        ChallengeTarget {
            realm: Box::from(""),
            authorization_uri: Box::from(COMMON_AUTHORIZATION_URI),
        }
    }

    /// Through one tenant (ENTRA-33); panics on what a challenge cannot quote, as the public
    /// `tenant` methods document.
    pub(crate) fn tenant(instance: &str, tenant: &str) -> ChallengeTarget {
        let uri = format!(
            "{}/{tenant}/oauth2/authorize",
            instance.trim_end_matches('/')
        );
        assert!(
            crate::challenge::is_quotable(tenant) && crate::challenge::is_quotable(&uri),
            "tokengate: {tenant:?} or {instance:?} cannot be quoted in a claims challenge"
        );
        ChallengeTarget {
            realm: Box::from(tenant),
            authorization_uri: uri.into_boxed_str(),
        }
    }
}

/// What an Entra claims challenge asks for (in [`Rejection::InsufficientClaims`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsChallenge {
    realm: Box<str>,
    authorization_uri: Box<str>,
    claims: Box<str>,
}

impl ClaimsChallenge {
    /// A challenge asking for the claims in `request` (a claims request whose top-level member
    /// is `access_token`), sent as base64 (standard alphabet, padded) of its minified JSON.
    pub(crate) fn new(target: &ChallengeTarget, request: &serde_json::Value) -> ClaimsChallenge {
        let json = serde_json::to_string(request).unwrap_or_default();
        ClaimsChallenge {
            realm: target.realm.clone(),
            authorization_uri: target.authorization_uri.clone(),
            claims: base64_simd::STANDARD
                .encode_to_string(json.as_bytes())
                .into_boxed_str(),
        }
    }

    /// The `realm`: a tenant, or empty for `common`.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Where the client asks for a new token.
    pub fn authorization_uri(&self) -> &str {
        &self.authorization_uri
    }

    /// The `claims` parameter: base64 (standard alphabet, padded) of the claims request JSON.
    pub fn claims(&self) -> &str {
        &self.claims
    }
}

impl AuthContext {
    /// Requires every one of these authentication context ids.
    ///
    /// # Panics
    ///
    /// If `ids` is empty, or an id is not `c` followed by 1 to 2 digits (Entra's ids `c1` to
    /// `c99`). Route layers are built at start-up, so a mistake shows at once.
    pub fn require<I, S>(ids: I) -> AuthContext
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<Box<str>> = ids
            .into_iter()
            .map(|id| id.into().into_boxed_str())
            .collect();
        assert!(
            !ids.is_empty(),
            "AuthContext::require: no authentication context id"
        );
        for id in &ids {
            let digits = id.strip_prefix('c').unwrap_or_default();
            assert!(
                (1..=2).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
                "AuthContext::require: {id:?} is not an authentication context id (c1 to c99)"
            );
        }
        AuthContext {
            inner: Arc::new(Inner {
                ids,
                target: ChallengeTarget::common(),
            }),
        }
    }

    /// The challenge's `realm` and `authorization_uri` for a tenant-specific flow (ENTRA-33):
    /// `realm` becomes `tenant`, `authorization_uri` `{instance}/{tenant}/oauth2/authorize`.
    /// By default both are for `common`: `realm=""` and [`COMMON_AUTHORIZATION_URI`].
    ///
    /// # Panics
    ///
    /// If `tenant` or `instance` hold characters a challenge cannot quote (`"`, `\`, controls).
    pub fn tenant(self, instance: &str, tenant: &str) -> AuthContext {
        AuthContext {
            inner: Arc::new(Inner {
                ids: self.inner.ids.clone(),
                target: ChallengeTarget::tenant(instance, tenant),
            }),
        }
    }

    /// A tower layer that applies [`check`](Self::check) to the claims a
    /// [`TokenLayer`](crate::TokenLayer) verified.
    pub fn layer(&self) -> crate::RequireLayer {
        crate::RequireLayer::auth_context(self.clone())
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
        // "Values aren't case-sensitive": MSAL.js sends CP1 (ENTRA-34).
        let capable = claims
            .client_capabilities()
            .iter()
            .any(|cc| cc.eq_ignore_ascii_case("cp1"));
        if !capable {
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
        Err(Rejection::InsufficientClaims {
            challenge: Arc::new(ClaimsChallenge::new(&self.inner.target, &request)),
        })
    }
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("ids", &self.inner.ids)
            .field("realm", &self.inner.target.realm)
            .field("authorization_uri", &self.inner.target.authorization_uri)
            .finish()
    }
}
