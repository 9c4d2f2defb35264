//! Why a token was refused, and why a configuration was refused.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::challenge::ClaimsChallenge;

/// The RFC 6750 class of a [`Rejection`]: what an HTTP server answers with.
///
/// | class | HTTP status | `WWW-Authenticate` `error` |
/// |---|---|---|
/// | [`MissingToken`](ErrorClass::MissingToken) | 401 | none (RFC 6750 §3.1: no credentials, no error) |
/// | [`InvalidRequest`](ErrorClass::InvalidRequest) | 400 | `invalid_request` |
/// | [`InvalidToken`](ErrorClass::InvalidToken) | 401 | `invalid_token` |
/// | [`InsufficientScope`](ErrorClass::InsufficientScope) | 403 | `insufficient_scope` |
/// | [`TemporarilyUnavailable`](ErrorClass::TemporarilyUnavailable) | 503 with `Retry-After` | no challenge: the token may be good |
/// | [`InsufficientClaims`](ErrorClass::InsufficientClaims) | 401 | `insufficient_claims` (Entra's claims challenge) |
/// | [`InvalidDpopProof`](ErrorClass::InvalidDpopProof) | 401 | `invalid_dpop_proof` (RFC 9449 §7.1), in the `DPoP` challenge |
/// | [`UseDpopNonce`](ErrorClass::UseDpopNonce) | 401 with `DPoP-Nonce` | `use_dpop_nonce` (RFC 9449 §9), in the `DPoP` challenge |
///
/// ```
/// use http::StatusCode;
/// use tokengate::{ErrorClass, Rejection};
///
/// assert_eq!(Rejection::TokenExpired.class(), ErrorClass::InvalidToken);
/// assert_eq!(ErrorClass::InvalidToken.error_code(), Some("invalid_token"));
/// assert_eq!(ErrorClass::InvalidToken.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(ErrorClass::MissingToken.error_code(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The request carries no access token at all.
    MissingToken,
    /// The request itself is malformed (for example two credentials at once): an error of the
    /// HTTP request, which [`Gate::validate`](crate::Gate::validate), given only the token,
    /// never reports.
    InvalidRequest,
    /// The token is missing a property the resource server requires, or is not authentic.
    InvalidToken,
    /// The token is authentic but does not carry the scopes or roles the resource requires.
    InsufficientScope,
    /// The issuer's keys, or a revocation check's answer, could not be obtained; the token was
    /// not judged.
    TemporarilyUnavailable,
    /// Microsoft Entra's claims challenge: the token lacks claims the client can obtain by
    /// asking again (a step-up); 401 with `error="insufficient_claims"` and the `claims` to ask
    /// for. Not an RFC 6750 code.
    InsufficientClaims,
    /// The DPoP proof (RFC 9449) failed a check, or was used before.
    InvalidDpopProof,
    /// The DPoP proof lacks the server's current nonce: the client retries with the one in the
    /// `DPoP-Nonce` header (RFC 9449 §9).
    UseDpopNonce,
}

impl ErrorClass {
    /// The RFC 6750 `error` code of the challenge, if the class has one.
    pub const fn error_code(self) -> Option<&'static str> {
        match self {
            ErrorClass::InvalidRequest => Some("invalid_request"),
            ErrorClass::InvalidToken => Some("invalid_token"),
            ErrorClass::InsufficientScope => Some("insufficient_scope"),
            ErrorClass::InsufficientClaims => Some("insufficient_claims"),
            ErrorClass::InvalidDpopProof => Some("invalid_dpop_proof"),
            ErrorClass::UseDpopNonce => Some("use_dpop_nonce"),
            ErrorClass::MissingToken | ErrorClass::TemporarilyUnavailable => None,
        }
    }

    /// The HTTP status an API answers with.
    pub const fn status(self) -> http::StatusCode {
        match self {
            ErrorClass::MissingToken
            | ErrorClass::InvalidToken
            | ErrorClass::InsufficientClaims
            | ErrorClass::InvalidDpopProof
            | ErrorClass::UseDpopNonce => http::StatusCode::UNAUTHORIZED,
            ErrorClass::InvalidRequest => http::StatusCode::BAD_REQUEST,
            ErrorClass::InsufficientScope => http::StatusCode::FORBIDDEN,
            ErrorClass::TemporarilyUnavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why a request's access token was refused.
///
/// Every variant has a stable machine-readable [`code`](Rejection::code), an RFC 6750
/// [`class`](Rejection::class), and a [`description`](Rejection::description) that is safe to
/// send to clients: it never contains token content, claim values, key ids or internal error
/// text. `Display` prints the description.
///
/// Claim values (audience, expiry, required claims, scopes, ...) are judged only for tokens
/// whose signature verified, so a forged token learns nothing about which of them would have
/// passed. Only the structure (`malformed_*`) and the issuer (`iss` present and configured) are
/// judged before the signature: the issuer decides which keys verify it.
///
/// | code | class | meaning |
/// |---|---|---|
/// | `missing_token` | missing_token | the request carries no access token where the layer looks for one |
/// | `multiple_tokens` | invalid_request | more than one credential: two `Authorization` headers, a header and a cookie, ... (RFC 6750 §3.1) |
/// | `malformed_credentials` | invalid_request | a `Bearer` credential without a token, or with characters outside RFC 6750's `b64token` |
/// | `token_in_query` | invalid_request | an `access_token` URL query parameter: never accepted, since URLs are logged and cached |
/// | `token_too_large` | invalid_token | longer than [`GateBuilder::max_token_size`](crate::GateBuilder::max_token_size); refused before decoding |
/// | `unsupported_token_format` | invalid_token | JWE, JWS JSON serialization, nested (`cty`), detached or compressed content, `b64`, a header `nonce` (Microsoft Graph tokens) |
/// | `malformed_token` | invalid_token | not three segments of strict base64url (no padding, no whitespace, canonical trailing bits), an empty header, or a header or payload that is not UTF-8 once decoded |
/// | `malformed_header` | invalid_token | header not a UTF-8 JSON object, duplicate members, `alg` missing or not a string, `kid` not a string or too long |
/// | `malformed_claims` | invalid_token | payload not a UTF-8 JSON object, duplicate members at any depth, a registered claim of the wrong type or out of range |
/// | `unsupported_algorithm` | invalid_token | `alg` not in the issuer's allowlist (`none` and HMAC never are) |
/// | `unsupported_critical_header` | invalid_token | any `crit` header: no extension is understood |
/// | `invalid_token_type` | invalid_token | `typ` not accepted by the issuer's [`TokenProfile`](crate::TokenProfile) |
/// | `not_an_access_token` | invalid_token | an ID token, logout or security-event token: a `nonce`, `at_hash`, `c_hash`, `s_hash` or `events` claim, whatever its value, or `token_use` other than `access`; a provider's own marker (Keycloak's payload `typ` other than `Bearer`, an Entra token with neither `appid` nor `azp`) |
/// | `sender_constrained_token` | invalid_token | a key-bound token (`cnf`) without proof of its key: a DPoP-bound token sent as `Bearer` (RFC 9449 §7.2), or by an issuer not configured for DPoP; a certificate-bound token without a client certificate (RFC 8705 §3); a binding tokengate cannot check |
/// | `dpop_required` | invalid_token | the issuer's tokens, or the route, must be DPoP-bound ([`DpopMode::Required`](crate::DpopMode::Required)), and this one is not or came as `Bearer` |
/// | `token_not_bound` | invalid_token | the `DPoP` scheme with a token that has no `cnf.jkt` |
/// | `token_binding_mismatch` | invalid_token | the DPoP proof's key, or the client certificate, is not the one the token is bound to |
/// | `invalid_dpop_proof` | invalid_dpop_proof | the DPoP proof is missing or fails a check of RFC 9449 §4.3 ([`Rejection::InvalidDpopProof`] names which) |
/// | `dpop_proof_replayed` | invalid_dpop_proof | the DPoP proof was used before (its `jti` is in the replay store) |
/// | `use_dpop_nonce` | use_dpop_nonce | the DPoP proof lacks the server's current nonce, sent in the `DPoP-Nonce` header |
/// | `multiple_dpop_proofs` | invalid_request | more than one `DPoP` header |
/// | `replay_store_unavailable` | temporarily_unavailable | the DPoP replay store could not answer; carries when to retry |
/// | `token_inactive` | invalid_token | an opaque token the issuer's introspection endpoint calls inactive (expired, revoked, unknown) |
/// | `introspection_unavailable` | temporarily_unavailable | the introspection endpoint could not answer (unreachable, slow, 5xx, a malformed answer, or our credentials refused); carries when to retry |
/// | `untrusted_issuer` | invalid_token | `iss` is not a configured issuer |
/// | `missing_key_id` | invalid_token | no `kid`, and the issuer does not have exactly one key for the token's algorithm |
/// | `unknown_key` | invalid_token | no key with the token's `kid` |
/// | `key_algorithm_mismatch` | invalid_token | the key selected by `kid` is bound to another algorithm |
/// | `key_issuer_mismatch` | invalid_token | Entra rules: the key's own `issuer` member (with `{tenantid}` replaced by `tid`) is not the token's `iss` (ENTRA-17) |
/// | `invalid_signature` | invalid_token | the signature does not verify (also an empty one, or one longer than any key's) |
/// | `missing_claim` | invalid_token | a required claim (`iss`, `exp`, `aud`, the profile's, or one configured) is absent; a configured claim that is `null` counts as absent (a registered claim that is `null` has the wrong type: `malformed_claims`) |
/// | `invalid_audience` | invalid_token | no `aud` value equals a configured audience; without `aud`, where client ids are configured ([`IssuerProfile::client_ids`](crate::IssuerProfile::client_ids)), `client_id` is not one of them |
/// | `token_expired` | invalid_token | `now >= exp + leeway` |
/// | `token_not_yet_valid` | invalid_token | `now < nbf - leeway` |
/// | `issued_in_future` | invalid_token | `iat > now + leeway` |
/// | `token_too_old` | invalid_token | `now - iat > max_token_age + leeway` |
/// | `invalid_tenant` | invalid_token | Entra rules: `tid` missing, not a lowercase GUID, given twice in different case (`tid` and `TID`), or not the tenant segment of `iss` |
/// | `tenant_not_accepted` | invalid_token | a provider's rules refuse the token's tenant, though it is well formed and matches `iss` (Entra's personal-account tenant under `any_tenant`) |
/// | `no_scope_or_role` | insufficient_scope | Entra rules: the token has neither `scp` (or `scope`) nor `roles`, and the API does not authorize by ACL (ENTRA-27) |
/// | `missing_auth_context` | insufficient_scope | a required authentication context is not in `acrs` and the client did not declare that it handles claims challenges (Entra's `AuthContext`) |
/// | `insufficient_claims` | insufficient_claims | the same for a client that declared `cp1`, or a token revoked by a [`RevocationLayer`](crate::RevocationLayer) check that answers with Entra's challenge (`on_revoked`): a claims challenge |
/// | `token_revoked` | invalid_token | a [`RevocationLayer`](crate::RevocationLayer) check revoked the token (ENTRA-36) |
/// | `insufficient_scope` | insufficient_scope | a [`Requirement`](crate::Requirement) is not met |
/// | `keys_unavailable` | temporarily_unavailable | the issuer's keys could not be fetched and none usable are held; carries when to retry |
/// | `revocation_unavailable` | temporarily_unavailable | a [`RevocationLayer`](crate::RevocationLayer) check could not decide; carries when to retry |
///
/// ```
/// use tokengate::Rejection;
///
/// let rejection = Rejection::InvalidSignature;
/// assert_eq!(rejection.code(), "invalid_signature");
/// assert_eq!(rejection.to_string(), rejection.description());
///
/// let missing = Rejection::MissingClaim { claim: "aud".into() };
/// assert_eq!(missing.claim(), Some("aud"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// `missing_token`: the request carries no access token.
    #[error("The request carries no access token.")]
    MissingToken,
    /// `multiple_tokens`: the request carries more than one credential.
    #[error("The request carries more than one access token.")]
    MultipleTokens,
    /// `malformed_credentials`: the credential is not a well-formed bearer token.
    #[error("The request's access token credential is malformed.")]
    MalformedCredentials,
    /// `token_in_query`: the token was sent in the URL query.
    #[error("Access tokens are not accepted in the URL query.")]
    TokenInQuery,
    /// `token_too_large`: the token is longer than the configured maximum.
    #[error("The access token is larger than this resource accepts.")]
    TokenTooLarge,
    /// `unsupported_token_format`: not a plain compact JWS.
    #[error("Only signed JWT access tokens in compact form are accepted.")]
    UnsupportedTokenFormat,
    /// `malformed_token`: not three segments of strict base64url.
    #[error("The access token is not a well-formed JWT.")]
    MalformedToken,
    /// `malformed_header`: the JOSE header is not acceptable JSON.
    #[error("The access token header is malformed.")]
    MalformedHeader,
    /// `malformed_claims`: the claims are not acceptable JSON or have the wrong types.
    #[error("The access token claims are malformed.")]
    MalformedClaims,
    /// `unsupported_algorithm`: the algorithm is not accepted for this issuer.
    #[error("The access token signing algorithm is not accepted.")]
    UnsupportedAlgorithm,
    /// `unsupported_critical_header`: the token requires an extension we do not implement.
    #[error("The access token requires an unsupported header extension.")]
    UnsupportedCriticalHeader,
    /// `invalid_token_type`: the `typ` header is not an accepted access-token type.
    #[error("The token type is not an accepted access token type.")]
    InvalidTokenType,
    /// `not_an_access_token`: an ID token or another kind of JWT.
    #[error("The token is not an access token.")]
    NotAnAccessToken,
    /// `sender_constrained_token`: the token is bound to a key and needs proof of it.
    #[error("The access token is bound to a key and is not accepted as a bearer token.")]
    SenderConstrainedToken,
    /// `dpop_required`: only DPoP-bound tokens, presented with the `DPoP` scheme, are
    /// accepted.
    #[error("The access token must be DPoP-bound and presented with the DPoP scheme.")]
    DpopRequired,
    /// `token_not_bound`: the `DPoP` scheme with a token not bound to a key.
    #[error("The access token is not bound to a DPoP key.")]
    TokenNotBound,
    /// `token_binding_mismatch`: the proof's key or the client certificate is not the one the
    /// token is bound to.
    #[error("The DPoP key or client certificate is not the one the access token is bound to.")]
    TokenBindingMismatch,
    /// `invalid_dpop_proof`: the DPoP proof is missing or fails a check.
    #[error("The DPoP proof is invalid: check {check}.")]
    InvalidDpopProof {
        /// Which check: `missing` (no `DPoP` header), `syntax`, `typ`, `alg`, `jwk`,
        /// `signature`, `htm`, `htu`, `iat` or `ath`.
        check: &'static str,
    },
    /// `dpop_proof_replayed`: the DPoP proof was used before.
    #[error("The DPoP proof has been used before.")]
    DpopProofReplayed,
    /// `use_dpop_nonce`: the proof must carry the server's current nonce.
    #[error("The DPoP proof must carry the server's current nonce.")]
    UseDpopNonce {
        /// The current nonce, for the `DPoP-Nonce` header.
        nonce: Arc<str>,
    },
    /// `multiple_dpop_proofs`: more than one `DPoP` header.
    #[error("The request carries more than one DPoP proof.")]
    MultipleDpopProofs,
    /// `replay_store_unavailable`: the DPoP replay store could not answer.
    #[error("The DPoP proof cannot be checked now.")]
    ReplayStoreUnavailable {
        /// When to try again (for `Retry-After`).
        retry_after: Duration,
    },
    /// `token_inactive`: the issuer's introspection endpoint says the token is not active
    /// (expired, revoked or unknown).
    #[error("The access token is not active.")]
    TokenInactive,
    /// `introspection_unavailable`: the issuer's introspection endpoint could not answer.
    #[error("The access token cannot be checked now.")]
    IntrospectionUnavailable {
        /// When to try again (for `Retry-After`).
        retry_after: Duration,
    },
    /// `untrusted_issuer`: the issuer is not configured.
    #[error("The access token issuer is not trusted.")]
    UntrustedIssuer,
    /// `missing_key_id`: the signing key cannot be chosen without a `kid`.
    #[error("The access token does not identify its signing key.")]
    MissingKeyId,
    /// `unknown_key`: no key with this `kid` is known for the issuer.
    #[error("The access token signing key is not known.")]
    UnknownKey,
    /// `key_algorithm_mismatch`: the token's `alg` differs from its key's algorithm.
    #[error("The access token algorithm does not match its signing key.")]
    KeyAlgorithmMismatch,
    /// `key_issuer_mismatch`: the signing key's own `issuer` is not the token's (Entra).
    #[error("The access token signing key belongs to another issuer.")]
    KeyIssuerMismatch,
    /// `invalid_signature`: the signature does not verify.
    #[error("The access token signature is invalid.")]
    InvalidSignature,
    /// `missing_claim`: a required claim is absent.
    #[error("The access token lacks a required claim: {claim}.")]
    MissingClaim {
        /// The name of the missing claim (a name from the configuration, never a value).
        claim: Arc<str>,
    },
    /// `invalid_audience`: the token is meant for another resource.
    #[error("The access token is not meant for this resource.")]
    InvalidAudience,
    /// `token_expired`: the token has expired.
    #[error("The access token has expired.")]
    TokenExpired,
    /// `token_not_yet_valid`: the token's `nbf` is in the future.
    #[error("The access token is not valid yet.")]
    TokenNotYetValid,
    /// `issued_in_future`: the token's `iat` is in the future.
    #[error("The access token was issued in the future.")]
    IssuedInFuture,
    /// `token_too_old`: the token was issued longer ago than the maximum age.
    #[error("The access token is too old.")]
    TokenTooOld,
    /// `invalid_tenant`: for an issuer with Entra's tenant rules, `tid` is missing, not a
    /// GUID, given twice in different case, or not the tenant of `iss`.
    #[error("The access token's tenant is missing or does not match its issuer.")]
    InvalidTenant,
    /// `tenant_not_accepted`: the token's tenant is well formed and matches its issuer, but
    /// this API does not accept it (Entra's personal-account tenant for an API that accepts
    /// any work or school tenant).
    #[error("The access token's tenant is not accepted by this API.")]
    TenantNotAccepted,
    /// `missing_auth_context`: a required Conditional Access authentication context is not in
    /// `acrs`, and the client cannot handle a claims challenge.
    #[error("The access token does not satisfy the required authentication context.")]
    MissingAuthContext,
    /// `insufficient_claims`: the client declared it can handle a claims challenge (Entra,
    /// ENTRA-33), and the token lacks a required authentication context, or was revoked and
    /// the revocation layer answers with a claims challenge.
    #[error("The access token lacks claims this resource requires; a new token is needed.")]
    InsufficientClaims {
        /// What the challenge asks for.
        challenge: Arc<ClaimsChallenge>,
    },
    /// `no_scope_or_role`: the token grants no scope and no role (Entra, ENTRA-27).
    #[error("The access token grants no scope and no role.")]
    NoScopeOrRole,
    /// `insufficient_scope`: the token lacks the scopes or roles required.
    #[error("The access token does not grant the required scope or role.")]
    InsufficientScope {
        /// Every scope the unmet requirement names, each once: the challenge's `scope`.
        scopes: Arc<[Box<str>]>,
    },
    /// `token_revoked`: a [`RevocationLayer`](crate::RevocationLayer) check revoked the token.
    #[error("The access token has been revoked.")]
    TokenRevoked,
    /// `revocation_unavailable`: a [`RevocationLayer`](crate::RevocationLayer) check could not
    /// tell whether the token is revoked.
    #[error("Whether the access token is revoked cannot be checked now.")]
    RevocationUnavailable {
        /// When to try again (for `Retry-After`).
        retry_after: Duration,
    },
    /// `keys_unavailable`: the issuer's keys could not be obtained.
    #[error("The token issuer's keys are temporarily unavailable.")]
    KeysUnavailable {
        /// When the next attempt to fetch them may start (for `Retry-After`).
        retry_after: Duration,
    },
}

impl Rejection {
    /// The stable, machine-readable code (see the table on [`Rejection`]).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingToken => "missing_token",
            Rejection::MultipleTokens => "multiple_tokens",
            Rejection::MalformedCredentials => "malformed_credentials",
            Rejection::TokenInQuery => "token_in_query",
            Rejection::TokenTooLarge => "token_too_large",
            Rejection::UnsupportedTokenFormat => "unsupported_token_format",
            Rejection::MalformedToken => "malformed_token",
            Rejection::MalformedHeader => "malformed_header",
            Rejection::MalformedClaims => "malformed_claims",
            Rejection::UnsupportedAlgorithm => "unsupported_algorithm",
            Rejection::UnsupportedCriticalHeader => "unsupported_critical_header",
            Rejection::InvalidTokenType => "invalid_token_type",
            Rejection::NotAnAccessToken => "not_an_access_token",
            Rejection::SenderConstrainedToken => "sender_constrained_token",
            Rejection::DpopRequired => "dpop_required",
            Rejection::TokenNotBound => "token_not_bound",
            Rejection::TokenBindingMismatch => "token_binding_mismatch",
            Rejection::InvalidDpopProof { .. } => "invalid_dpop_proof",
            Rejection::DpopProofReplayed => "dpop_proof_replayed",
            Rejection::UseDpopNonce { .. } => "use_dpop_nonce",
            Rejection::MultipleDpopProofs => "multiple_dpop_proofs",
            Rejection::ReplayStoreUnavailable { .. } => "replay_store_unavailable",
            Rejection::TokenInactive => "token_inactive",
            Rejection::IntrospectionUnavailable { .. } => "introspection_unavailable",
            Rejection::UntrustedIssuer => "untrusted_issuer",
            Rejection::MissingKeyId => "missing_key_id",
            Rejection::UnknownKey => "unknown_key",
            Rejection::KeyAlgorithmMismatch => "key_algorithm_mismatch",
            Rejection::KeyIssuerMismatch => "key_issuer_mismatch",
            Rejection::InvalidSignature => "invalid_signature",
            Rejection::MissingClaim { .. } => "missing_claim",
            Rejection::InvalidAudience => "invalid_audience",
            Rejection::TokenExpired => "token_expired",
            Rejection::TokenNotYetValid => "token_not_yet_valid",
            Rejection::IssuedInFuture => "issued_in_future",
            Rejection::TokenTooOld => "token_too_old",
            Rejection::InvalidTenant => "invalid_tenant",
            Rejection::TenantNotAccepted => "tenant_not_accepted",
            Rejection::NoScopeOrRole => "no_scope_or_role",
            Rejection::MissingAuthContext => "missing_auth_context",
            Rejection::InsufficientClaims { .. } => "insufficient_claims",
            Rejection::InsufficientScope { .. } => "insufficient_scope",
            Rejection::KeysUnavailable { .. } => "keys_unavailable",
            Rejection::TokenRevoked => "token_revoked",
            Rejection::RevocationUnavailable { .. } => "revocation_unavailable",
        }
    }

    /// The RFC 6750 class, which decides the HTTP status.
    pub fn class(&self) -> ErrorClass {
        match self {
            Rejection::MissingToken => ErrorClass::MissingToken,
            Rejection::MultipleTokens
            | Rejection::MalformedCredentials
            | Rejection::TokenInQuery
            | Rejection::MultipleDpopProofs => ErrorClass::InvalidRequest,
            Rejection::InvalidDpopProof { .. } | Rejection::DpopProofReplayed => {
                ErrorClass::InvalidDpopProof
            }
            Rejection::UseDpopNonce { .. } => ErrorClass::UseDpopNonce,
            Rejection::InsufficientScope { .. }
            | Rejection::NoScopeOrRole
            | Rejection::MissingAuthContext => ErrorClass::InsufficientScope,
            Rejection::InsufficientClaims { .. } => ErrorClass::InsufficientClaims,
            Rejection::KeysUnavailable { .. }
            | Rejection::RevocationUnavailable { .. }
            | Rejection::ReplayStoreUnavailable { .. }
            | Rejection::IntrospectionUnavailable { .. } => ErrorClass::TemporarilyUnavailable,
            _ => ErrorClass::InvalidToken,
        }
    }

    /// A description for developers that is safe to send to clients (RFC 6750
    /// `error_description` characters only: no `"` or `\`).
    pub fn description(&self) -> String {
        self.to_string()
    }

    /// The claim that was missing, for `missing_claim`.
    pub fn claim(&self) -> Option<&str> {
        match self {
            Rejection::MissingClaim { claim } => Some(claim),
            _ => None,
        }
    }

    /// The scopes an unmet requirement names, for `insufficient_scope` (empty otherwise, and
    /// for a requirement of roles only).
    pub fn required_scopes(&self) -> impl Iterator<Item = &str> + '_ {
        let scopes: &[Box<str>] = match self {
            Rejection::InsufficientScope { scopes } => scopes,
            _ => &[],
        };
        scopes.iter().map(|scope| &**scope)
    }

    pub(crate) fn missing(claim: &'static str) -> Rejection {
        Rejection::MissingClaim {
            claim: Arc::from(claim),
        }
    }
}

/// A configuration that [`GateBuilder::build`](crate::GateBuilder::build) refused, with every
/// problem it found (not only the first).
///
/// ```
/// use tokengate::{Gate, IssuerProfile};
///
/// let err = Gate::builder()
///     .issuer(IssuerProfile::new("not a url")) // no audience, no keys
///     .build()
///     .unwrap_err();
/// assert!(err.problems().count() >= 2);
/// println!("{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    pub(crate) fn new(problems: Vec<String>) -> ConfigError {
        ConfigError { problems }
    }

    /// Every problem found, one sentence each.
    pub fn problems(&self) -> impl ExactSizeIterator<Item = &str> {
        self.problems.iter().map(String::as_str)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_list(f, "invalid tokengate configuration", &self.problems)
    }
}

/// A heading, then one item per line: how errors that gather several problems print.
pub(crate) fn write_list(
    f: &mut fmt::Formatter<'_>,
    heading: &str,
    items: &[String],
) -> fmt::Result {
    f.write_str(heading)?;
    for item in items {
        write!(f, "\n  - {item}")?;
    }
    Ok(())
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Rejection> {
        vec![
            Rejection::MissingToken,
            Rejection::MultipleTokens,
            Rejection::MalformedCredentials,
            Rejection::TokenInQuery,
            Rejection::TokenTooLarge,
            Rejection::UnsupportedTokenFormat,
            Rejection::MalformedToken,
            Rejection::MalformedHeader,
            Rejection::MalformedClaims,
            Rejection::UnsupportedAlgorithm,
            Rejection::UnsupportedCriticalHeader,
            Rejection::InvalidTokenType,
            Rejection::NotAnAccessToken,
            Rejection::SenderConstrainedToken,
            Rejection::UntrustedIssuer,
            Rejection::MissingKeyId,
            Rejection::UnknownKey,
            Rejection::KeyAlgorithmMismatch,
            Rejection::KeyIssuerMismatch,
            Rejection::InvalidSignature,
            Rejection::missing("exp"),
            Rejection::InvalidAudience,
            Rejection::TokenExpired,
            Rejection::TokenNotYetValid,
            Rejection::IssuedInFuture,
            Rejection::TokenTooOld,
            Rejection::InvalidTenant,
            Rejection::TenantNotAccepted,
            Rejection::NoScopeOrRole,
            Rejection::InsufficientScope {
                scopes: Arc::from([Box::from("read")]),
            },
            Rejection::KeysUnavailable {
                retry_after: Duration::from_secs(1),
            },
            Rejection::TokenRevoked,
            Rejection::RevocationUnavailable {
                retry_after: Duration::from_secs(1),
            },
            Rejection::DpopRequired,
            Rejection::TokenNotBound,
            Rejection::TokenBindingMismatch,
            Rejection::InvalidDpopProof { check: "htu" },
            Rejection::DpopProofReplayed,
            Rejection::UseDpopNonce {
                nonce: Arc::from("n"),
            },
            Rejection::MultipleDpopProofs,
            Rejection::ReplayStoreUnavailable {
                retry_after: Duration::from_secs(1),
            },
            Rejection::TokenInactive,
            Rejection::IntrospectionUnavailable {
                retry_after: Duration::from_secs(1),
            },
        ]
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut codes: Vec<_> = all().iter().map(Rejection::code).collect();
        for code in &codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(before, codes.len());
    }

    #[test]
    fn descriptions_are_rfc6750_safe() {
        // error_description = *( %x20-21 / %x23-5B / %x5D-7E )
        for rejection in all() {
            let text = rejection.description();
            assert!(!text.is_empty());
            assert!(
                text.bytes()
                    .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
                "{text}"
            );
        }
    }

    #[test]
    fn classes() {
        for rejection in all() {
            let expected = match rejection.code() {
                "insufficient_scope" | "no_scope_or_role" => ErrorClass::InsufficientScope,
                "keys_unavailable"
                | "revocation_unavailable"
                | "replay_store_unavailable"
                | "introspection_unavailable" => ErrorClass::TemporarilyUnavailable,
                "missing_token" => ErrorClass::MissingToken,
                "multiple_tokens"
                | "malformed_credentials"
                | "token_in_query"
                | "multiple_dpop_proofs" => ErrorClass::InvalidRequest,
                "invalid_dpop_proof" | "dpop_proof_replayed" => ErrorClass::InvalidDpopProof,
                "use_dpop_nonce" => ErrorClass::UseDpopNonce,
                _ => ErrorClass::InvalidToken,
            };
            assert_eq!(rejection.class(), expected, "{}", rejection.code());
        }
    }
}
