//! Auth0 tenants.
//!
//! [`Auth0`] configures one tenant domain (`example.eu.auth0.com`, or your custom domain):
//!
//! * **Issuer** `https://{domain}/`, with the trailing slash Auth0 writes, and its keys by
//!   discovery. Auth0 writes the domain the token was requested through: with a custom
//!   domain, configure that one (and [`domain`](Auth0::domain) for each other in use).
//! * **Audience**: your API's *Identifier* from the Auth0 dashboard. Tokens that also name
//!   `https://{domain}/userinfo` pass: one of their audiences is yours.
//! * **Scopes** from `scope`: what the client asked for and was granted
//!   ([`Requirement::scope`](crate::Requirement::scope)).
//! * **Roles** from `permissions`, with RBAC on ("Enable RBAC" and "Add Permissions in the
//!   Access Token" in the API's settings): everything the user may do, whatever the client
//!   asked for, so [`Requirement::role`](crate::Requirement::role)`("delete:orders")` checks
//!   the user's permission and `Requirement::scope` the client's grant. Also from the
//!   namespaced claims you add with an Action ([`roles_claim`](Auth0::roles_claim), for example
//!   `https://example.com/roles`).
//! * Machine-to-machine tokens (`gty` `client-credentials`, or `sub` `{client id}@clients`)
//!   are [`TokenKind::App`], others [`TokenKind::User`].
//! * Algorithms RS256 and PS256; tokens signed with the API's HS256 secret are refused.
//!
//! Without an `audience` in the token request, Auth0 issues an opaque token good only for its
//! `/userinfo`: it is refused as `malformed_token`.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::auth0::Auth0;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let tenant = Auth0::new("example.eu.auth0.com")
//!     .audience("https://api.example.com/orders")
//!     .roles_claim("https://example.com/roles");
//! let gate = Gate::builder().issuer(tenant).build()?;
//! # Ok(gate)
//! # }
//! ```

use std::sync::Arc;

use super::base::{need, plain_name};
use crate::Algorithm;
use crate::claims::{ClaimPath, RawClaims, TokenKind, string_claim};
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::KeyRules;
use crate::provider::ProviderRules;

/// An Auth0 tenant as a token issuer (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct Auth0 {
    domains: Vec<String>,
    audiences: Vec<String>,
    roles: Vec<ClaimPath>,
}

impl Auth0 {
    /// The tenant whose tokens are requested through `domain` (a host name, without
    /// `https://`).
    pub fn new(domain: impl Into<String>) -> Auth0 {
        Auth0 {
            domains: vec![domain.into()],
            audiences: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// Also accepts tokens requested through this other domain of the same tenant (its
    /// custom domain beside `{tenant}.auth0.com`, say); each is an issuer with its own keys.
    pub fn domain(mut self, domain: impl Into<String>) -> Auth0 {
        self.domains.push(domain.into());
        self
    }

    /// Adds an accepted audience: the API's Identifier. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Auth0 {
        self.audiences.push(audience.into());
        self
    }

    /// Also reads roles from this claim (an array of strings), as an Action writes them:
    /// a namespaced name such as `https://example.com/roles`, or a nested path.
    pub fn roles_claim(mut self, claim: impl Into<ClaimPath>) -> Auth0 {
        self.roles.push(claim.into());
        self
    }

    fn profiles(self, problems: &mut Vec<String>) -> Vec<IssuerProfile> {
        need(
            "Auth0",
            "audience (the API Identifier)",
            &self.audiences,
            problems,
        );
        let mut profiles = Vec::new();
        for domain in &self.domains {
            if !plain_name(domain) || !domain.contains('.') {
                problems.push(format!(
                    "Auth0: domain {domain:?} is not a host name such as example.eu.auth0.com"
                ));
                continue;
            }
            let mut profile = IssuerProfile::new(format!("https://{domain}/"))
                .audiences(self.audiences.iter().cloned())
                .algorithms([Algorithm::RS256, Algorithm::PS256])
                .roles_from("permissions")
                .discover()
                .with_rules(Arc::new(Auth0Rules));
            for claim in &self.roles {
                profile = profile.roles_from(claim.clone());
            }
            profiles.push(profile);
        }
        profiles
    }
}

/// Auth0's rules: machine-to-machine tokens.
#[derive(Debug)]
struct Auth0Rules;

impl KeyRules for Auth0Rules {}

impl ProviderRules for Auth0Rules {
    /// Client credentials: `gty` says so (Auth0 profile), or `sub` is the client's id with
    /// `@clients` (both profiles). A user id merely ending in `@clients` is not enough.
    fn token_kind(&self, claims: &RawClaims<'_>) -> Option<TokenKind> {
        let gty = string_claim(claims.source, "gty");
        let client = claims.client_id.as_deref().or(claims.azp.as_deref());
        let sub_is_client = match (claims.sub.as_deref(), client) {
            (Some(sub), Some(client)) => sub.strip_suffix("@clients") == Some(client),
            _ => false,
        };
        let m2m = gty.as_deref() == Some("client-credentials") || sub_is_client;
        Some(if m2m { TokenKind::App } else { TokenKind::User })
    }
}

impl From<Auth0> for Issuers {
    fn from(tenant: Auth0) -> Issuers {
        let mut problems = Vec::new();
        let profiles = tenant.profiles(&mut problems);
        Issuers::new(profiles, problems)
    }
}
