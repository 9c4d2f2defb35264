//! The provider: a node process, always stopped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tokengate::Algorithm;
use tokengate_testkit::capture;

use super::support::{
    DPOP_AGENT, MTLS_AGENT, ORDERS_SERVICE, REPORTING_JOB, altered_signature, gate, key_cache,
    profile,
};

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
pub(crate) struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A published signing key of the provider.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PublishedKey {
    pub(crate) kid: String,
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
pub(crate) struct Stats {
    pub(crate) discovery: u64,
    pub(crate) jwks: u64,
    pub(crate) token: u64,
    pub(crate) introspection: u64,
    /// Introspection answers sent as RFC 9701 JWTs (`application/token-introspection+jwt`).
    pub(crate) introspection_jwt: u64,
}

/// A running provider.
pub(crate) struct Idp {
    /// Its issuer identifier, exactly as it writes it in `iss` and in discovery.
    pub(crate) issuer: String,
    /// The keys it started with, one per algorithm.
    pub(crate) keys: Vec<PublishedKey>,
    pub(crate) token_endpoint: String,
    pub(crate) jwks_uri: String,
    pub(crate) http: reqwest::Client,
    /// What this test handled and must not find in the logs.
    pub(crate) secrets: Mutex<capture::Secrets>,
    /// Key sets fetched by `note_keys`, left out of `stats`.
    pub(crate) own_jwks_fetches: AtomicU64,
    process: Process,
}

impl Idp {
    /// Starts a provider and waits until it listens (at most 20 s).
    pub(crate) async fn start() -> Idp {
        Idp::start_with(&[]).await
    }

    /// Starts a provider with these `server.mjs` options.
    pub(crate) async fn start_with(options: &[&str]) -> Idp {
        Idp::launch(options, &[]).await
    }

    /// Starts a provider that also serves its token endpoint over TLS, with this certificate
    /// and key (PEM), asking for client certificates (RFC 8705; see `server.mjs`).
    pub(crate) async fn start_with_tls(certificate: &str, key: &str) -> Idp {
        Idp::launch(
            &[],
            &[("INTEROP_TLS_CERT", certificate), ("INTEROP_TLS_KEY", key)],
        )
        .await
    }

    /// Starts a provider whose resource server `inventory-api-jwt` authenticates with
    /// `private_key_jwt` and this public JWK (see `server.mjs`).
    pub(crate) async fn start_with_introspection_key(jwk: &str) -> Idp {
        Idp::launch(&[], &[("INTEROP_INTROSPECTION_JWK", jwk)]).await
    }

    /// Stops the provider now: its port refuses connections from here on.
    pub(crate) fn stop(&mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
    }

    async fn launch(options: &[&str], env: &[(&str, &str)]) -> Idp {
        // Before anything logs.
        capture::global();
        require_node();
        let dir = idp_dir();
        require_packages(&dir);
        let child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .args(options)
            .envs(env.iter().copied())
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
        for client in [&ORDERS_SERVICE, &REPORTING_JOB, &DPOP_AGENT, &MTLS_AGENT] {
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
            process,
        };
        let discovery = idp.discovery().await;
        let endpoint = |name: &str| discovery[name].as_str().expect(name).to_owned();
        idp.token_endpoint = endpoint("token_endpoint");
        idp.jwks_uri = endpoint("jwks_uri");
        idp.note_keys().await;
        idp
    }

    pub(crate) fn secrets(&self) -> std::sync::MutexGuard<'_, capture::Secrets> {
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the key material the provider publishes now to the secrets.
    pub(crate) async fn note_keys(&self) {
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
    pub(crate) async fn assert_logs_secret_free(&self) {
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
    pub(crate) async fn discovery(&self) -> Value {
        self.get_json(&format!("{}/.well-known/openid-configuration", self.issuer))
            .await
    }

    pub(crate) async fn get_json(&self, url: &str) -> Value {
        let response = self.http.get(url).send().await.expect("a response");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        serde_json::from_str(&response.text().await.unwrap()).expect("JSON")
    }

    /// The key the provider started with for `alg`.
    pub(crate) fn key(&self, alg: Algorithm) -> &PublishedKey {
        self.keys
            .iter()
            .find(|key| key.alg == alg.name())
            .expect("a key for every algorithm")
    }

    pub(crate) async fn admin(&self, method: reqwest::Method, path: &str) -> Value {
        let url = format!("{}/admin/{path}", self.issuer);
        let response = self.http.request(method, url).send().await.expect("admin");
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "admin {path}: {status} {body}");
        serde_json::from_str(&body).expect("admin JSON")
    }

    /// Generates and publishes a new signing key; its `kid`.
    pub(crate) async fn add_key(&self, alg: Algorithm) -> String {
        let added = self
            .admin(reqwest::Method::POST, &format!("keys?alg={}", alg.name()))
            .await;
        assert_eq!(added["alg"], alg.name());
        self.note_keys().await;
        added["kid"].as_str().expect("a kid").to_owned()
    }

    /// Withdraws a signing key from the provider's key set.
    pub(crate) async fn drop_key(&self, kid: &str) {
        let left = self
            .admin(reqwest::Method::DELETE, &format!("keys/{kid}"))
            .await;
        let left: Vec<PublishedKey> = serde_json::from_value(left).unwrap();
        assert!(left.iter().all(|key| key.kid != kid));
    }

    pub(crate) async fn stats(&self) -> Stats {
        let mut stats: Stats =
            serde_json::from_value(self.admin(reqwest::Method::GET, "stats").await).unwrap();
        stats.jwks -= self.own_jwks_fetches.load(Ordering::SeqCst);
        stats
    }
}
