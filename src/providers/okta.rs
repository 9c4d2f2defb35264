//! Okta custom authorization servers.
//!
//! [`Okta`] configures one custom authorization server (`default`, or one you created under
//! Security › API):
//!
//! * **Issuer** `https://{domain}/oauth2/{server}`, keys by discovery.
//! * **Audience**: the server's *Audience* setting (`api://default` for `default`).
//! * **Scopes** from `scp`, an array; the client from `cid`
//!   ([`Claims::client_id`](crate::Claims::client_id)); `sub` is the user's login, `uid` the
//!   user id.
//! * **Groups** as roles with [`groups_as_roles`](Okta::groups_as_roles), once an admin has
//!   added a `groups` claim to the access token.
//! * Algorithm RS256.
//!
//! Tokens of the **org authorization server** (issuer `https://{domain}`, no `/oauth2/`) are
//! for Okta's own APIs: Okta does not publish their keys, and says third parties cannot
//! validate them. They are refused as `untrusted_issuer`, with a log event saying so.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::okta::Okta;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let server = Okta::new("example.okta.com", "default")
//!     .audience("api://default")
//!     .groups_as_roles();
//! let gate = Gate::builder().issuer(server).build()?;
//! # Ok(gate)
//! # }
//! ```

use super::base::{need, plain_name};
use crate::Algorithm;
use crate::issuer::{IssuerProfile, Issuers};

/// An Okta custom authorization server as a token issuer (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct Okta {
    domain: String,
    server: String,
    audiences: Vec<String>,
    groups: bool,
}

impl Okta {
    /// The custom authorization server `server` (its id, or `default`) of the Okta org at
    /// `domain` (a host name such as `example.okta.com`, without `https://`).
    pub fn new(domain: impl Into<String>, server: impl Into<String>) -> Okta {
        Okta {
            domain: domain.into(),
            server: server.into(),
            audiences: Vec::new(),
            groups: false,
        }
    }

    /// Adds an accepted audience: the authorization server's Audience setting. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Okta {
        self.audiences.push(audience.into());
        self
    }

    /// Reads roles from the `groups` claim.
    pub fn groups_as_roles(mut self) -> Okta {
        self.groups = true;
        self
    }
}

impl From<Okta> for IssuerProfile {
    fn from(okta: Okta) -> IssuerProfile {
        let mut problems = Vec::new();
        need("Okta", "audience", &okta.audiences, &mut problems);
        let domain = &okta.domain;
        if !plain_name(domain) || !domain.contains('.') {
            problems.push(format!(
                "Okta: domain {domain:?} is not a host name such as example.okta.com"
            ));
        }
        if domain
            .split('.')
            .next()
            .is_some_and(|label| label.ends_with("-admin"))
        {
            problems.push(format!(
                "Okta: {domain:?} is the admin console's host; use the org's host without -admin"
            ));
        }
        if !plain_name(&okta.server) {
            problems.push(format!(
                "Okta: authorization server {:?} is not a server id; the org authorization \
                 server's tokens cannot be validated by third parties",
                okta.server
            ));
        }
        let mut profile = IssuerProfile::new(format!("https://{domain}/oauth2/{}", okta.server))
            .audiences(okta.audiences)
            .algorithms([Algorithm::RS256])
            .discover()
            .foreign_issuer(
                format!("https://{domain}"),
                "it comes from the Okta org authorization server, whose tokens are for Okta's \
                 own APIs and cannot be validated by third parties; request tokens from the \
                 custom authorization server"
                    .to_owned(),
            );
        if okta.groups {
            profile = profile.roles_from("groups");
        }
        problems
            .into_iter()
            .fold(profile, IssuerProfile::with_problem)
    }
}

impl From<Okta> for Issuers {
    fn from(okta: Okta) -> Issuers {
        Issuers::from(IssuerProfile::from(okta))
    }
}
