//! Interoperability with a real OpenID provider: panva's `oidc-provider` (an OpenID Certified
//! implementation, pinned in `tests/idp/package.json`) issues JWT access tokens through the
//! client-credentials grant, and an axum API behind `TokenLayer`, served by a real hyper server
//! on 127.0.0.1, validates them with keys found by discovery.
//!
//! Each test starts its own provider (`node tests/idp/server.mjs`, on a free port of 127.0.0.1,
//! see that file for what it issues and its test-only controls) and stops it when the test ends,
//! also when the test fails. The tests are behind the `interop` feature, so that `cargo test`
//! never needs Node; with the feature on, a missing Node or missing packages fail the tests
//! with a message saying what to install:
//!
//! ```sh
//! bash tests/idp/run.sh   # `npm ci` in tests/idp when needed, then the command below
//! cargo test --features interop --test interop
//! ```
//!
//! Every refusal is checked for its status, exact `WWW-Authenticate` value (parsed with the
//! strict RFC 9110 parser and the RFC 6750 §3 rules) and body code.
//!
//! Secret-free logs (STD-6750-8): a global subscriber captures every `tracing` event of the
//! binary at TRACE level (`tests/common/capture.rs`), installed by `Idp::start` before anything
//! else. Each test ends with `Idp::assert_logs_secret_free`: none of what it handled (every
//! access token and its segments, the client secrets, the provider's key material as fetched
//! from its `jwks_uri`, the tokens' claim values, such as the provider's per-token `marker`)
//! appears in the capture, which must hold a refusal that tokengate logged for this test.
#![cfg(feature = "interop")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde::Deserialize;
use serde_json::{Value, json};
use tokengate::axum::{Verified, VerifiedClaims};
use tokengate::{
    Algorithm, Gate, IssuerProfile, KeyCacheSettings, RequireLayer, Requirement, TokenLayer,
    TokenProfile,
};
use tokengate_testkit::{capture, challenge};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// What the provider issues (as configured in tests/idp/server.mjs).

/// The API these tests protect: a resource indicator (RFC 8707), which becomes `aud`.
const ORDERS: &str = "https://api.example.test/orders";
/// Another API of the same provider.
const BILLING: &str = "https://api.example.test/billing";

/// Every algorithm the provider has a key for.
const ALGORITHMS: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// A confidential client of the provider.
struct OAuthClient {
    id: &'static str,
    secret: &'static str,
    /// `client_secret_basic`; otherwise `client_secret_post`.
    basic: bool,
}

/// May ask for orders.read, orders.write and billing.read; holds the role `orders.admin`.
const ORDERS_SERVICE: OAuthClient = OAuthClient {
    id: "orders-service",
    secret: "orders-service-secret-3f9c2a7e61d84b0c",
    basic: true,
};

/// May ask for orders.read and reports.read; holds no role.
const REPORTING_JOB: OAuthClient = OAuthClient {
    id: "reporting-job",
    secret: "reporting-job-secret-8d1e5b2f07a94c63",
    basic: false,
};

// ---------------------------------------------------------------------------------------------
// Expected challenges (exact values).

const EXPIRED: &str =
    r#"Bearer error="invalid_token", error_description="The access token has expired.""#;
const BAD_AUDIENCE: &str = r#"Bearer error="invalid_token", error_description="The access token is not meant for this resource.""#;
const UNKNOWN_KEY: &str = r#"Bearer error="invalid_token", error_description="The access token signing key is not known.""#;
const INSUFFICIENT: &str = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.""#;

fn insufficient(scope: &str) -> String {
    format!(r#"{INSUFFICIENT}, scope="{scope}""#)
}

// ---------------------------------------------------------------------------------------------
// The provider: a node process, always stopped.

/// What to do when the provider cannot run.
const HOW_TO_RUN: &str = "the interop tests run a real OpenID provider (oidc-provider) on \
Node.js: install Node.js 20.19 or later (22 LTS recommended) and npm (Debian 13: `apt-get \
install nodejs npm`; Debian 12's packages are too old, use NodeSource), then run `bash \
tests/idp/run.sh`, which installs the provider's packages with `npm ci` and runs these tests";

fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp")
}

/// Fails the test, with what to install, unless a recent enough `node` runs.
fn require_node() {
    let output = match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!("`node --version` failed ({}): {HOW_TO_RUN}", output.status),
        Err(error) => panic!("Node.js not found (`node`: {error}): {HOW_TO_RUN}"),
    };
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let numbers: Vec<u32> = version
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let (major, minor) = (numbers[0], numbers.get(1).copied().unwrap_or(0));
    assert!(
        major > 20 || (major == 20 && minor >= 19),
        "Node.js {version} is too old for oidc-provider 9: {HOW_TO_RUN}"
    );
}

/// Fails the test, saying how to install them, unless the pinned packages are installed.
fn require_packages(dir: &Path) {
    let installed = dir.join("node_modules/oidc-provider/package.json");
    let installed = std::fs::read_to_string(&installed).unwrap_or_else(|_| {
        panic!(
            "oidc-provider is not installed in {}: run `npm ci` there, or `bash tests/idp/run.sh`, \
             which does that and then runs these tests",
            dir.display()
        )
    });
    let version = |text: &str, pointer: &str| -> String {
        let value: Value = serde_json::from_str(text).expect("a package.json");
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let pinned = std::fs::read_to_string(dir.join("package.json")).expect("tests/idp/package.json");
    let (pinned, installed) = (
        version(&pinned, "/dependencies/oidc-provider"),
        version(&installed, "/version"),
    );
    assert_eq!(
        installed,
        pinned,
        "oidc-provider {installed} is installed but {pinned} is pinned: run `npm ci` in {}",
        dir.display()
    );
}

/// The provider's process; killed when dropped, also while a failing test unwinds. (The
/// provider also exits by itself when its stdin, held here, closes.)
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A published signing key of the provider.
#[derive(Clone, Debug, Deserialize)]
struct PublishedKey {
    kid: String,
    alg: String,
}

/// The provider's JSON line on stdout once it listens.
#[derive(Deserialize)]
struct Ready {
    issuer: String,
    keys: Vec<PublishedKey>,
}

/// Requests the provider has served, but for the key sets the tests fetch themselves.
#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Stats {
    discovery: u64,
    jwks: u64,
    token: u64,
}

/// A running provider.
struct Idp {
    /// Its issuer identifier, exactly as it writes it in `iss` and in discovery.
    issuer: String,
    /// The keys it started with, one per algorithm.
    keys: Vec<PublishedKey>,
    token_endpoint: String,
    jwks_uri: String,
    http: reqwest::Client,
    /// What this test handled and must not find in the logs.
    secrets: Mutex<capture::Secrets>,
    /// Key sets fetched by `note_keys`, left out of `stats`.
    own_jwks_fetches: AtomicU64,
    _process: Process,
}

impl Idp {
    /// Starts a provider and waits until it listens (at most 20 s).
    async fn start() -> Idp {
        Idp::start_with(&[]).await
    }

    /// Starts a provider with these `server.mjs` options.
    async fn start_with(options: &[&str]) -> Idp {
        // Before anything logs.
        capture::global();
        require_node();
        let dir = idp_dir();
        require_packages(&dir);
        let child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .args(options)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start node: {error}: {HOW_TO_RUN}"));
        let mut process = Process(child);
        let stdout = process.0.stdout.take().expect("piped stdout");
        let stderr = process.0.stderr.take().expect("piped stderr");

        // The provider's stderr, shown with the output of a failing test.
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[idp] {line}");
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (ready, first_line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = ready.send(lines.next());
            // Keep the pipe drained.
            for _ in lines {}
        });
        let line =
            tokio::task::spawn_blocking(move || first_line.recv_timeout(Duration::from_secs(20)))
                .await
                .expect("the reading task");
        let line = match line {
            Ok(Some(Ok(line))) => line,
            outcome => {
                // Let the stderr reader catch up with a process that just died.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let status = process.0.try_wait().ok().flatten();
                panic!(
                    "the provider did not start ({}; exit status {status:?}); its stderr:\n{}",
                    match outcome {
                        Err(_) => "no ready line within 20 s",
                        _ => "no ready line on stdout",
                    },
                    log.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
        };
        let ready: Ready = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("unexpected ready line {line:?}: {e}"));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        let mut secrets = capture::Secrets::default();
        for client in [&ORDERS_SERVICE, &REPORTING_JOB] {
            secrets.add(client.secret);
        }
        let mut idp = Idp {
            issuer: ready.issuer,
            keys: ready.keys,
            token_endpoint: String::new(),
            jwks_uri: String::new(),
            http,
            secrets: Mutex::new(secrets),
            own_jwks_fetches: AtomicU64::new(0),
            _process: process,
        };
        let discovery = idp.discovery().await;
        let endpoint = |name: &str| discovery[name].as_str().expect(name).to_owned();
        idp.token_endpoint = endpoint("token_endpoint");
        idp.jwks_uri = endpoint("jwks_uri");
        idp.note_keys().await;
        idp
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, capture::Secrets> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the key material the provider publishes now to the secrets.
    async fn note_keys(&self) {
        let response = self
            .http
            .get(&self.jwks_uri)
            .send()
            .await
            .expect("the JWKS");
        self.own_jwks_fetches.fetch_add(1, Ordering::SeqCst);
        assert_eq!(response.status(), StatusCode::OK);
        let jwks = response.text().await.unwrap();
        self.secrets().jwks(&jwks);
    }

    /// The log check that ends every test. tokengate first refuses a token of this provider
    /// with an altered signature (logging `access token rejected` with this issuer), so that
    /// the check cannot pass on a log without this test's events; then none of the secrets
    /// this test handled may be in the capture (which holds the events of every test so far).
    async fn assert_logs_secret_free(&self) {
        // ES256: published with `alg` by every provider configuration.
        let token = self.ask(&ORDERS_SERVICE).alg(Algorithm::ES256).send().await;
        let forged = altered_signature(&token);
        self.secrets().token(&forged);
        let rejection = gate(profile(self), key_cache())
            .validate(&forged)
            .await
            .expect_err("an altered signature");
        assert_eq!(rejection.code(), "invalid_signature");
        let refusal = format!(
            "access token rejected code=\"invalid_signature\" issuer={}\n",
            self.issuer
        );
        capture::assert_secret_free(&self.secrets(), &[&refusal]);
    }

    /// The discovery document, fetched as any client would.
    async fn discovery(&self) -> Value {
        self.get_json(&format!("{}/.well-known/openid-configuration", self.issuer))
            .await
    }

    async fn get_json(&self, url: &str) -> Value {
        let response = self.http.get(url).send().await.expect("a response");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        serde_json::from_str(&response.text().await.unwrap()).expect("JSON")
    }

    /// The key the provider started with for `alg`.
    fn key(&self, alg: Algorithm) -> &PublishedKey {
        self.keys
            .iter()
            .find(|key| key.alg == alg.name())
            .expect("a key for every algorithm")
    }

    async fn admin(&self, method: reqwest::Method, path: &str) -> Value {
        let url = format!("{}/admin/{path}", self.issuer);
        let response = self.http.request(method, url).send().await.expect("admin");
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "admin {path}: {status} {body}");
        serde_json::from_str(&body).expect("admin JSON")
    }

    /// Generates and publishes a new signing key; its `kid`.
    async fn add_key(&self, alg: Algorithm) -> String {
        let added = self
            .admin(reqwest::Method::POST, &format!("keys?alg={}", alg.name()))
            .await;
        assert_eq!(added["alg"], alg.name());
        self.note_keys().await;
        added["kid"].as_str().expect("a kid").to_owned()
    }

    /// Withdraws a signing key from the provider's key set.
    async fn drop_key(&self, kid: &str) {
        let left = self
            .admin(reqwest::Method::DELETE, &format!("keys/{kid}"))
            .await;
        let left: Vec<PublishedKey> = serde_json::from_value(left).unwrap();
        assert!(left.iter().all(|key| key.kid != kid));
    }

    async fn stats(&self) -> Stats {
        let mut stats: Stats =
            serde_json::from_value(self.admin(reqwest::Method::GET, "stats").await).unwrap();
        stats.jwks -= self.own_jwks_fetches.load(Ordering::SeqCst);
        stats
    }

    /// A client-credentials token request.
    fn ask<'a>(&'a self, client: &'a OAuthClient) -> Ask<'a> {
        Ask {
            idp: self,
            client,
            resource: ORDERS,
            scope: "orders.read",
            alg: Algorithm::RS256,
            kid: None,
            ttl: None,
        }
    }
}

/// A token request: which client asks, for which resource and scopes, and (through the
/// provider's test-only headers) which key signs the token and how long it lives.
struct Ask<'a> {
    idp: &'a Idp,
    client: &'a OAuthClient,
    resource: &'a str,
    scope: &'a str,
    alg: Algorithm,
    kid: Option<&'a str>,
    ttl: Option<u64>,
}

impl<'a> Ask<'a> {
    fn resource(mut self, resource: &'a str) -> Self {
        self.resource = resource;
        self
    }

    fn scope(mut self, scope: &'a str) -> Self {
        self.scope = scope;
        self
    }

    fn alg(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self
    }

    fn kid(mut self, kid: &'a str) -> Self {
        self.kid = Some(kid);
        self
    }

    fn ttl(mut self, seconds: u64) -> Self {
        self.ttl = Some(seconds);
        self
    }

    /// Sends the request to the token endpoint; the access token.
    async fn send(self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials")
            .append_pair("resource", self.resource);
        if !self.scope.is_empty() {
            form.append_pair("scope", self.scope);
        }
        if !self.client.basic {
            form.append_pair("client_id", self.client.id)
                .append_pair("client_secret", self.client.secret);
        }
        let mut request = self
            .idp
            .http
            .post(&self.idp.token_endpoint)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-interop-alg", self.alg.name())
            .body(form.finish());
        if self.client.basic {
            request = request.basic_auth(self.client.id, Some(self.client.secret));
        }
        if let Some(kid) = self.kid {
            request = request.header("x-interop-kid", kid);
        }
        if let Some(ttl) = self.ttl {
            request = request.header("x-interop-ttl", ttl.to_string());
        }
        let response = request.send().await.expect("token request");
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "token endpoint: {body}");
        let body: Value = serde_json::from_str(&body).expect("token response JSON");
        assert_eq!(body["token_type"], "Bearer");
        if let Some(ttl) = self.ttl {
            assert_eq!(body["expires_in"], ttl);
        }
        let token = body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned();
        // Every token carries a claim value made to be looked for in the logs.
        let marker = payload(&token)["marker"].as_str().map(str::to_owned);
        assert!(
            marker.is_some_and(|marker| marker.starts_with("claim-marker-")),
            "no marker claim in {}",
            payload(&token)
        );
        self.idp.secrets().token(&token);
        token
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens, looked at without validating them.

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a compact JWS");
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON object")
}

fn header(token: &str) -> Value {
    decode_part(token, 0)
}

fn payload(token: &str) -> Value {
    decode_part(token, 1)
}

/// `token` with one character of its signature changed: still well-formed, no longer valid.
fn altered_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a compact JWS");
    let mut signature = signature.as_bytes().to_vec();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == b'A' {
        b'B'
    } else {
        b'A'
    };
    format!("{signed}.{}", String::from_utf8(signature).unwrap())
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// Gates and the API.

/// Keys over plain http from loopback, at most one fetch a second.
fn key_cache() -> KeyCacheSettings {
    KeyCacheSettings::default()
        .allow_http_loopback()
        .cooldown(Duration::from_secs(1))
        .min_ttl(Duration::from_secs(1))
}

/// The provider, found by discovery, for the orders API.
fn profile(idp: &Idp) -> IssuerProfile {
    IssuerProfile::new(&idp.issuer).audience(ORDERS).discover()
}

fn gate(profile: IssuerProfile, cache: KeyCacheSettings) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(cache)
        .build()
        .expect("valid gate")
}

async fn orders(claims: Verified) -> String {
    format!("orders of {}", claims.client_id().unwrap_or("?"))
}

/// Claims of oidc-provider's tokens beyond those `Claims` knows: RFC 9068's `jti` and `iat`,
/// and the provider's `extraTokenClaims`.
#[derive(Deserialize)]
struct Extra {
    jti: String,
    iat: i64,
    tenant: String,
    env: Env,
}

#[derive(Deserialize)]
struct Env {
    name: String,
    region: String,
}

async fn claims(claims: Verified, VerifiedClaims(extra): VerifiedClaims<Extra>) -> Json<Value> {
    Json(json!({
        "issuer": claims.issuer(),
        "subject": claims.subject(),
        "client_id": claims.client_id(),
        "audiences": claims.audiences().collect::<Vec<_>>(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
        "roles": claims.roles().collect::<Vec<_>>(),
        "kind": format!("{:?}", claims.token_kind()),
        "jti": extra.jti,
        "iat": extra.iat,
        "tenant": extra.tenant,
        "env": [extra.env.name, extra.env.region],
    }))
}

async fn ok() -> &'static str {
    "ok"
}

/// `/orders` and `/claims` for any valid token; `/orders/write` needs `orders.write`,
/// `/reports` `reports.read`, `/admin` the role `orders.admin`.
fn app(gate: Gate) -> Router {
    let guarded = |path: &str, requirement: Requirement| {
        Router::new()
            .route(path, get(ok))
            .route_layer(RequireLayer::new(requirement).unwrap())
    };
    Router::new()
        .route("/orders", get(orders))
        .route("/claims", get(claims))
        .merge(guarded("/orders/write", Requirement::scope("orders.write")))
        .merge(guarded("/reports", Requirement::scope("reports.read")))
        .merge(guarded("/admin", Requirement::role("orders.admin")))
        .layer(TokenLayer::new(gate))
}

/// An API behind `gate`, served by axum (hyper) on 127.0.0.1; stops with the test's runtime.
struct Api {
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Api {
    async fn serve(gate: Gate) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = app(gate);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Api { addr, http }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        let response = self
            .http
            .get(format!("http://{}{path}", self.addr))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .expect("a response from the API");
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let challenge = header(WWW_AUTHENTICATE);
        let cache_control = header(CACHE_CONTROL);
        let body = response.text().await.unwrap();
        Answer {
            status,
            challenge,
            cache_control,
            body,
        }
    }
}

/// What the API answered.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    cache_control: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("?").to_owned()
    }

    #[track_caller]
    fn assert_ok(&self) {
        assert_eq!(self.status, StatusCode::OK, "refused: {}", self.body);
    }

    /// The exact refusal: status, challenge (strictly parsed), body code, `no-store`.
    #[track_caller]
    fn assert_refused(&self, status: StatusCode, code: &str, challenge: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert_eq!(self.challenge.as_deref(), Some(challenge), "{self:?}");
        challenge::parse_bearer(challenge).expect("an RFC 6750 challenge");
        assert_eq!(self.cache_control.as_deref(), Some("no-store"));
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery.

#[tokio::test(flavor = "multi_thread")]
async fn discovery_finds_the_provider_and_its_keys() {
    let idp = Idp::start().await;

    // oidc-provider publishes its issuer exactly as configured: no trailing slash here, and
    // the same string is its tokens' `iss`.
    let discovery = idp.discovery().await;
    assert_eq!(discovery["issuer"], idp.issuer.as_str());
    assert!(!idp.issuer.ends_with('/'));
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", idp.issuer));

    let before = idp.stats().await;
    let gate = gate(profile(&idp), key_cache());
    assert!(!gate.is_ready(), "nothing is fetched at build");
    gate.warm_up().await.expect("keys from the provider");
    assert!(gate.is_ready());
    let status = &gate.key_status()[0];
    assert_eq!(status.issuer, idp.issuer);
    assert!(status.remote);
    assert_eq!(status.keys, ALGORITHMS.len(), "one key per algorithm");
    assert_eq!(status.last_refresh_ok, Some(true));
    let after = idp.stats().await;
    assert_eq!(
        (after.discovery - before.discovery, after.jwks - before.jwks),
        (1, 1),
        "one discovery request, one for the key set"
    );

    let token = idp.ask(&ORDERS_SERVICE).send().await;
    assert_eq!(payload(&token)["iss"], idp.issuer.as_str());
    let claims = gate.validate(&token).await.expect("a valid token");
    assert_eq!(claims.issuer(), idp.issuer);

    // Issuers are compared exactly: with a trailing slash, the provider's discovery document
    // names another issuer and is refused (OpenID Connect Discovery §4.3), and its tokens are
    // from an untrusted issuer.
    let slash = gate_with_issuer(&format!("{}/", idp.issuer));
    let error = slash
        .warm_up()
        .await
        .expect_err("a discovery document for another issuer");
    let failure = error.failures().next().unwrap().to_owned();
    assert!(
        failure.contains(&format!("names issuer {:?}", idp.issuer)),
        "{failure}"
    );
    assert!(!slash.is_ready());
    let rejection = slash.validate(&token).await.unwrap_err();
    assert_eq!(rejection.code(), "untrusted_issuer");
    idp.assert_logs_secret_free().await;
}

fn gate_with_issuer(issuer: &str) -> Gate {
    gate(
        IssuerProfile::new(issuer).audience(ORDERS).discover(),
        key_cache(),
    )
}

// ---------------------------------------------------------------------------------------------
// Tokens for every algorithm.

#[tokio::test(flavor = "multi_thread")]
async fn tokens_for_every_algorithm_validate_through_the_api() {
    let idp = Idp::start().await;
    let plain = Api::serve(gate(profile(&idp), key_cache())).await;
    let strict = Api::serve(gate(
        profile(&idp).token_profile(TokenProfile::Rfc9068),
        key_cache(),
    ))
    .await;

    for alg in ALGORITHMS {
        // One client authenticates with client_secret_basic, the other with client_secret_post.
        for client in [&ORDERS_SERVICE, &REPORTING_JOB] {
            let token = idp.ask(client).alg(alg).send().await;
            let header = header(&token);
            assert_eq!(header["alg"], alg.name(), "{header}");
            assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
            assert_eq!(header["kid"], idp.key(alg).kid.as_str());

            for api in [&plain, &strict] {
                let answer = api.get("/orders", &token).await;
                answer.assert_ok();
                assert_eq!(answer.body, format!("orders of {}", client.id));
            }
        }
    }
    // The keys were fetched once per gate, not per token.
    let stats = idp.stats().await;
    assert_eq!(stats.jwks, 2, "{stats:?}");
    assert_eq!(stats.token, 10, "{stats:?}");
    idp.assert_logs_secret_free().await;
}

/// oidc-provider's JWT access tokens are RFC 9068 tokens: `typ` `at+jwt`, and `iss`, `exp`,
/// `aud`, `sub`, `client_id`, `iat`, `jti`, with `scope` a space-separated string.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_follow_rfc9068_and_pass_its_profile() {
    let idp = Idp::start().await;
    let strict = gate(
        profile(&idp).token_profile(TokenProfile::Rfc9068),
        key_cache(),
    );
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .scope("orders.read orders.write")
        .ttl(120)
        .send()
        .await;
    let claims = payload(&token);
    for name in [
        "iss",
        "exp",
        "aud",
        "sub",
        "client_id",
        "iat",
        "jti",
        "scope",
    ] {
        assert!(claims.get(name).is_some(), "{name} missing in {claims}");
    }
    assert_eq!(
        claims["sub"], ORDERS_SERVICE.id,
        "client credentials: sub is the client"
    );
    assert_eq!(claims["client_id"], ORDERS_SERVICE.id);
    assert_eq!(
        claims["aud"], ORDERS,
        "the resource indicator is the audience"
    );
    assert_eq!(claims["scope"], "orders.read orders.write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(claims["iat"].as_f64().unwrap() <= unix_now() + 1.0);
    assert!(claims.get("nbf").is_none(), "oidc-provider sets no nbf");
    assert!(claims.get("cnf").is_none(), "a bearer token");

    let verified = strict.validate(&token).await.expect("an RFC 9068 token");
    assert_eq!(verified.client_id(), Some(ORDERS_SERVICE.id));
    assert_eq!(verified.token_kind(), tokengate::TokenKind::App);
    assert!(verified.has_scope("orders.write"));
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Claims.

#[tokio::test(flavor = "multi_thread")]
async fn claims_reach_the_handler() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::PS256)
        .scope("orders.read orders.write")
        .send()
        .await;
    let answer = api.get("/claims", &token).await;
    answer.assert_ok();
    let seen = answer.json();
    let raw = payload(&token);
    assert_eq!(
        seen,
        json!({
            "issuer": idp.issuer,
            "subject": "orders-service",
            "client_id": "orders-service",
            "audiences": [ORDERS],
            "scopes": ["orders.read", "orders.write"],
            "roles": ["orders.admin"],
            "kind": "App",
            "jti": raw["jti"],
            "iat": raw["iat"],
            "tenant": "tenant-7",
            "env": ["interop", "local"],
        })
    );

    let token = idp
        .ask(&REPORTING_JOB)
        .alg(Algorithm::EdDSA)
        .scope("orders.read reports.read")
        .send()
        .await;
    let seen = api.get("/claims", &token).await.json();
    assert_eq!(seen["client_id"], "reporting-job");
    assert_eq!(seen["scopes"], json!(["orders.read", "reports.read"]));
    assert_eq!(seen["roles"], json!([]));
    assert_eq!(seen["tenant"], "tenant-7");
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Audience.

#[tokio::test(flavor = "multi_thread")]
async fn a_token_for_another_resource_is_refused() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let billing = idp
        .ask(&ORDERS_SERVICE)
        .resource(BILLING)
        .scope("billing.read")
        .alg(Algorithm::ES384)
        .send()
        .await;
    assert_eq!(payload(&billing)["aud"], BILLING);
    api.get("/orders", &billing).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "invalid_audience",
        BAD_AUDIENCE,
    );

    // The token itself is good: the billing API takes it.
    let billing_gate = gate(
        IssuerProfile::new(&idp.issuer).audience(BILLING).discover(),
        key_cache(),
    );
    let claims = billing_gate.validate(&billing).await.expect("for billing");
    assert!(claims.has_scope("billing.read"));
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Per-route scopes and roles.

#[tokio::test(flavor = "multi_thread")]
async fn per_route_scopes_and_roles() {
    let idp = Idp::start().await;
    let api = Api::serve(gate(profile(&idp), key_cache())).await;

    let read = idp.ask(&ORDERS_SERVICE).scope("orders.read").send().await;
    api.get("/orders", &read).await.assert_ok();
    api.get("/orders/write", &read).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    api.get("/reports", &read).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("reports.read"),
    );
    // The role comes from the provider's extra claims.
    api.get("/admin", &read).await.assert_ok();

    let write = idp
        .ask(&ORDERS_SERVICE)
        .scope("orders.read orders.write")
        .alg(Algorithm::ES256)
        .send()
        .await;
    api.get("/orders/write", &write).await.assert_ok();

    let reports = idp
        .ask(&REPORTING_JOB)
        .scope("orders.read reports.read")
        .alg(Algorithm::EdDSA)
        .send()
        .await;
    api.get("/reports", &reports).await.assert_ok();
    api.get("/orders/write", &reports).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    let no_role = api.get("/admin", &reports).await;
    assert_eq!(no_role.status, StatusCode::FORBIDDEN);
    assert_eq!(no_role.code(), "insufficient_scope");
    challenge::parse_bearer(no_role.challenge.as_deref().unwrap()).unwrap();

    // A token without any scope (none asked for) passes the token check, not the scope checks.
    let bare = idp.ask(&ORDERS_SERVICE).scope("").send().await;
    assert!(payload(&bare).get("scope").is_none());
    api.get("/orders", &bare).await.assert_ok();
    api.get("/orders/write", &bare).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Key rotation.

/// A key the provider adds is picked up by the one refresh its unknown `kid` triggers.
#[tokio::test(flavor = "multi_thread")]
async fn an_added_key_validates_after_one_refresh() {
    let idp = Idp::start().await;
    let gate = gate(profile(&idp), key_cache());
    let api = Api::serve(gate.clone()).await;
    gate.warm_up().await.unwrap();
    let loaded = Instant::now();
    let before = idp.stats().await;
    assert_eq!(before.jwks, 1);

    let kid = idp.add_key(Algorithm::ES256).await;
    assert_ne!(kid, idp.key(Algorithm::ES256).kid);
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .kid(&kid)
        .send()
        .await;
    assert_eq!(header(&token)["kid"], kid.as_str());

    // The cooldown (1 s) since the warm-up must have passed for the refresh to be allowed.
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(loaded.elapsed())).await;
    api.get("/orders", &token).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2, "exactly one refresh");
    assert_eq!(gate.key_status()[0].keys, ALGORITHMS.len() + 1);

    // From now on the new key is held: no further fetch.
    let again = idp
        .ask(&REPORTING_JOB)
        .alg(Algorithm::ES256)
        .kid(&kid)
        .send()
        .await;
    api.get("/orders", &again).await.assert_ok();
    let old = idp.ask(&REPORTING_JOB).alg(Algorithm::ES256).send().await;
    api.get("/orders", &old).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2);
    idp.assert_logs_secret_free().await;
}

/// A key the provider withdraws stops validating once the store refreshes on its own:
/// oidc-provider sends no `Cache-Control` with its key set, so `default_ttl` decides when.
#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_key_is_refused_once_the_store_refreshes() {
    let idp = Idp::start().await;
    let jwks = idp
        .http
        .get(format!("{}/jwks", idp.issuer))
        .send()
        .await
        .unwrap();
    assert!(jwks.headers().get(CACHE_CONTROL).is_none());

    let kid = idp.add_key(Algorithm::ES384).await;
    let cache = key_cache().default_ttl(Duration::from_secs(3));
    let gate = gate(profile(&idp), cache);
    let api = Api::serve(gate.clone()).await;
    gate.warm_up().await.unwrap();

    let doomed = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES384)
        .kid(&kid)
        .send()
        .await;
    api.get("/orders", &doomed).await.assert_ok();

    idp.drop_key(&kid).await;
    // Held keys keep validating until the store refreshes (a routine refresh is due at 80% of
    // the 3 s lifetime).
    api.get("/orders", &doomed).await.assert_ok();

    let deadline = Instant::now() + Duration::from_secs(15);
    let refused = loop {
        let answer = api.get("/orders", &doomed).await;
        if answer.status != StatusCode::OK {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the dropped key still validates after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    refused.assert_refused(StatusCode::UNAUTHORIZED, "unknown_key", UNKNOWN_KEY);
    assert_eq!(gate.key_status()[0].keys, ALGORITHMS.len());

    // The other keys still validate, the remaining ES384 key included.
    for alg in ALGORITHMS {
        let token = idp.ask(&REPORTING_JOB).alg(alg).send().await;
        api.get("/orders", &token).await.assert_ok();
    }
    idp.assert_logs_secret_free().await;
}

/// Rotation as providers do it: a new key in and the old one out in one step. The new key's
/// unknown `kid` triggers a refresh, after which the old key's tokens are refused at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_replaces_the_old_one_after_one_refresh() {
    let idp = Idp::start().await;
    let gate = gate(profile(&idp), key_cache());
    let api = Api::serve(gate.clone()).await;

    let old = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    api.get("/orders", &old).await.assert_ok();
    let loaded = Instant::now();

    let new_kid = idp.add_key(Algorithm::RS256).await;
    idp.drop_key(&idp.key(Algorithm::RS256).kid).await;
    // Without a kid chosen, the provider signs with its only RS256 key: the new one.
    let new = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    assert_eq!(header(&new)["kid"], new_kid.as_str());

    // Until a refresh, the old key is held and validates.
    api.get("/orders", &old).await.assert_ok();

    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(loaded.elapsed())).await;
    api.get("/orders", &new).await.assert_ok();
    api.get("/orders", &old).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "unknown_key",
        UNKNOWN_KEY,
    );
    assert_eq!(idp.stats().await.jwks, 2, "one load, one refresh");
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Expiry.

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refused() {
    let idp = Idp::start().await;
    let leeway = Duration::from_secs(1);
    let lenient = gate(profile(&idp), key_cache());
    let api = Api::serve(gate(profile(&idp).leeway(leeway), key_cache())).await;

    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .ttl(1)
        .send()
        .await;
    api.get("/orders", &token).await.assert_ok();

    // Past `exp` and the leeway.
    let exp = payload(&token)["exp"].as_f64().unwrap();
    let wait = exp + leeway.as_secs_f64() + 0.5 - unix_now();
    tokio::time::sleep(Duration::from_secs_f64(wait.max(0.0))).await;
    api.get("/orders", &token).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "token_expired",
        EXPIRED,
    );

    // With the default leeway (60 s) the same token still passes: the leeway decided.
    lenient.validate(&token).await.expect("within 60 s of exp");
    idp.assert_logs_secret_free().await;
}

// ---------------------------------------------------------------------------------------------
// Keys published without `alg`.

/// oidc-provider publishes `alg` only where a key fits one algorithm: configured without one
/// (as its development keys and keys exported by `jose` are), RSA keys are published without
/// `alg` and one RSA key signs both RS256 and PS256 tokens. tokengate binds every key to one
/// algorithm (RFC 8725 §3.1): the issuer must allow exactly one RSA algorithm, and tokens
/// with the other are refused.
#[tokio::test(flavor = "multi_thread")]
async fn keys_without_alg_need_one_rsa_algorithm() {
    let idp = Idp::start_with(&["--keys-without-alg"]).await;
    let jwks = idp.get_json(&format!("{}/jwks", idp.issuer)).await;
    let published: Vec<(String, Option<String>)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            let kty = key["kty"].as_str().unwrap().to_owned();
            (kty, key["alg"].as_str().map(str::to_owned))
        })
        .collect();
    assert_eq!(
        published,
        [
            ("RSA".to_owned(), None),
            ("RSA".to_owned(), None),
            ("EC".to_owned(), Some("ES256".to_owned())),
            ("EC".to_owned(), Some("ES384".to_owned())),
            ("OKP".to_owned(), None),
        ]
    );

    // With every algorithm allowed, the RSA keys fit several: they are skipped.
    let any = gate(profile(&idp), key_cache());
    any.warm_up().await.expect("the other keys load");
    assert_eq!(any.key_status()[0].keys, 3);
    let rs256 = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    assert_eq!(
        any.validate(&rs256).await.unwrap_err().code(),
        "unknown_key"
    );
    // The Ed25519 key fits only EdDSA.
    let eddsa = idp.ask(&ORDERS_SERVICE).alg(Algorithm::EdDSA).send().await;
    any.validate(&eddsa).await.expect("an EdDSA token");

    // With one RSA algorithm allowed, the RSA keys are bound to it.
    let one_rsa = gate(
        profile(&idp).algorithms([
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ]),
        key_cache(),
    );
    let api = Api::serve(one_rsa.clone()).await;
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let token = idp.ask(&REPORTING_JOB).alg(alg).send().await;
        api.get("/orders", &token).await.assert_ok();
    }
    assert_eq!(one_rsa.key_status()[0].keys, 5);
    // The same RSA key also signs PS256 tokens for this provider; they are refused.
    let ps256 = idp.ask(&REPORTING_JOB).alg(Algorithm::PS256).send().await;
    assert_eq!(header(&ps256)["kid"], header(&rs256)["kid"]);
    assert_eq!(
        one_rsa.validate(&ps256).await.unwrap_err().code(),
        "unsupported_algorithm"
    );
    idp.assert_logs_secret_free().await;
}
