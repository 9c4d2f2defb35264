//! The verified claims handed to handlers: a normalized view plus the raw JSON.

mod check;
mod mapping;
mod members;
mod parse;
mod profile;

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

pub(crate) use check::{ClaimPolicy, Times};
pub use mapping::ClaimPath;
pub(crate) use mapping::{ClaimSources, bool_claim, string_claim};
use members::Member;
pub(crate) use parse::{Confirmation, RawClaims};
pub use profile::TokenProfile;

use crate::json::OneOrMany;

/// Whether a token was issued to an application acting for itself or to a user.
///
/// Decided from verified claims, in this order:
///
/// 1. `idtyp` (Microsoft Entra ID's optional claim): `"app"` is [`App`](TokenKind::App),
///    `"user"` is [`User`](TokenKind::User);
/// 2. `sub` equal to `oid` (Entra app-only tokens) or to the client id (RFC 9068 §2.2
///    client-credentials tokens) is [`App`](TokenKind::App);
/// 3. a `scp` claim (delegated permissions in Entra and Okta) is [`User`](TokenKind::User);
/// 4. anything else is [`Unknown`](TokenKind::Unknown).
///
/// Authorize an application by its client id only when the token is an app token: a user's
/// delegated token names the same client.
///
/// ```
/// use tokengate::{Claims, TokenKind};
///
/// fn is_trusted_daemon(claims: &Claims) -> bool {
///     claims.token_kind() == TokenKind::App && claims.client_id() == Some("billing-daemon")
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// An application acting on its own behalf (client credentials).
    App,
    /// An application acting for a signed-in user (delegated).
    User,
    /// The claims do not say.
    Unknown,
}

/// A claim string: a range of the claims JSON when it had no escapes, or its own copy.
#[derive(Clone)]
enum Text {
    Span { start: u32, len: u32 },
    Owned(Box<str>),
}

impl Text {
    fn new(value: Cow<'_, str>, json: &str) -> Text {
        if let Cow::Borrowed(s) = &value {
            let base = json.as_ptr() as usize;
            let start = (s.as_ptr() as usize).wrapping_sub(base);
            if start <= json.len()
                && s.len() <= json.len() - start
                && let (Ok(start), Ok(len)) = (u32::try_from(start), u32::try_from(s.len()))
            {
                return Text::Span { start, len };
            }
        }
        Text::Owned(value.into_owned().into_boxed_str())
    }

    fn get<'a>(&'a self, json: &'a str) -> &'a str {
        match self {
            Text::Span { start, len } => &json[*start as usize..(*start + *len) as usize],
            Text::Owned(s) => s,
        }
    }
}

#[derive(Clone)]
enum Texts {
    None,
    One(Text),
    Many(Box<[Text]>),
}

impl Texts {
    fn new(value: Option<OneOrMany<'_>>, json: &str) -> Texts {
        match value {
            None => Texts::None,
            Some(OneOrMany::One(v)) => Texts::One(Text::new(v, json)),
            Some(OneOrMany::Many(v)) => {
                Texts::Many(v.into_iter().map(|t| Text::new(t, json)).collect())
            }
        }
    }

    fn iter<'a>(&'a self, json: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let (one, many) = match self {
            Texts::None => (None, &[][..]),
            Texts::One(t) => (Some(t), &[][..]),
            Texts::Many(v) => (None, &v[..]),
        };
        one.into_iter().chain(many).map(move |t| t.get(json))
    }
}

/// The verified claims of an access token.
///
/// [`Gate::validate`](crate::Gate::validate) returns it in an `Arc`, cheap to hand on (in an
/// HTTP server, through the request's extensions). The normalized accessors cover what
/// authorization needs across providers; [`json`](Claims::json) and
/// [`deserialize`](Claims::deserialize) give everything else.
///
/// `Debug` shows which claims are present, never their values.
///
/// Key authorization data by issuer or tenant plus subject or object id
/// ([`tenant_id`](Claims::tenant_id) with [`object_id`](Claims::object_id) for Entra), never by
/// `email`, `preferred_username`, `upn` or `name`: those are mutable and not unique.
///
/// ```
/// # async fn demo(gate: tokengate::Gate, token: &str) -> Result<(), tokengate::Rejection> {
/// #[derive(serde::Deserialize)]
/// struct Extra<'a> {
///     name: Option<&'a str>,
/// }
///
/// let claims = gate.validate(token).await?;
/// if claims.has_scope("orders.read") {
///     let who = claims.subject().unwrap_or("?");
///     let extra: Extra = claims.deserialize().expect("claims are a JSON object");
///     println!("{who} {:?}", extra.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Claims {
    json: String,
    fields: Fields,
    /// Where each member's value is in `json`, found on the first [`Claims::claim`] call.
    members: OnceLock<Box<[Member]>>,
}

/// The normalized claims, computed while the JSON text is still borrowed.
#[derive(Clone)]
pub(crate) struct Fields {
    issuer: Text,
    subject: Option<Text>,
    audiences: Texts,
    expires_at: f64,
    not_before: Option<f64>,
    issued_at: Option<f64>,
    client_id: Option<Text>,
    tenant_id: Option<Text>,
    object_id: Option<Text>,
    scopes: Texts,
    roles: Box<[Text]>,
    pub(crate) token_kind: TokenKind,
    /// What the token is bound to (`cnf`), checked on every request it comes with.
    confirmation: Option<Box<Confirmation>>,
    /// How many members the claims object has.
    member_count: u32,
    /// What copies of escaped member names take (see `RawClaims::escaped_name_bytes`).
    escaped_name_bytes: u32,
    /// The configured issuer that accepted the token (its index in the gate), for metrics.
    pub(crate) issuer_index: u32,
}

impl Fields {
    /// Normalizes `raw`, which was parsed from `json` and passed [`check`]; takes its values
    /// out rather than moving the large struct.
    pub(crate) fn new(raw: &mut RawClaims<'_>, json: &str) -> Fields {
        let text = |v: Option<Cow<'_, str>>| v.map(|v| Text::new(v, json));
        let client = (raw.client_id.take())
            .or(raw.azp.take())
            .or(raw.appid.take())
            .or(raw.cid.take());
        let token_kind = token_kind(
            raw.idtyp.as_deref(),
            raw.sub.as_deref(),
            raw.oid.as_deref(),
            client.as_deref(),
            raw.scp.is_some(),
        );
        Fields {
            issuer: Text::new(raw.iss.take().unwrap_or_default(), json),
            subject: text(raw.sub.take()),
            audiences: Texts::new(raw.aud.take(), json),
            expires_at: raw.exp.unwrap_or(0.0),
            not_before: raw.nbf,
            issued_at: raw.iat,
            client_id: text(client),
            tenant_id: text(raw.tid.take()),
            object_id: text(raw.oid.take()),
            // RFC 9068's `scope` when present, otherwise Entra's and Okta's `scp`.
            scopes: Texts::new(raw.scope.take().or(raw.scp.take()), json),
            roles: raw
                .roles
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|r| Text::new(r, json))
                .collect(),
            token_kind,
            confirmation: raw.cnf.take().map(Box::new),
            member_count: raw.member_count,
            escaped_name_bytes: raw.escaped_name_bytes,
            issuer_index: 0,
        }
    }

    /// Pairs the fields with the JSON text they were computed from.
    pub(crate) fn with_json(self, json: String) -> Claims {
        Claims {
            json,
            fields: self,
            members: OnceLock::new(),
        }
    }
}

impl Claims {
    /// The index of the configured issuer that accepted the token.
    pub(crate) fn issuer_index(&self) -> usize {
        self.fields.issuer_index as usize
    }

    /// The issuer (`iss`), exactly as configured.
    pub fn issuer(&self) -> &str {
        self.fields.issuer.get(&self.json)
    }

    /// The subject (`sub`), unique per issuer (Entra: per application).
    pub fn subject(&self) -> Option<&str> {
        self.fields.subject.as_ref().map(|t| t.get(&self.json))
    }

    /// The audiences (`aud`, a string or an array); at least one is a configured audience.
    pub fn audiences(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.audiences.iter(&self.json)
    }

    /// When the token expires (`exp`).
    pub fn expires_at(&self) -> SystemTime {
        to_time(self.fields.expires_at)
    }

    /// When the token was issued (`iat`), if it says.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.fields.issued_at.map(to_time)
    }

    /// When the token becomes valid (`nbf`), if it says.
    pub fn not_before(&self) -> Option<SystemTime> {
        self.fields.not_before.map(to_time)
    }

    /// The client the token was issued to: the first of `client_id` (RFC 9068), `azp` (Entra
    /// v2, Auth0), `appid` (Entra v1) and `cid` (Okta) that is present.
    pub fn client_id(&self) -> Option<&str> {
        self.fields.client_id.as_ref().map(|t| t.get(&self.json))
    }

    /// The tenant (`tid`, Microsoft Entra ID). Part of any key for per-user data: the same
    /// subject in two tenants is two different principals.
    pub fn tenant_id(&self) -> Option<&str> {
        self.fields.tenant_id.as_ref().map(|t| t.get(&self.json))
    }

    /// The immutable object id of the user or service principal (`oid`, Microsoft Entra ID).
    pub fn object_id(&self) -> Option<&str> {
        self.fields.object_id.as_ref().map(|t| t.get(&self.json))
    }

    /// The granted scopes: `scope` if present, otherwise `scp`, or the claims the issuer's
    /// [`scopes_from`](crate::IssuerProfile::scopes_from) names; each a space-separated string
    /// (runs of spaces collapse) or an array of strings.
    pub fn scopes(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields
            .scopes
            .iter(&self.json)
            .flat_map(|s| s.split(' '))
            .filter(|s| !s.is_empty())
    }

    /// Whether `scope` is one of the granted scopes, compared as a whole token.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// The roles: `roles` (an array of strings: Entra app roles and application permissions),
    /// or the claims the issuer's [`roles_from`](crate::IssuerProfile::roles_from) names
    /// (Keycloak's realm and client roles, Cognito's groups, ...).
    pub fn roles(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.roles.iter().map(|t| t.get(&self.json))
    }

    /// Whether `role` is one of the roles, compared as a whole string.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles().any(|r| r == role)
    }

    /// Whether an application or a user holds this token (see [`TokenKind`]).
    pub fn token_kind(&self) -> TokenKind {
        self.fields.token_kind
    }

    /// What the token is bound to (`cnf`), if anything.
    pub(crate) fn confirmation(&self) -> Option<&Confirmation> {
        self.fields.confirmation.as_deref()
    }

    /// One claim, deserialized into `T` (which may borrow strings from the claims):
    /// `Ok(None)` when the claims have no member of that name. For claims the normalized
    /// accessors do not cover (`acrs`, `groups`, `email`, a namespaced claim, ...).
    ///
    /// The first call finds where every member's value is and remembers it, so further calls,
    /// from any clone of the `Arc`, parse only the value asked for.
    ///
    /// # Errors
    ///
    /// [`ClaimsError`] when the value does not fit `T`; its position is within the value.
    ///
    /// ```
    /// # fn demo(claims: &tokengate::Claims) -> Result<(), tokengate::ClaimsError> {
    /// let groups: Vec<String> = claims.claim("groups")?.unwrap_or_default();
    /// let email: Option<&str> = claims.claim("email")?;
    /// # let _ = (groups, email);
    /// # Ok(()) }
    /// ```
    pub fn claim<'a, T: Deserialize<'a>>(&'a self, name: &str) -> Result<Option<T>, ClaimsError> {
        let members = self
            .members
            .get_or_init(|| members::index(&self.json).into_boxed_slice());
        let Some(value) = members::find(members, &self.json, name) else {
            return Ok(None);
        };
        serde_json::from_str(value)
            .map(Some)
            .map_err(|e| ClaimsError {
                line: e.line(),
                column: e.column(),
            })
    }

    /// Roughly the heap and inline bytes these claims take, for the cache's memory bound.
    pub(crate) fn approximate_size(&self) -> usize {
        // Strings with escapes were copied out of the JSON: each is its own allocation.
        let text = |text: &Text| match text {
            Text::Owned(owned) => owned.len() + 16,
            Text::Span { .. } => 0,
        };
        let texts = |texts: &Texts| match texts {
            Texts::Many(items) => {
                items.len() * size_of::<Text>() + items.iter().map(text).sum::<usize>()
            }
            Texts::One(one) => text(one),
            Texts::None => 0,
        };
        let fields = &self.fields;
        let singles: usize = [
            &fields.subject,
            &fields.client_id,
            &fields.tenant_id,
            &fields.object_id,
        ]
        .into_iter()
        .flatten()
        .map(text)
        .sum::<usize>()
            + text(&fields.issuer);
        size_of::<Claims>()
            + self.json.capacity()
            // The member index, counted whether or not it has been built.
            + self.fields.member_count as usize * size_of::<Member>()
            + self.fields.escaped_name_bytes as usize
            + texts(&self.fields.audiences)
            + texts(&self.fields.scopes)
            + self.fields.roles.len() * size_of::<Text>()
            + self.fields.roles.iter().map(text).sum::<usize>()
            + singles
    }

    /// The claims as the issuer wrote them: a JSON object without duplicate members.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Deserializes the claims into your own type, which may borrow strings from them.
    ///
    /// The error says where the mismatch is but not what value was found, so that it can be
    /// logged; for the full serde message, deserialize [`json`](Claims::json) yourself.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ClaimsError> {
        serde_json::from_str(&self.json).map_err(|e| ClaimsError {
            line: e.line(),
            column: e.column(),
        })
    }
}

fn token_kind(
    idtyp: Option<&str>,
    sub: Option<&str>,
    oid: Option<&str>,
    client: Option<&str>,
    has_scp: bool,
) -> TokenKind {
    match idtyp {
        Some("app") => return TokenKind::App,
        Some("user") => return TokenKind::User,
        _ => {}
    }
    if let Some(sub) = sub
        && (oid == Some(sub) || client == Some(sub))
    {
        return TokenKind::App;
    }
    if has_scp {
        return TokenKind::User;
    }
    TokenKind::Unknown
}

fn to_time(seconds: f64) -> SystemTime {
    // Range-checked at parse time (0 ..= year 9999).
    UNIX_EPOCH + Duration::from_secs_f64(seconds)
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("token_kind", &self.fields.token_kind)
            .field(
                "subject",
                &self.fields.subject.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "client_id",
                &self.fields.client_id.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "tenant_id",
                &self.fields.tenant_id.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes().count())
            .field("roles", &self.fields.roles.len())
            .finish_non_exhaustive()
    }
}

/// The claims did not fit the type given to [`Claims::deserialize`]. Carries the position of
/// the mismatch, never claim values, so it can be logged.
///
/// ```
/// use tokengate::{Claims, ClaimsError};
///
/// #[derive(serde::Deserialize)]
/// struct Profile {
///     department: String,
/// }
///
/// fn department(claims: &Claims) -> Result<String, ClaimsError> {
///     Ok(claims.deserialize::<Profile>()?.department)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the token claims do not match the requested type (line {line}, column {column})")]
pub struct ClaimsError {
    line: usize,
    column: usize,
}

impl ClaimsError {
    /// The line where the mismatch was found (from 1): of the claims JSON for
    /// [`Claims::deserialize`], of the claim's own value for [`Claims::claim`].
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column where the mismatch was found (from 1), in the same text as [`line`](Self::line).
    pub fn column(&self) -> usize {
        self.column
    }
}

#[cfg(test)]
mod tests;
