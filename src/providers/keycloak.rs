//! Keycloak realms.
//!
//! [`Keycloak`] configures one realm: the issuer `{base}/realms/{realm}`, its keys by
//! discovery, and Keycloak's own shapes:
//!
//! * **Roles** from `realm_access.roles`, and from `resource_access.{client}.roles` for each
//!   client you name ([`client_roles`](Keycloak::client_roles)), for
//!   [`Claims::roles`](crate::Claims::roles) and [`Requirement::role`](crate::Requirement::role).
//!   Scopes from `scope`.
//! * **Token type**: the payload's `typ` must be `Bearer`; ID, refresh, offline and logout
//!   tokens (`ID`, `Refresh`, `Offline`, `Logout`) are refused as `not_an_access_token`.
//! * **Audience**: Keycloak puts the calling client in `azp` and writes `aud` only through an
//!   audience mapper; `account`, which new realms add for the account console, is refused as
//!   an audience here. In the admin console, add an *Audience* mapper (or a client scope with
//!   one) that writes your API's client id or identifier, and configure the same value.
//! * **Service accounts** (client-credentials tokens: with the `clientId`, `clientHost` or
//!   `clientAddress` claims Keycloak adds to them, or, outside the RFC 9068 mode, where every
//!   token has it, `client_id`) are [`TokenKind::App`], other tokens [`TokenKind::User`].
//! * Keys: any asymmetric algorithm the realm signs with; encryption keys (`use: enc`), which
//!   every realm publishes, are skipped.
//!
//! Lightweight access tokens (Keycloak 24+) carry no roles and no audience unless their
//! mappers are marked "Add to lightweight access token": such tokens are refused or answer 403.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::keycloak::Keycloak;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let realm = Keycloak::new("https://sso.example.com", "shop")
//!     .audience("orders-api")
//!     .client_roles("orders-api");
//! let gate = Gate::builder().issuer(realm).build()?;
//! # Ok(gate)
//! # }
//! ```

use std::sync::Arc;

use super::base::{base_url, need, plain_name};
use crate::claims::{ClaimPath, RawClaims, TokenKind};
use crate::error::Rejection;
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::KeyRules;
use crate::provider::ProviderRules;
use crate::{TokenProfile, issuer::DEFAULT_LEEWAY};

/// A Keycloak realm as a token issuer (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct Keycloak {
    base: String,
    realm: String,
    audiences: Vec<String>,
    clients: Vec<String>,
    strict: bool,
}

impl Keycloak {
    /// The realm `realm` of the Keycloak server at `base` (for example
    /// `https://sso.example.com`, or `https://sso.example.com/auth` for servers before
    /// Keycloak 17, which served under `/auth`).
    pub fn new(base: impl Into<String>, realm: impl Into<String>) -> Keycloak {
        Keycloak {
            base: base.into(),
            realm: realm.into(),
            audiences: Vec::new(),
            clients: Vec::new(),
            strict: false,
        }
    }

    /// Adds an accepted audience: what your audience mapper writes into `aud`, usually the
    /// API's client id. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Keycloak {
        self.audiences.push(audience.into());
        self
    }

    /// Also reads the roles of this client (`resource_access.{client}.roles`), usually your
    /// API's own client id. Realm roles are always read.
    pub fn client_roles(mut self, client: impl Into<String>) -> Keycloak {
        self.clients.push(client.into());
        self
    }

    /// Accepts only RFC 9068 tokens (`typ: at+jwt` with its required claims): for clients with
    /// Keycloak 26.2's "Use 'at+jwt' as access token header type" switched on.
    pub fn rfc9068(mut self) -> Keycloak {
        self.strict = true;
        self
    }
}

/// Keycloak's rules: the payload `typ`, and service accounts.
#[derive(Debug)]
struct KeycloakRules {
    /// RFC 9068 mode: every token has `client_id`, so it tells nothing.
    rfc9068: bool,
}

impl KeyRules for KeycloakRules {}

impl ProviderRules for KeycloakRules {
    fn token_kind(&self, claims: &RawClaims<'_>) -> Option<TokenKind> {
        let service_account = ["clientId", "clientHost", "clientAddress"]
            .iter()
            .any(|name| claims.has(name))
            || (!self.rfc9068 && claims.client_id.is_some());
        Some(if service_account {
            TokenKind::App
        } else {
            TokenKind::User
        })
    }

    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        // Keycloak marks every token it signs; only `Bearer` is an access token.
        if claims.typ.as_deref() != Some("Bearer") {
            return Err(Rejection::NotAnAccessToken);
        }
        Ok(())
    }
}

impl From<Keycloak> for IssuerProfile {
    fn from(realm: Keycloak) -> IssuerProfile {
        let mut problems = Vec::new();
        let base = base_url("Keycloak", "base URL", &realm.base, &mut problems);
        if !plain_name(&realm.realm) || realm.realm == "." || realm.realm == ".." {
            problems.push(format!(
                "Keycloak: realm {:?} is not a realm name",
                realm.realm
            ));
        }
        need("Keycloak", "audience", &realm.audiences, &mut problems);
        if realm.audiences.iter().any(|a| a == "account") {
            problems.push(
                "Keycloak: `account` is the account console's audience, which new realms add \
                 to every token; add an audience mapper for your API instead"
                    .to_owned(),
            );
        }
        let issuer = format!("{base}/realms/{}", realm.realm);
        let mut profile = IssuerProfile::new(issuer)
            .audiences(realm.audiences)
            .leeway(DEFAULT_LEEWAY)
            .roles_from(ClaimPath::nested(["realm_access", "roles"]))
            .discover()
            .with_rules(Arc::new(KeycloakRules {
                rfc9068: realm.strict,
            }));
        for client in realm.clients {
            profile = profile.roles_from(ClaimPath::nested(["resource_access", &client, "roles"]));
        }
        if realm.strict {
            profile = profile.token_profile(TokenProfile::Rfc9068);
        }
        problems
            .into_iter()
            .fold(profile, IssuerProfile::with_problem)
    }
}

impl From<Keycloak> for Issuers {
    fn from(realm: Keycloak) -> Issuers {
        Issuers::from(IssuerProfile::from(realm))
    }
}
