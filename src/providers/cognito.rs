//! Amazon Cognito user pools.
//!
//! [`Cognito`] configures one user pool:
//!
//! * **Issuer** `https://cognito-idp.{region}.amazonaws.com/{user pool id}`, keys from
//!   `{issuer}/.well-known/jwks.json`.
//! * **No audience**: Cognito access tokens carry none. The app client is in `client_id`,
//!   which must be one of the [`client_id`](Cognito::client_id)s you configure, and
//!   `token_use` must be `access`. Tokens with an `aud` are judged by it instead (ID tokens,
//!   or a pre-token-generation trigger that adds one).
//! * **Scopes** from `scope` (custom scopes are `{resource server}/{scope}`); **roles** from
//!   `cognito:groups`.
//! * Machine-to-machine tokens (no `username`, or in ID tokens `cognito:username`) are
//!   [`TokenKind::App`],
//!   others [`TokenKind::User`]. Algorithm RS256.
//!
//! **ID tokens** (`token_use: id`) are refused unless you call
//! [`accept_id_tokens`](Cognito::accept_id_tokens): an ID token says who signed in to an app
//! client, not that the API may be called; accept one only where your app sends ID tokens to
//! its own backend. Their `aud` is the app client id.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::cognito::Cognito;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let pool = Cognito::new("eu-west-1", "eu-west-1_Ab12Cd34E").client_id("5pa2m3ol2kq0aok0b8b4fkg3vc");
//! let gate = Gate::builder().issuer(pool).build()?;
//! # Ok(gate)
//! # }
//! ```

use std::sync::Arc;

use super::base::{need, plain_name};
use crate::Algorithm;
use crate::claims::{RawClaims, TokenKind};
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::KeyRules;
use crate::provider::ProviderRules;

/// A Cognito user pool as a token issuer (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct Cognito {
    region: String,
    pool: String,
    clients: Vec<String>,
    id_tokens: bool,
}

impl Cognito {
    /// The user pool `user_pool_id` (`{region}_{id}`) in AWS region `region`.
    pub fn new(region: impl Into<String>, user_pool_id: impl Into<String>) -> Cognito {
        Cognito {
            region: region.into(),
            pool: user_pool_id.into(),
            clients: Vec::new(),
            id_tokens: false,
        }
    }

    /// Accepts tokens issued to this app client. At least one is required.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Cognito {
        self.clients.push(client_id.into());
        self
    }

    /// Also accepts the pool's ID tokens (`token_use: id`) whose `aud` is a configured app
    /// client (see the [module docs](self) for what that means).
    pub fn accept_id_tokens(mut self) -> Cognito {
        self.id_tokens = true;
        self
    }
}

/// Cognito's rules: `token_use`, and machine-to-machine tokens.
#[derive(Debug)]
struct CognitoRules {
    id_tokens: bool,
}

impl KeyRules for CognitoRules {}

impl ProviderRules for CognitoRules {
    fn token_kind(&self, claims: &RawClaims<'_>) -> Option<TokenKind> {
        Some(
            if claims.has("username") || claims.has("cognito:username") {
                TokenKind::User
            } else {
                TokenKind::App
            },
        )
    }

    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), crate::Rejection> {
        match claims.token_use.as_deref() {
            Some("access") => Ok(()),
            Some("id") if self.id_tokens => Ok(()),
            _ => Err(crate::Rejection::NotAnAccessToken),
        }
    }
}

impl From<Cognito> for IssuerProfile {
    fn from(pool: Cognito) -> IssuerProfile {
        let mut problems = Vec::new();
        need("Cognito", "app client id", &pool.clients, &mut problems);
        let (region, id) = (&pool.region, &pool.pool);
        if !plain_name(region) || !id.starts_with(&format!("{region}_")) || !plain_name(id) {
            problems.push(format!(
                "Cognito: user pool {id:?} is not a pool id of region {region:?} \
                 ({region}_...)"
            ));
        }
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{id}");
        let mut profile = IssuerProfile::new(issuer.clone())
            .client_ids(pool.clients.iter().cloned())
            .algorithms([Algorithm::RS256])
            .roles_from("cognito:groups")
            .jwks_uri(format!("{issuer}/.well-known/jwks.json"))
            .with_rules(Arc::new(CognitoRules {
                id_tokens: pool.id_tokens,
            }));
        if pool.id_tokens {
            profile = profile.audiences(pool.clients).accept_id_tokens();
        }
        problems
            .into_iter()
            .fold(profile, IssuerProfile::with_problem)
    }
}

impl From<Cognito> for Issuers {
    fn from(pool: Cognito) -> Issuers {
        Issuers::from(IssuerProfile::from(pool))
    }
}
