//! Finding the request's access token, as `TokenLayer` does: `Authorization: Bearer`, a
//! cookie, a custom header, each alone and all three together; then the answer to a refused
//! token and the marking of sensitive headers.
//!
//! Input: the first line is the request target (path and query), each further line a header,
//! `name: value`; lines that are not a valid header are skipped.
//!
//! Invariants: no panic; a token found is non-empty and lies entirely within one value of a
//! header that source reads; never beside a DPoP proof or an `access_token` query parameter
//! (with DPoP on: the same bearer token, and a proof only as the one `DPoP` header's value);
//! the three sources together find a token exactly when one of them alone does and the others
//! find none; a compact-JWS-shaped token is never called malformed credentials; marking
//! headers sensitive marks every header that can carry a token and changes nothing else.
#![no_main]

use std::sync::LazyLock;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use libfuzzer_sys::fuzz_target;
use tokengate::fuzzing::{find_dpop_credential, find_token, mark_sensitive, refused};
use tokengate::{Rejection, TokenSource};

const CUSTOM: HeaderName = HeaderName::from_static("x-access-token");

/// The header each of [`SOURCES`] reads.
const READS: [HeaderName; 3] = [http::header::AUTHORIZATION, http::header::COOKIE, CUSTOM];

static SOURCES: LazyLock<[TokenSource; 3]> = LazyLock::new(|| {
    [
        TokenSource::authorization_header(),
        TokenSource::cookie("access_token"),
        TokenSource::header(CUSTOM),
    ]
});

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let uri = lines
        .next()
        .and_then(|line| Uri::try_from(line).ok())
        .unwrap_or_else(|| Uri::from_static("/"));
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(line[..colon].trim_ascii()),
            HeaderValue::from_bytes(
                line[colon + 1..]
                    .strip_prefix(b" ")
                    .unwrap_or(&line[colon + 1..]),
            ),
        ) else {
            continue;
        };
        headers.append(name, value);
    }

    let sources = &*SOURCES;
    let mut singles = Vec::new();
    for (source, name) in sources.iter().zip(READS) {
        let found = find_token(std::slice::from_ref(source), &headers, &uri);
        if let Ok(Some(token)) = found {
            assert!(
                within(token, &headers, name),
                "the token found is not part of a header value"
            );
            found_in(token, &headers, &uri);
        }
        singles.push(found);
    }
    let all = find_token(sources, &headers, &uri);
    if let Ok(Some(token)) = all {
        assert!(
            READS.into_iter().any(|name| within(token, &headers, name)),
            "the token found is not part of a header value"
        );
        found_in(token, &headers, &uri);
    }

    // The sources together against each alone.
    let expected = if singles.iter().any(Result::is_err) {
        None
    } else {
        let found: Vec<&str> = singles
            .iter()
            .filter_map(|s| *s.as_ref().unwrap())
            .collect();
        match found.as_slice() {
            [] => Some(None),
            [one] => Some(Some(*one)),
            _ => None,
        }
    };
    match (expected, &all) {
        (Some(token), Ok(found)) => assert_eq!(token, *found),
        (None, Err(_)) => {}
        (expected, all) => panic!(
            "all sources: {:?}, each alone: {expected:?}",
            all.as_ref().map_err(Rejection::code)
        ),
    }

    // With DPoP on, a bearer token is found as before; a DPoP proof is the one `DPoP` header's
    // whole value, with the `DPoP` scheme.
    let with_dpop = find_dpop_credential(sources, &headers, &uri);
    let dpop_scheme = headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .any(|value| {
            value
                .as_bytes()
                .get(..4)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"dpop"))
        });
    if let (Ok(Some(token)), false) = (all, dpop_scheme) {
        assert_eq!(with_dpop, Ok(Some((token, None))));
    }
    if let Ok(Some((token, Some(proof)))) = with_dpop {
        let dpop: Vec<_> = headers.get_all("dpop").iter().collect();
        assert_eq!(dpop.len(), 1, "one DPoP header");
        assert_eq!(dpop[0].as_bytes(), proof.as_bytes());
        let authorization = headers.get(http::header::AUTHORIZATION).unwrap().as_bytes();
        assert!(authorization[..4].eq_ignore_ascii_case(b"dpop"));
        assert!(within(token, &headers, http::header::AUTHORIZATION));
    }

    let mut marked = headers.clone();
    mark_sensitive(sources, &mut marked);
    assert_eq!(marked, headers);
    for name in READS.into_iter().chain([HeaderName::from_static("dpop")]) {
        assert!(marked.get_all(&name).iter().all(HeaderValue::is_sensitive));
    }
});

/// Checks a token found by one source or by all.
fn found_in(token: &str, headers: &HeaderMap, uri: &Uri) {
    assert!(!token.is_empty());
    assert!(
        !headers.contains_key("dpop"),
        "a bearer token beside a DPoP proof"
    );
    let query = uri.query().unwrap_or_default();
    assert!(
        !url_has_access_token(query),
        "a header token beside a query token"
    );
    let jws_shaped = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let answer = refused(token, Rejection::InvalidSignature);
    if jws_shaped {
        assert_eq!(answer.code(), "invalid_signature");
    } else {
        let code = answer.code();
        assert!(code == "invalid_signature" || code == "malformed_credentials");
    }
}

/// Whether `token` lies within one value of header `name`.
fn within(token: &str, headers: &HeaderMap, name: HeaderName) -> bool {
    let start = token.as_ptr() as usize;
    let end = start + token.len();
    headers.get_all(name).iter().any(|value| {
        let bytes = value.as_bytes();
        let from = bytes.as_ptr() as usize;
        from <= start && end <= from + bytes.len()
    })
}

fn url_has_access_token(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        name == "access_token"
    })
}
