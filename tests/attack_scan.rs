//! Black-box attack scan over real HTTP, and secret-free logs (STD-6750-8) for all of it.
//!
//! An axum API protected by `TokenLayer` runs on a real hyper server on 127.0.0.1, with its keys
//! fetched by discovery from two issuers on loopback: `testing::TestIssuer` (RS256, PS256,
//! ES256, ES384, EdDSA; profile `Jwt`) and a second provider (`tests/common/provider.rs`, an
//! RS256 key whose private half this file holds, profile `Rfc9068`) for the tokens that must be
//! signed over exact bytes (raw JSON such as `1e400`, duplicate members, non-canonical
//! base64url). A second API on another port also takes the token from a cookie. A counting
//! server on loopback, the target of every `jku`, `x5u`, embedded `jwk` URL and URL-shaped
//! `kid` or `iss`, must never be contacted.
//!
//! `hostile_requests_are_refused_over_http` sends well over 500 distinct hostile requests
//! (families named after the ATK-* ids of the requirements checklist, section C) with reqwest,
//! or as raw bytes on a TCP connection where a client would refuse to send them, and checks
//! each answer exactly: status, the JSON body's `code` and `error`, and the `WWW-Authenticate`
//! challenge (parsed strictly; no `error` when the request carried no credential). None may be
//! 2xx or 5xx, and the handlers behind the layer must never run. Every mismatch is listed.
//!
//! `accepted_requests_pass_through` is the positive control: requests that a correct validator
//! accepts (a valid token of each algorithm, and the claim substitutions of the scan that are
//! legitimately accepted) get 200 from the handler, so the scan's refusals mean something.
//!
//! A global subscriber captures every `tracing` event of the binary at TRACE level
//! (`tests/common/capture.rs`); each test then checks that no token sent by either test (nor
//! any of its segments), no key material (JWK members, PEM and DER forms, HMAC secrets) and no
//! claim or header value planted in the tokens appears in it, and the scan that the refusals
//! were logged. Both tests share one set of servers, keys and cases, built once on a runtime of
//! their own (`world`), so the keys are generated and fetched once.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, EcdsaKeyPair, ParsedPublicKey};
use axum::Router;
use axum::routing::any;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tokengate::testing::{TestIssuer, TokenBuilder};
use tokengate::{
    Algorithm, Gate, IssuerProfile, KeyCacheSettings, RequireLayer, Requirement, TokenLayer,
    TokenProfile, TokenSource,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use tokengate_testkit::{self as common, TestKey, b64, capture, challenge, now, provider};

/// The scope the `/…/scoped` routes require.
const SCOPE: &str = "orders.write";
/// The audience of the second (raw) issuer; the test issuer's is `api://tokengate-test`.
const RAW_AUDIENCE: &str = "api://tokengate-scan-raw";
const HEADER_REALM: &str = "scan-header";
const COOKIE_REALM: &str = "scan-cookie";
/// The `leeway` of both issuers (the default).
const LEEWAY: i64 = 60;
/// The latest NumericDate tokengate accepts (9999-12-31T23:59:59Z).
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;
/// hyper's HTTP/1 read-buffer limit (`DEFAULT_MAX_BUFFER_SIZE` in hyper 1.x,
/// `src/proto/h1/io.rs`), which `axum::serve` keeps: a request head that fills it without
/// ending is answered `431` by hyper itself.
const HYPER_MAX_HEAD: usize = 8192 + 4096 * 100;
/// hyper's default limit on the number of request headers (`DEFAULT_MAX_HEADERS`): one more is
/// answered `431` too.
const HYPER_MAX_HEADERS: usize = 100;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;

// Values planted in tokens: none may ever appear in the logs.
const MARK_SUB: &str = "sub-secret-7f3a9c51e2";
const MARK_CLIENT: &str = "client-secret-2b8e04d7";
const MARK_JTI: &str = "jti-secret-c41d9e02b7";
const MARK_CUSTOM: &str = "employee-secret-5a0f3b7e";
const MARK_STR: &str = "subst-secret-9e21c7a4";
const MARK_ARR: &str = "arr-secret-4c1b8d2f";
const MARK_HUGE: &str = "huge-secret-0d6e";
const MARK_KID: &str = "kid-secret-1c9e77aa";
const MARK_DPOP: &str = "dpop-proof-secret-6d02e1";
const MARK_NONCE: &str = "nonce-secret-31aa90";
const MARK_JKT: &str = "jkt-secret-b05c44e1";
const MARK_CRIT: &str = "crit-secret-70d2";
const MARK_JKU: &str = "jku-secret-81f2";
const MARK_X5U: &str = "x5u-secret-3d77";
const MARK_URL: &str = "url-secret-5b90";
const MARK_HMAC: &str = "attacker-hmac-secret-0123456789abcdef";
const MARKS: [&str; 16] = [
    MARK_SUB,
    MARK_CLIENT,
    MARK_JTI,
    MARK_CUSTOM,
    MARK_STR,
    MARK_ARR,
    MARK_HUGE,
    MARK_KID,
    MARK_DPOP,
    MARK_NONCE,
    MARK_JKT,
    MARK_CRIT,
    MARK_JKU,
    MARK_X5U,
    MARK_URL,
    MARK_HMAC,
];

// ---------------------------------------------------------------------------------------------
// The world: issuers, the protected APIs, the counting server, and every case, built once.

struct World {
    runtime: tokio::runtime::Runtime,
    env: &'static Env,
}

struct Env {
    issuer: TestIssuer,
    raw: provider::Provider,
    raw_key: &'static TestKey,
    header_app: SocketAddr,
    cookie_app: SocketAddr,
    counting: SocketAddr,
    /// Connections the counting server accepted: the one probe at start-up, never more.
    counted: Arc<AtomicUsize>,
    scan_hits: Arc<AtomicUsize>,
    control_hits: Arc<AtomicUsize>,
    client: reqwest::Client,
    /// Key-set requests the test issuer had received once everything was set up.
    jwks_requests_at_start: usize,
    /// Key material, planted values and every credential sent: none may be logged.
    secrets: Vec<String>,
    cases: Vec<Case>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // Before anything logs: key fetching at start-up is captured too.
        capture::global();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let env = Box::leak(Box::new(runtime.block_on(Env::start())));
        World { runtime, env }
    })
}

/// Everything an attacker may know about a published key, fetched from the JWKS over HTTP.
struct PublicKey {
    issuer: String,
    alg: String,
    kid: String,
    jwk: Value,
}

impl Env {
    async fn start() -> Env {
        let started = Instant::now();
        let issuer = TestIssuer::with_algorithms([
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
        .await
        .unwrap();
        let raw_key = common::rs256();
        let raw = provider::Provider::start(common::jwks(&[raw_key])).await;

        let attackers = Attackers::generate();
        let (counting, counted) = counting_server(attackers.jwks(), attackers.cert_pem()).await;

        let gate = Gate::builder()
            .issuer(issuer.profile())
            .issuer(
                IssuerProfile::new(raw.issuer())
                    .audience(RAW_AUDIENCE)
                    .algorithms([Algorithm::RS256])
                    .token_profile(TokenProfile::Rfc9068)
                    .discover(),
            )
            // The defaults (a 60 s cooldown: at most one refresh for a flood of unknown kids),
            // with plain HTTP allowed on loopback.
            .key_cache(KeyCacheSettings::default().allow_http_loopback())
            .build()
            .unwrap();
        gate.warm_up().await.unwrap();

        let scan_hits = Arc::new(AtomicUsize::new(0));
        let control_hits = Arc::new(AtomicUsize::new(0));
        let header_layer = TokenLayer::builder(gate.clone())
            .realm(HEADER_REALM)
            .build()
            .unwrap();
        let cookie_layer = TokenLayer::builder(gate)
            .token_sources([
                TokenSource::authorization_header(),
                TokenSource::cookie("at"),
            ])
            .realm(COOKIE_REALM)
            .build()
            .unwrap();
        let header_app = serve(routes(&scan_hits, &control_hits).layer(header_layer)).await;
        let cookie_app = serve(routes(&scan_hits, &control_hits).layer(cookie_layer)).await;

        let client = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut keys = Vec::new();
        for (name, url) in [
            (issuer.issuer().to_owned(), issuer.jwks_uri()),
            (raw.issuer(), raw.jwks_uri()),
        ] {
            let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
            let jwks: Value = serde_json::from_slice(&body).unwrap();
            for jwk in jwks["keys"].as_array().unwrap() {
                keys.push(PublicKey {
                    issuer: name.clone(),
                    alg: jwk["alg"].as_str().unwrap().to_owned(),
                    kid: jwk["kid"].as_str().unwrap().to_owned(),
                    jwk: jwk.clone(),
                });
            }
        }
        let jwks_requests_at_start = issuer.jwks_requests();
        // The counting server works and counts: one probe, answered with the attacker's keys.
        let probe = client
            .get(format!("http://{counting}/probe.json"))
            .send()
            .await;
        let probe: Value = serde_json::from_slice(&probe.unwrap().bytes().await.unwrap()).unwrap();
        assert_eq!(probe["keys"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            counted.load(Ordering::SeqCst),
            1,
            "the counting server counts"
        );

        let mut env = Env {
            issuer,
            raw,
            raw_key,
            header_app,
            cookie_app,
            counting,
            counted,
            scan_hits,
            control_hits,
            client,
            jwks_requests_at_start,
            secrets: MARKS.iter().map(|m| (*m).to_owned()).collect(),
            cases: Vec::new(),
        };
        let mut cases = Cases::default();
        let forms = env.generate(&mut cases, &keys, &attackers);
        env.secrets.extend(forms);
        for case in &cases.list {
            env.secrets.extend(case.secrets.iter().cloned());
        }
        env.cases = cases.list;
        env.secrets.sort_unstable();
        env.secrets.dedup();
        eprintln!(
            "attack scan: {} cases ready in {:.1?}",
            env.cases.len(),
            started.elapsed()
        );
        env
    }
}

fn routes(scan_hits: &Arc<AtomicUsize>, control_hits: &Arc<AtomicUsize>) -> Router {
    let handler = |hits: &Arc<AtomicUsize>| {
        let hits = Arc::clone(hits);
        any(move || {
            hits.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        })
    };
    let scoped = Router::new()
        .route("/scan/scoped", handler(scan_hits))
        .route("/control/scoped", handler(control_hits))
        .route_layer(RequireLayer::new(Requirement::scope(SCOPE)).unwrap());
    Router::new()
        .route("/scan", handler(scan_hits))
        .route("/control", handler(control_hits))
        .merge(scoped)
}

/// Serves `app` with axum (hyper's HTTP/1.1 and HTTP/2 server) on 127.0.0.1.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A server that counts every connection it accepts and answers anything with an attacker's
/// JWK Set (or, for a path ending in `.pem`, an attacker's certificate): where `jku`, `x5u` and
/// friends point. tokengate must never connect to it.
async fn counting_server(jwks: String, cert: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&counted);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let (jwks, cert) = (jwks.clone(), cert.clone());
            tokio::spawn(async move {
                let mut head = vec![0u8; 8192];
                let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut head))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let request = String::from_utf8_lossy(&head[..read]);
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let (kind, body) = if path.ends_with(".pem") {
                    ("application/x-pem-file", cert)
                } else {
                    ("application/json", jwks)
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, counted)
}

/// The attacker's own keys: an RSA and an EC key, and a self-signed certificate with its key.
struct Attackers {
    rsa: TestKey,
    ec: TestKey,
    cert_der: Vec<u8>,
    cert_signer: EcdsaKeyPair,
}

impl Attackers {
    fn generate() -> Attackers {
        let certified = rcgen::generate_simple_self_signed(vec!["attacker.example".to_owned()])
            .expect("a self-signed certificate");
        let cert_signer = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &certified.signing_key.serialize_der(),
        )
        .expect("rcgen's default key is P-256");
        Attackers {
            rsa: TestKey::generate(Algorithm::RS256, "attacker-rsa-kid"),
            ec: TestKey::generate(Algorithm::ES256, "attacker-ec-kid"),
            cert_der: certified.cert.der().to_vec(),
            cert_signer,
        }
    }

    fn jwks(&self) -> String {
        common::jwks(&[&self.rsa, &self.ec])
    }

    fn cert_pem(&self) -> String {
        common::pem("CERTIFICATE", &self.cert_der)
    }

    /// A compact JWS over exactly these texts, signed with the certificate's key (ES256).
    fn cert_token(&self, header: &Value, claims_json: &str) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims_json));
        let sig = self
            .cert_signer
            .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

// ---------------------------------------------------------------------------------------------
// Requests, expectations and answers.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum App {
    /// `Authorization` header only (the default sources).
    Header,
    /// `Authorization` header and the cookie `at`.
    Cookie,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Open,
    /// Requires the scope [`SCOPE`].
    Scoped,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Wire {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// tokengate refuses with this code (status and `error` follow from it).
    Refused(&'static str),
    /// hyper answers this status itself: the request never reaches the layer.
    Hyper(u16),
    /// The handler answers 200 (positive control only).
    Accepted,
}

struct Case {
    family: &'static str,
    name: String,
    wire: Wire,
    expect: Expect,
    /// The credentials this request carries, and their segments.
    secrets: Vec<String>,
}

/// The status and RFC 6750 `error` of a refusal code (the table on `tokengate::Rejection`).
fn class(code: &str) -> (u16, Option<&'static str>) {
    match code {
        "missing_token" => (401, None),
        "multiple_tokens" | "malformed_credentials" | "token_in_query" => {
            (400, Some("invalid_request"))
        }
        "insufficient_scope" => (403, Some("insufficient_scope")),
        _ => (401, Some("invalid_token")),
    }
}

fn path_for(route: Route, expect: Expect, query: &str) -> String {
    let base = match (expect, route) {
        (Expect::Accepted, Route::Open) => "/control",
        (Expect::Accepted, Route::Scoped) => "/control/scoped",
        (_, Route::Open) => "/scan",
        (_, Route::Scoped) => "/scan/scoped",
    };
    format!("{base}{query}")
}

/// A credential (a header value, a cookie or query value) and its pieces: what must never be
/// logged. Pieces of 8 characters or fewer are left out, and so are plain lowercase words (the
/// member names of a JWS JSON serialization, such as `signature`): they could occur by chance.
fn credential_secrets(credential: &str) -> Vec<String> {
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

#[derive(Default)]
struct Cases {
    list: Vec<Case>,
}

impl Cases {
    fn push(
        &mut self,
        family: &'static str,
        name: impl Into<String>,
        wire: Wire,
        expect: Expect,
        secrets: Vec<String>,
    ) {
        self.list.push(Case {
            family,
            name: name.into(),
            wire,
            expect,
            secrets,
        });
    }

    /// A request through reqwest with exactly these extra headers.
    #[allow(clippy::too_many_arguments)]
    fn http(
        &mut self,
        family: &'static str,
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
            path: path_for(route, expect, query),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
                .collect(),
            form: None,
        };
        self.push(family, name, wire, expect, secrets);
    }

    /// `Authorization: Bearer <token>` to the header-only API's open route.
    fn bearer(
        &mut self,
        family: &'static str,
        name: impl Into<String>,
        token: &str,
        code: &'static str,
    ) {
        self.token(family, name, Route::Open, token, Expect::Refused(code));
    }

    fn token(
        &mut self,
        family: &'static str,
        name: impl Into<String>,
        route: Route,
        token: &str,
        expect: Expect,
    ) {
        let value = format!("Bearer {token}");
        self.http(
            family,
            name,
            App::Header,
            route,
            "",
            &[("authorization", value.as_bytes())],
            expect,
        );
    }

    /// A GET with these header lines (and `Host`, `Connection: close`) as raw bytes; `tokens`
    /// are the credentials it carries.
    #[allow(clippy::too_many_arguments)]
    fn raw(
        &mut self,
        family: &'static str,
        name: impl Into<String>,
        app: App,
        route: Route,
        lines: &[&[u8]],
        tokens: &[&str],
        expect: Expect,
    ) {
        let mut bytes = format!(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            path_for(route, expect, "")
        )
        .into_bytes();
        for line in lines {
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"Connection: close\r\n\r\n");
        self.raw_bytes(family, name, app, bytes, tokens, expect);
    }

    fn raw_bytes(
        &mut self,
        family: &'static str,
        name: impl Into<String>,
        app: App,
        bytes: Vec<u8>,
        tokens: &[&str],
        expect: Expect,
    ) {
        let secrets = tokens.iter().flat_map(|t| credential_secrets(t)).collect();
        self.push(family, name, Wire::Raw { app, bytes }, expect, secrets);
    }
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn send(env: &Env, wire: &Wire) -> Result<Answer, String> {
    let addr = |app: &App| match app {
        App::Header => env.header_app,
        App::Cookie => env.cookie_app,
    };
    match wire {
        Wire::Http {
            app,
            path,
            headers,
            form,
        } => {
            let url = format!("http://{}{path}", addr(app));
            let mut request = match form {
                Some(form) => env
                    .client
                    .post(url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.clone()),
                None => env.client.get(url),
            };
            for (name, value) in headers {
                let name =
                    http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
                let value = http::HeaderValue::from_bytes(value).map_err(|e| e.to_string())?;
                request = request.header(name, value);
            }
            let response = request.send().await.map_err(|e| format!("reqwest: {e}"))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
            Ok(Answer {
                status,
                headers,
                body,
            })
        }
        Wire::Raw { app, bytes } => {
            let mut stream = TcpStream::connect(addr(app))
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream
                .write_all(bytes)
                .await
                .map_err(|e| format!("write: {e}"))?;
            let mut out = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
                .await
                .map_err(|_| "no answer within 20 s".to_owned())?
                .map_err(|e| format!("read: {e}"))?;
            parse_http1(&out)
        }
    }
}

/// An HTTP/1.1 response with a `Content-Length` body (all these servers send one).
fn parse_http1(bytes: &[u8]) -> Result<Answer, String> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no response head in {} bytes", bytes.len()))?;
    let head = std::str::from_utf8(&bytes[..end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("a header line without ':'")?;
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
            http::HeaderValue::from_str(value.trim()).map_err(|e| e.to_string())?,
        );
    }
    let body = bytes[end + 4..].to_vec();
    if let Some(length) = headers.get("content-length") {
        let length: usize = length.to_str().unwrap_or_default().parse().unwrap_or(0);
        if body.len() != length {
            return Err(format!(
                "body of {} bytes, content-length {length}",
                body.len()
            ));
        }
    } else if headers.contains_key("transfer-encoding") {
        return Err("a chunked answer".to_owned());
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// What the answer was, in a few words, for the mismatch table.
fn describe(answer: &Answer) -> String {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match body["code"].as_str() {
        Some(code) => format!("{} {code}", answer.status),
        None => format!(
            "{} body {:?}",
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(40)])
        ),
    }
}

/// The problems with an answer; none when it is exactly the one expected.
fn judge(case: &Case, app: App, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let status = answer.status;
    if case.expect != Expect::Accepted && (200..300).contains(&status) {
        problems.push("a 2xx answer to a hostile request".to_owned());
    }
    if status >= 500 {
        problems.push("a 5xx answer".to_owned());
    }
    let challenges: Vec<&http::HeaderValue> =
        answer.headers.get_all(WWW_AUTHENTICATE).iter().collect();
    match case.expect {
        Expect::Accepted => {
            if status != 200 || answer.body != b"ok" {
                problems.push("not the handler's 200".to_owned());
            }
        }
        Expect::Hyper(expected) => {
            if status != expected {
                problems.push(format!("status {status}, expected {expected} from hyper"));
            }
            if !challenges.is_empty() {
                problems.push("hyper's own answer carries a challenge".to_owned());
            }
            if serde_json::from_slice::<Value>(&answer.body).is_ok_and(|b| b.get("code").is_some())
            {
                problems.push("hyper's own answer carries a tokengate body".to_owned());
            }
        }
        Expect::Refused(code) => {
            let (want_status, want_error) = class(code);
            if status != want_status {
                problems.push(format!("status {status}, expected {want_status}"));
            }
            if answer
                .headers
                .get(CONTENT_TYPE)
                .is_none_or(|v| v != "application/json")
            {
                problems.push("not application/json".to_owned());
            }
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(body) => {
                    if body["code"] != code {
                        problems.push(format!("code {}, expected {code}", body["code"]));
                    }
                    if body.get("error").and_then(Value::as_str) != want_error {
                        problems.push(format!(
                            "body error {}, expected {want_error:?}",
                            body["error"]
                        ));
                    }
                    if !body["error_description"].is_string() {
                        problems.push("no error_description".to_owned());
                    }
                }
                Err(_) => problems.push("the body is not JSON".to_owned()),
            }
            match challenges.as_slice() {
                [one] => match one
                    .to_str()
                    .map_err(|e| e.to_string())
                    .and_then(challenge::parse_bearer)
                {
                    Ok(parsed) if parsed.len() == 1 => {
                        let parsed = &parsed[0];
                        if parsed.param("error") != want_error {
                            problems.push(format!(
                                "challenge error {:?}, expected {want_error:?}",
                                parsed.param("error")
                            ));
                        }
                        if want_error.is_none() && parsed.param("error_description").is_some() {
                            problems.push("an error_description without credentials".to_owned());
                        }
                        let realm = match app {
                            App::Header => HEADER_REALM,
                            App::Cookie => COOKIE_REALM,
                        };
                        if parsed.param("realm") != Some(realm) {
                            problems.push(format!("realm {:?}", parsed.param("realm")));
                        }
                        let want_scope = (code == "insufficient_scope").then_some(SCOPE);
                        if parsed.param("scope") != want_scope {
                            problems.push(format!("scope {:?}", parsed.param("scope")));
                        }
                    }
                    Ok(parsed) => problems.push(format!("{} challenges", parsed.len())),
                    Err(error) => problems.push(format!("challenge: {error}")),
                },
                other => problems.push(format!("{} WWW-Authenticate headers", other.len())),
            }
        }
    }
    problems
}

/// Sends every case, at most [`CONCURRENCY`] at once; the mismatches, one line each.
async fn run(env: &'static Env, cases: Vec<&'static Case>) -> Vec<String> {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut running = JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let permits = Arc::clone(&permits);
        running.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            (index, case, send(env, &case.wire).await)
        });
    }
    let mut results = Vec::new();
    while let Some(done) = running.join_next().await {
        results.push(done.unwrap());
    }
    results.sort_by_key(|(index, _, _)| *index);
    let mut mismatches = Vec::new();
    for (_, case, answer) in results {
        let app = match &case.wire {
            Wire::Http { app, .. } | Wire::Raw { app, .. } => *app,
        };
        let expected = match case.expect {
            Expect::Refused(code) => format!("{} {code}", class(code).0),
            Expect::Hyper(status) => format!("{status} (hyper)"),
            Expect::Accepted => "200".to_owned(),
        };
        let (got, problems) = match &answer {
            Ok(answer) => (describe(answer), judge(case, app, answer)),
            Err(error) => ("no answer".to_owned(), vec![error.clone()]),
        };
        if !problems.is_empty() {
            mismatches.push(format!(
                "{:<22} | {:<58} | {:<28} | {:<28} | {}",
                case.family,
                truncate(&case.name, 58),
                expected,
                got,
                problems.join("; ")
            ));
        }
    }
    mismatches
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(width - 1).collect();
        short.push('…');
        short
    }
}

// ---------------------------------------------------------------------------------------------
// Token helpers.

fn split3(token: &str) -> (&str, &str, &str) {
    let mut parts = token.splitn(3, '.');
    (
        parts.next().unwrap(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    )
}

fn unb64(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("a canonical segment")
}

fn with_signature(token: &str, signature: &str) -> String {
    let (h, p, _) = split3(token);
    format!("{h}.{p}.{signature}")
}

fn json_str(text: &str) -> String {
    Value::from(text).to_string()
}

/// `segment` with its unused trailing bits set: the same bytes to a lenient decoder, an error
/// to a strict one (RFC 7515 §2). Only for segments whose length is not a multiple of 4.
fn noncanonical(segment: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_ne!(segment.len() % 4, 0, "no unused bits");
    let last = *segment.as_bytes().last().unwrap();
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    let mut out = segment[..segment.len() - 1].to_owned();
    out.push(char::from(ALPHABET[value ^ 1]));
    out
}

/// Standard-alphabet base64 with padding (what a sloppy encoder writes).
fn std_b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

// DER, to write the issuers' public keys in every form an attacker could key HMAC with.

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = Vec::new();
    if bytes[start] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[start..]);
    der(0x02, &content)
}

fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0];
    bits.extend_from_slice(key);
    der(0x30, &[algorithm, &der(0x03, &bits)].concat())
}

const RSA_ALG_ID: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
const P256_ALG_ID: &[u8] = &[
    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07,
];
const P384_ALG_ID: &[u8] = &[
    0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
    0x00, 0x22,
];
const ED25519_ALG_ID: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every form of a published public key an attacker could use as an HMAC secret, named; and
/// `verifier` proves the forms hold the real key (it verifies a real token's signature).
fn key_forms(key: &PublicKey) -> (Vec<(String, Vec<u8>)>, ParsedPublicKey) {
    let jwk = &key.jwk;
    let member = |name: &str| unb64(jwk[name].as_str().unwrap());
    let jwk_json = jwk.to_string();
    let mut forms = vec![(
        "JWK JSON as served".to_owned(),
        jwk_json.clone().into_bytes(),
    )];
    let verifier = match jwk["kty"].as_str().unwrap() {
        "RSA" => {
            let (n, e) = (member("n"), member("e"));
            let pkcs1 = der(0x30, &[der_uint(&n), der_uint(&e)].concat());
            let spki_der = spki(RSA_ALG_ID, &pkcs1);
            let pem = common::pem("PUBLIC KEY", &spki_der);
            let thumbprint_form = json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}).to_string();
            forms.extend([
                ("PEM (SPKI)".to_owned(), pem.clone().into_bytes()),
                (
                    "PEM (SPKI) without final newline".to_owned(),
                    pem.trim_end().as_bytes().to_vec(),
                ),
                (
                    "PEM (SPKI) with CRLF".to_owned(),
                    pem.replace('\n', "\r\n").into_bytes(),
                ),
                (
                    "PEM (PKCS#1)".to_owned(),
                    common::pem("RSA PUBLIC KEY", &pkcs1).into_bytes(),
                ),
                ("DER (SPKI)".to_owned(), spki_der),
                ("DER (PKCS#1)".to_owned(), pkcs1.clone()),
                (
                    "JWK JSON, RFC 7638 members".to_owned(),
                    thumbprint_form.into_bytes(),
                ),
                ("n bytes".to_owned(), n.clone()),
                (
                    "n base64url".to_owned(),
                    jwk["n"].as_str().unwrap().as_bytes().to_vec(),
                ),
            ]);
            let alg: &'static dyn signature::VerificationAlgorithm = match key.alg.as_str() {
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                _ => &signature::RSA_PKCS1_2048_8192_SHA256,
            };
            ParsedPublicKey::new(alg, &pkcs1).expect("PKCS#1 from n and e")
        }
        "EC" => {
            let point = [&[4u8][..], &member("x"), &member("y")].concat();
            let (alg_id, alg): (&[u8], &'static dyn signature::VerificationAlgorithm) =
                match jwk["crv"].as_str().unwrap() {
                    "P-256" => (P256_ALG_ID, &signature::ECDSA_P256_SHA256_FIXED),
                    _ => (P384_ALG_ID, &signature::ECDSA_P384_SHA384_FIXED),
                };
            let spki_der = spki(alg_id, &point);
            forms.extend([
                (
                    "PEM (SPKI)".to_owned(),
                    common::pem("PUBLIC KEY", &spki_der).into_bytes(),
                ),
                ("DER (SPKI)".to_owned(), spki_der.clone()),
                ("uncompressed point".to_owned(), point.clone()),
                ("x bytes".to_owned(), member("x")),
                (
                    "x base64url".to_owned(),
                    jwk["x"].as_str().unwrap().as_bytes().to_vec(),
                ),
            ]);
            ParsedPublicKey::new(alg, &spki_der).expect("SPKI from x and y")
        }
        _ => {
            let x = member("x");
            let spki_der = spki(ED25519_ALG_ID, &x);
            forms.extend([
                (
                    "PEM (SPKI)".to_owned(),
                    common::pem("PUBLIC KEY", &spki_der).into_bytes(),
                ),
                ("DER (SPKI)".to_owned(), spki_der.clone()),
                ("x bytes".to_owned(), x.clone()),
                (
                    "x base64url".to_owned(),
                    jwk["x"].as_str().unwrap().as_bytes().to_vec(),
                ),
            ]);
            ParsedPublicKey::new(&signature::ED25519, &spki_der).expect("SPKI from x")
        }
    };
    (forms, verifier)
}

fn hmac_token(alg: &str, secret: &[u8], header: &Value, payload: &str) -> String {
    let input = format!("{}.{payload}", b64(header.to_string()));
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

// ---------------------------------------------------------------------------------------------
// The claim matrix: every claim replaced by every kind of value, signed with a real key.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// The test issuer: `TokenProfile::Jwt`.
    Jwt,
    /// The raw issuer: `TokenProfile::Rfc9068`.
    Rfc9068,
}

const MATRIX_CLAIMS: [&str; 19] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "scp",
    "roles",
    "azp",
    "tid",
    "token_use",
    "nonce",
    "at_hash",
    "events",
    "cnf",
    // Not a registered claim: any JSON value is acceptable.
    "employee_number",
];

/// The substitutes, as raw JSON text.
fn substitutes() -> Vec<(&'static str, String)> {
    vec![
        ("null", "null".to_owned()),
        ("true", "true".to_owned()),
        ("false", "false".to_owned()),
        ("a string", json_str(MARK_STR)),
        ("an empty string", "\"\"".to_owned()),
        ("a huge string", json_str(&MARK_HUGE.repeat(600))),
        ("a huge number as a string", json_str(&"9".repeat(400))),
        ("[]", "[]".to_owned()),
        ("[1]", "[1]".to_owned()),
        ("an array of a string", format!("[{}]", json_str(MARK_ARR))),
        ("{}", "{}".to_owned()),
        ("{\"a\":1}", "{\"a\":1}".to_owned()),
        ("1e400", "1e400".to_owned()),
        ("-1", "-1".to_owned()),
        ("0", "0".to_owned()),
        ("2^64", "18446744073709551616".to_owned()),
        ("1e300", "1e300".to_owned()),
    ]
}

/// What tokengate does with `claim` set to `raw` (`None`: accepted, or absent when `raw` is
/// `None`), as documented in `Rejection`, README "What is refused" and `src/claims/`, and
/// checked against the standards: registered claims have fixed types, whatever the value
/// (RFC 7519 §4.1: StringOrURI, NumericDate; `aud` a string or an array of strings; RFC 9068
/// §2.2.3: `scope` a string), `null` included; a NumericDate is a number, here non-negative and
/// before year 10000; the markers of other token kinds (`nonce`, `at_hash`, `events`,
/// `token_use`; RFC 8725 §3.12) and key binding (`cnf`, RFC 7800 / RFC 9449) refuse whatever
/// their value; unknown claims are ignored (RFC 7519 §4); a number that does not fit an IEEE
/// double (`1e400`) is refused by the JSON parser whatever the claim (RFC 8259 §6 lets a parser
/// limit the range). `sub`, `jti`, `client_id`, `azp`, `tid` of any string, `scp` and `roles`
/// arrays of strings (empty ones too), `nbf` and `iat` of 0 are legitimately accepted: those go
/// to the positive control.
fn claim_outcome(
    profile: Profile,
    claim: &str,
    raw: Option<&str>,
    now: i64,
) -> Option<&'static str> {
    const MALFORMED: Option<&str> = Some("malformed_claims");
    let Some(raw) = raw else {
        // The claim is absent.
        return match claim {
            "iss" | "aud" | "exp" => Some("missing_claim"),
            "sub" | "client_id" | "iat" | "jti" if profile == Profile::Rfc9068 => {
                Some("missing_claim")
            }
            _ => None,
        };
    };
    let Ok(value) = serde_json::from_str::<Value>(raw) else {
        return MALFORMED;
    };
    let string = value.is_string();
    let strings = value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string));
    let date = value
        .as_f64()
        .filter(|v| (0.0..=MAX_NUMERIC_DATE as f64).contains(v));
    let now = now as f64;
    let leeway = LEEWAY as f64;
    match claim {
        "iss" if string => Some("untrusted_issuer"),
        "iss" => MALFORMED,
        "sub" | "jti" | "client_id" | "azp" | "tid" => (!string).then_some("malformed_claims"),
        "token_use" if string => Some("not_an_access_token"),
        "token_use" => MALFORMED,
        "aud" if string || strings => Some("invalid_audience"),
        "aud" => MALFORMED,
        "exp" => match date {
            Some(exp) if now >= exp + leeway => Some("token_expired"),
            Some(_) => None,
            None => MALFORMED,
        },
        "nbf" => match date {
            Some(nbf) if now < nbf - leeway => Some("token_not_yet_valid"),
            Some(_) => None,
            None => MALFORMED,
        },
        "iat" => match date {
            Some(iat) if iat > now + leeway => Some("issued_in_future"),
            Some(_) => None,
            None => MALFORMED,
        },
        "scope" if string => None,
        "scope" if strings && profile == Profile::Rfc9068 => MALFORMED,
        "scope" | "scp" if string || strings => None,
        "scope" | "scp" => MALFORMED,
        "roles" => (!strings).then_some("malformed_claims"),
        "nonce" | "at_hash" | "events" => Some("not_an_access_token"),
        "cnf" => Some("sender_constrained_token"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

impl Env {
    /// A test-issuer token builder with planted values.
    fn tb(&self) -> TokenBuilder {
        self.issuer
            .token()
            .subject(MARK_SUB)
            .claim("client_id", MARK_CLIENT)
            .claim("employee_number", MARK_CUSTOM)
            .scope("orders.read")
    }

    fn valid(&self) -> String {
        self.tb().sign()
    }

    fn valid_alg(&self, alg: Algorithm) -> String {
        self.tb().alg(alg).sign()
    }

    /// The claims of the raw issuer's valid token, as raw JSON text, in order.
    fn raw_claims(&self) -> Vec<(&'static str, String)> {
        let now = now();
        vec![
            ("iss", json_str(&self.raw.issuer())),
            ("aud", json_str(RAW_AUDIENCE)),
            ("sub", json_str(MARK_SUB)),
            ("client_id", json_str(MARK_CLIENT)),
            ("iat", (now - 5).to_string()),
            ("nbf", (now - 5).to_string()),
            ("exp", (now + 3600).to_string()),
            ("jti", json_str(MARK_JTI)),
            ("scope", json_str("orders.read")),
            ("employee_number", json_str(MARK_CUSTOM)),
        ]
    }

    fn raw_header(&self) -> String {
        format!(
            r#"{{"alg":"RS256","typ":"at+jwt","kid":{}}}"#,
            json_str(self.raw_key.kid())
        )
    }

    /// Signs `h.p` (already encoded, in whatever way) with the raw issuer's real key.
    fn raw_sign(&self, header: &str, payload: &str) -> String {
        let input = format!("{header}.{payload}");
        let sig = self.raw_key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    fn raw_token(&self, header: &str, claims: &str) -> String {
        self.raw_sign(&b64(header), &b64(claims))
    }

    fn raw_valid(&self) -> String {
        self.raw_token(&self.raw_header(), &object(&self.raw_claims()))
    }

    fn kid(&self, keys: &[PublicKey], alg: &str) -> String {
        keys.iter()
            .find(|k| k.alg == alg && k.issuer == self.issuer.issuer())
            .map(|k| k.kid.clone())
            .unwrap()
    }

    fn counting_url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.counting)
    }

    /// Every case, refused and accepted. Returns the key material (in every form used) that
    /// must never be logged.
    fn generate(
        &self,
        cases: &mut Cases,
        keys: &[PublicKey],
        attackers: &Attackers,
    ) -> Vec<String> {
        let mut material = Vec::new();
        self.alg_none(cases);
        material.extend(self.hmac_key_confusion(cases, keys));
        self.alg_key_mismatch(cases, keys);
        self.kid_injection(cases, keys);
        self.foreign_keys(cases, keys, attackers);
        self.signatures(cases);
        self.claim_matrix(cases);
        self.duplicates(cases);
        self.encodings(cases);
        self.formats(cases);
        self.types(cases);
        self.audience_and_issuer(cases);
        self.lifetimes(cases);
        self.key_bound(cases);
        self.multiple_credentials(cases);
        self.scheme_and_syntax(cases);
        self.sizes(cases);
        self.raw_http(cases);
        self.scopes(cases);
        self.controls(cases, keys);
        for key in keys {
            for member in ["n", "e", "x", "y", "d"] {
                if let Some(value) = key.jwk[member].as_str().filter(|v| v.len() > 8) {
                    material.push(value.to_owned());
                }
            }
        }
        material
    }

    /// ATK-01, ATK-02, ATK-03: `none` in every casing and spelling, with any signature; `alg`
    /// missing or of the wrong type; other names that are not allowed algorithms.
    fn alg_none(&self, cases: &mut Cases) {
        const F: &str = "ATK-01/02 alg none";
        let real_sig = split3(&self.valid()).2.to_owned();
        for mask in 0..16u8 {
            let casing: String = "none"
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if mask & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            for (sig_name, sig) in [
                ("empty signature", ""),
                ("junk signature", "junk-signature"),
                ("a real RS256 signature", real_sig.as_str()),
            ] {
                let token = with_signature(&self.tb().header("alg", &casing).sign(), sig);
                cases.bearer(
                    F,
                    format!("alg {casing:?}, {sig_name}"),
                    &token,
                    "unsupported_algorithm",
                );
            }
        }
        let payload = split3(&self.valid()).1.to_owned();
        for (name, header) in [
            ("none without kid or typ", r#"{"alg":"none"}"#.to_owned()),
            (
                "none with a trailing space",
                r#"{"alg":"none ","typ":"at+jwt"}"#.to_owned(),
            ),
            (
                "none with a leading space",
                r#"{"alg":" none","typ":"at+jwt"}"#.to_owned(),
            ),
            (
                "none as a JSON escape",
                r#"{"alg":"n\u006fne","typ":"at+jwt"}"#.to_owned(),
            ),
            (
                "none fully escaped",
                r#"{"alg":"\u006e\u006f\u006e\u0065"}"#.to_owned(),
            ),
            ("none with a NUL", r#"{"alg":"none\u0000"}"#.to_owned()),
            (
                "none with a Cyrillic o",
                "{\"alg\":\"n\u{43e}ne\"}".to_owned(),
            ),
            (
                "none, kid of the real key",
                format!(r#"{{"alg":"none","kid":{}}}"#, json_str(self.raw_key.kid())),
            ),
        ] {
            for (sig_name, sig) in [("empty signature", ""), ("junk signature", "junk")] {
                let token = format!("{}.{payload}.{sig}", b64(&header));
                cases.bearer(
                    F,
                    format!("{name}, {sig_name}"),
                    &token,
                    "unsupported_algorithm",
                );
            }
        }
        const F3: &str = "ATK-03 alg type";
        for (name, value) in [
            ("alg null", Value::Null),
            ("alg a number", json!(256)),
            ("alg true", json!(true)),
            ("alg an array", json!(["RS256"])),
            ("alg an object", json!({"alg": "RS256"})),
        ] {
            cases.bearer(
                F3,
                name,
                &self.tb().header("alg", value).sign(),
                "malformed_header",
            );
        }
        cases.bearer(
            F3,
            "alg missing",
            &self.tb().without_header("alg").sign(),
            "malformed_header",
        );
        for alg in [
            "",
            "rs256",
            "Rs256",
            "RS256 ",
            " RS256",
            "RS1",
            "RS",
            "ES256K",
            "ES256k",
            "RSA-OAEP",
            "RSA1_5",
            "dir",
            "A256GCMKW",
            "ECDH-ES",
            "Ed25519",
            "ED25519",
            "eddsa",
            "EDDSA",
            "PS256\u{0}",
            "HS256",
        ] {
            cases.bearer(
                F3,
                format!("alg {alg:?} (real RS256 signature)"),
                &self.tb().header("alg", alg).sign(),
                "unsupported_algorithm",
            );
        }
    }

    /// ATK-04, ATK-41: HMAC keyed with each published public key in every encoding, the keys
    /// taken from the JWK Sets served over HTTP.
    fn hmac_key_confusion(&self, cases: &mut Cases, keys: &[PublicKey]) -> Vec<String> {
        const F: &str = "ATK-04 HS* key confusion";
        let mut material = Vec::new();
        let payload = split3(&self.valid()).1.to_owned();
        let raw_payload = b64(object(&self.raw_claims()));
        for key in keys {
            let (forms, verifier) = key_forms(key);
            // The forms hold the real key: it verifies a real token of that key.
            let real = if key.issuer == self.issuer.issuer() {
                self.tb().key(&key.kid).sign()
            } else {
                self.raw_valid()
            };
            let (h, p, s) = split3(&real);
            verifier
                .verify_sig(format!("{h}.{p}").as_bytes(), &unb64(s))
                .unwrap_or_else(|_| panic!("the {} forms are not the published key", key.kid));
            let payload = if key.issuer == self.issuer.issuer() {
                &payload
            } else {
                &raw_payload
            };
            for (form, secret) in &forms {
                match std::str::from_utf8(secret) {
                    Ok(text) => {
                        material.push(text.to_owned());
                        for line in text
                            .lines()
                            .filter(|l| l.len() > 8 && !l.starts_with("-----"))
                        {
                            material.push(line.trim_end().to_owned());
                        }
                    }
                    Err(_) => {
                        material.push(hex(secret));
                        material.push(std_b64(secret));
                        material.push(format!("{:?}", &secret[..16]));
                    }
                }
                for alg in ["HS256", "HS384", "HS512"] {
                    let header = json!({"alg": alg, "typ": "at+jwt", "kid": key.kid});
                    let token = hmac_token(alg, secret, &header, payload);
                    cases.bearer(
                        F,
                        format!("{alg} keyed with {} {form}", key.kid),
                        &token,
                        "unsupported_algorithm",
                    );
                }
                let header = json!({"alg": "HS256", "typ": "JWT"});
                let token = hmac_token("HS256", secret, &header, payload);
                cases.bearer(
                    F,
                    format!("HS256 keyed with {} {form}, no kid", key.kid),
                    &token,
                    "unsupported_algorithm",
                );
            }
        }
        material
    }

    /// ATK-05, ATK-44: a token naming a key of another algorithm; no `kid` where the issuer
    /// does not have exactly one key for the algorithm.
    fn alg_key_mismatch(&self, cases: &mut Cases, keys: &[PublicKey]) {
        const F: &str = "ATK-05/44 alg vs key";
        for (key_alg, claimed) in [
            (
                Algorithm::RS256,
                ["PS256", "RS384", "RS512", "PS512", "ES256", "EdDSA"].as_slice(),
            ),
            (Algorithm::PS256, &["RS256", "PS384", "ES384"]),
            (Algorithm::ES256, &["ES384", "ES512", "RS256", "EdDSA"]),
            (Algorithm::ES384, &["ES256", "ES512", "PS256"]),
            (Algorithm::EdDSA, &["ES256", "RS256"]),
        ] {
            let kid = self.kid(keys, key_alg.name());
            for alg in claimed {
                let token = self.tb().alg(key_alg).header("alg", alg).sign();
                cases.bearer(
                    F,
                    format!("alg {alg} with the {kid} key"),
                    &token,
                    "key_algorithm_mismatch",
                );
            }
        }
        for alg in ["RS384", "RS512", "PS384", "PS512", "ES512"] {
            let token = self.tb().without_header("kid").header("alg", alg).sign();
            cases.bearer(
                F,
                format!("no kid, alg {alg} (no such key)"),
                &token,
                "missing_key_id",
            );
        }
        let token = self.tb().without_header("kid").tampered().sign();
        cases.bearer(
            F,
            "no kid, the one RS256 key, bad signature",
            &token,
            "invalid_signature",
        );
        let token = self
            .tb()
            .alg(Algorithm::ES256)
            .without_header("kid")
            .header("alg", "ES384")
            .sign();
        cases.bearer(
            F,
            "no kid, ES256 signature labelled ES384",
            &token,
            "invalid_signature",
        );
    }

    /// ATK-07: `kid` injection; never a path, a query or a URL, capped in length.
    fn kid_injection(&self, cases: &mut Cases, keys: &[PublicKey]) {
        const F: &str = "ATK-07 kid injection";
        let real = self.kid(keys, "RS256");
        let lookalike = real.replacen('e', "\u{435}", 1);
        let fullwidth: String = real
            .chars()
            .map(|c| match c {
                'a'..='z' => char::from_u32(c as u32 - 'a' as u32 + 0xff41).unwrap(),
                _ => c,
            })
            .collect();
        let strings: Vec<(&str, String, &'static str)> = vec![
            (
                "path traversal",
                "../../../../dev/null".into(),
                "unknown_key",
            ),
            (
                "path traversal to passwd",
                "../../../../../../etc/passwd".into(),
                "unknown_key",
            ),
            (
                "proc file",
                "/proc/sys/kernel/randomize_va_space".into(),
                "unknown_key",
            ),
            (
                "windows traversal",
                "..\\..\\..\\windows\\win.ini".into(),
                "unknown_key",
            ),
            ("file URL", "file:///etc/passwd".into(), "unknown_key"),
            (
                "URL of the counting server",
                self.counting_url(&format!("kid-{MARK_URL}.json")),
                "unknown_key",
            ),
            (
                "JNDI lookup",
                format!("${{jndi:ldap://{}/{MARK_KID}}}", self.counting),
                "unknown_key",
            ),
            ("SQL tautology", "' OR '1'='1".into(), "unknown_key"),
            (
                "SQL union",
                "x' UNION SELECT secret FROM keys--".into(),
                "unknown_key",
            ),
            (
                "SQL stacked query",
                "'; DROP TABLE keys;--".into(),
                "unknown_key",
            ),
            ("shell substitution", "$(id)".into(), "unknown_key"),
            ("shell backticks", "`id`".into(), "unknown_key"),
            ("shell pipe", "| cat /etc/passwd".into(), "unknown_key"),
            (
                "shell chain",
                "; curl http://127.0.0.1:1/".into(),
                "unknown_key",
            ),
            ("format string", "%s%s%s%n%x".into(), "unknown_key"),
            ("template", "{{7*7}}${7*7}".into(), "unknown_key"),
            ("LDAP filter", "*)(uid=*))(|(uid=*".into(), "unknown_key"),
            ("wildcard", "*".into(), "unknown_key"),
            ("regex", ".*".into(), "unknown_key"),
            ("real kid with NUL", format!("{real}\u{0}"), "unknown_key"),
            (
                "control characters",
                "\u{1}\u{2}\u{1b}[31m".into(),
                "unknown_key",
            ),
            (
                "CRLF header injection",
                "x\r\nSet-Cookie: a=b".into(),
                "unknown_key",
            ),
            (
                "Unicode lookalike of the real kid",
                lookalike,
                "unknown_key",
            ),
            (
                "fullwidth lookalike of the real kid",
                fullwidth,
                "unknown_key",
            ),
            (
                "right-to-left override",
                format!("\u{202e}{real}"),
                "unknown_key",
            ),
            ("real kid uppercased", real.to_uppercase(), "unknown_key"),
            (
                "real kid with a leading space",
                format!(" {real}"),
                "unknown_key",
            ),
            (
                "real kid with a trailing space",
                format!("{real} "),
                "unknown_key",
            ),
            ("empty", String::new(), "unknown_key"),
            ("planted marker", MARK_KID.into(), "unknown_key"),
            ("256 characters (the cap)", "k".repeat(256), "unknown_key"),
            ("257 characters", "k".repeat(257), "malformed_header"),
            ("4 KiB", "k".repeat(4096), "malformed_header"),
            ("40 KB", "k".repeat(40_000), "malformed_header"),
            (
                "64 KiB (over the token size cap)",
                "k".repeat(65_536),
                "token_too_large",
            ),
        ];
        for (name, kid, code) in strings {
            cases.bearer(
                F,
                format!("kid {name}"),
                &self.tb().header("kid", kid).sign(),
                code,
            );
        }
        for (name, value) in [
            ("null", Value::Null),
            ("a number", json!(1)),
            ("a float", json!(1.5)),
            ("true", json!(true)),
            ("an array of the real kid", json!([real])),
            ("an object", json!({"kid": real})),
        ] {
            cases.bearer(
                F,
                format!("kid {name}"),
                &self.tb().header("kid", value).sign(),
                "malformed_header",
            );
        }
        // A flood of distinct unknown kids: refused without fetching more than the cooldown
        // allows (checked after the scan).
        for i in 0..25 {
            let token = self
                .tb()
                .header("kid", format!("{MARK_KID}-flood-{i}"))
                .sign();
            cases.bearer(F, format!("kid flood {i}"), &token, "unknown_key");
        }
    }

    /// ATK-08 to ATK-11, ATK-24: keys named or embedded by the token (`jku`, `x5u`, `jwk`,
    /// `x5c`) are never fetched or trusted; the counting server gets no connection.
    fn foreign_keys(&self, cases: &mut Cases, keys: &[PublicKey], attackers: &Attackers) {
        const F: &str = "ATK-08..11 foreign keys";
        let claims = String::from_utf8(unb64(split3(&self.valid()).1)).unwrap();
        let real_rs = self.kid(keys, "RS256");
        let real_es = self.kid(keys, "ES256");
        let jku = self.counting_url(&format!("{MARK_JKU}.json"));
        let x5u = self.counting_url(&format!("{MARK_X5U}.pem"));
        let rsa = &attackers.rsa;
        let ec = &attackers.ec;
        let forge = |key: &TestKey, header: Value| key.token_raw(&header.to_string(), &claims);
        let mut jwk_rsa = rsa.jwk();
        let mut jwk_ec = ec.jwk();
        let x5c = json!([std_b64(&attackers.cert_der)]);
        // `http://<the issuer's host>@<the counting server>/jwks`: the host is the second one.
        let issuer_host = self.issuer.issuer().trim_start_matches("http://");
        let userinfo_jku = format!("http://{issuer_host}@{}/jwks", self.counting);
        let thumb = b64(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            &attackers.cert_der,
        ));
        let list: Vec<(&str, String, &'static str)> = vec![
            (
                "jku, attacker kid",
                forge(
                    rsa,
                    json!({"alg":"RS256","typ":"at+jwt","kid":rsa.kid(),"jku":jku}),
                ),
                "unknown_key",
            ),
            (
                "jku, real kid",
                forge(
                    rsa,
                    json!({"alg":"RS256","typ":"at+jwt","kid":real_rs,"jku":jku}),
                ),
                "invalid_signature",
            ),
            (
                "jku, no kid",
                forge(rsa, json!({"alg":"RS256","typ":"at+jwt","jku":jku})),
                "invalid_signature",
            ),
            (
                "jku with userinfo trick",
                forge(
                    rsa,
                    json!({"alg": "RS256", "kid": rsa.kid(), "jku": userinfo_jku}),
                ),
                "unknown_key",
            ),
            (
                "jku of the issuer's own key set",
                forge(
                    rsa,
                    json!({"alg":"RS256","kid":rsa.kid(),"jku":self.issuer.jwks_uri()}),
                ),
                "unknown_key",
            ),
            (
                "x5u, attacker kid",
                forge(
                    rsa,
                    json!({"alg":"RS256","typ":"at+jwt","kid":rsa.kid(),"x5u":x5u}),
                ),
                "unknown_key",
            ),
            (
                "x5u, real kid",
                forge(
                    rsa,
                    json!({"alg":"RS256","typ":"at+jwt","kid":real_rs,"x5u":x5u}),
                ),
                "invalid_signature",
            ),
            (
                "embedded RSA jwk, no kid",
                forge(rsa, json!({"alg":"RS256","typ":"at+jwt","jwk":jwk_rsa})),
                "invalid_signature",
            ),
            (
                "embedded RSA jwk, its kid",
                forge(rsa, json!({"alg":"RS256","kid":rsa.kid(),"jwk":jwk_rsa})),
                "unknown_key",
            ),
            (
                "embedded RSA jwk, real kid",
                forge(rsa, json!({"alg":"RS256","kid":real_rs,"jwk":jwk_rsa})),
                "invalid_signature",
            ),
            (
                "embedded EC jwk, no kid",
                forge(ec, json!({"alg":"ES256","typ":"at+jwt","jwk":jwk_ec})),
                "invalid_signature",
            ),
            (
                "embedded EC jwk, its kid",
                forge(ec, json!({"alg":"ES256","kid":ec.kid(),"jwk":jwk_ec})),
                "unknown_key",
            ),
            (
                "embedded EC jwk, real kid",
                forge(ec, json!({"alg":"ES256","kid":real_es,"jwk":jwk_ec})),
                "invalid_signature",
            ),
            (
                "x5c self-signed, real kid",
                attackers.cert_token(&json!({"alg":"ES256","kid":real_es,"x5c":x5c}), &claims),
                "invalid_signature",
            ),
            (
                "x5c self-signed, no kid",
                attackers.cert_token(&json!({"alg":"ES256","x5c":x5c}), &claims),
                "invalid_signature",
            ),
            (
                "x5c and x5t#S256, no kid",
                attackers.cert_token(&json!({"alg":"ES256","x5c":x5c,"x5t#S256":thumb}), &claims),
                "invalid_signature",
            ),
            (
                "x5t#S256 only, no kid",
                attackers.cert_token(&json!({"alg":"ES256","x5t#S256":thumb}), &claims),
                "invalid_signature",
            ),
            (
                "jku, x5u, jwk and x5c at once",
                forge(
                    rsa,
                    json!({"alg": "RS256", "kid": rsa.kid(), "jku": jku, "x5u": x5u,
                           "jwk": jwk_rsa, "x5c": x5c}),
                ),
                "unknown_key",
            ),
            (
                "jku with alg none",
                format!(
                    "{}.{}.",
                    b64(json!({"alg":"none","jku":jku}).to_string()),
                    b64(&claims)
                ),
                "unsupported_algorithm",
            ),
            (
                "jku with HS256",
                hmac_token(
                    "HS256",
                    MARK_HMAC.as_bytes(),
                    &json!({"alg":"HS256","jku":jku}),
                    &b64(&claims),
                ),
                "unsupported_algorithm",
            ),
            (
                "real key, attacker kid, jku",
                self.tb()
                    .header("kid", rsa.kid())
                    .header("jku", &jku)
                    .sign(),
                "unknown_key",
            ),
            (
                "real key, attacker kid, x5u",
                self.tb()
                    .header("kid", rsa.kid())
                    .header("x5u", &x5u)
                    .sign(),
                "unknown_key",
            ),
            (
                "iss is the counting server",
                self.tb().claim("iss", self.counting_url("")).sign(),
                "untrusted_issuer",
            ),
            (
                "iss is the counting server, with jku",
                self.tb()
                    .claim("iss", self.counting_url(&format!("iss-{MARK_URL}")))
                    .header("jku", &jku)
                    .sign(),
                "untrusted_issuer",
            ),
        ];
        jwk_rsa["jku"] = json!(jku);
        jwk_rsa["x5u"] = json!(x5u);
        jwk_ec["x5u"] = json!(x5u);
        let mut list = list;
        list.push((
            "embedded jwk with jku and x5u members, no kid",
            forge(rsa, json!({"alg":"RS256","jwk":jwk_rsa})),
            "invalid_signature",
        ));
        list.push((
            "embedded EC jwk with x5u member, attacker kid",
            forge(ec, json!({"alg":"ES256","kid":ec.kid(),"jwk":jwk_ec})),
            "unknown_key",
        ));
        for (name, token, code) in list {
            cases.bearer(F, name, &token, code);
        }
        // ATK-24: keys are scoped per issuer.
        const F24: &str = "ATK-24 cross-issuer";
        let raw_iss = self.raw.issuer();
        cases.bearer(
            F24,
            "test issuer's RS256 key, iss of the raw issuer",
            &self
                .tb()
                .claim("iss", &raw_iss)
                .audience(RAW_AUDIENCE)
                .sign(),
            "unknown_key",
        );
        cases.bearer(
            F24,
            "test issuer's PS256 key, iss of the raw issuer",
            &self
                .tb()
                .alg(Algorithm::PS256)
                .claim("iss", &raw_iss)
                .audience(RAW_AUDIENCE)
                .sign(),
            "unsupported_algorithm",
        );
        let mut claims = self.raw_claims();
        set(&mut claims, "iss", json_str(self.issuer.issuer()));
        set(&mut claims, "aud", json_str(self.issuer.audience()));
        let header = self.raw_header();
        cases.bearer(
            F24,
            "raw issuer's key, iss of the test issuer",
            &self.raw_token(&header, &object(&claims)),
            "unknown_key",
        );
        let header = format!(
            r#"{{"alg":"RS256","typ":"at+jwt","kid":{}}}"#,
            json_str(&real_rs)
        );
        cases.bearer(
            F24,
            "raw issuer's key, iss and kid of the test issuer",
            &self.raw_token(&header, &object(&claims)),
            "invalid_signature",
        );
    }

    /// ATK-13 to ATK-17: empty, truncated, extended, zeroed, re-used, transplanted and
    /// bit-flipped signatures, and ECDSA's special values.
    fn signatures(&self, cases: &mut Cases) {
        const F: &str = "ATK-13..17 signatures";
        let algs = [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        let bad = "invalid_signature";
        for alg in algs {
            let token = self.valid_alg(alg);
            let other = self.valid_alg(alg);
            let (h, p, s) = split3(&token);
            let sig = unb64(s);
            let len = sig.len();
            let name = |what: &str| format!("{alg}: {what}");
            let mut variants: Vec<(String, Vec<u8>)> = vec![
                (name("empty"), Vec::new()),
                (name("one byte"), sig[..1].to_vec()),
                (name("half"), sig[..len / 2].to_vec()),
                (name("one byte short"), sig[..len - 1].to_vec()),
                (name("one byte long"), [&sig[..], &[0]].concat()),
                (name("doubled"), [&sig[..], &sig[..]].concat()),
                (name("all zero"), vec![0; len]),
                (name("all ones"), vec![0xff; len]),
                (name("1025 bytes (over the largest key)"), vec![7; 1025]),
                (
                    name("re-used from another token of the same key"),
                    unb64(split3(&other).2),
                ),
            ];
            for bit in 0..8 {
                let mut flipped = sig.clone();
                flipped[0] ^= 1 << bit;
                variants.push((
                    name(&format!("bit {bit} of the first byte flipped")),
                    flipped,
                ));
            }
            for (at, label) in [(len / 2, "middle"), (len - 1, "last")] {
                let mut flipped = sig.clone();
                flipped[at] ^= 0x80;
                variants.push((
                    name(&format!("top bit of the {label} byte flipped")),
                    flipped,
                ));
            }
            if matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
                let half = len / 2;
                // The group orders of P-256 and P-384.
                let order = if alg == Algorithm::ES256 {
                    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
                } else {
                    concat!(
                        "ffffffffffffffffffffffffffffffffffffffffffffffff",
                        "c7634d81f4372ddf581a0db248b0a77aecec196accc52973"
                    )
                };
                let n: Vec<u8> = (0..order.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&order[i..i + 2], 16).unwrap())
                    .collect();
                let mut zero_one = vec![0; len];
                zero_one[len - 1] = 1;
                let (r, s_) = sig.split_at(half);
                let der_sig = der(0x30, &[der_uint(r), der_uint(s_)].concat());
                variants.extend([
                    (name("r = n, s = n"), [&n[..], &n[..]].concat()),
                    (name("r = 0, s = 1"), zero_one),
                    (name("r = n, real s"), [&n[..], s_].concat()),
                    (name("DER-encoded (r, s)"), der_sig),
                    (name("s and r swapped"), [s_, r].concat()),
                ]);
            }
            for (what, bytes) in variants {
                cases.bearer(F, what, &with_signature(&token, &b64(bytes)), bad);
            }
            // One character removed from a segment whose length is 2 mod 4: never base64url.
            if s.len() % 4 == 2 {
                cases.bearer(
                    F,
                    name("one character removed"),
                    &with_signature(&token, &s[..s.len() - 1]),
                    "malformed_token",
                );
            }
            // Transplants (ATK-16).
            let (_, op, _) = split3(&other);
            cases.bearer(
                F,
                name("A's header, B's payload, A's signature"),
                &format!("{h}.{op}.{s}"),
                bad,
            );
            // A payload byte flipped inside a planted value, the original signature (ATK-17).
            let payload = unb64(p);
            let at = payload
                .windows(MARK_SUB.len())
                .position(|w| w == MARK_SUB.as_bytes())
                .unwrap();
            for offset in [0, 4, MARK_SUB.len() - 1] {
                let mut flipped = payload.clone();
                flipped[at + offset] ^= 1;
                cases.bearer(
                    F,
                    name(&format!("payload byte {offset} of sub flipped")),
                    &format!("{h}.{}.{s}", b64(&flipped)),
                    bad,
                );
            }
        }
        let rs = self.valid_alg(Algorithm::RS256);
        let es = self.valid_alg(Algorithm::ES256);
        let ed = self.valid_alg(Algorithm::EdDSA);
        cases.bearer(
            F,
            "RS256 token with an ES256 token's signature",
            &with_signature(&rs, split3(&es).2),
            bad,
        );
        cases.bearer(
            F,
            "ES256 token with an EdDSA token's signature",
            &with_signature(&es, split3(&ed).2),
            bad,
        );
        cases.bearer(
            F,
            "EdDSA token with an RS256 token's signature",
            &with_signature(&ed, split3(&rs).2),
            bad,
        );
        cases.bearer(
            F,
            "raw issuer, empty signature",
            &with_signature(&self.raw_valid(), ""),
            bad,
        );
    }

    /// Every claim replaced by every kind of JSON value (and removed), signed with the real
    /// key of each issuer: only the claim checks can refuse these. Accepted substitutions go
    /// to the positive control.
    fn claim_matrix(&self, cases: &mut Cases) {
        const F: &str = "claim matrix";
        let now = now();
        for claim in MATRIX_CLAIMS {
            for (label, raw) in substitutes()
                .iter()
                .map(|(l, r)| (*l, Some(r.as_str())))
                .chain([("absent", None)])
            {
                // The raw issuer (RFC 9068 profile): exact JSON text.
                let mut claims = self.raw_claims();
                let base_has = claims.iter().any(|(name, _)| *name == claim);
                if raw.is_some() || base_has {
                    match raw {
                        Some(raw) => set(&mut claims, claim, raw.to_owned()),
                        None => claims.retain(|(name, _)| *name != claim),
                    }
                    let token = self.raw_token(&self.raw_header(), &object(&claims));
                    let expect = claim_outcome(Profile::Rfc9068, claim, raw, now)
                        .map_or(Expect::Accepted, Expect::Refused);
                    cases.token(
                        F,
                        format!("raw issuer: {claim} {label}"),
                        Route::Open,
                        &token,
                        expect,
                    );
                }
                // The test issuer (JWT profile), where the value can be written as JSON (2^64
                // is then written as a float, 1.8446744073709552e19; 1e400 cannot be).
                const TEST_ISSUER_CLAIMS: [&str; 10] = [
                    "iss",
                    "aud",
                    "sub",
                    "client_id",
                    "iat",
                    "nbf",
                    "exp",
                    "jti",
                    "scope",
                    "employee_number",
                ];
                let value = match raw {
                    Some(raw) => match serde_json::from_str::<Value>(raw) {
                        Ok(value) => Some(value),
                        Err(_) => continue,
                    },
                    None if TEST_ISSUER_CLAIMS.contains(&claim) => None,
                    None => continue,
                };
                let builder = self.tb().claim("nbf", now - 5);
                let builder = match value {
                    Some(value) => builder.claim(claim, value),
                    None => builder.without_claim(claim),
                };
                let expect = claim_outcome(Profile::Jwt, claim, raw, now)
                    .map_or(Expect::Accepted, Expect::Refused);
                cases.token(
                    F,
                    format!("test issuer: {claim} {label}"),
                    Route::Open,
                    &builder.sign(),
                    expect,
                );
            }
        }
    }

    /// ATK-29: duplicate members in the header and the claims, either order, escaped names,
    /// nested, and after many members; signed with the raw issuer's real key.
    fn duplicates(&self, cases: &mut Cases) {
        const F: &str = "ATK-29 duplicates";
        let kid = json_str(self.raw_key.kid());
        let claims = object(&self.raw_claims());
        for (name, header) in [
            (
                "alg twice, RS256 then none",
                format!(r#"{{"alg":"RS256","alg":"none","typ":"at+jwt","kid":{kid}}}"#),
            ),
            (
                "alg twice, none then RS256",
                format!(r#"{{"alg":"none","alg":"RS256","typ":"at+jwt","kid":{kid}}}"#),
            ),
            (
                "alg twice, RS256 twice",
                format!(r#"{{"alg":"RS256","alg":"RS256","typ":"at+jwt","kid":{kid}}}"#),
            ),
            (
                "alg twice, second escaped",
                format!(r#"{{"alg":"RS256","\u0061lg":"HS256","typ":"at+jwt","kid":{kid}}}"#),
            ),
            (
                "kid twice, real then other",
                format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"kid":"{MARK_KID}"}}"#),
            ),
            (
                "kid twice, other then real",
                format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{MARK_KID}","kid":{kid}}}"#),
            ),
            (
                "typ twice",
                format!(r#"{{"alg":"RS256","typ":"at+jwt","typ":"dpop+jwt","kid":{kid}}}"#),
            ),
            (
                "crit twice",
                format!(r#"{{"alg":"RS256","crit":[],"crit":[],"kid":{kid}}}"#),
            ),
            (
                "duplicate inside a header object",
                format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"x":{{"a":1,"a":2}}}}"#),
            ),
        ] {
            cases.bearer(
                F,
                format!("header: {name}"),
                &self.raw_token(&header, &claims),
                "malformed_header",
            );
        }
        let header = self.raw_header();
        let base = self.raw_claims();
        let counting = json_str(&self.counting_url(""));
        let now = now();
        let dup = |name: &'static str, value: String, first: bool| {
            let mut claims = base.clone();
            let extra = (name, value);
            if first {
                claims.insert(0, extra);
            } else {
                claims.push(extra);
            }
            object(&claims)
        };
        let pairs: Vec<(&'static str, String)> = vec![
            ("iss", counting.clone()),
            ("aud", json_str("api://someone-else")),
            ("exp", (now - 3600).to_string()),
            ("nbf", (now + 3600).to_string()),
            ("iat", (now - 5).to_string()),
            ("sub", json_str(MARK_STR)),
            ("tid", json_str(MARK_STR)),
            ("jti", json_str(MARK_JTI)),
            ("scope", json_str(SCOPE)),
            ("client_id", json_str(MARK_CLIENT)),
            ("employee_number", json_str(MARK_CUSTOM)),
            ("nonce", json_str(MARK_NONCE)),
            ("cnf", json!({"jkt": MARK_JKT}).to_string()),
        ];
        for (name, value) in pairs {
            let mut claims = base.clone();
            if !claims.iter().any(|(n, _)| *n == name) {
                claims.push((name, value.clone()));
            }
            let mut last = claims.clone();
            last.push((name, value.clone()));
            cases.bearer(
                F,
                format!("claims: {name} twice, attacker's last"),
                &self.raw_token(&header, &object(&last)),
                "malformed_claims",
            );
            let mut first = claims;
            first.insert(0, (name, value));
            cases.bearer(
                F,
                format!("claims: {name} twice, attacker's first"),
                &self.raw_token(&header, &object(&first)),
                "malformed_claims",
            );
        }
        for (name, text) in [
            (
                "iss twice, second escaped",
                dup("\\u0069ss", counting.clone(), false),
            ),
            (
                "aud twice, escaped first",
                dup("\\u0061ud", json_str("api://someone-else"), true),
            ),
            (
                "duplicate inside a custom object",
                dup(
                    "profile",
                    r#"{"role":"user","role":"admin"}"#.to_owned(),
                    false,
                ),
            ),
            (
                "duplicate deep in arrays",
                dup("deep", r#"[{"a":[{"b":1,"b":2}]}]"#.to_owned(), false),
            ),
            (
                "duplicate inside cnf",
                dup("cnf", format!(r#"{{"jkt":"{MARK_JKT}","jkt":"x"}}"#), false),
            ),
        ] {
            cases.bearer(
                F,
                format!("claims: {name}"),
                &self.raw_token(&header, &text),
                "malformed_claims",
            );
        }
        let mut many: Vec<(String, String)> = (0..3000)
            .map(|i| (format!("c{i}"), i.to_string()))
            .collect();
        many.push(("c0".to_owned(), "0".to_owned()));
        let mut text = object(&base);
        text.pop();
        for (name, value) in &many {
            text.push_str(&format!(",\"{name}\":{value}"));
        }
        text.push('}');
        cases.bearer(
            F,
            "claims: 3000 members, the first repeated at the end",
            &self.raw_token(&header, &text),
            "malformed_claims",
        );
    }

    /// ATK-30, ATK-31: padding, the standard alphabet, non-canonical trailing bits,
    /// whitespace, empty segments; headers and claims that are not UTF-8 JSON objects. Each
    /// signed over exactly the bytes sent, with the raw issuer's real key.
    fn encodings(&self, cases: &mut Cases) {
        const F: &str = "ATK-30 base64url";
        let claims = object(&self.raw_claims());
        let kid = json_str(self.raw_key.kid());
        // A header whose JSON length is 1 mod 3 (two '=' of padding, 2 unused bits), with
        // characters whose encoding differs between the two alphabets.
        let header_for = |pad: &str| {
            format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"x":"?????>>>>>{pad}"}}"#)
        };
        let pad = (4 - header_for("").len() % 3) % 3;
        let header = header_for(&" ".repeat(pad));
        assert_eq!(header.len() % 3, 1);
        let mut claims_alpha = self.raw_claims();
        claims_alpha.push(("pad", json_str("?????>>>>>")));
        let mut claims_alpha_text = object(&claims_alpha);
        while claims_alpha_text.len() % 3 != 2 {
            claims_alpha.last_mut().unwrap().1.insert(1, ' ');
            claims_alpha_text = object(&claims_alpha);
        }
        let (h, p) = (b64(&header), b64(&claims_alpha_text));
        assert!(
            h.contains(['-', '_']) && p.contains(['-', '_']),
            "alphabet-sensitive segments"
        );
        let valid = self.raw_sign(&h, &p);
        let (_, _, s) = split3(&valid);
        let s = s.to_owned();
        let std_nopad = |bytes: &[u8]| std_b64(bytes).trim_end_matches('=').to_owned();
        let header_std = std_nopad(header.as_bytes());
        let payload_std = std_nopad(claims_alpha_text.as_bytes());
        let sig_std = std_nopad(&unb64(&s));
        // Sanity: these segments differ from the canonical ones.
        assert!(header_std != h && payload_std != p);
        let list: Vec<(&str, String, &'static str)> = vec![
            (
                "header with '=' padding",
                self.raw_sign(&format!("{h}=="), &p),
                "malformed_credentials",
            ),
            (
                "payload with '=' padding",
                self.raw_sign(&h, &format!("{p}=")),
                "malformed_credentials",
            ),
            (
                "header in the standard alphabet",
                self.raw_sign(&header_std, &p),
                "malformed_token",
            ),
            (
                "payload in the standard alphabet",
                self.raw_sign(&h, &payload_std),
                "malformed_token",
            ),
            (
                "header standard with padding",
                self.raw_sign(&std_b64(header.as_bytes()), &p),
                "malformed_credentials",
            ),
            (
                "header with non-canonical trailing bits",
                self.raw_sign(&noncanonical(&h), &p),
                "malformed_token",
            ),
            (
                "payload with non-canonical trailing bits",
                self.raw_sign(&h, &noncanonical(&p)),
                "malformed_token",
            ),
            (
                "header with a space",
                self.raw_sign(&format!("{} {}", &h[..10], &h[10..]), &p),
                "malformed_credentials",
            ),
            (
                "payload with a tab",
                self.raw_sign(&h, &format!("{}\t{}", &p[..10], &p[10..])),
                "malformed_credentials",
            ),
            (
                "payload with a percent-encoded character",
                self.raw_sign(&h, &format!("{}%41{}", &p[..10], &p[10..])),
                "malformed_credentials",
            ),
            (
                "empty header segment",
                self.raw_sign("", &p),
                "malformed_token",
            ),
            (
                "header encoded twice",
                self.raw_sign(&b64(&h), &p),
                "malformed_header",
            ),
            (
                "payload encoded twice",
                self.raw_sign(&h, &b64(&p)),
                "malformed_claims",
            ),
        ];
        for (name, token, code) in list {
            cases.bearer(F, name, &token, code);
        }
        cases.bearer(
            F,
            "signature with '=' padding",
            &format!("{h}.{p}.{s}=="),
            "malformed_token",
        );
        // Unless this signature happens to have neither '-' nor '_' (about 1 in 50,000).
        if sig_std != s {
            cases.bearer(
                F,
                "signature in the standard alphabet",
                &format!("{h}.{p}.{sig_std}"),
                "malformed_token",
            );
        }
        if s.len() % 4 != 0 {
            cases.bearer(
                F,
                "signature with non-canonical trailing bits",
                &format!("{h}.{p}.{}", noncanonical(&s)),
                "malformed_token",
            );
        }

        const F31: &str = "ATK-31 not UTF-8 JSON";
        let header = self.raw_header();
        let utf16 =
            |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let bom = |text: &str| -> Vec<u8> { [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat() };
        let (mh, mc, mt) = ("malformed_header", "malformed_claims", "malformed_token");
        let with_x = |json: &str, raw: &[u8]| -> Vec<u8> {
            [&json.as_bytes()[..json.len() - 1], b",\"x\":", raw, b"}"].concat()
        };
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let headers: Vec<(&str, Vec<u8>, &'static str)> = vec![
            ("an array", b"[]".to_vec(), mh),
            ("a string", b"\"RS256\"".to_vec(), mh),
            ("a number", b"1".to_vec(), mh),
            ("null", b"null".to_vec(), mh),
            ("an empty object", b"{}".to_vec(), mh),
            ("with a BOM", bom(&header), mh),
            ("UTF-16LE", utf16(&header), mh),
            (
                "UTF-16LE with BOM",
                [&[0xff, 0xfe][..], &utf16(&header)].concat(),
                mt,
            ),
            ("with invalid UTF-8", with_x(&header, b"\"\xc3\x28\""), mt),
            ("with an overlong '/'", with_x(&header, b"\"\xc0\xaf\""), mt),
            (
                "with a lone surrogate escape",
                with_x(&header, br#""\ud800""#),
                mh,
            ),
            (
                "with trailing data",
                format!("{header} {{}}").into_bytes(),
                mh,
            ),
            (
                "with a trailing comma",
                format!("{},}}", &header[..header.len() - 1]).into_bytes(),
                mh,
            ),
            (
                "with single quotes",
                header.replace('"', "'").into_bytes(),
                mh,
            ),
            (
                "nested 1000 deep",
                with_x(&header, deep(1000).as_bytes()),
                mh,
            ),
        ];
        for (name, bytes, code) in headers {
            let token = self.raw_sign(&b64(bytes), &b64(&claims));
            cases.bearer(F31, format!("header {name}"), &token, code);
        }
        let payloads: Vec<(&str, Vec<u8>, &'static str)> = vec![
            ("an array", b"[]".to_vec(), mc),
            ("a string", b"\"claims\"".to_vec(), mc),
            ("a number", b"42".to_vec(), mc),
            ("null", b"null".to_vec(), mc),
            ("with a BOM", bom(&claims), mc),
            ("UTF-16LE", utf16(&claims), mc),
            (
                "UTF-16LE with BOM",
                [&[0xff, 0xfe][..], &utf16(&claims)].concat(),
                mt,
            ),
            ("with invalid UTF-8", with_x(&claims, b"\"\xc3\x28\""), mt),
            (
                "with a lone surrogate escape",
                with_x(&claims, br#""\udc00""#),
                mc,
            ),
            (
                "with trailing data",
                format!("{claims} {{}}").into_bytes(),
                mc,
            ),
            (
                "with a comment",
                format!("/* c */{claims}").into_bytes(),
                mc,
            ),
            ("with NaN", with_x(&claims, b"NaN"), mc),
            ("with Infinity", with_x(&claims, b"Infinity"), mc),
            (
                "with a raw control character",
                with_x(&claims, b"\"a\x01b\""),
                mc,
            ),
            (
                "with a trailing comma",
                format!("{},}}", &claims[..claims.len() - 1]).into_bytes(),
                mc,
            ),
            (
                "nested 10000 deep",
                with_x(&claims, deep(10_000).as_bytes()),
                mc,
            ),
            (
                "with a 40 KB number",
                with_x(&claims, "9".repeat(40_000).as_bytes()),
                mc,
            ),
            // Nothing to decode: a detached payload (RFC 7515 Appendix F).
            ("empty", Vec::new(), "unsupported_token_format"),
        ];
        for (name, bytes, code) in payloads {
            let token = self.raw_sign(&b64(&header), &b64(bytes));
            cases.bearer(F31, format!("claims {name}"), &token, code);
        }
    }

    /// ATK-12, ATK-26, ATK-27, ATK-28: `crit`, JWE, JWS JSON serialization, nested and
    /// compressed content, detached payloads, wrong segment counts.
    fn formats(&self, cases: &mut Cases) {
        const F12: &str = "ATK-12 crit";
        for (name, crit, extra) in [
            (
                "unknown extension present",
                json!(["x-unknown"]),
                Some(("x-unknown", json!(MARK_CRIT))),
            ),
            ("empty list", json!([]), None),
            ("a registered name", json!(["alg"]), None),
            ("a name not in the header", json!(["exp"]), None),
            (
                "b64 with b64 false",
                json!(["b64"]),
                Some(("b64", json!(false))),
            ),
            (
                "a duplicate entry",
                json!(["x-a", "x-a"]),
                Some(("x-a", json!(1))),
            ),
            ("a string", json!("alg"), None),
            ("null", Value::Null, None),
            ("an object", json!({"x-unknown": true}), None),
        ] {
            let mut builder = self.tb().header("crit", crit);
            if let Some((name, value)) = extra {
                builder = builder.header(name, value);
            }
            cases.bearer(
                F12,
                format!("crit {name}"),
                &builder.sign(),
                "unsupported_critical_header",
            );
        }
        cases.bearer(
            F12,
            "crit with alg none",
            &with_signature(
                &self
                    .tb()
                    .header("alg", "none")
                    .header("crit", ["exp"])
                    .sign(),
                "",
            ),
            "unsupported_critical_header",
        );

        const F27: &str = "ATK-26..28 formats";
        let fmt = "unsupported_token_format";
        let jwe_header =
            b64(json!({"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"test-rs256-1"}).to_string());
        let zip_header = b64(json!({"alg":"dir","enc":"A128GCM","zip":"DEF"}).to_string());
        let filler = |n: usize| b64(vec![0x5a; n]);
        for (name, token) in [
            (
                "JWE, five segments",
                format!(
                    "{jwe_header}.{}.{}.{}.{}",
                    filler(256),
                    filler(12),
                    filler(64),
                    filler(16)
                ),
            ),
            (
                "JWE with zip DEF, empty key",
                format!(
                    "{zip_header}..{}.{}.{}",
                    filler(12),
                    filler(4096),
                    filler(16)
                ),
            ),
            ("five empty segments", "....".to_owned()),
            (
                "JWE header, three segments",
                format!("{jwe_header}.{}.{}", filler(64), filler(16)),
            ),
        ] {
            cases.bearer(F27, name, &token, fmt);
        }
        for (name, header, value) in [
            ("enc in a JWS header", "enc", json!("A256GCM")),
            ("zip in a JWS header", "zip", json!("DEF")),
            ("nested JWT (cty JWT)", "cty", json!("JWT")),
            ("nested JWT (cty jwt)", "cty", json!("jwt")),
            ("cty of another type", "cty", json!("application/json")),
            ("unencoded payload (b64 false)", "b64", json!(false)),
        ] {
            cases.bearer(F27, name, &self.tb().header(header, value).sign(), fmt);
        }
        let inner = self.valid();
        let nested_header = b64(
            json!({"alg":"RS256","kid":self.raw_key.kid(),"typ":"at+jwt","cty":"JWT"}).to_string(),
        );
        cases.bearer(
            F27,
            "nested JWT, the inner token as the payload",
            &self.raw_sign(&nested_header, &b64(&inner)),
            fmt,
        );
        let (h, p, s) = split3(&inner);
        for (name, token, code) in [
            ("detached payload", format!("{h}..{s}"), fmt),
            ("two segments", format!("{h}.{p}"), "malformed_token"),
            ("one segment", h.to_owned(), "malformed_token"),
            (
                "four segments",
                format!("{h}.{p}.{s}.{s}"),
                "malformed_token",
            ),
            (
                "six segments",
                format!("{h}.{p}.{s}.{s}.{s}.{s}"),
                "malformed_token",
            ),
            ("only dots", "..".to_owned(), "malformed_token"),
            (
                "JWS JSON serialization as one base64url segment",
                b64(json!({"payload": p, "protected": h, "signature": s}).to_string()),
                "malformed_token",
            ),
        ] {
            cases.bearer(F27, name, &token, code);
        }
        // JSON serializations are not RFC 6750 b64tokens: the request is malformed (400).
        let general =
            json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
        let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
        let dotted =
            json!({"payload": format!("{p}."), "protected": format!("{h}."), "signature": s})
                .to_string();
        for (name, token) in [
            ("JWS JSON general serialization", &general),
            ("JWS JSON flattened serialization", &flattened),
            ("JWS JSON with exactly two dots", &dotted),
        ] {
            cases.bearer(F27, name, token, "malformed_credentials");
        }
        cases.http(
            F27,
            "JWS JSON flattened serialization in the cookie",
            App::Cookie,
            Route::Open,
            "",
            &[(
                "cookie",
                format!("at={}", flattened.replace(';', "")).as_bytes(),
            )],
            Expect::Refused("malformed_credentials"),
        );
    }

    /// ATK-32, ATK-33: tokens of other kinds; Microsoft Graph tokens.
    fn types(&self, cases: &mut Cases) {
        const F: &str = "ATK-32/33 token types";
        for typ in [
            "dpop+jwt",
            "application/dpop+jwt",
            "DPOP+JWT",
            "secevent+jwt",
            "logout+jwt",
            "JWE",
            "JOSE",
            "JOSE+JSON",
            "id_token",
            "jwt+x",
            "",
            " JWT",
            "at+jwt ",
            "token-introspection+jwt",
            "application/json",
            "at+jwt;q=1",
        ] {
            cases.bearer(
                F,
                format!("typ {typ:?}"),
                &self.tb().header("typ", typ).sign(),
                "invalid_token_type",
            );
        }
        for (name, typ) in [
            ("typ a number", json!(1)),
            ("typ null", Value::Null),
            ("typ an array", json!(["at+jwt"])),
        ] {
            cases.bearer(
                F,
                name,
                &self.tb().header("typ", typ).sign(),
                "malformed_header",
            );
        }
        let claims = object(&self.raw_claims());
        for (name, typ) in [
            ("typ JWT under RFC 9068", Some("JWT")),
            (
                "typ application/jwt under RFC 9068",
                Some("application/jwt"),
            ),
            ("typ absent under RFC 9068", None),
        ] {
            let header = match typ {
                Some(typ) => format!(
                    r#"{{"alg":"RS256","typ":"{typ}","kid":{}}}"#,
                    json_str(self.raw_key.kid())
                ),
                None => format!(
                    r#"{{"alg":"RS256","kid":{}}}"#,
                    json_str(self.raw_key.kid())
                ),
            };
            cases.bearer(
                F,
                format!("raw issuer, {name}"),
                &self.raw_token(&header, &claims),
                "invalid_token_type",
            );
        }
        let id_token = self
            .tb()
            .header("typ", "JWT")
            .claim("nonce", MARK_NONCE)
            .claim("at_hash", "x8m7Hh1n4cQ0q1mN");
        cases.bearer(
            F,
            "ID token (nonce, at_hash) for a shared registration",
            &id_token.sign(),
            "not_an_access_token",
        );
        cases.bearer(
            F,
            "ID token with c_hash",
            &self.tb().claim("c_hash", "x8m7Hh1n4cQ0q1mN").sign(),
            "not_an_access_token",
        );
        cases.bearer(
            F,
            "ID token with s_hash",
            &self.tb().claim("s_hash", "x8m7Hh1n4cQ0q1mN").sign(),
            "not_an_access_token",
        );
        cases.bearer(
            F,
            "logout token (events)",
            &self
                .tb()
                .claim(
                    "events",
                    json!({"http://schemas.openid.net/event/backchannel-logout": {}}),
                )
                .sign(),
            "not_an_access_token",
        );
        cases.bearer(
            F,
            "token_use id (Cognito ID token)",
            &self.tb().claim("token_use", "id").sign(),
            "not_an_access_token",
        );
        cases.bearer(
            F,
            "Graph token (header nonce)",
            &self.tb().header("nonce", MARK_NONCE).sign(),
            "unsupported_token_format",
        );
        cases.bearer(
            F,
            "Graph token (header nonce, Graph aud)",
            &self
                .tb()
                .header("nonce", MARK_NONCE)
                .audience("https://graph.microsoft.com")
                .sign(),
            "unsupported_token_format",
        );
        cases.bearer(
            F,
            "Graph audience",
            &self.tb().audience("https://graph.microsoft.com").sign(),
            "invalid_audience",
        );
        cases.bearer(
            F,
            "Graph application id audience",
            &self
                .tb()
                .audience("00000003-0000-0000-c000-000000000000")
                .sign(),
            "invalid_audience",
        );
    }

    /// ATK-21, ATK-22, ATK-45: audience and issuer confusion.
    fn audience_and_issuer(&self, cases: &mut Cases) {
        const F: &str = "ATK-21/45 audience";
        let ours = self.issuer.audience();
        cases.bearer(
            F,
            "aud missing",
            &self.tb().without_claim("aud").sign(),
            "missing_claim",
        );
        for (name, aud, code) in [
            ("aud []", json!([]), "invalid_audience"),
            ("aud [123]", json!([123]), "malformed_claims"),
            ("aud [[ours]]", json!([[ours]]), "malformed_claims"),
            ("aud [null, ours]", json!([null, ours]), "malformed_claims"),
            (
                "aud uppercased",
                json!(ours.to_uppercase()),
                "invalid_audience",
            ),
            (
                "aud with a suffix",
                json!(format!("{ours}.evil")),
                "invalid_audience",
            ),
            (
                "aud with a character more",
                json!(format!("{ours}x")),
                "invalid_audience",
            ),
            (
                "aud a prefix of ours",
                json!(&ours[..ours.len() - 2]),
                "invalid_audience",
            ),
            (
                "aud with a trailing space",
                json!(format!("{ours} ")),
                "invalid_audience",
            ),
            (
                "aud with a leading space",
                json!(format!(" {ours}")),
                "invalid_audience",
            ),
            (
                "aud with a trailing slash",
                json!(format!("{ours}/")),
                "invalid_audience",
            ),
            (
                "aud with a NUL",
                json!(format!("{ours}\u{0}")),
                "invalid_audience",
            ),
            (
                "aud of the other issuer",
                json!(RAW_AUDIENCE),
                "invalid_audience",
            ),
            (
                "aud others only",
                json!(["api://other", ours.to_uppercase()]),
                "invalid_audience",
            ),
            (
                "aud the issuer",
                json!(self.issuer.issuer()),
                "invalid_audience",
            ),
            ("aud the client", json!("test-client"), "invalid_audience"),
        ] {
            cases.bearer(F, name, &self.tb().claim("aud", aud).sign(), code);
        }
        // ATK-45 (no aud, Keycloak style) for the raw issuer: "raw issuer: aud absent" in the
        // claim matrix.

        const F22: &str = "ATK-22 issuer";
        let iss = self.issuer.issuer();
        let port = iss.rsplit(':').next().unwrap();
        let port_plus: u16 = port.parse::<u16>().unwrap().wrapping_add(1);
        cases.bearer(
            F22,
            "iss missing",
            &self.tb().without_claim("iss").sign(),
            "missing_claim",
        );
        for (name, value) in [
            ("with a trailing slash", format!("{iss}/")),
            ("uppercase scheme", iss.replace("http://", "HTTP://")),
            ("localhost", format!("http://localhost:{port}")),
            ("with a trailing space", format!("{iss} ")),
            ("with a leading space", format!(" {iss}")),
            ("another port", format!("http://127.0.0.1:{port_plus}")),
            (
                "discovery URL",
                format!("{iss}/.well-known/openid-configuration"),
            ),
            ("with a fragment", format!("{iss}#")),
            ("with a query", format!("{iss}?x=1")),
            ("https", iss.replace("http://", "https://")),
            ("short IPv4", format!("http://127.1:{port}")),
            ("IPv6 loopback", format!("http://[::1]:{port}")),
            ("decimal IPv4", format!("http://2130706433:{port}")),
            ("with userinfo", format!("http://user@127.0.0.1:{port}")),
            ("with a NUL", format!("{iss}\u{0}")),
        ] {
            cases.bearer(
                F22,
                format!("iss {name}"),
                &self.tb().claim("iss", value).sign(),
                "untrusted_issuer",
            );
        }
    }

    /// ATK-18 to ATK-20: lifetimes beyond the leeway.
    fn lifetimes(&self, cases: &mut Cases) {
        const F: &str = "ATK-18..20 lifetime";
        let now = now();
        for (name, builder, code) in [
            ("expired an hour ago", self.tb().expired(), "token_expired"),
            (
                "exp = now - leeway - 1",
                self.tb().claim("exp", now - LEEWAY - 1),
                "token_expired",
            ),
            (
                "exp = iat = now - 10 minutes",
                self.tb().claim("iat", now - 600).claim("exp", now - 600),
                "token_expired",
            ),
            (
                "exp as a numeric string",
                self.tb().claim("exp", "1999999999"),
                "malformed_claims",
            ),
            (
                "exp after year 9999",
                self.tb().claim("exp", MAX_NUMERIC_DATE + 1),
                "malformed_claims",
            ),
            (
                "exp 1e300",
                self.tb().claim("exp", 1e300),
                "malformed_claims",
            ),
            (
                "nbf = now + 10 minutes",
                self.tb().claim("nbf", now + 600),
                "token_not_yet_valid",
            ),
            (
                "nbf = now + leeway + 60",
                self.tb().claim("nbf", now + LEEWAY + 60),
                "token_not_yet_valid",
            ),
            (
                "nbf as a string",
                self.tb().claim("nbf", (now - 5).to_string()),
                "malformed_claims",
            ),
            (
                "iat = now + 10 minutes",
                self.tb().claim("iat", now + 600),
                "issued_in_future",
            ),
            (
                "iat = now + leeway + 60",
                self.tb().claim("iat", now + LEEWAY + 60),
                "issued_in_future",
            ),
            (
                "iat as a string",
                self.tb().claim("iat", now.to_string()),
                "malformed_claims",
            ),
            (
                "expired and not yet valid",
                self.tb().claim("exp", now - 600).claim("nbf", now + 600),
                "token_expired",
            ),
        ] {
            cases.bearer(F, name, &builder.sign(), code);
        }
        // `iat` missing under RFC 9068: "raw issuer: iat absent" in the claim matrix.
    }

    /// ATK-36, ATK-37: key-bound tokens as bearer tokens; DPoP beside a bearer token.
    fn key_bound(&self, cases: &mut Cases) {
        const F: &str = "ATK-36/37 key-bound";
        let scb = "sender_constrained_token";
        let jkt = self.tb().claim("cnf", json!({"jkt": MARK_JKT})).sign();
        for (name, cnf) in [
            ("cnf.jkt (DPoP) as Bearer", json!({"jkt": MARK_JKT})),
            (
                "cnf.x5t#S256 (mTLS) as Bearer",
                json!({"x5t#S256": MARK_JKT}),
            ),
            ("cnf empty", json!({})),
            (
                "cnf with a jwk",
                json!({"jwk": {"kty": "EC", "crv": "P-256", "x": MARK_JKT, "y": MARK_JKT}}),
            ),
        ] {
            cases.bearer(F, name, &self.tb().claim("cnf", cnf).sign(), scb);
        }
        let proof = format!("eyJ0eXAiOiJkcG9wK2p3dCJ9.{MARK_DPOP}.c2ln");
        let bearer = format!("Bearer {jkt}");
        let dpop_scheme = format!("DPoP {jkt}");
        let valid = format!("Bearer {}", self.valid());
        for (name, headers, code) in [
            (
                "Bearer cnf token with a DPoP proof",
                vec![
                    ("authorization", bearer.as_bytes()),
                    ("dpop", proof.as_bytes()),
                ],
                "multiple_tokens",
            ),
            (
                "Bearer valid token with a DPoP proof",
                vec![
                    ("authorization", valid.as_bytes()),
                    ("dpop", proof.as_bytes()),
                ],
                "multiple_tokens",
            ),
            (
                "Bearer valid token with two DPoP proofs",
                vec![
                    ("authorization", valid.as_bytes()),
                    ("dpop", proof.as_bytes()),
                    ("dpop", proof.as_bytes()),
                ],
                "multiple_tokens",
            ),
            (
                "Bearer valid token with an empty DPoP header",
                vec![
                    ("authorization", valid.as_bytes()),
                    ("dpop", b"".as_slice()),
                ],
                "multiple_tokens",
            ),
            (
                "DPoP scheme with its proof (not supported: no bearer credential)",
                vec![
                    ("authorization", dpop_scheme.as_bytes()),
                    ("dpop", proof.as_bytes()),
                ],
                "missing_token",
            ),
            (
                "DPoP scheme without a proof",
                vec![("authorization", dpop_scheme.as_bytes())],
                "missing_token",
            ),
            (
                "a DPoP proof alone",
                vec![("dpop", proof.as_bytes())],
                "missing_token",
            ),
        ] {
            cases.http(
                F,
                name,
                App::Header,
                Route::Open,
                "",
                &headers,
                Expect::Refused(code),
            );
        }
        // A DPoP proof (typ dpop+jwt, embedded jwk, no iss) presented as the access token.
        let attackers_proof = {
            let key = TestKey::generate(Algorithm::ES256, "proof");
            key.token_raw(
                &json!({"typ":"dpop+jwt","alg":"ES256","jwk":key.jwk_without_alg()}).to_string(),
                &json!({"jti": MARK_JTI, "htm": "GET", "htu": "http://127.0.0.1/scan",
                        "iat": now()})
                .to_string(),
            )
        };
        cases.bearer(
            F,
            "a DPoP proof as the bearer token",
            &attackers_proof,
            "missing_claim",
        );
    }

    /// ATK-39: more than one credential, on both APIs.
    fn multiple_credentials(&self, cases: &mut Cases) {
        const F: &str = "ATK-39 several credentials";
        let good = self.valid();
        let other = self.valid();
        let bearer = format!("Bearer {good}");
        let bearer2 = format!("Bearer {other}");
        let none = format!(
            "Bearer {}",
            with_signature(&self.tb().header("alg", "none").sign(), "")
        );
        let mt = Expect::Refused("multiple_tokens");
        let auth = "authorization";
        let two_in_one = format!("Bearer {good}, Bearer {other}");
        let fifty: Vec<(&str, &[u8])> = (0..50).map(|_| (auth, bearer.as_bytes())).collect();
        for (name, headers, expect) in [
            (
                "two Authorization headers, same token",
                vec![(auth, bearer.as_bytes()), (auth, bearer.as_bytes())],
                mt,
            ),
            (
                "two Authorization headers, two tokens",
                vec![(auth, bearer.as_bytes()), (auth, bearer2.as_bytes())],
                mt,
            ),
            (
                "Bearer and Basic",
                vec![
                    (auth, bearer.as_bytes()),
                    (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
                ],
                mt,
            ),
            (
                "Basic and Bearer",
                vec![
                    (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
                    (auth, bearer.as_bytes()),
                ],
                mt,
            ),
            (
                "Bearer and DPoP schemes",
                vec![
                    (auth, bearer.as_bytes()),
                    (auth, format!("DPoP {good}").as_bytes()),
                ],
                mt,
            ),
            (
                "Bearer and an empty Authorization",
                vec![(auth, bearer.as_bytes()), (auth, b"".as_slice())],
                mt,
            ),
            (
                "two Basic headers",
                vec![
                    (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
                    (auth, b"Basic YWRtaW46YWRtaW4=".as_slice()),
                ],
                mt,
            ),
            (
                "a hostile and a valid token",
                vec![(auth, none.as_bytes()), (auth, bearer.as_bytes())],
                mt,
            ),
            ("50 Authorization headers", fifty, mt),
            (
                "two tokens in one header",
                vec![(auth, two_in_one.as_bytes())],
                Expect::Refused("malformed_credentials"),
            ),
        ] {
            cases.http(F, name, App::Header, Route::Open, "", &headers, expect);
        }
        for (name, query, with_header, code) in [
            (
                "header and ?access_token=",
                format!("?access_token={other}"),
                true,
                "multiple_tokens",
            ),
            (
                "header and an empty ?access_token",
                "?access_token=".to_owned(),
                true,
                "multiple_tokens",
            ),
            (
                "header and ?access_token without value",
                "?access_token".to_owned(),
                true,
                "multiple_tokens",
            ),
            (
                "header and ?access%5Ftoken=",
                format!("?access%5Ftoken={other}"),
                true,
                "multiple_tokens",
            ),
            (
                "header and ?%61ccess_token=",
                format!("?%61ccess_token={other}"),
                true,
                "multiple_tokens",
            ),
            (
                "header and access_token among other parameters",
                format!("?a=1&access_token={other}&b=2"),
                true,
                "multiple_tokens",
            ),
            (
                "?access_token= only",
                format!("?access_token={good}"),
                false,
                "token_in_query",
            ),
            (
                "?access_token twice",
                format!("?access_token={good}&access_token={other}"),
                false,
                "token_in_query",
            ),
            (
                "?access%5Ftoken= only",
                format!("?access%5Ftoken={good}"),
                false,
                "token_in_query",
            ),
            (
                "?access_token with a plus-encoded name",
                format!("?access+token=x&access_token={good}"),
                false,
                "token_in_query",
            ),
            (
                "?Access_Token= (another name: no credential)",
                format!("?Access_Token={good}"),
                false,
                "missing_token",
            ),
        ] {
            let headers: Vec<(&str, &[u8])> = if with_header {
                vec![(auth, bearer.as_bytes())]
            } else {
                Vec::new()
            };
            cases.http(
                F,
                name,
                App::Header,
                Route::Open,
                &query,
                &headers,
                Expect::Refused(code),
            );
        }
        // Cookie and header.
        let cookie = format!("at={good}");
        let cookie_twice = format!("at={good}; at={other}");
        let cookie_quoted_twice = format!("at=\"{good}\"; a=1; at={good}");
        let tampered = self.tb().tampered().sign();
        for (name, headers, query, code) in [
            (
                "header and cookie",
                vec![(auth, bearer.as_bytes()), ("cookie", cookie.as_bytes())],
                "",
                "multiple_tokens",
            ),
            (
                "cookie and header, a hostile header",
                vec![("cookie", cookie.as_bytes()), (auth, none.as_bytes())],
                "",
                "multiple_tokens",
            ),
            (
                "the cookie twice in one header",
                vec![("cookie", cookie_twice.as_bytes())],
                "",
                "multiple_tokens",
            ),
            (
                "the cookie quoted and plain",
                vec![("cookie", cookie_quoted_twice.as_bytes())],
                "",
                "multiple_tokens",
            ),
            (
                "two Cookie headers",
                vec![
                    ("cookie", cookie.as_bytes()),
                    ("cookie", format!("at={other}").as_bytes()),
                ],
                "",
                "multiple_tokens",
            ),
            (
                "cookie and ?access_token=",
                vec![("cookie", cookie.as_bytes())],
                "?access_token=x",
                "multiple_tokens",
            ),
            (
                "cookie and a DPoP proof",
                vec![("cookie", cookie.as_bytes()), ("dpop", b"proof".as_slice())],
                "",
                "multiple_tokens",
            ),
            (
                "cookie, header and query",
                vec![("cookie", cookie.as_bytes()), (auth, bearer.as_bytes())],
                "?access_token=x",
                "multiple_tokens",
            ),
            (
                "a tampered token in the cookie",
                vec![("cookie", format!("a=1; at={tampered}; b=2").as_bytes())],
                "",
                "invalid_signature",
            ),
            (
                "alg none in the cookie",
                vec![("cookie", format!("at={}", &none[7..]).as_bytes())],
                "",
                "unsupported_algorithm",
            ),
            (
                "a cookie value with a space",
                vec![("cookie", format!("at={} x", &good[..20]).as_bytes())],
                "",
                "malformed_credentials",
            ),
            (
                "a cookie value with a comma",
                vec![(
                    "cookie",
                    format!("at={},{}", &good[..20], &good[20..40]).as_bytes(),
                )],
                "",
                "malformed_credentials",
            ),
            (
                "an empty cookie and a tampered header",
                vec![
                    ("cookie", b"at=".as_slice()),
                    (auth, format!("Bearer {tampered}").as_bytes()),
                ],
                "",
                "invalid_signature",
            ),
            (
                "the cookie under another name (AT)",
                vec![("cookie", format!("AT={good}").as_bytes())],
                "",
                "missing_token",
            ),
            ("no credentials at all", vec![], "", "missing_token"),
        ] {
            cases.http(
                F,
                format!("cookie API: {name}"),
                App::Cookie,
                Route::Open,
                query,
                &headers,
                Expect::Refused(code),
            );
        }
        // A token in a form body is never read: no credential.
        cases.push(
            F,
            "access_token in a form body",
            Wire::Http {
                app: App::Header,
                path: "/scan".to_owned(),
                headers: Vec::new(),
                form: Some(format!("access_token={good}")),
            },
            Expect::Refused("missing_token"),
            credential_secrets(&good),
        );
    }

    /// ATK-40: scheme and credential syntax.
    fn scheme_and_syntax(&self, cases: &mut Cases) {
        const F: &str = "ATK-40 scheme and syntax";
        let good = self.valid();
        let tampered = self.tb().tampered().sign();
        let mc = "malformed_credentials";
        let e_acute = [b"Bearer ".as_slice(), "\u{e9}".as_bytes(), good.as_bytes()].concat();
        let invalid_utf8 = [b"Bearer ".as_slice(), &[0xff, 0xfe], good.as_bytes()].concat();
        let list: Vec<(&str, Vec<u8>, &'static str)> = vec![
            ("no Authorization", Vec::new(), "missing_token"),
            ("an empty Authorization", b"".to_vec(), "missing_token"),
            (
                "Basic",
                b"Basic dXNlcjpwYXNzd29yZA==".to_vec(),
                "missing_token",
            ),
            (
                "Digest",
                b"Digest username=\"a\", response=\"b\"".to_vec(),
                "missing_token",
            ),
            (
                "Negotiate",
                b"Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg".to_vec(),
                "missing_token",
            ),
            (
                "Token scheme",
                format!("Token {good}").into_bytes(),
                "missing_token",
            ),
            (
                "JWT scheme",
                format!("JWT {good}").into_bytes(),
                "missing_token",
            ),
            (
                "Bearerx scheme",
                format!("Bearerx {good}").into_bytes(),
                "missing_token",
            ),
            (
                "Bearer- scheme",
                format!("Bearer- {good}").into_bytes(),
                "missing_token",
            ),
            (
                "Cyrillic lookalike of Bearer",
                format!("B\u{435}arer {good}").into_bytes(),
                "missing_token",
            ),
            (
                "the token without a scheme",
                good.clone().into_bytes(),
                "missing_token",
            ),
            ("Bearer alone", b"Bearer".to_vec(), mc),
            ("Bearer and spaces", b"Bearer    ".to_vec(), mc),
            (
                "Bearer with a tab",
                format!("Bearer\t{good}").into_bytes(),
                mc,
            ),
            (
                "Bearer with a space and a tab",
                format!("Bearer \t{good}").into_bytes(),
                mc,
            ),
            (
                "Bearer with a comma",
                format!("Bearer,{good}").into_bytes(),
                mc,
            ),
            ("Bearer with '='", format!("Bearer={good}").into_bytes(), mc),
            (
                "Bearer with a colon",
                format!("Bearer:{good}").into_bytes(),
                mc,
            ),
            (
                "a quoted token",
                format!("Bearer \"{good}\"").into_bytes(),
                mc,
            ),
            (
                "a token with an inner space",
                format!("Bearer {} {}", &good[..30], &good[30..]).into_bytes(),
                mc,
            ),
            (
                "a token with '!'",
                format!("Bearer {}!", &good[..good.len() - 1]).into_bytes(),
                mc,
            ),
            (
                "a token with '@'",
                format!("Bearer @{good}").into_bytes(),
                mc,
            ),
            (
                "a token with '%'",
                format!("Bearer {}%2E{}", &good[..20], &good[20..]).into_bytes(),
                mc,
            ),
            (
                "a token with '*'",
                format!("Bearer *{good}").into_bytes(),
                mc,
            ),
            (
                "a token with '=' inside",
                format!("Bearer {}={}", &good[..20], &good[20..]).into_bytes(),
                mc,
            ),
            (
                "a token with a trailing auth-param",
                format!("Bearer {good}, realm=\"x\"").into_bytes(),
                mc,
            ),
            ("Bearer token68 padding only", b"Bearer ===".to_vec(), mc),
            ("a token with UTF-8", e_acute, mc),
            ("a token with invalid UTF-8", invalid_utf8, mc),
            (
                "a token ending in '='",
                format!("Bearer {good}=").into_bytes(),
                "malformed_token",
            ),
            (
                "a token ending in '~'",
                format!("Bearer {good}~").into_bytes(),
                "malformed_token",
            ),
            (
                "a b64token that is no JWT",
                b"Bearer abc-def_ghi~jkl+mno/pqr".to_vec(),
                "malformed_token",
            ),
            (
                "mixed-case scheme, tampered token",
                format!("bEaReR {tampered}").into_bytes(),
                "invalid_signature",
            ),
        ];
        for (name, value, code) in list {
            let headers: Vec<(&str, &[u8])> = if name == "no Authorization" {
                Vec::new()
            } else {
                vec![("authorization", value.as_slice())]
            };
            cases.http(
                F,
                name,
                App::Header,
                Route::Open,
                "",
                &headers,
                Expect::Refused(code),
            );
        }
        cases.http(
            F,
            "a tampered token in an X-Access-Token header (not a source)",
            App::Header,
            Route::Open,
            "",
            &[("x-access-token", tampered.as_bytes())],
            Expect::Refused("missing_token"),
        );
    }

    /// ATK-25 and hyper's limits: oversized tokens and headers.
    fn sizes(&self, cases: &mut Cases) {
        const F: &str = "ATK-25 sizes";
        let big_claim = self.tb().claim("blob", MARK_HUGE.repeat(5000)).sign();
        let big_header = self.tb().header("x5c", [MARK_HUGE.repeat(5000)]).sign();
        for (name, token, code) in [
            (
                "64 KiB of 'a' (at the cap: judged, malformed)",
                "a".repeat(65_536),
                "malformed_token",
            ),
            ("64 KiB + 1 of 'a'", "a".repeat(65_537), "token_too_large"),
            (
                "a signed token with an 80 KB claim",
                big_claim,
                "token_too_large",
            ),
            (
                "a signed token with an 80 KB header",
                big_header,
                "token_too_large",
            ),
            ("300,000 dots", ".".repeat(300_000), "token_too_large"),
            (
                "60,000 dots (under the cap)",
                ".".repeat(60_000),
                "malformed_token",
            ),
            (
                "a 300 KB three-segment token",
                format!(
                    "{}.{}.{}",
                    "a".repeat(100_000),
                    "b".repeat(100_000),
                    "c".repeat(100_000)
                ),
                "token_too_large",
            ),
        ] {
            cases.bearer(F, name, &token, code);
        }
        let mut builder = self.tb();
        for i in 0..2000 {
            builder = builder.claim(&format!("c{i}"), i);
        }
        cases.bearer(
            F,
            "2000 claims, an unknown kid",
            &builder.header("kid", MARK_KID).sign(),
            "unknown_key",
        );
        // hyper's own limits: a request head that fills its buffer without ending, and one
        // header more than it parses. Answered by hyper (431) before any layer runs.
        let mut head = format!(
            "GET /scan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}",
            self.valid()
        )
        .into_bytes();
        head.resize(HYPER_MAX_HEAD, b'a');
        let head_token = String::from_utf8_lossy(&head[head.len() - 1000..]).into_owned();
        cases.raw_bytes(
            F,
            "a request head that fills hyper's buffer (408 KiB, unterminated)",
            App::Header,
            head,
            &[&head_token],
            Expect::Hyper(431),
        );
        // With Host and Connection, HYPER_MAX_HEADERS - 2 Authorization lines make exactly the
        // limit, one more is over it.
        let bearer = format!("Authorization: Bearer {}", self.valid());
        let token = &bearer["Authorization: Bearer ".len()..];
        let lines: Vec<&[u8]> = (0..HYPER_MAX_HEADERS - 1)
            .map(|_| bearer.as_bytes())
            .collect();
        cases.raw(
            F,
            "101 headers (99 Authorization)",
            App::Header,
            Route::Open,
            &lines,
            &[token],
            Expect::Hyper(431),
        );
        let lines: Vec<&[u8]> = (0..HYPER_MAX_HEADERS - 2)
            .map(|_| bearer.as_bytes())
            .collect();
        cases.raw(
            F,
            "100 headers (98 Authorization)",
            App::Header,
            Route::Open,
            &lines,
            &[token],
            Expect::Refused("multiple_tokens"),
        );
    }

    /// Requests a client library would refuse or tidy up, as raw bytes.
    fn raw_http(&self, cases: &mut Cases) {
        const F: &str = "raw HTTP/1.1";
        let good = self.valid();
        let tampered = self.tb().tampered().sign();
        let (open, header) = (Route::Open, App::Header);
        let line = |name: &str, value: &str| format!("{name}: {value}").into_bytes();
        let auth = line("Authorization", &format!("Bearer {good}"));
        let tokens = [good.as_str(), tampered.as_str()];
        let list: Vec<(&str, Vec<Vec<u8>>, Expect)> = vec![
            (
                "Authorization and authorization",
                vec![
                    auth.clone(),
                    line("authorization", &format!("Bearer {good}")),
                ],
                Expect::Refused("multiple_tokens"),
            ),
            (
                "AUTHORIZATION without spaces, twice",
                vec![
                    format!("AUTHORIZATION:Bearer {good}").into_bytes(),
                    format!("authorization:   Bearer {tampered}").into_bytes(),
                ],
                Expect::Refused("multiple_tokens"),
            ),
            (
                "a valid and an empty Authorization",
                vec![auth.clone(), b"Authorization:".to_vec()],
                Expect::Refused("multiple_tokens"),
            ),
            (
                "Authorization folded onto two lines (obs-fold)",
                vec![
                    b"Authorization: Bearer".to_vec(),
                    format!(" {good}").into_bytes(),
                ],
                Expect::Hyper(400),
            ),
            (
                "a space before the colon",
                vec![format!("Authorization : Bearer {good}").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "a NUL in the value",
                vec![format!("Authorization: Bearer {tampered}\0").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "a control character in the value",
                vec![format!("Authorization: Bearer \x01{good}").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "DEL in the value",
                vec![format!("Authorization: Bearer {good}\x7f").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "a bare CR in the value",
                vec![
                    format!("Authorization: Bearer {}\r{}", &good[..20], &good[20..]).into_bytes(),
                ],
                Expect::Hyper(400),
            ),
            (
                "a NUL in the header name",
                vec![format!("Authoriz\0ation: Bearer {good}").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "a header name with a space",
                vec![format!("Author ization: Bearer {good}").into_bytes()],
                Expect::Hyper(400),
            ),
            (
                "an 0xFF byte in the token",
                vec![
                    [
                        b"Authorization: Bearer ".as_slice(),
                        &good.as_bytes()[..20],
                        &[0xff],
                        &good.as_bytes()[20..],
                    ]
                    .concat(),
                ],
                Expect::Refused("malformed_credentials"),
            ),
            (
                "a tab between scheme and token",
                vec![format!("Authorization: Bearer\t{good}").into_bytes()],
                Expect::Refused("malformed_credentials"),
            ),
            (
                "a tampered token with trailing whitespace",
                vec![format!("Authorization: Bearer {tampered} \t ").into_bytes()],
                Expect::Refused("invalid_signature"),
            ),
            (
                "a tampered token with leading whitespace",
                vec![format!("Authorization:  \t Bearer {tampered}").into_bytes()],
                Expect::Refused("invalid_signature"),
            ),
            (
                "Authorization_ (another header)",
                vec![format!("Authorization_: Bearer {good}").into_bytes()],
                Expect::Refused("missing_token"),
            ),
        ];
        for (name, lines, expect) in list {
            let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            cases.raw(F, name, header, open, &lines, &tokens, expect);
        }
        let bare_lf = format!(
            "GET /scan HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer {tampered}\n\
             Connection: close\n\n"
        )
        .into_bytes();
        cases.raw_bytes(
            F,
            "bare LF line endings, tampered token",
            header,
            bare_lf,
            &tokens,
            Expect::Refused("invalid_signature"),
        );
        let http10 =
            format!("GET /scan HTTP/1.0\r\nAuthorization: Bearer {tampered}\r\n\r\n").into_bytes();
        cases.raw_bytes(
            F,
            "HTTP/1.0, tampered token",
            header,
            http10,
            &tokens,
            Expect::Refused("invalid_signature"),
        );
        let absolute = format!(
            "GET http://127.0.0.1/scan?access_token={good} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Connection: close\r\n\r\n"
        )
        .into_bytes();
        cases.raw_bytes(
            F,
            "absolute-form target with ?access_token=",
            header,
            absolute,
            &tokens,
            Expect::Refused("token_in_query"),
        );
        let cookie_lines = [
            format!("Cookie: at={good}").into_bytes(),
            format!("cookie: at={good}").into_bytes(),
        ];
        let lines: Vec<&[u8]> = cookie_lines.iter().map(Vec::as_slice).collect();
        cases.raw(
            F,
            "two Cookie lines with the same token",
            App::Cookie,
            open,
            &lines,
            &tokens,
            Expect::Refused("multiple_tokens"),
        );
    }

    /// ATK-35 and route requirements: valid tokens without the required scope get 403; hostile
    /// tokens on the scoped route are refused as anywhere else.
    fn scopes(&self, cases: &mut Cases) {
        const F: &str = "ATK-35 scope";
        let insufficient = Expect::Refused("insufficient_scope");
        for (name, builder) in [
            ("scope orders.read", self.tb()),
            ("no scope claim", self.tb().without_claim("scope")),
            ("an empty scope", self.tb().scope("")),
            (
                "scope orders.write.all",
                self.tb().scope("orders.write.all"),
            ),
            ("scope xorders.write", self.tb().scope("xorders.write")),
            ("scope orders.writex", self.tb().scope("orders.writex")),
            ("scope uppercased", self.tb().scope("ORDERS.WRITE")),
            ("scope with a tab", self.tb().scope("orders.write\t")),
            (
                "comma-separated scopes",
                self.tb().scope("orders.read,orders.write"),
            ),
            ("scope orders:write", self.tb().scope("orders:write")),
            ("the scope as a role", self.tb().roles([SCOPE])),
            (
                "the scope in another claim",
                self.tb().claim("scopes", SCOPE),
            ),
            ("scp orders.read", self.tb().claim("scp", "orders.read")),
        ] {
            cases.token(F, name, Route::Scoped, &builder.sign(), insufficient);
        }
        let mut claims = self.raw_claims();
        set(
            &mut claims,
            "scope",
            json_str("orders.read orders.write.all"),
        );
        cases.token(
            F,
            "raw issuer: scope orders.write.all",
            Route::Scoped,
            &self.raw_token(&self.raw_header(), &object(&claims)),
            insufficient,
        );
        for (name, token, code) in [
            (
                "alg none",
                with_signature(&self.tb().scope(SCOPE).header("alg", "none").sign(), ""),
                "unsupported_algorithm",
            ),
            (
                "tampered",
                self.tb().scope(SCOPE).tampered().sign(),
                "invalid_signature",
            ),
            (
                "expired",
                self.tb().scope(SCOPE).expired().sign(),
                "token_expired",
            ),
            (
                "a scope claim as an object",
                self.tb()
                    .claim("scope", json!({"orders.write": true}))
                    .sign(),
                "malformed_claims",
            ),
        ] {
            cases.token(
                F,
                format!("scoped route: {name}"),
                Route::Scoped,
                &token,
                Expect::Refused(code),
            );
        }
        cases.http(
            F,
            "scoped route: no credentials",
            App::Header,
            Route::Scoped,
            "",
            &[],
            Expect::Refused("missing_token"),
        );
    }

    /// The positive control: requests a correct validator accepts.
    fn controls(&self, cases: &mut Cases, keys: &[PublicKey]) {
        const F: &str = "control";
        let ok = Expect::Accepted;
        for alg in [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            cases.token(
                F,
                format!("valid {alg}"),
                Route::Open,
                &self.valid_alg(alg),
                ok,
            );
            cases.token(
                F,
                format!("valid {alg}, scoped"),
                Route::Scoped,
                &self.tb().alg(alg).scope(SCOPE).sign(),
                ok,
            );
        }
        cases.token(F, "raw issuer, valid", Route::Open, &self.raw_valid(), ok);
        let now = now();
        for (name, builder) in [
            ("typ JWT", self.tb().header("typ", "JWT")),
            (
                "typ AT+JWT (media types are case-insensitive)",
                self.tb().header("typ", "AT+JWT"),
            ),
            (
                "typ application/at+jwt",
                self.tb().header("typ", "application/at+jwt"),
            ),
            ("typ absent", self.tb().without_header("typ")),
            ("no kid, the one RS256 key", self.tb().without_header("kid")),
            (
                "x5t present (Entra v1)",
                self.tb().header("x5t", "bm90LWEtdGh1bWJwcmludA"),
            ),
            (
                "jku ignored",
                self.tb().header(
                    "jku",
                    self.counting_url(&format!("control-{MARK_JKU}.json")),
                ),
            ),
            (
                "x5u ignored",
                self.tb()
                    .header("x5u", self.counting_url(&format!("control-{MARK_X5U}.pem"))),
            ),
            (
                "embedded jwk ignored",
                self.tb().header("jwk", keys[0].jwk.clone()),
            ),
            (
                "aud array with ours and another",
                self.tb()
                    .claim("aud", json!(["api://other", self.issuer.audience()])),
            ),
            ("exp within the leeway", self.tb().claim("exp", now - 20)),
            ("nbf within the leeway", self.tb().claim("nbf", now + 20)),
            ("iat within the leeway", self.tb().claim("iat", now + 20)),
            (
                "exp at the end of year 9999",
                self.tb().claim("exp", MAX_NUMERIC_DATE),
            ),
            (
                "2000 claims",
                (0..2000).fold(self.tb(), |b, i| b.claim(&format!("c{i}"), i)),
            ),
        ] {
            cases.token(F, name, Route::Open, &builder.sign(), ok);
        }
        for (name, builder) in [
            (
                "scope with a double space",
                self.tb().scope("orders.read  orders.write"),
            ),
            (
                "scp string",
                self.tb().without_claim("scope").claim("scp", SCOPE),
            ),
            (
                "scp array (JWT profile)",
                self.tb().without_claim("scope").claim("scp", [SCOPE]),
            ),
            (
                "scope array (JWT profile)",
                self.tb().claim("scope", ["orders.read", SCOPE]),
            ),
        ] {
            cases.token(
                F,
                format!("scoped: {name}"),
                Route::Scoped,
                &builder.sign(),
                ok,
            );
        }
        let good = self.valid();
        let auth = "authorization";
        for (name, app, value) in [
            ("lowercase scheme", App::Header, format!("bearer {good}")),
            ("uppercase scheme", App::Header, format!("BEARER {good}")),
            ("several spaces", App::Header, format!("Bearer     {good}")),
            (
                "header on the cookie API",
                App::Cookie,
                format!("Bearer {good}"),
            ),
        ] {
            cases.http(
                F,
                name,
                app,
                Route::Open,
                "",
                &[(auth, value.as_bytes())],
                ok,
            );
        }
        let cookie = format!("a=1; at={good}; b=2");
        let quoted = format!("at=\"{good}\"");
        let bearer = format!("Bearer {good}");
        let pad = "p".repeat(50_000);
        for (name, app, headers, query) in [
            (
                "cookie",
                App::Cookie,
                vec![("cookie", cookie.as_bytes())],
                "",
            ),
            (
                "quoted cookie",
                App::Cookie,
                vec![("cookie", quoted.as_bytes())],
                "",
            ),
            (
                "cookie and Basic (not a bearer credential)",
                App::Cookie,
                vec![
                    ("cookie", cookie.as_bytes()),
                    (auth, b"Basic dXNlcjpwYXNz".as_slice()),
                ],
                "",
            ),
            (
                "empty cookie and header",
                App::Cookie,
                vec![
                    ("cookie", b"at=; x=1".as_slice()),
                    (auth, bearer.as_bytes()),
                ],
                "",
            ),
            (
                "a cookie on the header-only API",
                App::Header,
                vec![("cookie", cookie.as_bytes()), (auth, bearer.as_bytes())],
                "",
            ),
            (
                "?my_access_token is another parameter",
                App::Header,
                vec![(auth, bearer.as_bytes())],
                "?my_access_token=x",
            ),
            (
                "a 50 KB unrelated header",
                App::Header,
                vec![(auth, bearer.as_bytes()), ("x-pad", pad.as_bytes())],
                "",
            ),
        ] {
            cases.http(F, name, app, Route::Open, query, &headers, ok);
        }
        let trailing = format!("Authorization: Bearer {good}   ").into_bytes();
        cases.raw(
            F,
            "raw: trailing whitespace is not part of the value",
            App::Header,
            Route::Open,
            &[&trailing],
            &[&good],
            ok,
        );
    }
}

/// Replaces a claim's raw JSON text, or appends it.
fn set(claims: &mut Vec<(&'static str, String)>, name: &'static str, raw: String) {
    match claims.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = raw,
        None => claims.push((name, raw)),
    }
}

/// A JSON object from raw member texts, in order (duplicates and all).
fn object(members: &[(impl AsRef<str>, String)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(name, raw)| format!("\"{}\":{raw}", name.as_ref()))
        .collect();
    format!("{{{}}}", body.join(","))
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// The log check shared by both tests: none of the secrets (every credential sent by either
/// test and its segments, the key material, the planted values) is in the capture.
fn assert_secret_free(env: &Env) {
    let captured = capture::global();
    let leaked = captured.leaked(env.secrets.iter().map(String::as_str));
    eprintln!(
        "logs: {} bytes captured, {} secrets checked, {} found",
        captured.text().len(),
        env.secrets.len(),
        leaked.len()
    );
    assert!(
        leaked.is_empty(),
        "{} secrets were logged, e.g. {:?}",
        leaked.len(),
        leaked
            .iter()
            .take(5)
            .map(|s| truncate(s, 60))
            .collect::<Vec<_>>()
    );
}

#[test]
fn hostile_requests_are_refused_over_http() {
    let world = world();
    let env = world.env;
    let started = Instant::now();
    let cases: Vec<&Case> = env
        .cases
        .iter()
        .filter(|c| c.expect != Expect::Accepted)
        .collect();

    // Distinct requests, distinct names, enough of them, every family present.
    let mut names = HashSet::new();
    let mut wires = HashSet::new();
    let twice: Vec<&str> = cases
        .iter()
        .filter(|case| !names.insert(&case.name) || !wires.insert(&case.wire))
        .map(|case| case.name.as_str())
        .collect();
    assert!(
        twice.is_empty(),
        "names or requests given twice: {twice:#?}"
    );
    assert!(cases.len() >= 500, "only {} hostile requests", cases.len());
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        *families.entry(case.family).or_default() += 1;
    }

    let mismatches = world.runtime.block_on(run(env, cases.clone()));
    let elapsed = started.elapsed();
    eprintln!(
        "attack scan: {} hostile requests in {elapsed:.1?}",
        cases.len()
    );
    for (family, count) in &families {
        eprintln!("  {family:<28} {count:>4}");
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} hostile requests were not answered as expected:\n\
         {:<22} | {:<58} | {:<28} | {:<28} | problems\n{}",
        mismatches.len(),
        cases.len(),
        "family",
        "case",
        "expected",
        "got",
        mismatches.join("\n")
    );

    assert_eq!(
        env.scan_hits.load(Ordering::SeqCst),
        0,
        "a handler behind the layer ran"
    );
    assert_eq!(
        env.counted.load(Ordering::SeqCst),
        1,
        "tokengate connected to a URL named in a token (1 is the probe)"
    );
    // A flood of unknown kids and bad signatures costs at most one refresh per cooldown.
    let refreshes = env.issuer.jwks_requests() - env.jwks_requests_at_start;
    assert!(
        refreshes <= 1,
        "{refreshes} key-set fetches during the scan"
    );

    // The logs: events were recorded for the refusals, and nothing secret.
    let text = capture::global().text();
    for needle in [
        "access token rejected",
        "request refused",
        "unsupported_algorithm",
        "invalid_signature",
        "malformed_claims",
        "malformed_header",
        "unknown_key",
        "multiple_tokens",
        "token_too_large",
        "untrusted_issuer",
    ] {
        assert!(text.contains(needle), "no log event with {needle:?}");
    }
    assert_secret_free(env);
}

#[test]
fn accepted_requests_pass_through() {
    let world = world();
    let env = world.env;
    let cases: Vec<&Case> = env
        .cases
        .iter()
        .filter(|c| c.expect == Expect::Accepted)
        .collect();
    let before = env.control_hits.load(Ordering::SeqCst);
    let mismatches = world.runtime.block_on(run(env, cases.clone()));
    assert!(
        mismatches.is_empty(),
        "{} of {} accepted requests were refused:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    assert_eq!(
        env.control_hits.load(Ordering::SeqCst) - before,
        cases.len()
    );
    assert_eq!(
        env.counted.load(Ordering::SeqCst),
        1,
        "jku or x5u was fetched (1 is the probe)"
    );
    assert!(!capture::global().text().is_empty(), "nothing was captured");
    assert_secret_free(env);
}
