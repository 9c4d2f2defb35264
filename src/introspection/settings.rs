//! [`Introspection`]: how an issuer's tokens are introspected (RFC 7662), set with
//! [`IssuerProfile::introspection`](crate::IssuerProfile::introspection).

use std::fmt;
use std::time::Duration;

use crate::Algorithm;

/// How long an inactive answer is reused unless set (and `max_age` is not shorter).
const DEFAULT_INACTIVE_MAX_AGE: Duration = Duration::from_secs(5);

/// How tokengate asks an issuer's introspection endpoint (RFC 7662) about the tokens it
/// cannot validate itself: opaque (or "reference") tokens, anything that is not a compact JWS;
/// and, with [`jwts_too`](Self::jwts_too), about its JWTs as well, when revocation must take
/// effect before `exp`. Otherwise JWTs stay local.
///
/// The answer is held to the same contract as a JWT's claims: `active: true` alone is not
/// enough, `iss`, `aud` (or the issuer's client ids), `exp`, `nbf` and `iat` are checked with
/// the issuer's leeway, scopes and roles are mapped as configured, and `cnf` binds the token
/// as a JWT's would. Answers are cached by a SHA-256 of the token (never the token itself):
/// an active one until the earlier of its `exp` and [`max_age`](Self::max_age) (the longest a
/// revoked token can still pass), an inactive one for
/// [`inactive_max_age`](Self::inactive_max_age). Concurrent requests for one token share one
/// call, and at most [`max_concurrency`](Self::max_concurrency) calls run at once.
///
/// If the endpoint cannot answer (unreachable, slow, 5xx, a malformed answer, or our own
/// credentials refused), requests get `503` with `Retry-After`, never acceptance.
///
/// ```
/// use std::time::Duration;
/// use tokengate::{Gate, Introspection, IssuerProfile};
///
/// let gate = Gate::builder()
///     .issuer(
///         IssuerProfile::new("https://sso.example.com/")
///             .audience("orders-api")
///             .discover()
///             .introspection(
///                 Introspection::client_secret_basic("orders-api", "s3cret")
///                     .endpoint("https://sso.example.com/oauth2/introspect")
///                     .max_age(Duration::from_secs(30)),
///             ),
///     )
///     .build();
/// assert!(gate.is_ok());
/// ```
#[derive(Clone)]
#[must_use = "settings do nothing until given to IssuerProfile::introspection"]
pub struct Introspection {
    pub(crate) client_id: String,
    pub(crate) auth: ClientAuth,
    pub(crate) endpoint: Option<String>,
    pub(crate) token_prefix: Option<String>,
    /// This issuer's JWTs are introspected too, after the local checks.
    pub(crate) jwts: bool,
    /// Opaque tokens go to this issuer.
    pub(crate) opaque: bool,
    /// Answers are asked for as JWTs signed by the issuer (RFC 9701).
    pub(crate) jwt_answers: bool,
    pub(crate) max_age: Duration,
    /// As set; otherwise [`DEFAULT_INACTIVE_MAX_AGE`], or `max_age` if shorter.
    pub(crate) inactive_max_age: Option<Duration>,
    pub(crate) max_entries: u64,
    pub(crate) max_concurrency: usize,
    pub(crate) timeout: Duration,
}

/// How the resource server authenticates to the endpoint.
#[derive(Clone)]
pub(crate) enum ClientAuth {
    /// RFC 6749 §2.3.1, HTTP Basic.
    SecretBasic(String),
    /// RFC 6749 §2.3.1, in the form.
    SecretPost(String),
    /// RFC 7523 §2.2: a JWT signed with the client's private key (PKCS#8 DER).
    PrivateKeyJwt {
        key: Vec<u8>,
        alg: Algorithm,
        kid: Option<String>,
    },
}

impl Introspection {
    fn new(client_id: impl Into<String>, auth: ClientAuth) -> Introspection {
        Introspection {
            client_id: client_id.into(),
            auth,
            endpoint: None,
            token_prefix: None,
            jwts: false,
            opaque: true,
            jwt_answers: false,
            max_age: Duration::from_secs(60),
            inactive_max_age: None,
            max_entries: 10_000,
            max_concurrency: 16,
            timeout: Duration::from_secs(5),
        }
    }

    /// Authenticates with the client id and secret in HTTP Basic (`client_secret_basic`).
    pub fn client_secret_basic(
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Introspection {
        Introspection::new(client_id, ClientAuth::SecretBasic(secret.into()))
    }

    /// Authenticates with the client id and secret in the form (`client_secret_post`).
    pub fn client_secret_post(
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Introspection {
        Introspection::new(client_id, ClientAuth::SecretPost(secret.into()))
    }

    /// Authenticates with a JWT signed by the client's private key (`private_key_jwt`, RFC
    /// 7523): `key` is the PKCS#8 DER of an RSA, EC or Ed25519 key, signing with `alg`; `kid`
    /// names its public key where the authorization server holds several. The assertion's
    /// `aud` is the issuer identifier, valid for one minute.
    pub fn private_key_jwt(
        client_id: impl Into<String>,
        pkcs8_der: impl Into<Vec<u8>>,
        alg: Algorithm,
        kid: Option<String>,
    ) -> Introspection {
        Introspection::new(
            client_id,
            ClientAuth::PrivateKeyJwt {
                key: pkcs8_der.into(),
                alg,
                kid,
            },
        )
    }

    /// The endpoint's URL. Without it, the issuer's discovery metadata
    /// (`introspection_endpoint`) names it, fetched on first use.
    pub fn endpoint(mut self, url: impl Into<String>) -> Introspection {
        self.endpoint = Some(url.into());
        self
    }

    /// Introspects this issuer's JWTs too, once they pass every local check: for APIs that
    /// must honour revocation within [`max_age`](Self::max_age) rather than at `exp`. The
    /// answer must be active and pass the same claim checks; the claims handed on are the
    /// JWT's own.
    pub fn jwts_too(mut self) -> Introspection {
        self.jwts = true;
        self
    }

    /// Introspects this issuer's JWTs (as [`jwts_too`](Self::jwts_too)) but sends it no
    /// opaque tokens.
    pub fn jwts_only(mut self) -> Introspection {
        self.jwts = true;
        self.opaque = false;
        self
    }

    /// Asks for answers as JWTs signed with the issuer's keys (RFC 9701,
    /// `application/token-introspection+jwt`): the answer's `typ`, signature, `iss` (the
    /// issuer), `aud` (this client id) and `iat` (within 5 minutes) are checked before its
    /// `token_introspection` member is read. An answer that fails is `503`: something between
    /// the API and its authorization server is wrong.
    pub fn jwt_answers(mut self) -> Introspection {
        self.jwt_answers = true;
        self
    }

    /// Sends this issuer only the opaque tokens that start with `prefix` (say, `ory_at_`).
    /// Required when several issuers introspect opaque tokens: an opaque token names no
    /// issuer, and a token is never shown to an authorization server it may not be from.
    pub fn token_prefix(mut self, prefix: impl Into<String>) -> Introspection {
        self.token_prefix = Some(prefix.into());
        self
    }

    /// The longest an active answer is reused (default 60 s, at most 1 hour): the longest a
    /// revoked token still passes. Never past the token's `exp`.
    pub fn max_age(mut self, max_age: Duration) -> Introspection {
        self.max_age = max_age;
        self
    }

    /// How long an inactive answer is reused (default 5 s, or `max_age` if shorter; at most
    /// `max_age`).
    pub fn inactive_max_age(mut self, max_age: Duration) -> Introspection {
        self.inactive_max_age = Some(max_age);
        self
    }

    /// How long an inactive answer is reused, as set or by default.
    pub(crate) fn inactive_for(&self) -> Duration {
        self.inactive_max_age
            .unwrap_or(DEFAULT_INACTIVE_MAX_AGE.min(self.max_age))
    }

    /// At most this many answers are cached (default 10,000).
    pub fn max_entries(mut self, entries: u64) -> Introspection {
        self.max_entries = entries;
        self
    }

    /// At most this many calls to the endpoint run at once (default 16); others wait, within
    /// the [`timeout`](Self::timeout), then get `503`.
    pub fn max_concurrency(mut self, calls: usize) -> Introspection {
        self.max_concurrency = calls;
        self
    }

    /// How long one call may take, waiting for a turn included (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Introspection {
        self.timeout = timeout;
        self
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.client_id.is_empty() {
            problems.push("introspection: empty client id".to_owned());
        }
        if let ClientAuth::SecretBasic(secret) | ClientAuth::SecretPost(secret) = &self.auth
            && secret.is_empty()
        {
            problems.push("introspection: empty client secret".to_owned());
        }
        if self.max_age.is_zero() || self.max_age > Duration::from_secs(3600) {
            problems.push(format!(
                "introspection: max_age {:?} is outside (0, 1 hour]",
                self.max_age
            ));
        }
        if self
            .inactive_max_age
            .is_some_and(|inactive| inactive > self.max_age)
        {
            problems.push("introspection: inactive_max_age exceeds max_age".to_owned());
        }
        if self.max_concurrency > 10_000 {
            problems.push("introspection: max_concurrency above 10,000".to_owned());
        }
        if self.max_entries == 0 || self.max_concurrency == 0 {
            problems.push("introspection: max_entries and max_concurrency must be > 0".into());
        }
        if self.timeout.is_zero() {
            problems.push("introspection: zero timeout".to_owned());
        }
        if self.token_prefix.as_deref() == Some("") {
            problems.push("introspection: empty token prefix".to_owned());
        }
        problems
    }
}

impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = match self.auth {
            ClientAuth::SecretBasic(_) => "client_secret_basic",
            ClientAuth::SecretPost(_) => "client_secret_post",
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
        };
        // Never the secret or the key.
        f.debug_struct("Introspection")
            .field("client_id", &self.client_id)
            .field("auth", &method)
            .field("endpoint", &self.endpoint)
            .field("jwts", &self.jwts)
            .field("jwt_answers", &self.jwt_answers)
            .field("opaque", &self.opaque)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `max_age` under the default `inactive_max_age` is valid, and shortens it; only an
    /// `inactive_max_age` set longer than `max_age` is a problem.
    #[test]
    fn the_default_inactive_max_age_follows_a_shorter_max_age() {
        let basic = || Introspection::client_secret_basic("api", "secret");
        assert_eq!(basic().inactive_for(), Duration::from_secs(5));
        let short = basic().max_age(Duration::from_secs(1));
        assert!(short.problems().is_empty(), "{:?}", short.problems());
        assert_eq!(short.inactive_for(), Duration::from_secs(1));
        let set = basic()
            .max_age(Duration::from_secs(1))
            .inactive_max_age(Duration::from_millis(500));
        assert!(set.problems().is_empty());
        assert_eq!(set.inactive_for(), Duration::from_millis(500));
        let longer = basic()
            .max_age(Duration::from_secs(1))
            .inactive_max_age(Duration::from_secs(2));
        assert_eq!(
            longer.problems(),
            ["introspection: inactive_max_age exceeds max_age"]
        );
    }
}
