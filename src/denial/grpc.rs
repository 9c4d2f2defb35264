//! The gRPC form of a refusal: a trailers-only answer that gRPC clients understand.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response};

use super::Denial;
use crate::error::ErrorClass;

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
    use http::{HeaderMap, Method, StatusCode};

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
        let get = super::Denial::new(Rejection::MissingToken).for_request(&Method::GET, &headers);
        assert_eq!(get.default_response().status(), StatusCode::UNAUTHORIZED);
        let post = super::Denial::new(Rejection::MissingToken).for_request(&Method::POST, &headers);
        let response = post.default_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    }
}
