//! Gates, outcomes and counters: the authorities the tests run against, the gates they build,
//! the outcomes they compare and the requests they count.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use serde_json::Value;
use tokengate::providers::entra::{AuthContext, ChallengeTarget, EntraApi};
use tokengate::testing::{EntraTokenBuilder, TestEntra};
use tokengate::{Claims, Gate, KeyCacheSettings, RequireLayer, Requirement, TokenLayer};
use tower::ServiceExt;

/// An Entra-shaped authority and the tenant a test uses.
///
/// Generating RSA keys dominates the run time, so most tests share one authority, each with a
/// tenant of its own (request counters are per tenant); tests that rotate keys, cut the
/// authority off or count requests for `common` and `organizations` start their own.
pub(crate) struct Authority {
    pub(crate) entra: TestEntra,
    pub(crate) tenant: String,
}

impl Authority {
    /// A fresh tenant of the shared authority, which runs on a runtime of its own so that it
    /// outlives each test's runtime.
    pub(crate) fn shared() -> Authority {
        static SHARED: OnceLock<(tokio::runtime::Runtime, TestEntra)> = OnceLock::new();
        let (_, entra) = SHARED.get_or_init(|| {
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                let entra = runtime.block_on(TestEntra::start()).unwrap();
                (runtime, entra)
            })
            .join()
            .unwrap()
        });
        let tenant = entra.add_tenant();
        Authority {
            entra: entra.clone(),
            tenant,
        }
    }

    /// An authority of the test's own, and its first tenant.
    pub(crate) async fn own() -> Authority {
        let entra = TestEntra::start().await.unwrap();
        let tenant = entra.tenant().to_owned();
        Authority { entra, tenant }
    }

    /// The test's tenant (shadows `TestEntra::tenant`).
    pub(crate) fn tenant(&self) -> &str {
        &self.tenant
    }
}

impl std::ops::Deref for Authority {
    type Target = TestEntra;

    fn deref(&self) -> &TestEntra {
        &self.entra
    }
}

/// The key-fetch cooldown of most tests: long enough that a test's own refusals do not refetch.
const COOLDOWN: Duration = Duration::from_secs(1);

/// A fixed "now" for boundary tests (2027-01-15).
pub(crate) const T: u64 = 1_800_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

pub(crate) fn build(entra: &TestEntra, api: EntraApi, cooldown: Duration) -> Gate {
    Gate::builder()
        .issuer(api.instance(entra.instance()))
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(cooldown),
        )
        .build()
        .expect("a valid Entra configuration")
}

/// A gate for `api` on `entra`'s instance.
pub(crate) fn gate(entra: &TestEntra, api: EntraApi) -> Gate {
    build(entra, api, COOLDOWN)
}

/// A gate with a requirement on every token.
pub(crate) fn gate_requiring(entra: &TestEntra, api: EntraApi, requirement: Requirement) -> Gate {
    Gate::builder()
        .issuer(api.instance(entra.instance()))
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(COOLDOWN),
        )
        .require(requirement)
        .build()
        .expect("a valid Entra configuration")
}

/// The problems `build` finds in `api` (which must be refused).
pub(crate) fn build_problems(api: impl Into<tokengate::Issuers>) -> String {
    let error = Gate::builder()
        .issuer(api)
        .build()
        .expect_err("the configuration must be refused");
    error.problems().collect::<Vec<_>>().join("\n")
}

/// A single-tenant API for the authority's tenant.
pub(crate) fn single(entra: &Authority) -> EntraApi {
    EntraApi::single_tenant(entra.tenant(), TestEntra::CLIENT_ID)
}

pub(crate) fn tenants(tenants: &[&str]) -> EntraApi {
    EntraApi::multi_tenant(TestEntra::CLIENT_ID).tenants(tenants.iter().copied())
}

pub(crate) fn any_tenant() -> EntraApi {
    EntraApi::multi_tenant(TestEntra::CLIENT_ID).any_tenant()
}

/// The stable code of the outcome, `"accepted"` for a token that validates.
pub(crate) async fn outcome(gate: &Gate, token: &str) -> &'static str {
    gate.validate(token)
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

pub(crate) async fn outcome_at(gate: &Gate, token: &str, now: u64) -> &'static str {
    gate.validate_at(token, at(now))
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

pub(crate) async fn accepted(gate: &Gate, token: &str, variant: &str) -> Arc<Claims> {
    gate.validate(token)
        .await
        .unwrap_or_else(|r| panic!("{variant}: refused with `{}`", r.code()))
}

pub(crate) fn v1_metadata(tenant: &str) -> String {
    format!("/{tenant}/.well-known/openid-configuration")
}

pub(crate) fn v2_metadata(tenant: &str) -> String {
    format!("/{tenant}/v2.0/.well-known/openid-configuration")
}

pub(crate) fn v1_keys(tenant: &str) -> String {
    format!("/{tenant}/discovery/keys")
}

pub(crate) fn v2_keys(tenant: &str) -> String {
    format!("/{tenant}/discovery/v2.0/keys")
}

/// Requests for a tenant's documents: v1 metadata, v2 metadata, v1 keys, v2 keys.
pub(crate) fn fetches(entra: &TestEntra, tenant: &str) -> [usize; 4] {
    [
        entra.requests(&v1_metadata(tenant)),
        entra.requests(&v2_metadata(tenant)),
        entra.requests(&v1_keys(tenant)),
        entra.requests(&v2_keys(tenant)),
    ]
}

/// Whether `entra` was asked anything about `tenant`, or anything at all on its STS host.
pub(crate) fn untouched(entra: &TestEntra, tenant: &str) -> bool {
    fetches(entra, tenant) == [0; 4] && entra.sts_requests() == 0
}

/// A random key id, as an attacker would send.
pub(crate) fn random_kid() -> String {
    let mut bytes = [0u8; 20];
    SystemRandom::new().fill(&mut bytes).unwrap();
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// The claims of a token, decoded without verification (to check fixtures).
pub(crate) fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
}

/// Sets `iat`, `nbf` and `exp` for a fixed clock.
pub(crate) fn times(builder: EntraTokenBuilder, iat: u64, nbf: u64, exp: u64) -> EntraTokenBuilder {
    builder
        .claim("iat", iat)
        .claim("nbf", nbf)
        .claim("exp", exp)
}

/// An API behind `TokenLayer`, with one route that needs `Orders.Write` (scope) or
/// `Orders.Admin` (role) and one route that needs auth context `c1`.
pub(crate) fn app(gate: Gate, tenant: &str, instance: &str) -> Router {
    let write = Router::new()
        .route("/orders/write", get(|| async { "written" }))
        .route_layer(
            RequireLayer::new(
                Requirement::any_scope(["Orders.Write"])
                    .or(Requirement::any_role(["Orders.Admin"])),
            )
            .unwrap(),
        );
    let pay = Router::new()
        .route("/pay", get(|| async { "paid" }))
        .route_layer(
            AuthContext::require(["c1"])
                .unwrap()
                .target(ChallengeTarget::tenant(instance, tenant).unwrap())
                .layer(),
        );
    Router::new()
        .route("/orders", get(|| async { "orders" }))
        .merge(write)
        .merge(pay)
        .layer(TokenLayer::new(gate))
}

/// The status and `WWW-Authenticate` (empty if none) of a GET with this bearer token.
pub(crate) async fn call(app: &Router, path: &str, token: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), challenge)
}

pub(crate) fn gate_any(entra: &TestEntra) -> Gate {
    gate(entra, any_tenant())
}
