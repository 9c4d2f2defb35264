//! A rejection as an HTTP answer: status, RFC 6750 `WWW-Authenticate` challenge, JSON body.

mod grpc;

pub use grpc::GrpcAnswers;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};

use crate::challenge::{Challenge, is_scope_char};
use crate::error::{ErrorClass, Rejection};
use crate::policy::Unmet;

/// RFC 9449 §8.1: where a server hands out its DPoP nonce.
pub(crate) const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// Builds the answer to a refused request from the default one (see
/// [`TokenLayerBuilder::on_rejection`](crate::layer::TokenLayerBuilder::on_rejection)).
pub(crate) type Hook = Arc<dyn Fn(Denial) -> Response<Bytes> + Send + Sync>;

/// How one layer answers refused requests; shared with the layers and extractors inside it
/// through the request extensions, so that they all answer alike.
#[derive(Clone, Default)]
pub(crate) struct Responder {
    pub(crate) realm: Option<Box<str>>,
    pub(crate) resource_metadata: Option<Box<str>>,
    /// Written before each scope of a challenge's `scope`.
    pub(crate) scope_prefix: Option<Box<str>>,
    pub(crate) hook: Option<Hook>,
    /// The `algs` of a `DPoP` challenge, where DPoP-bound tokens are accepted.
    pub(crate) dpop_algs: Option<Box<str>>,
    /// Only DPoP-bound tokens are accepted: no `Bearer` challenge.
    pub(crate) dpop_only: bool,
    /// Which requests get their refusal in gRPC's form.
    pub(crate) grpc: GrpcAnswers,
}

impl Responder {
    /// The answers of a layer configured with nothing.
    pub(crate) fn plain() -> Arc<Responder> {
        static PLAIN: std::sync::OnceLock<Arc<Responder>> = std::sync::OnceLock::new();
        PLAIN.get_or_init(Arc::default).clone()
    }
}

/// The answer when claims are needed but no [`TokenLayer`](crate::TokenLayer) ran (say, a
/// layer added before the routes it should wrap): a server bug, never the client's, so a 500
/// without details, and an error in the logs.
pub(crate) fn layer_missing() -> Response<Bytes> {
    tracing::error!(
        "verified claims were needed but no tokengate TokenLayer ran for this request; \
         check that the TokenLayer wraps this route"
    );
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// A refused request: the [`Rejection`] and the HTTP answer it gets.
///
/// The answer follows RFC 6750: the status of the rejection's [`ErrorClass`], a
/// `WWW-Authenticate: Bearer` challenge (with no `error` when the request carried no token,
/// `scope` listing the required scopes for `insufficient_scope`, and the layer's `realm` and
/// RFC 9728 `resource_metadata` when configured), `Retry-After` on a 503, and a small JSON
/// body with the stable code and the client-safe description:
///
/// ```
/// use tokengate::{Denial, Rejection};
///
/// let denial = Denial::new(Rejection::TokenExpired);
/// let response = denial.default_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers()["www-authenticate"],
///     r#"Bearer error="invalid_token", error_description="The access token has expired.""#
/// );
/// assert_eq!(
///     response.body().as_ref(),
///     br#"{"code":"token_expired","error":"invalid_token","error_description":"The access token has expired."}"#
/// );
///
/// let none = Denial::new(Rejection::MissingToken).default_response();
/// assert_eq!(none.headers()["www-authenticate"], "Bearer");
/// ```
#[derive(Clone)]
pub struct Denial {
    rejection: Rejection,
    responder: Arc<Responder>,
    grpc: bool,
    /// The request used the `DPoP` scheme: error information goes in its challenge.
    dpop: bool,
}

impl Denial {
    /// A denial answered as a layer with default settings answers it: for services that call
    /// [`Gate::validate`](crate::Gate::validate) themselves.
    pub fn new(rejection: Rejection) -> Denial {
        Denial {
            rejection,
            responder: Responder::plain(),
            grpc: false,
            dpop: false,
        }
    }

    pub(crate) fn with(rejection: Rejection, responder: Arc<Responder>) -> Denial {
        Denial {
            rejection,
            responder,
            grpc: false,
            dpop: false,
        }
    }

    /// The answer to this request: in gRPC's form if it is a gRPC call (see
    /// [`default_response`](Self::default_response) and [`GrpcAnswers`]), with the error in the
    /// challenge of the scheme it used. Every refusal of tokengate's layers and extractors
    /// comes through here, so this is also where it is counted (`tokengate_refusals_total`).
    pub(crate) fn for_request(
        mut self,
        method: &Method,
        version: Version,
        headers: &HeaderMap,
    ) -> Denial {
        let grpc_version = match self.responder.grpc {
            GrpcAnswers::Http2 => version >= Version::HTTP_2,
            GrpcAnswers::Always => true,
            GrpcAnswers::Never => false,
        };
        self.grpc = grpc_version
            && method == Method::POST
            && headers
                .get(CONTENT_TYPE)
                .is_some_and(|value| grpc::is_grpc(value.as_bytes()));
        crate::observe::refusal(&self.rejection, self.grpc);
        self.dpop = headers.get(AUTHORIZATION).is_some_and(|value| {
            let value = value.as_bytes();
            value.len() > 5 && value[..5].eq_ignore_ascii_case(b"dpop ")
        });
        self
    }

    /// Why the request was refused.
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.rejection.class().status()
    }

    /// The `WWW-Authenticate` value; `None` for a 503, which judges no credential.
    ///
    /// Where DPoP-bound tokens are accepted, a `DPoP` challenge with the proof algorithms
    /// (`algs`) follows the `Bearer` one (or stands alone where only DPoP is accepted), and the
    /// error goes in the challenge of the scheme the request used (RFC 9449 §7.1-7.2).
    pub fn challenge(&self) -> Option<HeaderValue> {
        let class = self.rejection.class();
        if class == ErrorClass::TemporarilyUnavailable {
            return None;
        }
        if let Rejection::InsufficientClaims { challenge } = &self.rejection {
            return HeaderValue::from_str(challenge.header().as_str()).ok();
        }
        let responder = &*self.responder;
        let proof_error = matches!(
            class,
            ErrorClass::InvalidDpopProof | ErrorClass::UseDpopNonce
        );
        let dpop = responder.dpop_algs.is_some() || proof_error;
        let bearer = !responder.dpop_only || !dpop;
        let error_in_dpop = dpop && (self.dpop || proof_error || !bearer);
        let mut text = String::new();
        if bearer {
            text.push_str(self.scheme_challenge("Bearer", !error_in_dpop).as_str());
        }
        if dpop {
            if bearer {
                text.push_str(", ");
            }
            let mut challenge = self.scheme_challenge("DPoP", error_in_dpop);
            if let Some(algs) = &responder.dpop_algs {
                challenge.param("algs", algs);
            }
            text.push_str(challenge.as_str());
        }
        // Every value went through `quotable`, so the header is visible ASCII.
        HeaderValue::from_str(&text).ok()
    }

    /// One scheme's challenge: the realm, the error if it belongs here, the resource metadata.
    fn scheme_challenge(&self, scheme: &str, with_error: bool) -> Challenge {
        let class = self.rejection.class();
        let mut challenge = Challenge::new(scheme);
        if let Some(realm) = &self.responder.realm {
            challenge.param("realm", realm);
        }
        if with_error && let Some(error) = class.error_code() {
            challenge.param("error", error);
            challenge.param("error_description", &self.rejection.description());
            if let Rejection::InsufficientScope { scopes } = &self.rejection {
                let prefix = self.responder.scope_prefix.as_deref().unwrap_or_default();
                let scopes: Vec<String> = scopes
                    .iter()
                    .filter(|scope| !scope.is_empty() && scope.bytes().all(is_scope_char))
                    .map(|scope| format!("{prefix}{scope}"))
                    .collect();
                if !scopes.is_empty() {
                    challenge.param("scope", &scopes.join(" "));
                }
            }
        }
        if let Some(url) = &self.responder.resource_metadata {
            challenge.param("resource_metadata", url);
        }
        challenge
    }

    /// The answer without the layer's [`on_rejection`] hook: the starting point for a hook
    /// that adjusts it.
    ///
    /// A gRPC call (`POST` with `content-type: application/grpc` or `application/grpc+...`,
    /// over HTTP/2 unless [`GrpcAnswers`] says otherwise) gets a gRPC trailers-only answer instead, which gRPC clients understand (and for which
    /// [`status`](Self::status) still names the HTTP equivalent): HTTP 200 with `grpc-status` 16
    /// (`UNAUTHENTICATED`) for a missing, bad or malformed credential, 7
    /// (`PERMISSION_DENIED`) for a missing scope, 14 (`UNAVAILABLE`) when keys (or a
    /// revocation check's answer) are unavailable, the description in `grpc-message`, and the same `WWW-Authenticate`.
    ///
    /// [`on_rejection`]: crate::layer::TokenLayerBuilder::on_rejection
    pub fn default_response(&self) -> Response<Bytes> {
        if self.grpc {
            return grpc::response(self);
        }
        let class = self.rejection.class();
        let mut body = serde_json::Map::new();
        body.insert("code".into(), self.rejection.code().into());
        if let Some(error) = class.error_code() {
            body.insert("error".into(), error.into());
        }
        body.insert(
            "error_description".into(),
            self.rejection.description().into(),
        );
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = class.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge() {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(nonce) = self.dpop_nonce() {
            headers.insert(DPOP_NONCE, nonce);
        }
        response
    }

    /// The `DPoP-Nonce` header of a `use_dpop_nonce` answer.
    pub(crate) fn dpop_nonce(&self) -> Option<HeaderValue> {
        match &self.rejection {
            Rejection::UseDpopNonce { nonce } => HeaderValue::from_str(nonce).ok(),
            _ => None,
        }
    }

    /// Whole seconds until the next attempt may succeed, for `Retry-After`.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        match &self.rejection {
            Rejection::KeysUnavailable { retry_after }
            | Rejection::RevocationUnavailable { retry_after }
            | Rejection::ReplayStoreUnavailable { retry_after }
            | Rejection::IntrospectionUnavailable { retry_after } => Some(
                retry_after
                    .as_secs()
                    .saturating_add(u64::from(retry_after.subsec_nanos() > 0))
                    .max(1),
            ),
            _ => None,
        }
    }

    /// The answer: the layer's hook if it has one, the default response otherwise.
    pub(crate) fn into_response(self) -> Response<Bytes> {
        match self.responder.hook.clone() {
            Some(hook) => hook(self),
            None => self.default_response(),
        }
    }
}

impl fmt::Debug for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denial")
            .field("rejection", &self.rejection)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rejection, f)
    }
}

/// A refusal answered as a layer with default settings answers it ([`Denial::new`]).
impl From<Rejection> for Denial {
    fn from(rejection: Rejection) -> Denial {
        Denial::new(rejection)
    }
}

/// An unmet [`Requirement`](crate::Requirement): `403 insufficient_scope`.
impl From<Unmet> for Denial {
    fn from(unmet: Unmet) -> Denial {
        Denial::new(Rejection::from(unmet))
    }
}

impl std::error::Error for Denial {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.rejection)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Requirement;

    fn configured() -> Arc<Responder> {
        Arc::new(Responder {
            realm: Some("orders".into()),
            resource_metadata: Some(
                "https://api.example.com/.well-known/oauth-protected-resource".into(),
            ),
            scope_prefix: None,
            hook: None,
            dpop_algs: None,
            dpop_only: false,
            grpc: GrpcAnswers::Http2,
        })
    }

    #[test]
    fn missing_token_has_no_error_std_6750_6() {
        let denial = Denial::with(Rejection::MissingToken, configured());
        assert_eq!(denial.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            denial.challenge().unwrap(),
            "Bearer realm=\"orders\", resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn insufficient_scope_lists_scopes_std_6750_7() {
        let unmet = Requirement::any_scope(["a.read", "b\"bad"])
            .or(Requirement::role("r"))
            .unmet();
        let denial = Denial::from(unmet);
        assert_eq!(denial.status(), StatusCode::FORBIDDEN);
        let challenge = denial.challenge().unwrap();
        let challenge = challenge.to_str().unwrap();
        assert!(challenge.starts_with("Bearer error=\"insufficient_scope\", "));
        assert!(challenge.ends_with(", scope=\"a.read\""), "{challenge}");
    }

    /// Clients that ask for fully qualified scopes (ENTRA-43) get them in the challenge.
    #[test]
    fn scope_prefix_qualifies_challenge_scopes() {
        let responder = Arc::new(Responder {
            scope_prefix: Some("api://6e74172b-be56-4843-9ff4-e66a39bb12e3/".into()),
            ..Responder::default()
        });
        let unmet = Requirement::any_scope(["Orders.Read", "Orders.Write"]).unmet();
        let denial = Denial::with(Rejection::from(unmet), responder);
        let challenge = denial.challenge().unwrap();
        assert!(
            challenge.to_str().unwrap().ends_with(
                "scope=\"api://6e74172b-be56-4843-9ff4-e66a39bb12e3/Orders.Read \
                 api://6e74172b-be56-4843-9ff4-e66a39bb12e3/Orders.Write\""
            ),
            "{challenge:?}"
        );
    }

    #[test]
    fn unavailable_is_503_with_retry_after_and_no_challenge() {
        let denial = Denial::new(Rejection::KeysUnavailable {
            retry_after: Duration::from_millis(2500),
        });
        let response = denial.default_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "3");
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        let zero = Denial::new(Rejection::KeysUnavailable {
            retry_after: Duration::ZERO,
        });
        assert_eq!(zero.default_response().headers()[RETRY_AFTER], "1");
    }

    #[test]
    fn descriptions_are_sanitized() {
        let denial = Denial::new(Rejection::MissingClaim {
            claim: "we\"ird\\ é".into(),
        });
        let challenge = denial.challenge().unwrap();
        assert!(
            challenge
                .to_str()
                .unwrap()
                .contains("lacks a required claim: we?ird? ?.")
        );
    }

    #[test]
    fn hook_replaces_the_answer() {
        let responder = Arc::new(Responder {
            hook: Some(Arc::new(|denial: Denial| {
                let mut response = denial.default_response();
                *response.body_mut() = Bytes::from_static(b"custom");
                response
            })),
            ..Responder::default()
        });
        let response = Denial::with(Rejection::TokenExpired, responder).into_response();
        assert_eq!(response.body().as_ref(), b"custom");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
