//! Where a request carries its access token, and finding exactly one.

use std::fmt;

use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderName, Uri};

use crate::error::Rejection;

const DPOP: HeaderName = HeaderName::from_static("dpop");

/// A place in a request where [`TokenLayer`](crate::TokenLayer) looks for the access token.
///
/// The default is the `Authorization: Bearer` header alone (RFC 6750 §2.1). Tokens in the URL
/// query or a form body are never accepted: URLs end up in logs and caches, and reading a body
/// would mean buffering it. A request that carries a credential in more than one place the
/// layer looks at (or twice in one place) is refused with `400 invalid_request`, since the
/// layer cannot know which one the client meant (RFC 6750 §3.1).
///
/// ```
/// use http::HeaderName;
/// use tokengate::TokenSource;
///
/// // A browser app that keeps the token in an HttpOnly cookie, and a gateway that forwards it
/// // in a header of its own, beside the standard header.
/// let sources = [
///     TokenSource::authorization_header(),
///     TokenSource::cookie("access_token"),
///     TokenSource::header(HeaderName::from_static("x-forwarded-access-token")),
/// ];
/// # let _ = sources;
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSource(Kind);

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Authorization,
    Header(HeaderName),
    Cookie(Box<str>),
}

impl TokenSource {
    /// `Authorization: Bearer <token>`: the scheme matched case-insensitively, the token in
    /// RFC 6750's `b64token` grammar; and `Authorization: DPoP <token>` with its `DPoP` proof
    /// header where an issuer of the gate accepts DPoP-bound tokens. Other schemes (`Basic`,
    /// `DPoP` where DPoP is off, ...) count as no token.
    pub fn authorization_header() -> TokenSource {
        TokenSource(Kind::Authorization)
    }

    /// A header of your own whose whole value is the token, without a scheme (as some gateways
    /// forward it). Not `Authorization` or `Cookie`: the layer's builder refuses those.
    pub fn header(name: HeaderName) -> TokenSource {
        TokenSource(Kind::Header(name))
    }

    /// A cookie with this exact name, for browser apps that keep the token in an `HttpOnly`,
    /// `Secure`, `SameSite` cookie; a `__Host-` name stops sibling subdomains from planting
    /// one. Protect such APIs against cross-site request forgery as for any
    /// cookie-authenticated endpoint. Responses then get `Vary: cookie` and, unless they set
    /// their own, `Cache-Control: private`. The name must be an RFC 6265 cookie name; the
    /// layer's builder checks it.
    pub fn cookie(name: impl Into<String>) -> TokenSource {
        TokenSource(Kind::Cookie(name.into().into_boxed_str()))
    }

    /// Whether this is the `Authorization` header.
    pub(crate) fn is_authorization(&self) -> bool {
        matches!(self.0, Kind::Authorization)
    }

    /// The request header this source reads.
    pub(crate) fn header_name(&self) -> &HeaderName {
        match &self.0 {
            Kind::Authorization => &AUTHORIZATION,
            Kind::Header(name) => name,
            Kind::Cookie(_) => &COOKIE,
        }
    }

    /// The configuration problem with this source, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        match &self.0 {
            Kind::Authorization => None,
            Kind::Header(name) if name == AUTHORIZATION || name == COOKIE => Some(format!(
                "token source header {name:?}: use TokenSource::authorization_header or \
                 TokenSource::cookie for it"
            )),
            Kind::Header(_) => None,
            Kind::Cookie(name) if name.is_empty() || !name.bytes().all(is_tchar) => Some(format!(
                "token source cookie {name:?}: not an RFC 6265 cookie name"
            )),
            Kind::Cookie(_) => None,
        }
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Authorization => f.write_str("AuthorizationHeader"),
            Kind::Header(name) => f.debug_tuple("Header").field(name).finish(),
            Kind::Cookie(name) => f.debug_tuple("Cookie").field(name).finish(),
        }
    }
}

/// Marks the headers that may carry a token as sensitive (`Authorization` always), so that
/// tracing and logging middleware that honours the flag does not print them.
pub(crate) fn mark_sensitive(sources: &[TokenSource], headers: &mut HeaderMap) {
    let mut mark = |name: &HeaderName| {
        // `entry` may grow the map; most requests lack most of these headers.
        if !headers.contains_key(name) {
            return;
        }
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    };
    mark(&AUTHORIZATION);
    mark(&DPOP);
    for source in sources {
        match &source.0 {
            Kind::Authorization => {}
            Kind::Header(name) => mark(name),
            Kind::Cookie(_) => mark(&COOKIE),
        }
    }
}

/// A request's credential: the token, and the DPoP proof when it came with the `DPoP` scheme.
/// No `Debug`: both are secrets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credential<'a> {
    pub(crate) token: &'a str,
    pub(crate) proof: Option<&'a str>,
}

/// The one access token the request carries, `Ok(None)` if it carries none. With `dpop`, the
/// `Authorization: DPoP` scheme is read too, with its one `DPoP` proof header.
///
/// # Errors
///
/// `multiple_tokens` for more than one credential, `malformed_credentials` for a bearer
/// credential outside RFC 6750's grammar, `token_in_query` for an `access_token` query
/// parameter; `multiple_dpop_proofs` for two `DPoP` headers, `invalid_dpop_proof` for the
/// `DPoP` scheme without one.
pub(crate) fn find<'a>(
    sources: &'a [TokenSource],
    headers: &'a HeaderMap,
    uri: &Uri,
    dpop: bool,
) -> Result<Option<Credential<'a>>, Rejection> {
    let mut found = None;
    let mut scheme_dpop = false;
    let mut take = |token: &'a str| {
        if found.replace(token).is_some() {
            Err(Rejection::MultipleTokens)
        } else {
            Ok(())
        }
    };
    for source in sources {
        match &source.0 {
            Kind::Authorization => {
                let mut values = headers.get_all(AUTHORIZATION).iter();
                let first = values.next();
                // Two Authorization headers are two methods, whatever their schemes.
                if values.next().is_some() {
                    return Err(Rejection::MultipleTokens);
                }
                let Some(value) = first.map(|v| v.as_bytes()) else {
                    continue;
                };
                if let Some(token) = credential(value, b"bearer")? {
                    take(token)?;
                } else if dpop && let Some(token) = credential(value, b"dpop")? {
                    scheme_dpop = true;
                    take(token)?;
                }
            }
            // An empty value is no credential: a cleared cookie, say, which browsers may
            // keep sending, must not lock a user out of a route where tokens are optional.
            Kind::Header(name) => {
                for value in headers.get_all(name) {
                    if !value.is_empty() {
                        take(b64token(value.as_bytes())?)?;
                    }
                }
            }
            Kind::Cookie(name) => {
                for value in headers.get_all(COOKIE) {
                    for value in cookies(value.as_bytes(), name.as_bytes()) {
                        if !value.is_empty() {
                            take(b64token(value)?)?;
                        }
                    }
                }
            }
        }
    }
    if uri.query().is_some_and(has_access_token) {
        return Err(if found.is_some() {
            Rejection::MultipleTokens
        } else {
            Rejection::TokenInQuery
        });
    }
    let Some(token) = found else {
        return Ok(None);
    };
    let mut proofs = headers.get_all(DPOP).iter();
    let proof = proofs.next();
    if !scheme_dpop {
        // A DPoP proof beside a bearer token is a second method (RFC 9449 §7.2).
        return match proof {
            Some(_) => Err(Rejection::MultipleTokens),
            None => Ok(Some(Credential { token, proof: None })),
        };
    }
    if proofs.next().is_some() {
        return Err(Rejection::MultipleDpopProofs);
    }
    let proof = proof
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .ok_or(Rejection::InvalidDpopProof { check: "missing" })?;
    Ok(Some(Credential {
        token,
        proof: Some(proof),
    }))
}

/// The token of a credential of this scheme (lower case); `None` for another scheme.
fn credential<'a>(value: &'a [u8], wanted: &[u8]) -> Result<Option<&'a str>, Rejection> {
    let scheme_end = value
        .iter()
        .position(|&b| !is_tchar(b))
        .unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(wanted) {
        return Ok(None);
    }
    // `Bearer 1*SP b64token` (and `DPoP 1*SP token68`): a tab, a comma or nothing after the
    // scheme is not a token.
    if !rest.starts_with(b" ") {
        return Err(Rejection::MalformedCredentials);
    }
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    b64token(&rest[spaces..]).map(Some)
}

/// A credential's token: non-empty text. Its characters are checked against RFC 6750's
/// `b64token` only if the gate refuses it ([`grammar`]): a token the gate accepts is a compact
/// JWS, whose characters all belong to `b64token`, so the accepted (and cached) path does not
/// scan every token twice.
fn b64token(value: &[u8]) -> Result<&str, Rejection> {
    if value.is_empty() {
        return Err(Rejection::MalformedCredentials);
    }
    std::str::from_utf8(value).map_err(|_| Rejection::MalformedCredentials)
}

/// The answer to a token the gate refused: `malformed_credentials` (400) if it is not even a
/// `b64token`, the gate's reason otherwise.
pub(crate) fn grammar(token: &str, rejection: Rejection) -> Rejection {
    if is_b64token(token.as_bytes()) {
        rejection
    } else {
        Rejection::MalformedCredentials
    }
}

/// RFC 6750's `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(value: &[u8]) -> bool {
    let body = value.len() - value.iter().rev().take_while(|&&b| b == b'=').count();
    // Without an early exit, so that the compiler checks many bytes per instruction.
    body > 0
        && value[..body]
            .iter()
            .fold(true, |valid, &b| valid & is_b64token_char(b))
}

#[inline(always)]
fn is_b64token_char(b: u8) -> bool {
    let lower = b | 0x20;
    lower.is_ascii_lowercase()
        | b.is_ascii_digit()
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// The values of the cookies named `name` in one `Cookie` header (RFC 6265 §4.2.1), with
/// surrounding double quotes removed.
fn cookies<'a>(header: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    header.split(|&b| b == b';').filter_map(move |pair| {
        let pair = pair.trim_ascii();
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (key, value) = (&pair[..eq], &pair[eq + 1..]);
        if key.trim_ascii_end() != name {
            return None;
        }
        let value = value.trim_ascii_start();
        Some(
            value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value),
        )
    })
}

/// Whether a query string has an `access_token` parameter (RFC 6750 §2.3), its name
/// form-decoded as a framework would decode it for a handler (`access%5Ftoken` too).
fn has_access_token(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
}

/// RFC 9110 `tchar`, which also makes up RFC 6265 cookie names.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    /// What the layer makes of a found credential: its grammar is judged once the gate has
    /// refused it, which a token that is not a `b64token` always is.
    fn judged(
        found: Result<Option<Credential<'_>>, Rejection>,
    ) -> Result<Option<String>, &'static str> {
        match found {
            Ok(Some(found)) if !is_b64token(found.token.as_bytes()) => Err("malformed_credentials"),
            Ok(found) => Ok(found.map(|found| found.token.to_owned())),
            Err(rejection) => Err(rejection.code()),
        }
    }

    fn default_find(pairs: &[(&str, &[u8])]) -> Result<Option<String>, &'static str> {
        let map = headers(pairs);
        judged(find(
            &[TokenSource::authorization_header()],
            &map,
            &Uri::from_static("/"),
            false,
        ))
    }

    #[test]
    fn bearer_grammar_std_6750_1_atk_40() {
        let ok = |v: &[u8]| default_find(&[("authorization", v)]);
        assert_eq!(
            ok(b"Bearer abc.def-_~+/=="),
            Ok(Some("abc.def-_~+/==".into()))
        );
        assert_eq!(ok(b"bearer x"), Ok(Some("x".into())));
        assert_eq!(ok(b"BEARER   x"), Ok(Some("x".into())));
        for bad in [
            &b"Bearer\tx"[..],
            b"Bearer \tx",
            b"Bearer",
            b"Bearer ",
            b"Bearer =",
            b"Bearer a b",
            b"Bearer a=b",
            b"Bearer a,b",
            b"Bearer a\"b",
            b"Bearer \xc3\xa9",
            b"Bearer,x",
        ] {
            assert_eq!(ok(bad), Err("malformed_credentials"), "{bad:?}");
        }
        // Other schemes are not bearer credentials.
        assert_eq!(ok(b"Basic dXNlcjpwYXNz"), Ok(None));
        assert_eq!(ok(b"DPoP abc"), Ok(None));
        assert_eq!(ok(b"Bearerx abc"), Ok(None));
    }

    #[test]
    fn two_authorization_headers_are_two_methods_atk_39() {
        let two = default_find(&[
            ("authorization", b"Bearer a"),
            ("authorization", b"Bearer b"),
        ]);
        assert_eq!(two, Err("multiple_tokens"));
        let mixed = default_find(&[("authorization", b"Bearer a"), ("authorization", b"DPoP b")]);
        assert_eq!(mixed, Err("multiple_tokens"));
    }

    #[test]
    fn query_tokens_are_refused_std_6750_3() {
        let map = headers(&[("authorization", b"Bearer a")]);
        let sources = [TokenSource::authorization_header()];
        let with = |uri: &'static str, map: &HeaderMap| {
            find(&sources, map, &Uri::from_static(uri), false)
                .map(|t| t.map(|t| t.token.to_owned()))
                .map_err(|r| r.code())
        };
        assert_eq!(with("/x?access_token=a", &map), Err("multiple_tokens"));
        assert_eq!(
            with("/x?a=1&access_token", &HeaderMap::new()),
            Err("token_in_query")
        );
        assert_eq!(with("/x?my_access_token=a", &map), Ok(Some("a".into())));
        assert_eq!(with("/x?access%5Ftoken=a", &map), Err("multiple_tokens"));
        assert_eq!(
            with("/x?%61ccess_token=a", &HeaderMap::new()),
            Err("token_in_query")
        );
    }

    #[test]
    fn cookies_and_custom_headers() {
        let sources = [
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
            TokenSource::header(HeaderName::from_static("x-token")),
        ];
        let run = |pairs: &[(&str, &[u8])]| {
            let map = headers(pairs);
            judged(find(&sources, &map, &Uri::from_static("/"), false))
        };
        assert_eq!(
            run(&[("cookie", b"a=1; at=tok; b=2")]),
            Ok(Some("tok".into()))
        );
        assert_eq!(run(&[("cookie", b"at=\"tok\"")]), Ok(Some("tok".into())));
        assert_eq!(run(&[("cookie", b"xat=tok; atx=1")]), Ok(None));
        assert_eq!(
            run(&[("cookie", b"at=a"), ("cookie", b"at=b")]),
            Err("multiple_tokens")
        );
        assert_eq!(run(&[("cookie", b"at=a; at=a")]), Err("multiple_tokens"));
        assert_eq!(
            run(&[("cookie", b"at=a"), ("authorization", b"Bearer b")]),
            Err("multiple_tokens")
        );
        assert_eq!(run(&[("cookie", b"at=a b")]), Err("malformed_credentials"));
        assert_eq!(run(&[("cookie", b"at=; at=\"\"")]), Ok(None));
        assert_eq!(run(&[("x-token", b"")]), Ok(None));
        assert_eq!(
            run(&[("authorization", b"Bearer a"), ("dpop", b"proof")]),
            Err("multiple_tokens")
        );
        assert_eq!(run(&[("dpop", b"proof")]), Ok(None));
        assert_eq!(run(&[("x-token", b"tok")]), Ok(Some("tok".into())));
        assert_eq!(
            run(&[("x-token", b"Bearer tok")]),
            Err("malformed_credentials")
        );
        assert_eq!(
            run(&[("x-token", b"a"), ("authorization", b"Bearer a")]),
            Err("multiple_tokens")
        );
        // A Basic header beside a cookie is not a second bearer credential.
        assert_eq!(
            run(&[("cookie", b"at=a"), ("authorization", b"Basic eA==")]),
            Ok(Some("a".into()))
        );
    }

    /// With DPoP on, the `DPoP` scheme comes with exactly one proof (ATK-36, ATK-39).
    #[test]
    fn dpop_scheme_and_proofs() {
        let sources = [TokenSource::authorization_header()];
        let run = |pairs: &[(&str, &[u8])], dpop: bool| {
            let map = headers(pairs);
            find(&sources, &map, &Uri::from_static("/"), dpop)
                .map(|found| found.map(|c| (c.token.to_owned(), c.proof.map(str::to_owned))))
                .map_err(|rejection| rejection.code())
        };
        let with_proof = |token: &str| Ok(Some((token.to_owned(), Some("p.r.f".to_owned()))));
        assert_eq!(
            run(&[("authorization", b"DPoP tok"), ("dpop", b"p.r.f")], true),
            with_proof("tok")
        );
        assert_eq!(
            run(&[("authorization", b"dpop  tok"), ("dpop", b"p.r.f")], true),
            with_proof("tok")
        );
        assert_eq!(
            run(
                &[
                    ("authorization", b"DPoP tok"),
                    ("dpop", b"p.r.f"),
                    ("dpop", b"p.r.f")
                ],
                true
            ),
            Err("multiple_dpop_proofs")
        );
        assert_eq!(
            run(&[("authorization", b"DPoP tok")], true),
            Err("invalid_dpop_proof")
        );
        assert_eq!(
            run(&[("authorization", b"DPoP tok"), ("dpop", b"")], true),
            Err("invalid_dpop_proof")
        );
        assert_eq!(
            run(
                &[("authorization", b"Bearer tok"), ("dpop", b"p.r.f")],
                true
            ),
            Err("multiple_tokens")
        );
        assert_eq!(
            run(&[("authorization", b"Bearer tok")], true),
            Ok(Some(("tok".to_owned(), None)))
        );
        assert_eq!(
            run(&[("authorization", b"DPoP\ttok"), ("dpop", b"p")], true),
            Err("malformed_credentials")
        );
        // Without DPoP the scheme is another scheme: no token.
        assert_eq!(
            run(&[("authorization", b"DPoP tok"), ("dpop", b"p.r.f")], false),
            Ok(None)
        );
    }

    #[test]
    fn problems() {
        assert!(TokenSource::cookie("ok_name").problem().is_none());
        assert!(TokenSource::cookie("bad name").problem().is_some());
        assert!(TokenSource::cookie("").problem().is_some());
        assert!(TokenSource::header(AUTHORIZATION).problem().is_some());
        assert!(TokenSource::header(COOKIE).problem().is_some());
    }
}
