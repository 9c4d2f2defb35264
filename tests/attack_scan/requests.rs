//! What a family sends and expects: requests as reqwest sends them or as raw bytes, the answer
//! each must get, and the credentials each carries (which must never be logged).

/// An attack family: one test.
pub struct Family {
    /// The path segment and log tag of its requests (`/scan/{tag}/{case}`).
    pub tag: &'static str,
    /// How the mismatch table and the counts name it (the ATK ids of docs/requirements.md).
    pub name: &'static str,
    /// The distinct hostile requests it sent when the scan was one test: it never sends fewer.
    pub floor: usize,
}

/// Writes a family's cases.
pub type Generate = fn(&crate::world::Env, &mut Cases);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum App {
    /// `Authorization` header only (the default sources).
    Header,
    /// `Authorization` header and the cookie `at`.
    Cookie,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Open,
    /// Requires the scope [`SCOPE`](crate::world::SCOPE).
    Scoped,
}

/// A request, with the path every family shares (`/scan`, `/scan/scoped`); sending puts the
/// family and case into it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Wire {
    /// Sent with reqwest.
    Http {
        app: App,
        path: String,
        headers: Vec<(String, Vec<u8>)>,
        /// A form body (`application/x-www-form-urlencoded`), sent with POST.
        form: Option<String>,
    },
    /// Written byte for byte on a fresh TCP connection.
    Raw { app: App, bytes: Vec<u8> },
}

impl Wire {
    pub fn app(&self) -> App {
        match self {
            Wire::Http { app, .. } | Wire::Raw { app, .. } => *app,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// tokengate refuses with this code (status and `error` follow from it).
    Refused(&'static str),
    /// hyper answers this status itself: the request never reaches the layer.
    Hyper(u16),
    /// The handler answers 200 (the positive control, and accepted claim substitutions).
    Accepted,
}

pub struct Case {
    pub name: String,
    pub wire: Wire,
    pub expect: Expect,
    /// The credentials this request carries, and their segments.
    pub secrets: Vec<String>,
}

/// The status and RFC 6750 `error` of a refusal code (the table on `tokengate::Rejection`).
pub fn class(code: &str) -> (u16, Option<&'static str>) {
    match code {
        "missing_token" => (401, None),
        "multiple_tokens" | "malformed_credentials" | "token_in_query" => {
            (400, Some("invalid_request"))
        }
        "insufficient_scope" => (403, Some("insufficient_scope")),
        _ => (401, Some("invalid_token")),
    }
}

fn path_for(route: Route, query: &str) -> String {
    match route {
        Route::Open => format!("/scan{query}"),
        Route::Scoped => format!("/scan/scoped{query}"),
    }
}

/// A credential (a header value, a cookie or query value) and its pieces: what must never be
/// logged. Pieces of 8 characters or fewer are left out, and so are plain lowercase words (the
/// member names of a JWS JSON serialization, such as `signature`): they could occur by chance.
pub fn credential_secrets(credential: &str) -> Vec<String> {
    let word = |piece: &str| piece.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let mut out = Vec::new();
    let credential = credential.trim();
    if credential.len() > 8 {
        out.push(credential.to_owned());
    }
    for piece in credential.split(['.', ' ', '\t', ',', '"', ':', '{', '}', '[', ']']) {
        if piece.len() > 8 && piece != credential && !word(piece) {
            out.push(piece.to_owned());
        }
    }
    out
}

/// A family's cases, in order: case `i` is sent to `/scan/{tag}/{i}`.
#[derive(Default)]
pub struct Cases {
    pub list: Vec<Case>,
}

impl Cases {
    fn push(&mut self, name: impl Into<String>, wire: Wire, expect: Expect, secrets: Vec<String>) {
        self.list.push(Case {
            name: name.into(),
            wire,
            expect,
            secrets,
        });
    }

    /// A request through reqwest with exactly these extra headers.
    pub fn http(
        &mut self,
        name: impl Into<String>,
        app: App,
        route: Route,
        query: &str,
        headers: &[(&str, &[u8])],
        expect: Expect,
    ) {
        let mut secrets = Vec::new();
        for (header, value) in headers {
            let value = String::from_utf8_lossy(value);
            match header.to_ascii_lowercase().as_str() {
                // The scheme is not secret; the rest is.
                "authorization" => {
                    let credential = value
                        .split_once([' ', '\t'])
                        .map_or(&*value, |(_, rest)| rest);
                    secrets.extend(credential_secrets(credential));
                }
                "cookie" => {
                    for pair in value.split(';') {
                        let credential = pair.split_once('=').map_or(pair, |(_, v)| v);
                        secrets.extend(credential_secrets(credential));
                    }
                }
                "dpop" => secrets.extend(credential_secrets(&value)),
                _ => {}
            }
        }
        for pair in query.trim_start_matches('?').split('&') {
            if let Some((_, value)) = pair.split_once('=') {
                secrets.extend(credential_secrets(value));
            }
        }
        let wire = Wire::Http {
            app,
            path: path_for(route, query),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
                .collect(),
            form: None,
        };
        self.push(name, wire, expect, secrets);
    }

    /// `Authorization: Bearer <token>` to the header-only API's open route.
    pub fn bearer(&mut self, name: impl Into<String>, token: &str, code: &'static str) {
        self.token(name, Route::Open, token, Expect::Refused(code));
    }

    pub fn token(&mut self, name: impl Into<String>, route: Route, token: &str, expect: Expect) {
        let value = format!("Bearer {token}");
        let headers = [("authorization", value.as_bytes())];
        self.http(name, App::Header, route, "", &headers, expect);
    }

    /// A POST to the header-only API's open route with this form body and no header.
    pub fn form(&mut self, name: impl Into<String>, form: String, token: &str, expect: Expect) {
        let wire = Wire::Http {
            app: App::Header,
            path: path_for(Route::Open, ""),
            headers: Vec::new(),
            form: Some(form),
        };
        self.push(name, wire, expect, credential_secrets(token));
    }

    /// A GET with these header lines (and `Host`, `Connection: close`) as raw bytes; `tokens`
    /// are the credentials it carries.
    pub fn raw(
        &mut self,
        name: impl Into<String>,
        app: App,
        route: Route,
        lines: &[&[u8]],
        tokens: &[&str],
        expect: Expect,
    ) {
        let mut bytes = format!(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            path_for(route, "")
        )
        .into_bytes();
        for line in lines {
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"Connection: close\r\n\r\n");
        self.raw_bytes(name, app, bytes, tokens, expect);
    }

    /// These bytes as they are, but for the family and case that sending puts into the path of
    /// the request line (which must be `/scan` or `/scan/scoped`).
    pub fn raw_bytes(
        &mut self,
        name: impl Into<String>,
        app: App,
        bytes: Vec<u8>,
        tokens: &[&str],
        expect: Expect,
    ) {
        let secrets = tokens.iter().flat_map(|t| credential_secrets(t)).collect();
        self.push(name, Wire::Raw { app, bytes }, expect, secrets);
    }
}
