//! The world every family shares, built once per test binary on a runtime of its own: the two
//! issuers, the two protected APIs, the counting server, the attacker's keys, and the published
//! keys as an attacker fetches them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use axum::Router;
use axum::extract::{Path, Request};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use serde_json::{Value, json};
use tokengate::testing::{TestIssuer, TestKey};
use tokengate::{
    Algorithm, Gate, IssuerProfile, KeyCacheSettings, RequireLayer, Requirement, TokenLayer,
    TokenProfile, TokenSource,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::Instrument;

use tokengate_testkit::{self as common, b64, capture, provider};

use crate::key_forms;

/// The scope the `…/scoped` routes require.
pub const SCOPE: &str = "orders.write";
/// The audience of the second (raw) issuer; the test issuer's is `api://tokengate-test`.
pub const RAW_AUDIENCE: &str = "api://tokengate-scan-raw";
pub const HEADER_REALM: &str = "scan-header";
pub const COOKIE_REALM: &str = "scan-cookie";
/// The `leeway` of both issuers (the default).
pub const LEEWAY: i64 = 60;
/// The latest NumericDate tokengate accepts (9999-12-31T23:59:59Z).
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;
/// hyper's HTTP/1 read-buffer limit (`DEFAULT_MAX_BUFFER_SIZE` in hyper 1.x,
/// `src/proto/h1/io.rs`), which `axum::serve` keeps: a request head that fills it without
/// ending is answered `431` by hyper itself.
pub const HYPER_MAX_HEAD: usize = 8192 + 4096 * 100;
/// hyper's default limit on the number of request headers (`DEFAULT_MAX_HEADERS`): one more is
/// answered `431` too.
pub const HYPER_MAX_HEADERS: usize = 100;

// Values planted in tokens: none may ever appear in the logs.
pub const MARK_SUB: &str = "sub-secret-7f3a9c51e2";
pub const MARK_CLIENT: &str = "client-secret-2b8e04d7";
pub const MARK_JTI: &str = "jti-secret-c41d9e02b7";
pub const MARK_CUSTOM: &str = "employee-secret-5a0f3b7e";
pub const MARK_STR: &str = "subst-secret-9e21c7a4";
pub const MARK_ARR: &str = "arr-secret-4c1b8d2f";
pub const MARK_HUGE: &str = "huge-secret-0d6e";
pub const MARK_KID: &str = "kid-secret-1c9e77aa";
pub const MARK_DPOP: &str = "dpop-proof-secret-6d02e1";
pub const MARK_NONCE: &str = "nonce-secret-31aa90";
pub const MARK_JKT: &str = "jkt-secret-b05c44e1";
pub const MARK_CRIT: &str = "crit-secret-70d2";
pub const MARK_JKU: &str = "jku-secret-81f2";
pub const MARK_X5U: &str = "x5u-secret-3d77";
pub const MARK_URL: &str = "url-secret-5b90";
pub const MARK_HMAC: &str = "attacker-hmac-secret-0123456789abcdef";
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

pub struct World {
    pub runtime: tokio::runtime::Runtime,
    pub env: &'static Env,
}

/// Handler runs per request, by `family/case` (the path segments [`routes`] serve).
pub type Hits = Arc<Mutex<HashMap<String, usize>>>;

pub struct Env {
    pub issuer: TestIssuer,
    pub raw: provider::Provider,
    /// The raw issuer's RS256 key.
    pub raw_key: &'static TestKey,
    /// The raw issuer's ES256 and ES384 keys, which sign in both ECDSA formats.
    pub raw_ec: Vec<EcKey>,
    pub header_app: SocketAddr,
    pub cookie_app: SocketAddr,
    pub counting: Counting,
    pub hits: Hits,
    pub client: reqwest::Client,
    /// Every published key of both issuers, as served over HTTP.
    pub keys: Vec<PublicKey>,
    pub attackers: Attackers,
    /// The planted values and the published keys in every form used: never to be logged.
    pub material: Vec<String>,
}

/// The world, started on the first call (with the log capture installed before anything logs,
/// so that key fetching at start-up is captured too).
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
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
pub struct PublicKey {
    pub issuer: String,
    pub alg: String,
    pub kid: String,
    pub jwk: Value,
}

/// An ECDSA key pair of the raw issuer, loaded twice from one PKCS#8 document: signing in the
/// fixed `r || s` format of JWS, and in the ASN.1 DER format that JWS forbids (ATK-14), so
/// that aws-lc-rs writes the DER signature.
pub struct EcKey {
    pub alg: Algorithm,
    pub kid: String,
    fixed: EcdsaKeyPair,
    asn1: EcdsaKeyPair,
}

impl EcKey {
    fn generate(alg: Algorithm) -> EcKey {
        let (fixed, asn1): (
            &'static EcdsaSigningAlgorithm,
            &'static EcdsaSigningAlgorithm,
        ) = match alg {
            Algorithm::ES256 => (
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            ),
            Algorithm::ES384 => (
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            ),
            other => unreachable!("{other} is not a raw ECDSA algorithm"),
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(fixed, &rng).unwrap();
        EcKey {
            alg,
            kid: format!("raw-{}", alg.name().to_lowercase()),
            fixed: EcdsaKeyPair::from_pkcs8(fixed, pkcs8.as_ref()).unwrap(),
            asn1: EcdsaKeyPair::from_pkcs8(asn1, pkcs8.as_ref()).unwrap(),
        }
    }

    pub fn jwk(&self) -> Value {
        let point = self.fixed.public_key().as_ref();
        let size = (point.len() - 1) / 2;
        let crv = if size == 32 { "P-256" } else { "P-384" };
        json!({"kty": "EC", "kid": self.kid, "use": "sig", "alg": self.alg.name(), "crv": crv,
               "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])})
    }

    /// The signature of `input` in the fixed format (`der` false) or in ASN.1 DER.
    pub fn sign(&self, input: &str, der: bool) -> Vec<u8> {
        let pair = if der { &self.asn1 } else { &self.fixed };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec()
    }

    /// Whether `sig` is a valid ASN.1 DER signature of `input` by this key.
    pub fn verifies_der(&self, input: &str, sig: &[u8]) -> bool {
        let alg: &'static dyn VerificationAlgorithm = match self.alg {
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_ASN1,
            _ => &signature::ECDSA_P384_SHA384_ASN1,
        };
        let key = UnparsedPublicKey::new(alg, self.fixed.public_key().as_ref());
        key.verify(input.as_bytes(), sig).is_ok()
    }
}

/// Where every `jku`, `x5u`, embedded `jwk` URL and URL-shaped `kid` or `iss` points.
pub struct Counting {
    pub addr: SocketAddr,
    /// Connections accepted: the one probe at start-up, never more.
    pub connections: Arc<AtomicUsize>,
    /// The request line of each, to name the culprit.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Counting {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
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
        let raw_ec = vec![
            EcKey::generate(Algorithm::ES256),
            EcKey::generate(Algorithm::ES384),
        ];
        let mut raw_jwks = vec![raw_key.jwk()];
        raw_jwks.extend(raw_ec.iter().map(EcKey::jwk));
        let raw = provider::Provider::start(json!({ "keys": raw_jwks }).to_string()).await;

        let attackers = Attackers::generate();
        let counting = counting_server(attackers.jwks(), attackers.cert_pem()).await;

        let gate = Gate::builder()
            .issuer(issuer.profile())
            .issuer(
                IssuerProfile::new(raw.issuer())
                    .audience(RAW_AUDIENCE)
                    .algorithms([Algorithm::RS256, Algorithm::ES256, Algorithm::ES384])
                    .token_profile(TokenProfile::Rfc9068)
                    .discover(),
            )
            // The defaults (a 60 s cooldown: at most one refresh for a flood of unknown kids),
            // with plain HTTP allowed on loopback.
            .key_cache(KeyCacheSettings::default().allow_http_loopback())
            .build()
            .unwrap();
        gate.warm_up().await.unwrap();

        let hits = Hits::default();
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
        let header_app = serve(routes(&hits).layer(header_layer)).await;
        let cookie_app = serve(routes(&hits).layer(cookie_layer)).await;

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
        // The counting server works and counts: one probe, answered with the attacker's keys.
        let probe = client
            .get(format!("http://{}/probe.json", counting.addr))
            .send()
            .await;
        let probe: Value = serde_json::from_slice(&probe.unwrap().bytes().await.unwrap()).unwrap();
        assert_eq!(probe["keys"].as_array().map(Vec::len), Some(2));
        assert_eq!(counting.connections(), 1, "the counting server counts");

        let mut material: Vec<String> = MARKS.iter().map(|m| (*m).to_owned()).collect();
        material.extend(keys.iter().flat_map(key_forms::material));
        material.sort_unstable();
        material.dedup();
        eprintln!("attack scan: world ready in {:.1?}", started.elapsed());
        Env {
            issuer,
            raw,
            raw_key,
            raw_ec,
            header_app,
            cookie_app,
            counting,
            hits,
            client,
            keys,
            attackers,
            material,
        }
    }

    /// Handler runs for `tag` (`family/case`) so far.
    pub fn hits(&self, tag: &str) -> usize {
        let hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        hits.get(tag).copied().unwrap_or(0)
    }
}

/// `/scan/{family}/{case}`, and `…/scoped` requiring [`SCOPE`]: every request names its family
/// and case, so that handler runs and log events are told apart while families run in parallel.
fn routes(hits: &Hits) -> Router {
    let scoped = Router::new()
        .route("/scan/{family}/{case}/scoped", handler(hits))
        .route_layer(RequireLayer::new(Requirement::scope(SCOPE)).unwrap());
    Router::new()
        .route("/scan/{family}/{case}", handler(hits))
        .merge(scoped)
}

fn handler(hits: &Hits) -> MethodRouter {
    let hits = Arc::clone(hits);
    any(move |Path((family, case)): Path<(String, String)>| {
        *hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{family}/{case}"))
            .or_default() += 1;
        async { "ok" }
    })
}

/// Runs each request inside a span `scan{request=family/case}`, outside the token layer: the
/// log check finds each refusal's event by it.
async fn tagged(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let tag = path
        .strip_prefix("/scan/")
        .unwrap_or(path)
        .trim_end_matches("/scoped")
        .to_owned();
    next.run(request)
        .instrument(tracing::debug_span!("scan", request = %tag))
        .await
}

/// Serves `app` with axum (hyper's HTTP/1.1 and HTTP/2 server) on 127.0.0.1.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app.layer(from_fn(tagged));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A server that counts every connection it accepts and answers anything with an attacker's
/// JWK Set (or, for a path ending in `.pem`, an attacker's certificate): where `jku`, `x5u` and
/// friends point. tokengate must never connect to it.
async fn counting_server(jwks: String, cert: String) -> Counting {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (count, log) = (Arc::clone(&connections), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let (jwks, cert, log) = (jwks.clone(), cert.clone(), Arc::clone(&log));
            tokio::spawn(async move {
                let mut head = vec![0u8; 8192];
                let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut head))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let request = String::from_utf8_lossy(&head[..read]);
                let line = request
                    .lines()
                    .next()
                    .unwrap_or("(nothing read)")
                    .to_owned();
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let (kind, body) = if path.ends_with(".pem") {
                    ("application/x-pem-file", cert)
                } else {
                    ("application/json", jwks)
                };
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Counting {
        addr,
        connections,
        requests,
    }
}

/// The attacker's own keys: an RSA and an EC key, and a self-signed certificate with its key.
pub struct Attackers {
    pub rsa: TestKey,
    pub ec: TestKey,
    pub cert_der: Vec<u8>,
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
    pub fn cert_token(&self, header: &Value, claims_json: &str) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims_json));
        let sig = self
            .cert_signer
            .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}
