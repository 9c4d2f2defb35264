//! Scope and role requirements (RFC 6750 §3.1 `insufficient_scope`).

use std::fmt;
use std::sync::Arc;

use crate::claims::Claims;
use crate::error::Rejection;

/// One way to satisfy a [`Requirement`]: all of these scopes, roles, audiences and checks.
#[derive(Clone, Default, PartialEq, Eq)]
struct Grant {
    scopes: Vec<Box<str>>,
    roles: Vec<Box<str>>,
    audiences: Vec<Box<str>>,
    custom: Vec<Custom>,
}

/// A check the built-in requirements cannot express, named for logs and `Debug`.
#[derive(Clone)]
struct Custom {
    name: Box<str>,
    check: Arc<dyn Fn(&Claims) -> bool + Send + Sync>,
}

impl PartialEq for Custom {
    fn eq(&self, other: &Custom) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.check, &other.check)
    }
}

impl Eq for Custom {}

impl Grant {
    fn satisfied_by(&self, claims: &Claims) -> bool {
        !self.is_vacuous()
            && self.scopes.iter().all(|s| claims.has_scope(s))
            && self.roles.iter().all(|r| claims.has_role(r))
            && self
                .audiences
                .iter()
                .all(|a| claims.audiences().any(|aud| aud == &**a))
            && self.custom.iter().all(|c| (c.check)(claims))
    }

    fn is_vacuous(&self) -> bool {
        self.scopes.is_empty()
            && self.roles.is_empty()
            && self.audiences.is_empty()
            && self.custom.is_empty()
    }

    /// Both grants at once.
    fn merged(&self, other: &Grant) -> Grant {
        fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
            let mut all = a.to_vec();
            all.extend(b.iter().filter(|n| !a.contains(n)).cloned());
            all
        }
        Grant {
            scopes: union(&self.scopes, &other.scopes),
            roles: union(&self.roles, &other.roles),
            audiences: union(&self.audiences, &other.audiences),
            custom: union(&self.custom, &other.custom),
        }
    }
}

/// What a requirement names: scopes or roles.
#[derive(Clone, Copy)]
enum Kind {
    Scope,
    Role,
}

impl Kind {
    fn grant(self, names: Vec<Box<str>>) -> Grant {
        match self {
            Kind::Scope => Grant {
                scopes: names,
                ..Grant::default()
            },
            Kind::Role => Grant {
                roles: names,
                ..Grant::default()
            },
        }
    }
}

/// The scopes and roles a resource requires.
///
/// A requirement is a set of alternatives; it is met when every scope and role of at least one
/// alternative is granted. [`or`](Requirement::or) adds alternatives, [`and`](Requirement::and)
/// requires both. Scopes and roles compare as whole strings, case-sensitively: a token with
/// `files.read.all` does not satisfy `files.read` (ATK-35).
///
/// A requirement with no alternative (`any_scope` of nothing) is never met, and one that
/// lists nothing to require (`all_scopes` of nothing) is refused by
/// [`GateBuilder::build`](crate::GateBuilder::build) and never met either: an empty list from
/// a configuration file cannot open a resource.
///
/// ```
/// use tokengate::Requirement;
///
/// // Microsoft's usual rule for an API called by users and by daemons:
/// // the delegated scope, or the application permission.
/// let read = Requirement::scope("orders.read").or(Requirement::role("Orders.Read.All"));
///
/// // A scope and a role together.
/// let approve = Requirement::scope("orders.write").and(Requirement::role("Approver"));
///
/// let admin = Requirement::all_scopes(["orders.read", "orders.write"]);
/// assert_eq!(admin.scopes().collect::<Vec<_>>(), ["orders.read", "orders.write"]);
/// # let _ = (read, approve);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Requirement {
    any_of: Vec<Grant>,
    /// Every scope named, each once, in order: what a refusal's challenge asks for, shared so
    /// that a refusal copies nothing.
    scopes: Arc<[Box<str>]>,
}

impl Requirement {
    fn from_grants(any_of: Vec<Grant>) -> Requirement {
        let scopes = distinct(any_of.iter().flat_map(|g| g.scopes.iter()))
            .map(Box::from)
            .collect();
        Requirement { any_of, scopes }
    }

    fn names<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<Box<str>> {
        items
            .into_iter()
            .map(|s| s.into().into_boxed_str())
            .collect()
    }

    fn all_of(kind: Kind, names: Vec<Box<str>>) -> Requirement {
        Requirement::from_grants(vec![kind.grant(names)])
    }

    fn one_of(kind: Kind, names: Vec<Box<str>>) -> Requirement {
        Requirement::from_grants(names.into_iter().map(|n| kind.grant(vec![n])).collect())
    }

    /// Requires one scope.
    pub fn scope(scope: impl Into<String>) -> Requirement {
        Requirement::all_scopes([scope])
    }

    /// Requires every one of these scopes.
    pub fn all_scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Requirement {
        Requirement::all_of(Kind::Scope, Requirement::names(scopes))
    }

    /// Requires at least one of these scopes.
    pub fn any_scope<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Requirement {
        Requirement::one_of(Kind::Scope, Requirement::names(scopes))
    }

    /// Requires one role.
    pub fn role(role: impl Into<String>) -> Requirement {
        Requirement::all_roles([role])
    }

    /// Requires every one of these roles.
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Requirement {
        Requirement::all_of(Kind::Role, Requirement::names(roles))
    }

    /// Requires at least one of these roles.
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Requirement {
        Requirement::one_of(Kind::Role, Requirement::names(roles))
    }

    /// Requires the token to name this audience in `aud`, compared exactly: for a route that
    /// serves only one of the audiences the issuer accepts.
    ///
    /// ```
    /// use tokengate::Requirement;
    ///
    /// let admin_api = Requirement::audience("api://orders-admin");
    /// # let _ = admin_api;
    /// ```
    pub fn audience(audience: impl Into<String>) -> Requirement {
        Requirement::from_grants(vec![Grant {
            audiences: vec![audience.into().into_boxed_str()],
            ..Grant::default()
        }])
    }

    /// Requires `check` to accept the verified claims: for what the built-in requirements
    /// cannot express (a claim's value, a group, a tenant). `name` identifies it in `Debug`
    /// output; a refusal is `insufficient_scope` (HTTP 403), as for scopes.
    ///
    /// ```
    /// use tokengate::Requirement;
    ///
    /// let staff = Requirement::custom("staff email", |claims| {
    ///     let email: Option<&str> = claims.claim("email").ok().flatten();
    ///     let verified: Option<bool> = claims.claim("email_verified").ok().flatten();
    ///     verified == Some(true) && email.is_some_and(|e| e.ends_with("@example.com"))
    /// });
    /// let read = Requirement::scope("orders.read").and(staff);
    /// # let _ = read;
    /// ```
    pub fn custom<F>(name: impl Into<String>, check: F) -> Requirement
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        Requirement::from_grants(vec![Grant {
            custom: vec![Custom {
                name: name.into().into_boxed_str(),
                check: Arc::new(check),
            }],
            ..Grant::default()
        }])
    }

    /// Met when either requirement is met.
    pub fn or(mut self, other: Requirement) -> Requirement {
        self.any_of.extend(other.any_of);
        Requirement::from_grants(self.any_of)
    }

    /// Met when both requirements are met.
    pub fn and(self, other: Requirement) -> Requirement {
        // (a1 or a2) and (b1 or b2) = (a1 and b1) or (a1 and b2) or (a2 and b1) or (a2 and b2)
        let any_of = self
            .any_of
            .iter()
            .flat_map(|a| other.any_of.iter().map(|b| a.merged(b)))
            .collect();
        Requirement::from_grants(any_of)
    }

    /// Checks verified claims against the requirement.
    ///
    /// # Errors
    ///
    /// [`Unmet`], which converts into [`Rejection::InsufficientScope`] (and into a
    /// [`Denial`](crate::Denial)), so `?` answers it as the layers do.
    ///
    /// ```
    /// use tokengate::{Claims, Rejection, Requirement};
    ///
    /// fn may_approve(claims: &Claims) -> Result<(), Rejection> {
    ///     Requirement::role("Approver").check(claims)?;
    ///     Ok(())
    /// }
    /// ```
    pub fn check(&self, claims: &Claims) -> Result<(), Unmet> {
        if self.is_met_by(claims) {
            return Ok(());
        }
        Err(self.clone().unmet())
    }

    /// [`check`](Self::check) for a requirement already shared: a refusal costs no copy.
    pub(crate) fn check_shared(self: &Arc<Self>, claims: &Claims) -> Result<(), Rejection> {
        if self.is_met_by(claims) {
            return Ok(());
        }
        Err(Rejection::InsufficientScope {
            scopes: Arc::clone(&self.scopes),
        })
    }

    /// This requirement, as not met.
    pub(crate) fn unmet(self) -> Unmet {
        Unmet {
            required: Arc::new(self),
        }
    }

    /// Whether verified claims meet the requirement.
    pub fn is_met_by(&self, claims: &Claims) -> bool {
        self.any_of.iter().any(|grant| grant.satisfied_by(claims))
    }

    /// The scopes named anywhere in the requirement, each once, in order: requesting all of
    /// them is enough for its scope part. This is what a challenge's `scope` lists.
    pub fn scopes(&self) -> impl Iterator<Item = &str> + '_ {
        self.scopes.iter().map(|scope| &**scope)
    }

    /// The roles named anywhere in the requirement, each once, in order.
    pub fn roles(&self) -> impl Iterator<Item = &str> + '_ {
        distinct(self.any_of.iter().flat_map(|g| g.roles.iter()))
    }

    /// A requirement that can never be met or that requires nothing.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        if self.any_of.is_empty() {
            return Some("the requirement has no alternative, so no token can meet it");
        }
        if self.any_of.iter().any(Grant::is_vacuous) {
            return Some("an alternative of the requirement names nothing to require");
        }
        let mut names = self
            .any_of
            .iter()
            .flat_map(|g| g.scopes.iter().chain(g.roles.iter()));
        if names.any(|n| n.is_empty() || n.contains(' ')) {
            return Some("a scope or role is empty or contains a space");
        }
        if self
            .any_of
            .iter()
            .flat_map(|g| &g.audiences)
            .any(|a| a.is_empty())
        {
            return Some("a required audience is empty");
        }
        None
    }
}

/// Each name once, at its first place. Requirements are short, so a scan beats a set.
fn distinct<'a>(
    names: impl Iterator<Item = &'a Box<str>> + Clone + 'a,
) -> impl Iterator<Item = &'a str> + 'a {
    let earlier = names.clone();
    names
        .enumerate()
        .filter(move |(i, name)| !earlier.clone().take(*i).any(|e| e == *name))
        .map(|(_, name)| &**name)
}

/// A [`Requirement`] the token does not meet: `insufficient_scope` (HTTP 403), with the
/// requirement's scopes in the challenge.
///
/// ```
/// use tokengate::{Rejection, Requirement};
///
/// # fn demo(claims: &tokengate::Claims) {
/// if let Err(unmet) = Requirement::scope("orders.write").check(claims) {
///     assert_eq!(unmet.requirement().scopes().collect::<Vec<_>>(), ["orders.write"]);
///     let rejection = Rejection::from(unmet);
///     assert_eq!(rejection.code(), "insufficient_scope");
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The access token does not grant the required scope or role.")]
pub struct Unmet {
    required: Arc<Requirement>,
}

impl Unmet {
    /// The requirement that was not met.
    pub fn requirement(&self) -> &Requirement {
        &self.required
    }
}

impl From<Unmet> for Rejection {
    fn from(unmet: Unmet) -> Rejection {
        Rejection::InsufficientScope {
            scopes: Arc::clone(&unmet.required.scopes),
        }
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Required scopes and roles are configuration, not secrets: printed in full.
        let mut list = f.debug_list();
        for grant in &self.any_of {
            let custom: Vec<&str> = grant.custom.iter().map(|c| &*c.name).collect();
            list.entry(&format_args!(
                "scopes {:?} roles {:?} audiences {:?} custom {:?}",
                grant.scopes, grant.roles, grant.audiences, custom
            ));
        }
        list.finish()
    }
}
