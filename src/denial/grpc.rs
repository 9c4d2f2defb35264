//! The gRPC form of a refusal: a trailers-only answer that gRPC clients understand.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response};

use super::Denial;
use crate::error::ErrorClass;

/// Which refused requests get their answer in gRPC's form (HTTP 200, `grpc-status` in the
/// headers) rather than an HTTP status
/// ([`TokenLayerBuilder::grpc_answers`](crate::layer::TokenLayerBuilder::grpc_answers)).
///
/// gRPC runs over HTTP/2 only, so by default a `POST` with a gRPC content type over HTTP/1.1
/// (a REST service probed with one, say) gets an ordinary 401, visible to HTTP monitoring.
/// Whatever the form, every refusal counts in `tokengate_refusals_total` (feature `metrics`).
///
/// ```
/// use tokengate::TokenLayer;
/// use tokengate::layer::GrpcAnswers;
///
/// # fn layer(gate: tokengate::Gate) -> Result<(), tokengate::ConfigError> {
/// // A REST-only service: never answer in gRPC's form.
/// let layer = TokenLayer::builder(gate).grpc_answers(GrpcAnswers::Never).build()?;
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrpcAnswers {
    /// gRPC calls over HTTP/2 or later (the default).
    #[default]
    Http2,
    /// gRPC calls over any HTTP version: for a proxy that forwards gRPC to this service over
    /// HTTP/1.1, which no standard gRPC transport does.
    Always,
    /// Never: every refusal gets its HTTP status.
    Never,
}

/// HTTP 200 with `grpc-status` 16 (`UNAUTHENTICATED`), 7 (`PERMISSION_DENIED`) or 14
/// (`UNAVAILABLE`), the description in `grpc-message`, and the same `WWW-Authenticate`.
pub(super) fn response(denial: &Denial) -> Response<Bytes> {
    let code: u16 = match denial.rejection().class() {
        ErrorClass::InsufficientScope => 7,
        ErrorClass::TemporarilyUnavailable => 14,
        _ => 16,
    };
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("grpc-status", HeaderValue::from(code));
    // gRPC percent-encodes the message; descriptions are printable ASCII, but a
    // configured claim name in one may not be.
    let mut message = String::new();
    for byte in denial.rejection().description().bytes() {
        match byte {
            b' '..=b'~' if byte != b'%' => message.push(char::from(byte)),
            _ => message.push_str(&format!("%{byte:02X}")),
        }
    }
    if let Ok(message) = HeaderValue::from_str(&message) {
        headers.insert("grpc-message", message);
    }
    if let Some(challenge) = denial.challenge() {
        headers.insert(WWW_AUTHENTICATE, challenge);
    }
    if let Some(seconds) = denial.retry_after() {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(nonce) = denial.dpop_nonce() {
        headers.insert(super::DPOP_NONCE, nonce);
    }
    response
}

/// Whether a content type is gRPC's own (`application/grpc`, `application/grpc+proto`, ...,
/// parameters allowed, in any case); not gRPC-Web, whose clients read HTTP statuses.
pub(super) fn is_grpc(content_type: &[u8]) -> bool {
    let media_type = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let prefix = b"application/grpc";
    media_type.len() >= prefix.len()
        && media_type[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(media_type.get(prefix.len()), None | Some(b'+'))
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, Method, StatusCode, Version};

    use super::*;
    use crate::error::Rejection;

    #[test]
    fn grpc_calls_are_recognised() {
        for yes in [
            &b"application/grpc"[..],
            b"application/grpc+proto",
            b"Application/GRPC; charset=utf-8",
        ] {
            assert!(is_grpc(yes), "{yes:?}");
        }
        for no in [
            &b"application/grpc-web"[..],
            b"application/grpc-web+proto",
            b"application/grpcx",
            b"application/json",
            b"",
        ] {
            assert!(!is_grpc(no), "{no:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        let denial = |method: &Method, version: Version, grpc: GrpcAnswers| {
            let responder = std::sync::Arc::new(super::super::Responder {
                grpc,
                ..super::super::Responder::default()
            });
            super::Denial::with(Rejection::MissingToken, responder)
                .for_request(method, version, &headers)
                .default_response()
        };
        let h2 = Version::HTTP_2;
        assert_eq!(
            denial(&Method::GET, h2, GrpcAnswers::Http2).status(),
            StatusCode::UNAUTHORIZED
        );
        let response = denial(&Method::POST, h2, GrpcAnswers::Http2);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        // gRPC runs over HTTP/2 only: over HTTP/1.1 the refusal shows as a 401, unless the
        // layer is told otherwise.
        let h1 = Version::HTTP_11;
        assert_eq!(
            denial(&Method::POST, h1, GrpcAnswers::Http2).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            denial(&Method::POST, h1, GrpcAnswers::Always).status(),
            StatusCode::OK
        );
        assert_eq!(
            denial(&Method::POST, h2, GrpcAnswers::Never).status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
