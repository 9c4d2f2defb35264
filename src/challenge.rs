//! `WWW-Authenticate` challenge syntax (RFC 9110 §11.6.1, RFC 6750 §3) and the claims
//! challenge a rejection may carry. A leaf: it knows no rejection, layer or provider.

use std::fmt;

/// An RFC 9110 challenge, `Bearer` or `DPoP`, with quoted-string parameters.
pub(crate) struct Challenge {
    text: String,
    params: usize,
}

impl Challenge {
    pub(crate) fn bearer() -> Challenge {
        Challenge::new("Bearer")
    }

    /// A challenge of this scheme (`Bearer`, `DPoP`), without parameters yet.
    pub(crate) fn new(scheme: &str) -> Challenge {
        Challenge {
            text: String::from(scheme),
            params: 0,
        }
    }

    /// Adds `name="value"`; characters a quoted-string may not hold become `?`.
    pub(crate) fn param(&mut self, name: &str, value: &str) {
        self.text
            .push_str(if self.params == 0 { " " } else { ", " });
        self.params += 1;
        self.text.push_str(name);
        self.text.push_str("=\"");
        self.text.extend(value.chars().map(quotable));
        self.text.push('"');
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

/// RFC 6750 §3 allows only `%x20-21 / %x23-5B / %x5D-7E` in `error_description` (no quote,
/// no backslash); anything else (say, in a configured claim name) is replaced.
fn quotable(c: char) -> char {
    match c {
        ' ' | '!' | '#'..='[' | ']'..='~' => c,
        _ => '?',
    }
}

/// RFC 6749 `scope-token` characters: `%x21 / %x23-5B / %x5D-7E`.
pub(crate) fn is_scope_char(b: u8) -> bool {
    matches!(b, b'!' | b'#'..=b'[' | b']'..=b'~')
}

/// Whether `text` may stand in a challenge's quoted-string as it is (for configured values).
pub(crate) fn is_quotable(text: &str) -> bool {
    text.chars().all(|c| quotable(c) == c)
}

/// A claims challenge: the `insufficient_claims` answer that tells a client which claims to
/// ask its authorization server for (an OpenID Connect claims request, RFC 6749 extended as
/// Microsoft Entra ID does for step-up and continuous access evaluation). Carried by
/// [`Rejection::InsufficientClaims`](crate::Rejection::InsufficientClaims).
///
/// The answer is a 401 with
/// `WWW-Authenticate: Bearer realm="..", authorization_uri="..", error="insufficient_claims", claims=".."`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimsChallenge {
    realm: Box<str>,
    authorization_uri: Box<str>,
    claims: Box<str>,
}

impl ClaimsChallenge {
    /// A challenge asking for the claims in `request` (a claims request whose top-level member
    /// is `access_token`), sent as base64 (standard alphabet, padded) of its minified JSON.
    /// `realm` and `authorization_uri` are configuration, checked to be quotable.
    pub(crate) fn new(
        realm: &str,
        authorization_uri: &str,
        request: &serde_json::Value,
    ) -> ClaimsChallenge {
        let json = serde_json::to_string(request).unwrap_or_default();
        ClaimsChallenge {
            realm: Box::from(realm),
            authorization_uri: Box::from(authorization_uri),
            claims: base64_simd::STANDARD
                .encode_to_string(json.as_bytes())
                .into_boxed_str(),
        }
    }

    /// The `realm`: a tenant, or empty for a multi-tenant endpoint.
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

    /// The `WWW-Authenticate` value, parameter for parameter in the order clients expect.
    pub(crate) fn header(&self) -> Challenge {
        let mut challenge = Challenge::bearer();
        challenge.param("realm", self.realm());
        challenge.param("authorization_uri", self.authorization_uri());
        challenge.param("error", "insufficient_claims");
        challenge.param("claims", self.claims());
        challenge
    }
}

impl fmt::Debug for ClaimsChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The claims request names what the resource requires: configuration, not secrets.
        f.debug_struct("ClaimsChallenge")
            .field("realm", &self.realm)
            .field("authorization_uri", &self.authorization_uri)
            .field("claims", &self.claims)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_quoted_and_sanitized() {
        let mut challenge = Challenge::bearer();
        assert_eq!(challenge.as_str(), "Bearer");
        challenge.param("realm", "orders");
        challenge.param("error_description", "we\"ird\\ é");
        assert_eq!(
            challenge.as_str(),
            r#"Bearer realm="orders", error_description="we?ird? ?""#
        );
        assert!(is_quotable("api://orders/ read"));
        assert!(!is_quotable("a\"b"));
        assert!(is_scope_char(b'!') && !is_scope_char(b' ') && !is_scope_char(b'"'));
    }

    #[test]
    fn claims_challenge_header() {
        let request =
            serde_json::json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}});
        let challenge = ClaimsChallenge::new("", "https://login.example.com/authorize", &request);
        assert_eq!(
            challenge.claims(),
            "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"
        );
        assert_eq!(
            challenge.header().as_str(),
            "Bearer realm=\"\", authorization_uri=\"https://login.example.com/authorize\", \
             error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
        );
    }
}
