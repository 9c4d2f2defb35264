//! The Microsoft Entra ID preset ([`EntraApi`]) end to end, against an Entra-shaped authority
//! on loopback ([`TestEntra`]): one test per item of section A of the requirements checklist
//! (ENTRA-1..44) that gives a test or that the preset implements, plus the Entra cases of the
//! attack list (ATK-21, ATK-22, ATK-32, ATK-33, ATK-35; ATK-23 and ATK-34 are in
//! `tests/attacks.rs`).
//!
//! Every refusal is asserted as its exact code, and the items about HTTP answers go through
//! `TokenLayer` and axum. Boundary tests use fixed clocks (`Gate::validate_at`); the request
//! counters of `TestEntra` show what the gate fetched, and from where.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use serde_json::Value;
use tokengate::providers::entra::{AuthContext, ChallengeTarget, EntraApi, TokenVersion};
use tokengate::testing::{EntraTokenBuilder, TestEntra};
use tokengate::{
    Claims, ErrorClass, Gate, KeyCacheSettings, ProtectedResource, Rejection, RequireLayer,
    Requirement, TokenKind, TokenLayer,
};
use tower::ServiceExt;

use TokenVersion::{V1, V2};

// ---------------------------------------------------------------------------------------------
// Gates, outcomes and counters
// ---------------------------------------------------------------------------------------------

/// An Entra-shaped authority and the tenant a test uses.
///
/// Generating RSA keys dominates the run time, so most tests share one authority, each with a
/// tenant of its own (request counters are per tenant); tests that rotate keys, cut the
/// authority off or count requests for `common` and `organizations` start their own.
struct Authority {
    entra: TestEntra,
    tenant: String,
}

impl Authority {
    /// A fresh tenant of the shared authority, which runs on a runtime of its own so that it
    /// outlives each test's runtime.
    fn shared() -> Authority {
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
    async fn own() -> Authority {
        let entra = TestEntra::start().await.unwrap();
        let tenant = entra.tenant().to_owned();
        Authority { entra, tenant }
    }

    /// The test's tenant (shadows `TestEntra::tenant`).
    fn tenant(&self) -> &str {
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
const T: u64 = 1_800_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn build(entra: &TestEntra, api: EntraApi, cooldown: Duration) -> Gate {
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
fn gate(entra: &TestEntra, api: EntraApi) -> Gate {
    build(entra, api, COOLDOWN)
}

/// A gate with a requirement on every token.
fn gate_requiring(entra: &TestEntra, api: EntraApi, requirement: Requirement) -> Gate {
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
fn build_problems(api: EntraApi) -> String {
    let error = Gate::builder()
        .issuer(api)
        .build()
        .expect_err("the configuration must be refused");
    error.problems().collect::<Vec<_>>().join("\n")
}

/// A single-tenant API for the authority's tenant.
fn single(entra: &Authority) -> EntraApi {
    EntraApi::single_tenant(entra.tenant(), TestEntra::CLIENT_ID)
}

fn tenants(tenants: &[&str]) -> EntraApi {
    EntraApi::multi_tenant(TestEntra::CLIENT_ID).tenants(tenants.iter().copied())
}

fn any_tenant() -> EntraApi {
    EntraApi::multi_tenant(TestEntra::CLIENT_ID).any_tenant()
}

/// The stable code of the outcome, `"accepted"` for a token that validates.
async fn outcome(gate: &Gate, token: &str) -> &'static str {
    gate.validate(token)
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

async fn outcome_at(gate: &Gate, token: &str, now: u64) -> &'static str {
    gate.validate_at(token, at(now))
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

async fn accepted(gate: &Gate, token: &str, variant: &str) -> Arc<Claims> {
    gate.validate(token)
        .await
        .unwrap_or_else(|r| panic!("{variant}: refused with `{}`", r.code()))
}

fn v1_metadata(tenant: &str) -> String {
    format!("/{tenant}/.well-known/openid-configuration")
}

fn v2_metadata(tenant: &str) -> String {
    format!("/{tenant}/v2.0/.well-known/openid-configuration")
}

fn v1_keys(tenant: &str) -> String {
    format!("/{tenant}/discovery/keys")
}

fn v2_keys(tenant: &str) -> String {
    format!("/{tenant}/discovery/v2.0/keys")
}

/// Requests for a tenant's documents: v1 metadata, v2 metadata, v1 keys, v2 keys.
fn fetches(entra: &TestEntra, tenant: &str) -> [usize; 4] {
    [
        entra.requests(&v1_metadata(tenant)),
        entra.requests(&v2_metadata(tenant)),
        entra.requests(&v1_keys(tenant)),
        entra.requests(&v2_keys(tenant)),
    ]
}

/// Whether `entra` was asked anything about `tenant`, or anything at all on its STS host.
fn untouched(entra: &TestEntra, tenant: &str) -> bool {
    fetches(entra, tenant) == [0; 4] && entra.sts_requests() == 0
}

/// A random key id, as an attacker would send.
fn random_kid() -> String {
    let mut bytes = [0u8; 20];
    SystemRandom::new().fill(&mut bytes).unwrap();
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// The claims of a token, decoded without verification (to check fixtures).
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap()).unwrap()
}

/// Sets `iat`, `nbf` and `exp` for a fixed clock.
fn times(builder: EntraTokenBuilder, iat: u64, nbf: u64, exp: u64) -> EntraTokenBuilder {
    builder
        .claim("iat", iat)
        .claim("nbf", nbf)
        .claim("exp", exp)
}

/// An API behind `TokenLayer`, with one route that needs `Orders.Write` (scope) or
/// `Orders.Admin` (role) and one route that needs auth context `c1`.
fn app(gate: Gate, tenant: &str, instance: &str) -> Router {
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
async fn call(app: &Router, path: &str, token: &str) -> (StatusCode, String) {
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

// ---------------------------------------------------------------------------------------------
// A1. Token versions, issuers and `ver` (ENTRA-1..4)
// ---------------------------------------------------------------------------------------------

/// ENTRA-1, ENTRA-2: both formats validate with the preset's default (both versions), each
/// with its own issuer shape: v1 `https://{sts}/{tid}/` (trailing slash) with `ver` 1.0, v2
/// `{instance}/{tid}/v2.0` with `ver` 2.0.
#[tokio::test]
async fn entra_1_2_v1_and_v2_token_formats_validate() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for (version, issuer, ver) in [
        (V1, entra.v1_issuer(tid), "1.0"),
        (V2, entra.v2_issuer(tid), "2.0"),
    ] {
        let token = entra.token(version, tid).sign();
        let claims = accepted(&gate, &token, &format!("{version:?}")).await;
        assert_eq!(claims.issuer(), issuer);
        let json: Value = claims.deserialize().unwrap();
        assert_eq!(json["ver"], ver);
    }
    assert!(entra.v1_issuer(tid).ends_with(&format!("/{tid}/")));
    assert!(entra.v2_issuer(tid).ends_with(&format!("/{tid}/v2.0")));
    assert!(!entra.v1_issuer(tid).starts_with(entra.instance()));
}

/// ENTRA-3: each token is checked against the metadata of its own version: the v1 issuer is
/// the one the tenant's v1 document names, verified with the v1 key set, and the v2 issuer
/// the v2 document's. Everything comes from the configured instance; the v1 issuer's host is
/// never asked anything.
#[tokio::test]
async fn entra_3_each_version_against_its_own_metadata() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let v1 = entra.token(V1, tid).sign();
    let v2 = entra.token(V2, tid).sign();
    assert_eq!(outcome(&gate, &v1).await, "accepted");
    // Only the documents that could name the token's issuer: the v1 ones, once each.
    assert_eq!(fetches(&entra, tid), [1, 0, 1, 0]);
    assert_eq!(outcome(&gate, &v2).await, "accepted");
    assert_eq!(fetches(&entra, tid), [1, 1, 1, 1]);
    assert_eq!(entra.sts_requests(), 0);

    // A v1 token carrying the v2 issuer (or the reverse) is judged by the issuer it names:
    // a v2 `iss` with `ver` 1.0 and an `x5t` header still validates as a v2 token, since the
    // keys are shared; the `iss` picks the metadata, never the `ver`.
    let mixed = entra.token(V1, tid).issuer(&entra.v2_issuer(tid)).sign();
    let claims = accepted(&gate, &mixed, "v1 token with a v2 iss").await;
    assert_eq!(claims.issuer(), entra.v2_issuer(tid));
}

/// ENTRA-3: the unverified `iss` only chooses among configured metadata; it is never turned
/// into a URL. A token naming `https://evil.example/{tid}/v2.0`, another authority, or the STS
/// host with another path, makes no request there (only configured documents that could name
/// such an issuer are fetched, once) and is refused `untrusted_issuer`.
#[tokio::test]
async fn entra_3_foreign_issuer_makes_no_request() {
    let entra = Authority::shared();
    let evil = Authority::own().await;
    // A tenant of its own: other tests use the shared one's first tenant at the same time.
    let tenant = entra.add_tenant();
    let tid = tenant.as_str();
    let gate = gate(&entra, EntraApi::single_tenant(tid, TestEntra::CLIENT_ID));
    let foreign = [
        format!("https://evil.example/{tid}/v2.0"),
        format!("https://evil.example/{tid}/"),
        evil.v2_issuer(tid),
        evil.v1_issuer(tid),
        format!("{}v2.0", entra.v1_issuer(tid)),
        format!("{}.well-known/openid-configuration", entra.v1_issuer(tid)),
    ];
    for iss in &foreign {
        let token = entra.token(V2, tid).issuer(iss).sign();
        assert_eq!(outcome(&gate, &token).await, "untrusted_issuer", "{iss}");
    }
    // Nothing from the token's hosts. Only the v1 documents were fetched (once): a v1 issuer's
    // host is the cloud's STS, known only from them, so `https://evil.example/{tid}/` could have
    // been it; no v2 issuer but `{instance}/{tid}/v2.0` could, so the v2 ones were not.
    assert_eq!(fetches(&entra, tid), [1, 0, 1, 0]);
    assert_eq!(entra.sts_requests(), 0);
    assert!(untouched(&evil, tid));
    assert_eq!(evil.requests(&format!("/{tid}/v2.0")), 0);
    // The issuer of the configured tenant still validates.
    assert_eq!(
        outcome(&gate, &entra.token(V2, tid).sign()).await,
        "accepted"
    );
}

/// ENTRA-4: the accepted versions are configurable. With only v2, a v1 token is from an
/// untrusted issuer and the v1 documents are never fetched; with only v1, the reverse.
#[tokio::test]
async fn entra_4_versions_are_configurable() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let v1 = entra.token(V1, tid).sign();
    let v2 = entra.token(V2, tid).sign();

    let v2_only = gate(&entra, single(&entra).versions([TokenVersion::V2]));
    assert_eq!(outcome(&v2_only, &v2).await, "accepted");
    assert_eq!(outcome(&v2_only, &v1).await, "untrusted_issuer");
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 1]);

    let v1_only = gate(&entra, single(&entra).versions([TokenVersion::V1]));
    assert_eq!(outcome(&v1_only, &v1).await, "accepted");
    assert_eq!(outcome(&v1_only, &v2).await, "untrusted_issuer");
    assert_eq!(fetches(&entra, tid), [1, 1, 1, 1]);

    let both = gate(
        &entra,
        single(&entra).versions([TokenVersion::V1, TokenVersion::V2]),
    );
    assert_eq!(outcome(&both, &v1).await, "accepted");
    assert_eq!(outcome(&both, &v2).await, "accepted");
    // Both by default; none at all is a configuration error.
    let default = gate(&entra, single(&entra));
    assert_eq!(outcome(&default, &v1).await, "accepted");
    assert_eq!(outcome(&default, &v2).await, "accepted");
    let none = Gate::builder()
        .issuer(single(&entra).versions([]))
        .build()
        .unwrap_err();
    assert!(
        none.problems().any(|p| p.contains("no token version")),
        "{none}"
    );
}

// ---------------------------------------------------------------------------------------------
// A2. Audience (ENTRA-5..7, ATK-21)
// ---------------------------------------------------------------------------------------------

/// ENTRA-5, ENTRA-6: the client id and `api://{client id}` are the API's own identifiers, for
/// v1 and v2 tokens alike; a token for any other resource is refused `invalid_audience`.
#[tokio::test]
async fn entra_5_6_client_id_and_api_uri_audiences() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let api_uri = format!("api://{}", TestEntra::CLIENT_ID);
    for version in [V1, V2] {
        for aud in [TestEntra::CLIENT_ID, api_uri.as_str()] {
            let token = entra.token(version, tid).audience(aud).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "accepted",
                "{version:?} {aud}"
            );
        }
        for aud in [
            TestEntra::CALLER_ID,
            "api://orders",
            "https://api.contoso.com/orders",
            "6F1E3C2A-9B4D-4E7F-8A15-2C3D4E5F6A7B",
        ] {
            let token = entra.token(version, tid).audience(aud).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "invalid_audience",
                "{version:?} {aud}"
            );
        }
    }
}

/// ENTRA-6, ENTRA-7: App ID URIs are accepted once configured, exactly; the trailing-slash
/// variant only with `accept_audience_trailing_slash`, and nothing else ever: no prefix, no
/// case folding, no trimming.
#[tokio::test]
async fn entra_7_app_id_uris_and_trailing_slash() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let token = |aud: &str| entra.token(V1, tid).audience(aud).sign();

    let plain = gate(&entra, single(&entra));
    let with_uris = gate(
        &entra,
        single(&entra)
            .app_id_uri("api://x")
            .app_id_uri("https://api.contoso.com/orders"),
    );
    let tolerant = gate(
        &entra,
        single(&entra)
            .app_id_uri("api://x")
            .app_id_uri("https://api.contoso.com/orders")
            .accept_audience_trailing_slash(),
    );
    for aud in ["api://x", "https://api.contoso.com/orders"] {
        assert_eq!(
            outcome(&plain, &token(aud)).await,
            "invalid_audience",
            "{aud}"
        );
        assert_eq!(outcome(&with_uris, &token(aud)).await, "accepted", "{aud}");
        assert_eq!(outcome(&tolerant, &token(aud)).await, "accepted", "{aud}");
    }
    for aud in ["api://x/", "https://api.contoso.com/orders/"] {
        assert_eq!(
            outcome(&with_uris, &token(aud)).await,
            "invalid_audience",
            "{aud} without the tolerance"
        );
        assert_eq!(outcome(&tolerant, &token(aud)).await, "accepted", "{aud}");
    }
    for aud in [
        "api://x.evil",
        "api://",
        "API://X",
        "api://X",
        "api://x ",
        " api://x",
        "api://xx",
        "api://x//",
        "api://x/y",
        "https://api.contoso.com/orders/x",
        "https://API.contoso.com/orders",
    ] {
        assert_eq!(
            outcome(&tolerant, &token(aud)).await,
            "invalid_audience",
            "{aud:?}"
        );
    }
    // The client id stays accepted beside App ID URIs; `api://{client id}` is an App ID URI
    // too, so its slash variant follows the tolerance (ENTRA-6).
    assert_eq!(
        outcome(&tolerant, &token(TestEntra::CLIENT_ID)).await,
        "accepted"
    );
    let default_uri = format!("api://{}/", TestEntra::CLIENT_ID);
    assert_eq!(outcome(&tolerant, &token(&default_uri)).await, "accepted");
    assert_eq!(
        outcome(&with_uris, &token(&default_uri)).await,
        "invalid_audience"
    );
    let client_slash = format!("{}/", TestEntra::CLIENT_ID);
    assert_eq!(
        outcome(&tolerant, &token(&client_slash)).await,
        "invalid_audience"
    );
}

/// ENTRA-6: "The application ID URI value must not end with a slash"; App ID URIs that are
/// empty, end with `/` or carry surrounding whitespace are configuration errors.
#[test]
fn entra_6_malformed_app_id_uris_are_refused_at_build() {
    for uri in ["", "api://x/", "api://x ", " api://x"] {
        let problems = build_problems(
            EntraApi::single_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47", TestEntra::CLIENT_ID)
                .app_id_uri(uri),
        );
        assert!(problems.contains("App ID URI"), "{uri:?}: {problems}");
    }
}

/// ATK-21: audience confusion through the preset: arrays with ours plus others pass, arrays
/// of others, Graph's audiences and wrong types do not.
#[tokio::test]
async fn atk_21_audience_confusion() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra).app_id_uri("api://x"));
    let with_aud = |aud: Value| entra.token(V2, tid).claim("aud", aud).sign();
    let cases = [
        (
            serde_json::json!([TestEntra::CLIENT_ID, "https://other.example"]),
            "accepted",
        ),
        (
            serde_json::json!(["https://other.example", "api://x"]),
            "accepted",
        ),
        (serde_json::json!([]), "invalid_audience"),
        (
            serde_json::json!(["api://x.evil", "API://X"]),
            "invalid_audience",
        ),
        (
            serde_json::json!("https://graph.microsoft.com"),
            "invalid_audience",
        ),
        (
            serde_json::json!("00000003-0000-0000-c000-000000000000"),
            "invalid_audience",
        ),
        (serde_json::json!([123]), "malformed_claims"),
        (serde_json::json!([["api://x"]]), "malformed_claims"),
    ];
    for (aud, expected) in cases {
        assert_eq!(
            outcome(&gate, &with_aud(aud.clone())).await,
            expected,
            "{aud}"
        );
    }
    let no_aud = entra.token(V2, tid).without_claim("aud").sign();
    assert_eq!(outcome(&gate, &no_aud).await, "missing_claim");
}

// ---------------------------------------------------------------------------------------------
// A3. Claims (ENTRA-8..10)
// ---------------------------------------------------------------------------------------------

/// ENTRA-8: unknown claims are ignored and optional claims are never required.
#[tokio::test]
async fn entra_8_unknown_claims_ignored_optional_claims_not_required() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let mut builder = entra
            .token(version, tid)
            .claim("xms_new_claim", serde_json::json!({"a": [1, 2]}))
            .claim("future", "value");
        for optional in [
            "aio",
            "rh",
            "uti",
            "name",
            "preferred_username",
            "unique_name",
            "upn",
            "acr",
            "amr",
            "azp",
            "azpacr",
            "appid",
            "appidacr",
            "ver",
            "nbf",
            "iat",
        ] {
            builder = builder.without_claim(optional);
        }
        let claims = accepted(&gate, &builder.sign(), &format!("{version:?}")).await;
        assert_eq!(claims.client_id(), None);
        assert_eq!(claims.issued_at(), None);
    }
}

/// ENTRA-9, ENTRA-10: the principal is `tid` + `oid` (or `sub`), exposed normalized; the
/// mutable names (`email`, `preferred_username`, `upn`, `unique_name`, `name`) feed none of
/// the normalized accessors. The same `oid` and `sub` in two tenants are two principals.
#[tokio::test]
async fn entra_9_10_tenant_and_object_ids_are_the_principal() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gate = gate(&entra, tenants(&[&a, &b]));
    let oid = "00000000-0000-4000-8000-00000000a11c";
    let sub = "pairwise-subject-of-alice";
    let mut principals = Vec::new();
    for tid in [&a, &b] {
        for version in [V1, V2] {
            let token = entra
                .token(version, tid)
                .claim("oid", oid)
                .claim("sub", sub)
                .claim("email", "admin@contoso.com")
                .claim("preferred_username", "admin@contoso.com")
                .claim("upn", "admin@contoso.com")
                .claim("unique_name", "admin@contoso.com")
                .claim("name", "Administrator")
                .sign();
            let claims = accepted(&gate, &token, &format!("{tid} {version:?}")).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
            assert_eq!(claims.object_id(), Some(oid));
            assert_eq!(claims.subject(), Some(sub));
            assert_eq!(claims.client_id(), Some(TestEntra::CALLER_ID));
            assert_eq!(claims.token_kind(), TokenKind::User);
            principals.push((
                claims.tenant_id().unwrap().to_owned(),
                claims.object_id().unwrap().to_owned(),
            ));
        }
    }
    principals.dedup();
    assert_eq!(
        principals.len(),
        2,
        "one principal per tenant: {principals:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A4. Discovery and keys (ENTRA-11..15)
// ---------------------------------------------------------------------------------------------

/// ENTRA-11, ENTRA-12: a tenant's documents are `{instance}/{tenant}/v2.0/.well-known/...`
/// and `{instance}/{tenant}/.well-known/...`, its keys those the documents name
/// (`.../discovery/v2.0/keys`, `.../discovery/keys`); the any-tenant mode reads the
/// tenant-independent documents, `organizations` for v2 and `common` for v1, and takes the v1
/// keys from the v2 `common` document (the same keys, with their `issuer` members).
#[tokio::test]
async fn entra_11_12_metadata_and_key_locations() {
    let entra = Authority::own().await;
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    gate.warm_up().await.expect("the tenant's documents load");
    assert_eq!(fetches(&entra, tid), [1, 1, 1, 1]);
    assert!(gate.is_ready());
    assert_eq!(gate.key_status().len(), 2, "one issuer per version");

    let any = gate_any(&entra);
    any.warm_up()
        .await
        .expect("the multi-tenant documents load");
    assert_eq!(entra.requests(&v2_metadata("organizations")), 1);
    assert_eq!(entra.requests(&v2_keys("organizations")), 1);
    assert_eq!(entra.requests(&v1_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_keys("common")), 1);
    assert_eq!(entra.requests(&v1_keys("common")), 0);
    assert_eq!(entra.requests(&v1_metadata("organizations")), 0);
    assert_eq!(entra.sts_requests(), 0);
}

fn gate_any(entra: &TestEntra) -> Gate {
    gate(entra, any_tenant())
}

/// ENTRA-13: the tenant-independent documents name templated issuers
/// (`{instance}/{tenantid}/v2.0`, `https://{sts}/{tenantid}/`); with `any_tenant`, tokens of
/// any work or school tenant validate against them, v1 and v2, and carry their tenant.
#[tokio::test]
async fn entra_13_any_tenant_uses_the_templated_issuers() {
    let entra = Authority::shared();
    let gate = gate_any(&entra);
    for tid in [
        entra.tenant().to_owned(),
        entra.add_tenant(),
        entra.add_tenant(),
    ] {
        for version in [V1, V2] {
            let token = entra.token(version, &tid).sign();
            let claims = accepted(&gate, &token, &format!("{tid} {version:?}")).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
            let issuer = match version {
                V1 => entra.v1_issuer(&tid),
                V2 => entra.v2_issuer(&tid),
            };
            assert_eq!(claims.issuer(), issuer);
        }
        // No per-tenant document was needed.
        assert_eq!(fetches(&entra, &tid), [0; 4]);
    }
    // The template itself, `common` or an uppercase tenant in `iss` is no issuer.
    let tid = entra.tenant();
    let upper = tid.to_uppercase();
    for iss in [
        entra.v2_issuer("{tenantid}"),
        entra.v2_issuer("common"),
        entra.v2_issuer("organizations"),
        entra.v2_issuer(&upper),
        entra.v1_issuer("{tenantid}"),
        entra.v1_issuer(&upper),
        format!("{}/", entra.v2_issuer(tid)),
    ] {
        let token = entra.token(V2, tid).issuer(&iss).sign();
        assert_eq!(outcome(&gate, &token).await, "untrusted_issuer", "{iss}");
    }
}

/// ENTRA-14: v2 key sets give each key an `issuer`, templated in the tenant-independent sets
/// (`{instance}/{tenantid}/v2.0`), literal in a tenant's own set and, in `common`, for a key
/// of one tenant (as Entra's personal-account keys); v1 key sets give none (the served shapes
/// are checked in `tests/testing_entra.rs`). Every one of these sets loads, and each key signs
/// what its issuer allows, v1 and v2:
///
/// * single tenant: the tenant's own sets (v2 literal, v1 none);
/// * tenant list: B's own key, with B's literal issuer, signs B's tokens; A's sets lack it;
/// * any tenant: shared keys (templated) sign any tenant's tokens; B's key, found with its
///   literal issuer in the v2 `common` set that v1 tokens are verified with, signs B's v1
///   tokens but not A's (`key_issuer_mismatch`), and B's v2 tokens through B's own set.
#[tokio::test]
async fn entra_14_key_sets_with_and_without_key_issuers() {
    let entra = Authority::own().await;
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let b_kid = entra.tenant_key(&b);
    let single = gate(&entra, single(&entra));
    let list = gate(&entra, tenants(&[&a, &b]));
    let any = gate_any(&entra);
    for version in [V1, V2] {
        for (name, gate) in [("single", &single), ("list", &list), ("any", &any)] {
            let token = entra.token(version, &a).sign();
            assert_eq!(
                outcome(gate, &token).await,
                "accepted",
                "{name} {version:?}"
            );
        }
        let own = entra.token(version, &b).key(&b_kid).sign();
        assert_eq!(outcome(&list, &own).await, "accepted", "{version:?}");
        assert_eq!(outcome(&any, &own).await, "accepted", "{version:?}");
        let foreign = entra.token(version, &a).key(&b_kid).sign();
        assert_eq!(outcome(&list, &foreign).await, "unknown_key", "{version:?}");
    }
    let foreign = entra.token(V1, &a).key(&b_kid).sign();
    assert_eq!(outcome(&any, &foreign).await, "key_issuer_mismatch");
    for gate in [&single, &list, &any] {
        assert!(gate.key_status().iter().all(|status| status.usable));
    }
}

/// ENTRA-15: with `app_specific_keys`, metadata is fetched with `?appid={client id}`, the
/// query stays on the `jwks_uri` it names, and tokens signed with the app's own key validate;
/// without the option the app's key is never served, and such a token is refused.
#[tokio::test]
async fn entra_15_app_specific_keys() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let kid = entra.app_specific_key(TestEntra::CLIENT_ID);
    let query = format!("?appid={}", TestEntra::CLIENT_ID);

    let gate_app = gate(&entra, single(&entra).app_specific_keys());
    for version in [V1, V2] {
        let token = entra.token(version, tid).key(&kid).sign();
        assert_eq!(outcome(&gate_app, &token).await, "accepted", "{version:?}");
        // Shared keys are served too.
        let shared = entra.token(version, tid).sign();
        assert_eq!(outcome(&gate_app, &shared).await, "accepted", "{version:?}");
    }
    for path in [
        v1_metadata(tid),
        v2_metadata(tid),
        v1_keys(tid),
        v2_keys(tid),
    ] {
        assert_eq!(
            entra.requests(&format!("{path}{query}")),
            1,
            "{path}{query}"
        );
        assert_eq!(entra.requests(&path), 1, "{path} without the query");
    }

    let plain = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let token = entra.token(version, tid).key(&kid).sign();
        assert_eq!(outcome(&plain, &token).await, "unknown_key", "{version:?}");
    }
    assert_eq!(entra.requests(&format!("{}{query}", v2_keys(tid))), 1);
    // Another application's key is not served even with the option.
    let other = entra.app_specific_key(TestEntra::CALLER_ID);
    let token = entra.token(V2, tid).key(&other).sign();
    assert_eq!(outcome(&gate_app, &token).await, "unknown_key");
}

// ---------------------------------------------------------------------------------------------
// A5. Issuer validation, single-tenant and multi-tenant (ENTRA-16..18, ATK-22)
// ---------------------------------------------------------------------------------------------

/// ENTRA-16: a single-tenant API accepts exactly the issuers its tenant's documents name:
/// another tenant, or any respelling of its own issuer, is `untrusted_issuer`.
#[tokio::test]
async fn entra_16_single_tenant_issuer_is_exact() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let other = entra.add_tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let own = entra.token(version, tid).sign();
        let claims = accepted(&gate, &own, "own tenant").await;
        assert_eq!(claims.issuer(), payload(&own)["iss"].as_str().unwrap());
        let token = entra.token(version, &other).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?}"
        );
        // Another tenant's issuer with this tenant's `tid`.
        let iss = payload(&token)["iss"].as_str().unwrap().to_owned();
        let token = entra.token(version, tid).issuer(&iss).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?} other iss, own tid"
        );
    }
    // Nothing was fetched for the other tenant; the issuer respellings are in ATK-22.
    assert_eq!(fetches(&entra, &other), [0; 4]);
}

/// ATK-22: issuer confusion, each variant of the configured tenant's issuers (signed with the
/// right key, with the right `tid`) is `untrusted_issuer`.
#[tokio::test]
async fn atk_22_issuer_confusion() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let upper = tid.to_uppercase();
    let gate = gate(&entra, single(&entra));
    let v1 = entra.v1_issuer(tid);
    let v2 = entra.v2_issuer(tid);
    let instance = entra.instance();
    let variants = [
        format!("{v2}/"),
        v1.trim_end_matches('/').to_owned(),
        format!("{v1}/"),
        v2.to_uppercase(),
        v2.replacen("http://", "HTTP://", 1),
        entra.v2_issuer(&upper),
        entra.v1_issuer(&upper),
        format!("{instance}/{tid}/v2.0/"),
        format!("{instance}/{tid}/"),
        format!("{instance}/{tid}"),
        format!("{instance}/{tid}/v1.1"),
        format!("{instance}/common/v2.0"),
        format!("{instance}/organizations/v2.0"),
        entra.v2_issuer("{tenantid}"),
        format!("{v2} "),
        format!(" {v2}"),
        format!("{v2}#"),
        format!("{v2}?x=1"),
        v2.replace("127.0.0.1", "localhost"),
        v1.replace("127.0.0.1", "localhost"),
        v2.replace("127.0.0.1", "127.0.0.01"),
        v2.replace("http://", "https://"),
        String::new(),
    ];
    for iss in variants {
        for version in [V1, V2] {
            let token = entra.token(version, tid).issuer(&iss).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "untrusted_issuer",
                "{version:?} iss {iss:?}"
            );
        }
    }
    assert_eq!(entra.sts_requests(), 0);
}

/// ENTRA-17 (multi-tenant, allowlist): tokens of the listed tenants validate, v1 and v2, each
/// against its own tenant's documents and keys (ENTRA-21: per tenant); a tenant outside the
/// list is `untrusted_issuer` and nothing is fetched for it.
#[tokio::test]
async fn entra_17_multi_tenant_allowlist() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let outsider = entra.add_tenant();
    let gate = gate(&entra, tenants(&[&a, &b]));
    for tid in [&a, &b] {
        for version in [V1, V2] {
            let claims = accepted(&gate, &entra.token(version, tid).sign(), tid).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
        }
        assert_eq!(fetches(&entra, tid), [1, 1, 1, 1], "{tid}");
    }
    for version in [V1, V2] {
        let token = entra.token(version, &outsider).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?}"
        );
    }
    assert_eq!(fetches(&entra, &outsider), [0; 4]);
}

/// ENTRA-17 steps 1 and 4 (single tenant and allowlist): `tid` must be present, once (no
/// `TID` beside it), a lowercase GUID, and the tenant segment of `iss`: otherwise
/// `invalid_tenant`, for v1 and v2 alike.
#[tokio::test]
async fn entra_17_tid_rules() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("allowlist", gate(&entra, tenants(&[&a, &b]))),
    ];
    let upper = a.to_uppercase();
    let braced = format!("{{{a}}}");
    let cases: [(&str, Option<Value>, Option<Value>); 9] = [
        ("tid of another listed tenant", Some(b.clone().into()), None),
        ("tid not a GUID", Some("contoso".into()), None),
        ("tid 'common'", Some("common".into()), None),
        ("tid 'organizations'", Some("organizations".into()), None),
        ("tid uppercase", Some(upper.clone().into()), None),
        ("tid in braces", Some(braced.into()), None),
        ("tid not a string", Some(serde_json::json!([a])), None),
        (
            "tid and TID",
            Some(a.clone().into()),
            Some(b.clone().into()),
        ),
        (
            "tid and Tid, same value",
            Some(a.clone().into()),
            Some(a.clone().into()),
        ),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let good = entra.token(version, &a).sign();
            assert_eq!(outcome(gate, &good).await, "accepted", "{name} {version:?}");
            for (variant, tid, twin) in &cases {
                let mut builder = entra.token(version, &a);
                if let Some(tid) = tid {
                    builder = builder.claim("tid", tid);
                }
                if let Some(twin) = twin {
                    let spelling = if variant.contains("TID") {
                        "TID"
                    } else {
                        "Tid"
                    };
                    builder = builder.claim(spelling, twin);
                }
                let expected = if *variant == "tid not a string" {
                    "malformed_claims"
                } else {
                    "invalid_tenant"
                };
                assert_eq!(
                    outcome(gate, &builder.sign()).await,
                    expected,
                    "{name} {version:?}: {variant}"
                );
            }
            let missing = entra.token(version, &a).without_claim("tid").sign();
            assert_eq!(
                outcome(gate, &missing).await,
                "invalid_tenant",
                "{name} {version:?}: tid missing"
            );
        }
    }
}

/// ENTRA-18: only `tid` names the tenant; the legacy
/// `http://schemas.microsoft.com/identity/claims/tenantid` claim does not stand in for it.
#[tokio::test]
async fn entra_18_only_tid_names_the_tenant() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    // The any-tenant key check needs `tid` to fill its templated issuer: without one, no
    // key fits (`key_issuer_mismatch`), v1 tokens included, as they are verified with the v2
    // keys, which carry `issuer`. A tenant's own keys have none: the tenant check refuses.
    let cases = [
        (gate(&entra, single(&entra)), V1, "invalid_tenant"),
        (gate(&entra, single(&entra)), V2, "invalid_tenant"),
        (gate_any(&entra), V1, "key_issuer_mismatch"),
        (gate_any(&entra), V2, "key_issuer_mismatch"),
    ];
    for (gate, version, expected) in cases {
        let token = entra
            .token(version, tid)
            .without_claim("tid")
            .claim("http://schemas.microsoft.com/identity/claims/tenantid", tid)
            .sign();
        assert_eq!(outcome(&gate, &token).await, expected, "{version:?}");
    }
}

/// ENTRA-17 (any tenant): the issuer is the template with the token's `tid`, and each key's
/// own templated `issuer` must give the token's `iss` with that `tid` (step 3). A v2 token
/// whose `tid` is not its `iss` tenant is refused by the key check (`key_issuer_mismatch`);
/// `tid` + `TID` by the tenant check. v1 tokens are verified with the v2 keys, whose issuer
/// with the token's `tid` may also be that tenant's v2 issuer (a v1 token's `iss` never is):
/// a shared key's template fits any `tid`, so they fall to the tenant check
/// (`invalid_tenant`), unless `tid` is missing and there is nothing to fill the template with
/// (`key_issuer_mismatch`, as v2).
#[tokio::test]
async fn entra_17_any_tenant_tid_rules() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gate = gate_any(&entra);
    let upper = a.to_uppercase();
    let tids: [(&str, Option<&str>); 5] = [
        ("another tenant", Some(&b)),
        ("not a GUID", Some("contoso")),
        ("common", Some("common")),
        ("uppercase", Some(&upper)),
        ("missing", None),
    ];
    for (variant, tid) in tids {
        let v1 = match tid {
            Some(_) => "invalid_tenant",
            None => "key_issuer_mismatch",
        };
        for (version, expected) in [(V2, "key_issuer_mismatch"), (V1, v1)] {
            let mut builder = entra.token(version, &a);
            builder = match tid {
                Some(tid) => builder.claim("tid", tid),
                None => builder.without_claim("tid"),
            };
            assert_eq!(
                outcome(&gate, &builder.sign()).await,
                expected,
                "{version:?}: tid {variant}"
            );
        }
    }
    for version in [V1, V2] {
        let twin = entra.token(version, &a).claim("TID", &b).sign();
        assert_eq!(
            outcome(&gate, &twin).await,
            "invalid_tenant",
            "{version:?}: tid and TID"
        );
        let good = entra.token(version, &a).sign();
        assert_eq!(outcome(&gate, &good).await, "accepted", "{version:?}");
    }
}

/// ENTRA-17 step 3: a key that belongs to another tenant cannot sign for an organization
/// tenant. The personal-account (consumers) tenant's own key, which Entra publishes in
/// `common` with its literal issuer, is not in the key sets the preset reads for an org
/// tenant (the tenant's own, or `organizations`): refused `unknown_key`, in every mode. A
/// shared key, whose templated `issuer` is filled with another `tid` than `iss` names, is
/// refused `key_issuer_mismatch`.
#[tokio::test]
async fn entra_17_key_of_another_tenant_is_refused() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let b_kid = entra.tenant_key(&b);
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("allowlist", gate(&entra, tenants(&[&a, &b]))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        assert_eq!(
            outcome(gate, &entra.token(V2, &a).sign()).await,
            "accepted",
            "{name}"
        );
        for kid in [&msa_kid, &b_kid] {
            let token = entra.token(V2, &a).key(kid).sign();
            assert_eq!(outcome(gate, &token).await, "unknown_key", "{name}");
        }
    }
    // In the allowlist, B's own key signs B's tokens (its literal issuer is B's).
    let allowlist = &gates[1].1;
    let token = entra.token(V2, &b).key(&b_kid).sign();
    assert_eq!(outcome(allowlist, &token).await, "accepted");
    // Any tenant: A's issuer with B's tid, signed with a shared (templated) key.
    let any = &gates[2].1;
    let token = entra.token(V2, &a).claim("tid", &b).sign();
    assert_eq!(outcome(any, &token).await, "key_issuer_mismatch");
}

/// ENTRA-17: personal Microsoft accounts are not "any work or school tenant": tokens of the
/// consumers tenant are refused `invalid_tenant` in the any-tenant mode, v1 and v2.
#[tokio::test]
async fn entra_17_consumers_tenant_refused_in_any_tenant_mode() {
    let entra = Authority::shared();
    let gate = gate_any(&entra);
    for version in [V1, V2] {
        let token = entra.token(version, "consumers").sign();
        assert_eq!(
            payload(&token)["tid"],
            TestEntra::CONSUMERS_TENANT,
            "fixture"
        );
        assert_eq!(
            outcome(&gate, &token).await,
            "invalid_tenant",
            "{version:?}"
        );
    }
}

/// ENTRA-17 step 3, ATK-23, for v1 tokens in the any-tenant mode: a key that only the
/// personal-account (consumers) tenant uses must not sign an organization tenant's token.
/// `TestEntra` serves tenant keys in `common`'s key sets, as Entra does, v1 (without `issuer`)
/// and v2 (with the tenant's literal issuer). The preset verifies v1 tokens with the v2
/// `common` set, where a key must be one the v2 issuer of the token's tenant may use: the
/// consumers key's issuer is the consumers tenant's, so it is refused.
#[tokio::test]
async fn entra_17_v1_any_tenant_refuses_consumers_tenant_key() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let gate = gate_any(&entra);
    assert_eq!(
        outcome(&gate, &entra.token(V1, &tid).sign()).await,
        "accepted"
    );
    let token = entra.token(V1, &tid).key(&msa_kid).sign();
    assert_eq!(outcome(&gate, &token).await, "key_issuer_mismatch");
}

/// ENTRA-17: a v1 token under the any-tenant mode is matched against the v1 template of the
/// `common` v1 document (`https://{sts}/{tenantid}/`). It is verified with the keys the v2
/// `common` document names: the same keys as the v1 set, but with the `issuer` members the
/// key-issuer check (step 3) needs, which the v1 set lacks.
#[tokio::test]
async fn entra_17_v1_token_under_any_tenant_uses_the_v1_template() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let gate = gate(&entra, any_tenant().versions([TokenVersion::V1]));
    let token = entra.token(V1, &tid).sign();
    let claims = accepted(&gate, &token, "v1 any tenant").await;
    assert_eq!(claims.issuer(), entra.v1_issuer(&tid));
    assert_eq!(claims.tenant_id(), Some(tid.as_str()));
    // The issuer template from the v1 document, the keys from the v2 one: each fetched once,
    // the v1 key set not at all.
    assert_eq!(entra.requests(&v1_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_keys("common")), 1);
    assert_eq!(entra.requests(&v1_keys("common")), 0);
    assert_eq!(entra.requests(&v2_metadata("organizations")), 0);
    // The v2 issuer of the same tenant is not a v1-only API's.
    let v2 = entra.token(V2, &tid).sign();
    assert_eq!(outcome(&gate, &v2).await, "untrusted_issuer");
}

/// ENTRA-17 step 5 and the preset's other rules: no silent "every tenant", no `common` as a
/// tenant, a GUID client id; every problem is reported at build, before any request.
#[test]
fn entra_17_configuration_errors() {
    let client = TestEntra::CLIENT_ID;
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let cases: Vec<(&str, EntraApi, &str)> = vec![
        (
            "multi-tenant without tenants",
            EntraApi::multi_tenant(client),
            "must name the tenants",
        ),
        (
            "any_tenant with tenants",
            EntraApi::multi_tenant(client)
                .tenants([tenant])
                .any_tenant(),
            "exclude each other",
        ),
        (
            "any_tenant on a single-tenant API",
            EntraApi::single_tenant(tenant, client).any_tenant(),
            "any_tenant is for multi-tenant APIs",
        ),
        (
            "common as the tenant",
            EntraApi::single_tenant("common", client),
            "are not tenants",
        ),
        (
            "organizations in the list",
            EntraApi::multi_tenant(client).tenants([tenant, "organizations"]),
            "are not tenants",
        ),
        (
            "Consumers in the list",
            EntraApi::multi_tenant(client).tenants(["Consumers"]),
            "are not tenants",
        ),
        (
            "uppercase tenant id",
            EntraApi::single_tenant(tenant.to_uppercase(), client),
            "lowercase GUID",
        ),
        (
            "empty tenant",
            EntraApi::single_tenant("", client),
            "not tenants",
        ),
        (
            "client id not a GUID",
            EntraApi::single_tenant(tenant, "orders-api"),
            "is not an application (client) id GUID",
        ),
        (
            "client id as an App ID URI",
            EntraApi::single_tenant(tenant, format!("api://{client}")),
            "is not an application (client) id GUID",
        ),
        (
            "instance with a path",
            EntraApi::single_tenant(tenant, client)
                .instance("https://login.microsoftonline.com/common"),
            "is not an authority host URL",
        ),
        (
            "instance not a URL",
            EntraApi::single_tenant(tenant, client).instance("login.microsoftonline.com"),
            "is not an authority host URL",
        ),
    ];
    for (variant, api, expected) in cases {
        let problems = build_problems(api);
        assert!(problems.contains(expected), "{variant}: {problems}");
    }
    // Accepted: a tenant list, a verified domain, any tenant.
    for api in [
        EntraApi::multi_tenant(client).tenants([tenant, "contoso.onmicrosoft.com"]),
        EntraApi::multi_tenant(client).any_tenant(),
        EntraApi::single_tenant("contoso.onmicrosoft.com", client),
    ] {
        assert!(Gate::builder().issuer(api).build().is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// A6. Signing-key rollover, caching and refresh (ENTRA-19..22)
// ---------------------------------------------------------------------------------------------

/// ENTRA-19, ENTRA-20, ENTRA-21: after a rotation, a token signed with the new key (chosen by
/// `kid`) validates after exactly one refetch of the key set (the metadata is not fetched
/// again), and a further unknown `kid` right after starts no other; the still-published older
/// key keeps working.
#[tokio::test]
async fn entra_21_rotation_new_kid_after_exactly_one_refetch() {
    let entra = Authority::own().await;
    let tid = entra.tenant();
    let cooldown = Duration::from_secs(1);
    let gate = build(
        &entra,
        single(&entra).versions([TokenVersion::V2]),
        cooldown,
    );
    let before = entra.token(V2, tid).sign();
    assert_eq!(outcome(&gate, &before).await, "accepted");
    let loaded = Instant::now();
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 1]);

    let kid = entra.rotate_keys();
    let rotated = entra.token(V2, tid).key(&kid).sign();
    let stranger = entra.token(V2, tid).header("kid", random_kid()).sign();
    // (Within the cooldown no refetch could start: `entra_21_random_kids_...` shows it.)
    tokio::time::sleep_until((loaded + cooldown + Duration::from_millis(50)).into()).await;
    assert_eq!(outcome(&gate, &rotated).await, "accepted");
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 2], "exactly one refetch");
    assert_eq!(outcome(&gate, &stranger).await, "unknown_key");
    for _ in 0..5 {
        assert_eq!(outcome(&gate, &rotated).await, "accepted");
        assert_eq!(outcome(&gate, &before).await, "accepted");
    }
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 2]);
}

/// ENTRA-21: a key removed from the key set stops validating once a refresh has loaded the
/// new set (it is not kept beside the new keys).
#[tokio::test]
async fn entra_21_removed_key_stops_validating_after_refresh() {
    let entra = Authority::own().await;
    let tid = entra.tenant();
    let cooldown = Duration::from_millis(300);
    let gate = build(
        &entra,
        single(&entra).versions([TokenVersion::V2]),
        cooldown,
    );
    let first = entra.kids()[0].clone();
    let old = entra.token(V2, tid).key(&first).sign();
    assert_eq!(outcome(&gate, &old).await, "accepted");

    entra.rotate_keys();
    let newest = entra.rotate_keys();
    assert!(!entra.kids().contains(&first));
    let new = entra.token(V2, tid).key(&newest).sign();
    // Cached: still valid until the key set is fetched again.
    assert_eq!(outcome(&gate, &old).await, "accepted");
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(outcome(&gate, &new).await, "accepted");
    assert_eq!(outcome(&gate, &old).await, "unknown_key");
}

/// ENTRA-21: unknown `kid`s cannot make the gate hammer the key endpoint: 200 tokens with
/// random kids, at once, start no fetch within the cooldown and exactly one once it has
/// passed; each is refused `unknown_key`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_21_random_kids_fetch_at_most_once_per_cooldown() {
    let entra = Authority::own().await;
    let tid = entra.tenant().to_owned();
    let cooldown = Duration::from_secs(1);
    let gate = build(
        &entra,
        single(&entra).versions([TokenVersion::V2]),
        cooldown,
    );
    // One signed token, its header swapped for ones with random kids: the key is looked up
    // before any signature is checked, and RSA signing in debug builds is slow.
    let signed = entra.token(V2, &tid).sign();
    let (_, rest) = signed.split_once('.').unwrap();
    let rounds: Vec<Vec<String>> = (0..2)
        .map(|_| {
            (0..200)
                .map(|_| {
                    let header =
                        serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": random_kid()});
                    let header = base64_simd::URL_SAFE_NO_PAD.encode_to_string(header.to_string());
                    format!("{header}.{rest}")
                })
                .collect()
        })
        .collect();
    gate.warm_up().await.unwrap();
    let loaded = Instant::now();
    assert_eq!(fetches(&entra, &tid), [0, 1, 0, 1]);

    for (round, tokens) in rounds.into_iter().enumerate() {
        if round == 1 {
            tokio::time::sleep_until((loaded + cooldown + Duration::from_millis(50)).into()).await;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for token in tokens {
            let gate = gate.clone();
            tasks.spawn(async move { outcome(&gate, &token).await });
        }
        while let Some(code) = tasks.join_next().await {
            assert_eq!(code.unwrap(), "unknown_key", "round {round}");
        }
        if round == 0 {
            assert!(
                loaded.elapsed() < cooldown,
                "round 0 ran within the cooldown"
            );
        }
        assert_eq!(entra.requests(&v2_keys(&tid)), 1 + round, "round {round}");
    }
    // The metadata was never fetched again.
    assert_eq!(entra.requests(&v2_metadata(&tid)), 1);
    assert_eq!(
        outcome(&gate, &entra.token(V2, &tid).sign()).await,
        "accepted"
    );
}

/// ENTRA-21: an outage of the authority (503) keeps the last good keys: known keys keep
/// validating, an unknown `kid` gets `keys_unavailable` (503, the token was not judged), and
/// the new key validates once the authority is back.
#[tokio::test]
async fn entra_21_outage_keeps_the_last_good_keys() {
    let entra = Authority::own().await;
    let tid = entra.tenant();
    let cooldown = Duration::from_millis(500);
    let gate = build(
        &entra,
        single(&entra).versions([TokenVersion::V2]),
        cooldown,
    );
    let known = entra.token(V2, tid).sign();
    assert_eq!(outcome(&gate, &known).await, "accepted");

    entra.set_outage(true);
    let kid = entra.rotate_keys();
    let rotated = entra.token(V2, tid).key(&kid).sign();
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    let refused = gate.validate(&rotated).await.unwrap_err();
    assert_eq!(refused.code(), "keys_unavailable");
    assert_eq!(refused.class(), ErrorClass::TemporarilyUnavailable);
    assert_eq!(refused.class().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(entra.requests(&v2_keys(tid)), 2, "a refresh was tried");
    assert_eq!(outcome(&gate, &known).await, "accepted", "old keys kept");
    let status = gate.key_status();
    assert_eq!(status.len(), 1);
    assert!(status[0].usable);
    assert_eq!(status[0].last_refresh_ok, Some(false));

    entra.set_outage(false);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(outcome(&gate, &rotated).await, "accepted");
    assert_eq!(outcome(&gate, &known).await, "accepted");
    assert_eq!(gate.key_status()[0].last_refresh_ok, Some(true));
}

/// ENTRA-20, ENTRA-22: the key is chosen by `kid` only. An unknown `kid` is refused even when
/// a published key would verify the signature (no trying every key); a `kid` naming another
/// published key gives `invalid_signature`; without `kid`, `x5t` is not used to pick a key.
#[tokio::test]
async fn entra_22_no_try_all_keys() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let kids = entra.kids();
    for version in [V1, V2] {
        let signed_by_first = || entra.token(version, tid).key(&kids[0]);
        assert_eq!(
            outcome(&gate, &signed_by_first().sign()).await,
            "accepted",
            "{version:?}"
        );
        let unknown = signed_by_first().header("kid", random_kid()).sign();
        assert_eq!(outcome(&gate, &unknown).await, "unknown_key", "{version:?}");
        let other = signed_by_first().header("kid", &kids[1]).sign();
        assert_eq!(
            outcome(&gate, &other).await,
            "invalid_signature",
            "{version:?}"
        );
        let no_kid = signed_by_first()
            .without_header("kid")
            .header("x5t", &kids[0])
            .sign();
        assert_eq!(
            outcome(&gate, &no_kid).await,
            "missing_key_id",
            "{version:?}"
        );
        // `kid` is compared exactly.
        let case = signed_by_first()
            .header("kid", kids[0].to_uppercase())
            .sign();
        if kids[0] != kids[0].to_uppercase() {
            assert_eq!(outcome(&gate, &case).await, "unknown_key", "{version:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A7. Microsoft Graph tokens (ENTRA-23..25, ATK-33)
// ---------------------------------------------------------------------------------------------

/// ENTRA-23: a header `nonce` marks a Microsoft Graph token, whose signature cannot verify:
/// refused `unsupported_token_format` before anything else, whatever its audience.
#[tokio::test]
async fn entra_23_graph_header_nonce_is_unsupported() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        for nonce in [Value::from("AQABAAAAAAD"), Value::from(""), Value::from(1)] {
            let token = entra.token(version, tid).header("nonce", &nonce).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "unsupported_token_format",
                "{version:?} nonce {nonce}"
            );
        }
    }
}

/// ENTRA-24, ENTRA-25: tokens for Microsoft Graph (`aud` its GUID or URL) are refused
/// `invalid_audience`, with the generic description only.
#[tokio::test]
async fn entra_24_25_graph_audience_is_invalid() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        for aud in [
            "00000003-0000-0000-c000-000000000000",
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
        ] {
            let token = entra.token(version, tid).audience(aud).sign();
            let refused = gate.validate(&token).await.unwrap_err();
            assert_eq!(refused, Rejection::InvalidAudience, "{version:?} {aud}");
            assert_eq!(
                refused.description(),
                "The access token is not meant for this resource."
            );
        }
    }
}

/// ATK-33: a Microsoft Graph token as Entra issues it (header `nonce`, `aud` Graph, `scp`
/// `User.Read`), sent to the API: refused, as an unsupported format.
#[tokio::test]
async fn atk_33_graph_token() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let token = entra
            .token(version, tid)
            .header("nonce", "mpTp1Yd0sVr3wVp9cYwVUvG0yZqQHfKk0nE6rC7u2oE")
            .audience("00000003-0000-0000-c000-000000000000")
            .scp("User.Read openid profile email")
            .sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "unsupported_token_format",
            "{version:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A8. `scp` and `roles`, app-only and user tokens (ENTRA-26..30, ATK-32, ATK-35)
// ---------------------------------------------------------------------------------------------

/// ENTRA-26: `scp` is a space-separated string of short scope names; `roles` an array.
#[tokio::test]
async fn entra_26_scp_string_and_roles_array() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let user = entra
            .token(version, tid)
            .scp("Orders.Read  Orders.Write user_impersonation")
            .roles(["Approver"])
            .sign();
        let claims = accepted(&gate, &user, "user").await;
        assert_eq!(
            claims.scopes().collect::<Vec<_>>(),
            ["Orders.Read", "Orders.Write", "user_impersonation"]
        );
        assert_eq!(claims.roles().collect::<Vec<_>>(), ["Approver"]);

        let app = entra
            .token(version, tid)
            .app(["Orders.Read.All", "Orders.Write.All"])
            .sign();
        let claims = accepted(&gate, &app, "app").await;
        assert_eq!(claims.scopes().count(), 0);
        assert_eq!(
            claims.roles().collect::<Vec<_>>(),
            ["Orders.Read.All", "Orders.Write.All"]
        );
    }
}

/// ENTRA-27: a token with neither `scp` nor `roles` (an app-only token of any client that
/// asked) is refused with 403 `no_scope_or_role` by default, also with an empty `scp` or
/// `roles`; with `allow_acl_authorization` it passes, and the API decides.
#[tokio::test]
async fn entra_27_no_scope_or_role_is_403_unless_acl() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let instance = entra.instance();
    let strict = app(gate(&entra, single(&entra)), tid, instance);
    let acl = app(
        gate(&entra, single(&entra).allow_acl_authorization()),
        tid,
        instance,
    );
    let plain = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let bare = [
            (
                "app-only, no roles",
                entra.token(version, tid).app(Vec::<String>::new()),
            ),
            (
                "app-only, empty roles",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .roles(Vec::<String>::new()),
            ),
            ("user, empty scp", entra.token(version, tid).scp("")),
            ("user, blank scp", entra.token(version, tid).scp("  ")),
            (
                "user, no scp",
                entra.token(version, tid).without_claim("scp"),
            ),
        ];
        for (variant, builder) in bare {
            let token = builder.sign();
            let (status, challenge) = call(&strict, "/orders", &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{version:?} {variant}");
            assert_eq!(
                challenge,
                r#"Bearer error="insufficient_scope", error_description="The access token grants no scope and no role.""#,
                "{version:?} {variant}"
            );
            let refused = plain.validate(&token).await.unwrap_err();
            assert_eq!(refused, Rejection::NoScopeOrRole, "{version:?} {variant}");
            assert_eq!(refused.class(), ErrorClass::InsufficientScope);

            let (status, _) = call(&acl, "/orders", &token).await;
            assert_eq!(status, StatusCode::OK, "{version:?} {variant} with ACL");
            // A route's own requirement still refuses it.
            let (status, _) = call(&acl, "/orders/write", &token).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{version:?} {variant} with ACL"
            );
        }
        let granted = entra.token(version, tid).app(["Orders.Read.All"]).sign();
        assert_eq!(call(&strict, "/orders", &granted).await.0, StatusCode::OK);
        let user = entra.token(version, tid).sign();
        assert_eq!(call(&strict, "/orders", &user).await.0, StatusCode::OK);
    }
}

/// ENTRA-28: `any_scope(..).or(any_role(..))`: a delegated token passes with one of the
/// scopes, an app-only token with one of the roles; otherwise 403 `insufficient_scope`, naming
/// the scopes to request. Whole tokens only: no substring, prefix or case folding, and a role
/// does not count as a scope of the same name.
#[tokio::test]
async fn entra_28_scope_or_role_requirement() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let requirement =
        Requirement::any_scope(["Orders.Write"]).or(Requirement::any_role(["Orders.Admin"]));
    let api = app(gate(&entra, single(&entra)), tid, entra.instance());
    let gate_level = gate_requiring(&entra, single(&entra), requirement.clone());
    let plain = gate(&entra, single(&entra));
    let refused_challenge = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.", scope="Orders.Write""#;
    for version in [V1, V2] {
        let passing = [
            (
                "scope",
                entra.token(version, tid).scp("Orders.Read Orders.Write"),
            ),
            ("role", entra.token(version, tid).app(["Orders.Admin"])),
            (
                "user with the role",
                entra.token(version, tid).roles(["Orders.Admin"]),
            ),
        ];
        for (variant, builder) in passing {
            let token = builder.sign();
            assert_eq!(
                call(&api, "/orders/write", &token).await,
                (StatusCode::OK, String::new()),
                "{version:?} {variant}"
            );
            assert_eq!(outcome(&gate_level, &token).await, "accepted", "{variant}");
        }
        let refused = [
            ("other scope", entra.token(version, tid).scp("Orders.Read")),
            (
                "longer scope",
                entra.token(version, tid).scp("Orders.Write.All"),
            ),
            (
                "prefixed scope",
                entra.token(version, tid).scp("xOrders.Write"),
            ),
            (
                "scope in other case",
                entra.token(version, tid).scp("orders.write"),
            ),
            (
                "fully qualified scope",
                entra
                    .token(version, tid)
                    .scp(&format!("api://{}/Orders.Write", TestEntra::CLIENT_ID)),
            ),
            (
                "comma-joined scopes",
                entra.token(version, tid).scp("Orders.Read,Orders.Write"),
            ),
            (
                "role named like the scope",
                entra.token(version, tid).app(["Orders.Write"]),
            ),
            (
                "scope named like the role",
                entra.token(version, tid).scp("Orders.Admin"),
            ),
            (
                "longer role",
                entra.token(version, tid).app(["Orders.Admin.All"]),
            ),
            (
                "role in other case",
                entra.token(version, tid).app(["orders.admin"]),
            ),
        ];
        for (variant, builder) in refused {
            let token = builder.sign();
            assert_eq!(
                call(&api, "/orders/write", &token).await,
                (StatusCode::FORBIDDEN, refused_challenge.to_owned()),
                "{version:?} {variant}"
            );
            assert_eq!(
                outcome(&gate_level, &token).await,
                "insufficient_scope",
                "{version:?} {variant}"
            );
            let claims = plain.validate(&token).await.unwrap();
            assert_eq!(
                Rejection::from(requirement.check(&claims).unwrap_err()).code(),
                "insufficient_scope"
            );
        }
    }
}

/// ATK-35: scope tricks through the preset: required `files.read`; `files.read.all` and
/// `xfiles.read` deny, a double space parses to the two scopes.
#[tokio::test]
async fn atk_35_scope_tricks() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate_requiring(&entra, single(&entra), Requirement::scope("files.read"));
    for (scp, expected) in [
        ("files.read", "accepted"),
        ("openid  files.read", "accepted"),
        ("files.read.all", "insufficient_scope"),
        ("xfiles.read", "insufficient_scope"),
        ("files", "insufficient_scope"),
        ("Files.Read", "insufficient_scope"),
        ("files.read\u{a0}", "insufficient_scope"),
    ] {
        let token = entra.token(V2, tid).scp(scp).sign();
        assert_eq!(outcome(&gate, &token).await, expected, "scp {scp:?}");
    }
    let plain = self::gate(&entra, single(&entra));
    let token = entra.token(V2, tid).scp("a  b").sign();
    let claims = accepted(&plain, &token, "double space").await;
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["a", "b"]);
}

/// ATK-35: Entra's `scp` is always a space-separated string; under the Entra preset an `scp`
/// array is a claim of the wrong type ("profile-dependent reject").
#[tokio::test]
async fn atk_35_scp_array_refused_by_the_entra_preset() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate_requiring(&entra, single(&entra), Requirement::scope("files.read"));
    let token = entra.token(V2, tid).claim("scp", ["files.read"]).sign();
    assert_eq!(outcome(&gate, &token).await, "malformed_claims");
}

/// ENTRA-29: app-only detection: `idtyp` first (authoritative), then `oid == sub`; a token
/// with `scp` is a user's; otherwise unknown.
#[tokio::test]
async fn entra_29_token_kind() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let cases = [
            (
                "idtyp app",
                entra.token(version, tid).app(["R"]),
                TokenKind::App,
            ),
            (
                "oid == sub, no idtyp",
                entra.token(version, tid).app(["R"]).without_claim("idtyp"),
                TokenKind::App,
            ),
            (
                "delegated",
                entra.token(version, tid).roles(["R"]),
                TokenKind::User,
            ),
            (
                "idtyp user",
                entra.token(version, tid).claim("idtyp", "user"),
                TokenKind::User,
            ),
            (
                "idtyp app wins over scp",
                entra.token(version, tid).claim("idtyp", "app"),
                TokenKind::App,
            ),
            (
                "idtyp user wins over oid == sub",
                entra.token(version, tid).app(["R"]).claim("idtyp", "user"),
                TokenKind::User,
            ),
            (
                "roles only, sub != oid, no idtyp",
                entra.token(version, tid).without_claim("scp").roles(["R"]),
                TokenKind::Unknown,
            ),
        ];
        for (variant, builder, kind) in cases {
            let claims = accepted(&gate, &builder.sign(), variant).await;
            assert_eq!(claims.token_kind(), kind, "{version:?} {variant}");
        }
    }
}

/// ENTRA-30: the normalized authorization data: scopes, roles, token kind, client id (`azp`
/// in v2, `appid` in v1), tenant id, object id and subject.
#[tokio::test]
async fn entra_30_normalized_claims() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let caller = "11111111-2222-4333-8444-555555555555";
    for version in [V1, V2] {
        let token = entra
            .token(version, tid)
            .caller(caller)
            .scp("Orders.Read")
            .roles(["Approver"])
            .sign();
        let expected = payload(&token);
        let claims = accepted(&gate, &token, "user").await;
        assert_eq!(claims.client_id(), Some(caller), "{version:?}");
        assert_eq!(claims.tenant_id(), Some(tid));
        assert_eq!(claims.object_id(), expected["oid"].as_str());
        assert_eq!(claims.subject(), expected["sub"].as_str());
        assert_ne!(claims.subject(), claims.object_id());
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["Orders.Read"]);
        assert_eq!(claims.roles().collect::<Vec<_>>(), ["Approver"]);
        assert_eq!(claims.token_kind(), TokenKind::User);
        let json: Value = serde_json::from_str(claims.json()).unwrap();
        assert_eq!(json, expected, "the claims are the token's, unchanged");
    }
}

/// ATK-32: an ID token (or another kind of JWT) presented as an access token: refused even
/// when its `aud` is the API's client id (SPA and API sharing a registration).
#[tokio::test]
async fn atk_32_id_token_is_not_an_access_token() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra).allow_acl_authorization());
    for version in [V1, V2] {
        let id_token = || entra.token(version, tid).without_claim("scp");
        for (variant, builder) in [
            ("nonce", id_token().claim("nonce", "n-0S6_WzA2Mj")),
            (
                "at_hash",
                id_token().claim("at_hash", "77QmUPtjPfzWtF2AnpK9RQ"),
            ),
            (
                "c_hash",
                id_token().claim("c_hash", "LDktKdoQak3Pk0cnXxCltA"),
            ),
        ] {
            assert_eq!(
                outcome(&gate, &builder.sign()).await,
                "not_an_access_token",
                "{version:?} {variant}"
            );
        }
        for typ in ["dpop+jwt", "secevent+jwt", "logout+jwt", "id_token+jwt"] {
            let token = entra.token(version, tid).header("typ", typ).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "invalid_token_type",
                "{version:?} typ {typ}"
            );
        }
        // Entra's own `typ` is JWT, accepted.
        let token = entra.token(version, tid).header("typ", "JWT").sign();
        assert_eq!(outcome(&gate, &token).await, "accepted");
    }
}

// ---------------------------------------------------------------------------------------------
// A9. Lifetimes and claims challenges (ENTRA-31..35)
// ---------------------------------------------------------------------------------------------

/// ENTRA-31: a CAE token living 28 h validates through its whole life: the preset sets no
/// maximum token age.
#[tokio::test]
async fn entra_31_cae_28_hour_token_validates() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let hour = 3600;
    for version in [V1, V2] {
        let token = times(entra.token(version, tid), T, T, T + 28 * hour).sign();
        for now in [T, T + hour, T + 20 * hour, T + 27 * hour, T + 28 * hour - 1] {
            assert_eq!(
                outcome_at(&gate, &token, now).await,
                "accepted",
                "{version:?} at +{} s",
                now - T
            );
        }
        assert_eq!(
            outcome_at(&gate, &token, T + 28 * hour + 300).await,
            "token_expired"
        );
        // And now, with the real clock.
        let token = entra
            .token(version, tid)
            .expires_in(Duration::from_secs(28 * 3600))
            .sign();
        assert_eq!(outcome(&gate, &token).await, "accepted");
    }
}

/// ENTRA-33, ENTRA-34, ENTRA-35: step-up with authentication contexts on a preset gate: a
/// token whose `acrs` has the context passes; a `cp1` client (any case) without it gets the
/// claims challenge, 401 `insufficient_claims`, tenant-specific; another client a plain 403.
#[tokio::test]
async fn entra_33_35_claims_challenge_through_the_preset() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let api = app(gate(&entra, single(&entra)), tid, entra.instance());
    for version in [V1, V2] {
        let ok = entra.token(version, tid).claim("acrs", ["c1"]).sign();
        assert_eq!(call(&api, "/pay", &ok).await.0, StatusCode::OK);

        for cc in [serde_json::json!(["cp1"]), serde_json::json!(["CP1"])] {
            let token = entra
                .token(version, tid)
                .claim("acrs", ["c2"])
                .claim("xms_cc", &cc)
                .sign();
            let (status, challenge) = call(&api, "/pay", &token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{cc}");
            assert_eq!(
                challenge,
                format!(
                    "Bearer realm=\"{tid}\", authorization_uri=\"{}/{tid}/oauth2/authorize\", \
                     error=\"insufficient_claims\", claims=\"{}\"",
                    entra.instance(),
                    base64_simd::STANDARD.encode_to_string(
                        r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#
                    )
                )
            );
        }
        let no_cp1 = entra.token(version, tid).claim("xms_cc", ["cp2"]).sign();
        let (status, challenge) = call(&api, "/pay", &no_cp1).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
    }
}

/// ENTRA-37: the preset's leeway is 300 s, as Microsoft's: `exp` 299 s ago passes, 300 or 301
/// s ago does not; `nbf` and `iat` alike. It is configurable, up to 10 minutes.
#[tokio::test]
async fn entra_37_leeway_300_seconds_and_configurable() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let default = gate(&entra, single(&entra));
    let short = gate(&entra, single(&entra).leeway(Duration::from_secs(60)));
    for version in [V1, V2] {
        let token =
            |iat: u64, nbf: u64, exp: u64| times(entra.token(version, tid), iat, nbf, exp).sign();
        let cases = [
            // (gate, token, expected)
            (&default, token(T - 3600, T - 3600, T - 299), "accepted"),
            (
                &default,
                token(T - 3600, T - 3600, T - 300),
                "token_expired",
            ),
            (
                &default,
                token(T - 3600, T - 3600, T - 301),
                "token_expired",
            ),
            (&default, token(T, T + 299, T + 3600), "accepted"),
            (&default, token(T, T + 301, T + 3600), "token_not_yet_valid"),
            (&default, token(T + 299, T, T + 3600), "accepted"),
            (&default, token(T + 301, T, T + 3600), "issued_in_future"),
            (&short, token(T - 3600, T - 3600, T - 59), "accepted"),
            (&short, token(T - 3600, T - 3600, T - 61), "token_expired"),
            (&short, token(T - 3600, T - 3600, T - 299), "token_expired"),
            (&short, token(T, T + 61, T + 3600), "token_not_yet_valid"),
        ];
        for (i, (gate, token, expected)) in cases.iter().enumerate() {
            assert_eq!(
                outcome_at(gate, token, T).await,
                *expected,
                "{version:?} case {i}"
            );
        }
    }
    let problems = build_problems(
        single(&entra)
            .instance(entra.instance())
            .leeway(Duration::from_secs(601)),
    );
    assert!(problems.contains("leeway"), "{problems}");
}

// ---------------------------------------------------------------------------------------------
// A11. National clouds (ENTRA-38, ENTRA-39)
// ---------------------------------------------------------------------------------------------

/// ENTRA-38, ENTRA-39: two authorities stand for two clouds. A gate configured for one
/// refuses the other's tokens (`untrusted_issuer`), v1 and v2, in every mode, even for the
/// same tenant id; the expected issuers come from the configured cloud's own documents.
#[tokio::test]
async fn entra_39_token_from_another_cloud_is_refused() {
    let global = Authority::own().await;
    let gov = Authority::own().await;
    let tid = global.tenant().to_owned();
    let api = || EntraApi::single_tenant(&tid, TestEntra::CLIENT_ID);
    let global_gate = gate(&global, api());
    let gov_gate = gate(&gov, api());
    let gov_any = gate(&gov, any_tenant());
    for version in [V1, V2] {
        let from_global = global.token(version, &tid).sign();
        let from_gov = gov.token(version, &tid).sign();
        assert_eq!(outcome(&global_gate, &from_global).await, "accepted");
        assert_eq!(outcome(&gov_gate, &from_gov).await, "accepted");
        assert_eq!(outcome(&gov_any, &from_gov).await, "accepted");
        assert_eq!(
            outcome(&gov_gate, &from_global).await,
            "untrusted_issuer",
            "{version:?} global token, gov API"
        );
        assert_eq!(
            outcome(&gov_any, &from_global).await,
            "untrusted_issuer",
            "{version:?} global token, gov API, any tenant"
        );
        assert_eq!(
            outcome(&global_gate, &from_gov).await,
            "untrusted_issuer",
            "{version:?} gov token, global API"
        );
        // The other cloud's issuer on a token signed by this cloud's key: the key is unknown
        // there.
        let iss = match version {
            V1 => gov.v1_issuer(&tid),
            V2 => gov.v2_issuer(&tid),
        };
        let forged = global.token(version, &tid).issuer(&iss).sign();
        assert_eq!(outcome(&gov_gate, &forged).await, "unknown_key");
    }
    assert_eq!(global.sts_requests() + gov.sts_requests(), 0);
}

/// ENTRA-39: host aliases are for token acquisition only; `iss` is compared exactly. The same
/// host and port spelled `localhost` instead of `127.0.0.1` (as `login.windows.net` for
/// `login.microsoftonline.com`) is `untrusted_issuer`, in every mode.
#[tokio::test]
async fn entra_39_alias_host_in_iss_is_refused() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let iss = match version {
                V1 => entra.v1_issuer(tid),
                V2 => entra.v2_issuer(tid),
            };
            let good = entra.token(version, tid).sign();
            assert_eq!(outcome(gate, &good).await, "accepted", "{name} {version:?}");
            for alias in [
                iss.replace("127.0.0.1", "localhost"),
                iss.replace("127.0.0.1", "LOCALHOST"),
                iss.replace("127.0.0.1", "127.1"),
                iss.replace("127.0.0.1", "[::1]"),
            ] {
                let token = entra.token(version, tid).issuer(&alias).sign();
                assert_eq!(
                    outcome(gate, &token).await,
                    "untrusted_issuer",
                    "{name} {version:?} {alias}"
                );
            }
        }
    }
}

/// ENTRA-40: Entra's metadata names its cloud instance (`"cloud_instance_name":
/// "microsoftonline.com"`). A key that names another is skipped when the key set is loaded,
/// so it verifies no token (`unknown_key`), v1 and v2, in every mode (in the any-tenant mode
/// the tenant's own set, asked then, skips it too). A key that names the same instance, and
/// keys that name none, verify as before.
#[tokio::test]
async fn entra_40_key_of_another_cloud_instance_is_refused() {
    let entra = Authority::own().await;
    let tid = entra.tenant().to_owned();
    let other_cloud = entra.cloud_instance_key("microsoftonline.us");
    let same_cloud = entra.cloud_instance_key("microsoftonline.com");
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("list", gate(&entra, tenants(&[&tid]))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let shared = entra.token(version, &tid).sign();
            assert_eq!(
                outcome(gate, &shared).await,
                "accepted",
                "{name} {version:?}"
            );
            let same = entra.token(version, &tid).key(&same_cloud).sign();
            assert_eq!(outcome(gate, &same).await, "accepted", "{name} {version:?}");
            let other = entra.token(version, &tid).key(&other_cloud).sign();
            assert_eq!(
                outcome(gate, &other).await,
                "unknown_key",
                "{name} {version:?}"
            );
        }
        // Refused when loaded: every set holds the shared keys and the same-cloud key only.
        for status in gate.key_status() {
            assert_eq!(status.keys, entra.kids().len() + 1, "{name}: {status:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A12. Entra with RFC 9728 (ENTRA-42)
// ---------------------------------------------------------------------------------------------

/// ENTRA-42: the audience allowlist is independent of the RFC 9728 `resource`: with the
/// metadata naming the API's public URL, tokens for the client id pass and a token whose
/// `aud` is that URL does not. ENTRA-44: the metadata's `authorization_servers` entry is the
/// tenant's v2 issuer, and OIDC discovery at that issuer with the well-known path appended
/// (what MCP clients try) finds the metadata naming that issuer.
#[tokio::test]
async fn entra_42_44_audience_independent_of_the_resource() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let resource = ProtectedResource::builder("https://mcp.contoso.com/")
        .authorization_server(entra.v2_issuer(tid))
        .scopes_supported([format!("api://{}/access_as_user", TestEntra::CLIENT_ID)])
        .build()
        .unwrap();
    let layer = TokenLayer::builder(gate(&entra, single(&entra)))
        .resource_metadata(&resource)
        .build()
        .unwrap();
    let api = Router::new()
        .route("/mcp", get(|| async { "mcp" }))
        .layer(layer);
    let token = entra.token(V2, tid).sign();
    assert_eq!(call(&api, "/mcp", &token).await.0, StatusCode::OK);
    let for_resource = entra
        .token(V2, tid)
        .audience("https://mcp.contoso.com/")
        .sign();
    let (status, challenge) = call(&api, "/mcp", &for_resource).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert!(
        resource.document().contains(&format!(
            "\"authorization_servers\":[\"{}\"]",
            entra.v2_issuer(tid)
        )),
        "{}",
        resource.document()
    );
    let discovery = format!("{}/.well-known/openid-configuration", entra.v2_issuer(tid));
    let body = reqwest::get(&discovery)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    let metadata: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(metadata["issuer"], entra.v2_issuer(tid), "{discovery}");
}

/// ENTRA-17, availability: one tenant whose metadata cannot be had (a mistyped domain) holds up
/// only the tokens it could have issued; tokens of the healthy tenant pass from the first
/// request, and tokens naming foreign issuers get 401, not 503.
#[tokio::test]
async fn entra_17_a_failing_tenant_does_not_hold_up_others() {
    let entra = Authority::shared();
    let good = entra.add_tenant();
    let gate = gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID)
            .tenants([good.as_str(), "missing.example.com"])
            .versions([TokenVersion::V2]),
    );
    assert_eq!(
        outcome(&gate, &entra.token(V2, &good).sign()).await,
        "accepted"
    );
    for iss in ["https://evil.example/x", "https://evil.example/x/v2.0"] {
        let token = entra.token(V2, &good).issuer(iss).sign();
        assert_eq!(outcome(&gate, &token).await, "untrusted_issuer", "{iss}");
    }
    // Another tenant's v2 token could be the misconfigured domain's: that stays unknowable
    // while its metadata fails, so the answer is 503, not a false 401.
    let other = entra.add_tenant();
    assert_eq!(
        outcome(&gate, &entra.token(V2, &other).sign()).await,
        "keys_unavailable"
    );
}

/// Two configurations of the same tenant and version would both claim its tokens: refused at
/// build.
#[test]
fn entra_17_the_same_tenant_twice_is_a_configuration_error() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let refused = Gate::builder()
        .issuer(EntraApi::single_tenant(tenant, TestEntra::CLIENT_ID))
        .issuer(EntraApi::single_tenant(tenant, TestEntra::CALLER_ID))
        .build()
        .unwrap_err();
    assert!(
        refused.to_string().contains("configured twice"),
        "{refused}"
    );
}

/// ENTRA-21: in the any-tenant mode, a key that only one tenant's own key set serves (Microsoft:
/// a key common to all tenants today can become specific to one) signs that tenant's tokens,
/// v1 and v2. The tenant's metadata and keys are fetched once, from its own endpoints.
#[tokio::test]
async fn entra_21_any_tenant_finds_a_tenants_own_key() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let kid = entra.tenant_only_key(&tid);
    let gate = gate_any(&entra);
    for version in [V2, V1] {
        for n in 0..3 {
            let token = entra.token(version, &tid).key(&kid).claim("n", n).sign();
            let claims = accepted(&gate, &token, &format!("{version:?} {n}")).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
        }
    }
    assert_eq!(fetches(&entra, &tid), [1, 1, 1, 1]);
    // The common path is unchanged: shared keys never touch the tenant's endpoints again.
    let other = entra.add_tenant();
    assert_eq!(
        outcome(&gate, &entra.token(V2, &other).sign()).await,
        "accepted"
    );
    assert_eq!(fetches(&entra, &other), [0; 4]);
}

/// ENTRA-17 step 3 with ENTRA-21: a tenant's own key signs only that tenant's tokens. Its
/// tokens re-labelled for another tenant are refused, whichever of `iss` and `tid` names it.
#[tokio::test]
async fn entra_21_a_tenants_own_key_signs_no_other_tenant() {
    let entra = Authority::own().await;
    let a = entra.add_tenant();
    let b = entra.add_tenant();
    let kid = entra.tenant_only_key(&a);
    let gate = build(&entra, any_tenant(), Duration::from_millis(10));
    let cases = [
        // B's token (iss and tid B): B's own keys do not have A's key.
        (entra.token(V2, &b).key(&kid).sign(), "unknown_key"),
        // A's issuer, B's tid: looked up in B's keys, which lack it.
        (
            entra.token(V2, &a).key(&kid).claim("tid", &b).sign(),
            "unknown_key",
        ),
        // B's issuer, A's tid: A's key is found, but its issuer is A's.
        (
            entra.token(V2, &b).key(&kid).claim("tid", &a).sign(),
            "key_issuer_mismatch",
        ),
    ];
    for (i, (token, expected)) in cases.iter().enumerate() {
        // New tenants are admitted one per cooldown.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(outcome(&gate, token).await, *expected, "case {i}");
    }
    assert_eq!(
        outcome(&gate, &entra.token(V2, &a).key(&kid).sign()).await,
        "accepted"
    );
}

/// ENTRA-21, ATK-38: tenant ids come from tokens not yet verified, so a flood of unknown keys
/// under forged tenant ids admits at most one new tenant per cooldown: the authority is asked
/// about one of them, not about each.
#[tokio::test]
async fn entra_21_forged_tenants_are_admitted_one_per_cooldown() {
    let entra = Authority::own().await;
    let gate = build(&entra, any_tenant(), Duration::from_secs(60));
    let real = entra.add_tenant();
    assert_eq!(
        outcome(&gate, &entra.token(V2, &real).sign()).await,
        "accepted"
    );
    let mut forged = Vec::new();
    for _ in 0..50 {
        let tid = entra.add_tenant();
        let token = entra.token(V2, &tid).header("kid", random_kid()).sign();
        assert_eq!(outcome(&gate, &token).await, "unknown_key");
        forged.push(tid);
    }
    let asked = forged
        .iter()
        .filter(|tid| fetches(&entra, tid) != [0; 4])
        .count();
    assert_eq!(asked, 1, "tenants whose endpoints were asked");
}

/// ENTRA-21: a tenant's own keys, once held, keep verifying its tokens without asking the
/// shared key set again, also while the authority cannot be reached.
#[tokio::test]
async fn entra_21_tenant_keys_held_survive_an_outage() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let kid = entra.tenant_only_key(&tid);
    let gate = gate_any(&entra);
    let token = |n: u32| entra.token(V2, &tid).key(&kid).claim("n", n).sign();
    assert_eq!(outcome(&gate, &token(0)).await, "accepted");
    let before = entra.requests(&v2_keys("organizations"));
    entra.set_outage(true);
    for n in 1..4 {
        assert_eq!(outcome(&gate, &token(n)).await, "accepted", "{n}");
    }
    let shared = entra.token(V2, &tid).claim("n", 9).sign();
    assert_eq!(outcome(&gate, &shared).await, "accepted");
    assert_eq!(entra.requests(&v2_keys("organizations")), before);
}

/// ENTRA-15 with ENTRA-21: with app-specific keys, a tenant's own `?appid=` keys belong to the
/// API's service principal in that tenant, which its administrators control; the any-tenant
/// mode trusts only the shared set then, and never asks a tenant's endpoints.
#[tokio::test]
async fn entra_21_no_tenant_keys_with_app_specific_keys() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let kid = entra.tenant_only_key(&tid);
    let gate = gate(&entra, any_tenant().app_specific_keys());
    let token = entra.token(V2, &tid).key(&kid).sign();
    assert_eq!(outcome(&gate, &token).await, "unknown_key");
    assert_eq!(fetches(&entra, &tid), [0; 4]);
    assert_eq!(
        outcome(&gate, &entra.token(V2, &tid).sign()).await,
        "accepted"
    );
}
