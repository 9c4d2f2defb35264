//! Which kind of JWT access token an issuer issues: the `typ` it may carry and the claims it
//! must (RFC 9068 §2.1-2.2, RFC 8725 §3.11).

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

/// Claims RFC 9068 §2.2 requires beyond `iss`, `exp` and `aud`.
pub(crate) const RFC9068_REQUIRED: [&str; 4] = ["sub", "client_id", "iat", "jti"];

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

#[cfg(test)]
mod tests {
    use super::*;

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
