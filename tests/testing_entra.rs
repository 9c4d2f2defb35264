//! `TestEntra`, the loopback stand-in for Microsoft Entra ID (feature `testing`): its documents
//! mirror the real ones in tests/entra-real, and its tokens verify against its keys.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use serde_json::{Value, json};
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings, TokenKind};

/// More than the one-second cooldown of the gates below.
const PAST_COOLDOWN: Duration = Duration::from_millis(1150);

const REAL_V1_COMMON: &str =
    "tests/entra-real/discovery/D02_common-v1-openid-configuration_2024-02-02_IdentityModel.json";
const REAL_V1_TENANT: &str =
    "tests/entra-real/discovery/D04_tenant-f24341ef-v1-openid-configuration_2019_alerta.json";
const REAL_V2_COMMON: &str =
    "tests/entra-real/discovery/D06_common-v2-openid-configuration_2024-06-18_panva-wellknown.json";
const REAL_V2_ORGANIZATIONS: &str = "tests/entra-real/discovery/D07_organizations-v2-openid-configuration_2024-10-26_panva-wellknown.json";
const REAL_V2_KEYS: &str =
    "tests/entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json";
const REAL_V1_KEYS: &str = "tests/entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json";

const REAL_TENANT: &str = "f24341ef-7a6f-4cff-abb7-99a11ab11127";

fn real(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A client that never goes through a proxy, even if the environment names one.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_ok(url: &str) -> Value {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "{url}");
    body
}

fn segment(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("three segments");
    let bytes = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(text).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header(token: &str) -> Value {
    segment(token, 0)
}

fn payload(token: &str) -> Value {
    segment(token, 1)
}

fn names(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

fn kids(key_set: &Value) -> Vec<String> {
    key_set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// `http://127.0.0.1:P2`: the v1 STS host.
fn sts_host(entra: &TestEntra) -> String {
    entra.v1_issuer("x").trim_end_matches("/x/").to_owned()
}

/// A real document with Entra's hosts moved to the stand-in's, and one tenant path segment
/// replaced.
fn relocated(entra: &TestEntra, real: &Value, from: &str, to: &str) -> Value {
    let text = real
        .to_string()
        .replace("https://login.microsoftonline.com", entra.instance())
        .replace("https://sts.windows.net", &sts_host(entra))
        .replace(from, to);
    serde_json::from_str(&text).unwrap()
}

fn gate(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(Duration::from_secs(1)),
        )
        .build()
        .unwrap()
}

fn v2_gate(entra: &TestEntra, tenant: &str, keys: String) -> Gate {
    gate(
        IssuerProfile::new(entra.v2_issuer(tenant))
            .audience(TestEntra::CLIENT_ID)
            .algorithms([Algorithm::RS256])
            .jwks_uri(keys),
    )
}

fn v1_gate(entra: &TestEntra, tenant: &str, keys: String) -> Gate {
    gate(
        IssuerProfile::new(entra.v1_issuer(tenant))
            .audience(format!("api://{}", TestEntra::CLIENT_ID))
            .algorithms([Algorithm::RS256])
            .jwks_uri(keys),
    )
}

async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

#[tokio::test]
async fn hosts_and_issuers_follow_entra_conventions() {
    let entra = TestEntra::start().await.unwrap();
    let instance = entra.instance().to_owned();
    let sts = sts_host(&entra);
    assert!(instance.starts_with("http://127.0.0.1:") && !instance.ends_with('/'));
    assert!(sts.starts_with("http://127.0.0.1:"));
    assert_ne!(instance, sts, "v1 issuers live on another host");

    let tenant = entra.tenant().to_owned();
    assert_eq!(tenant.len(), 36);
    assert_eq!(tenant, tenant.to_lowercase());
    assert_eq!(entra.v1_issuer(&tenant), format!("{sts}/{tenant}/"));
    assert_eq!(
        entra.v2_issuer(&tenant),
        format!("{instance}/{tenant}/v2.0")
    );
    assert_eq!(
        entra.v2_metadata_url(&tenant),
        format!("{instance}/{tenant}/v2.0/.well-known/openid-configuration")
    );
    assert_eq!(
        entra.v1_metadata_url(&tenant),
        format!("{instance}/{tenant}/.well-known/openid-configuration")
    );
    assert_eq!(
        entra.v2_keys_url(&tenant),
        format!("{instance}/{tenant}/discovery/v2.0/keys")
    );
    assert_eq!(
        entra.v1_keys_url(&tenant),
        format!("{instance}/{tenant}/discovery/keys")
    );

    let other = entra.add_tenant();
    assert_ne!(other, tenant);
    assert_eq!(other.len(), 36);
    let debug = format!("{entra:?}");
    assert!(debug.contains(&tenant) && debug.contains(&other), "{debug}");
}

#[tokio::test]
async fn metadata_mirrors_the_real_documents() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let instance = entra.instance();

    // The multi-tenant documents are the real ones, hosts moved: templated issuers included.
    let v2_common = get_ok(&entra.v2_metadata_url("common")).await;
    assert_eq!(v2_common, relocated(&entra, &real(REAL_V2_COMMON), "", ""));
    assert_eq!(v2_common["issuer"], format!("{instance}/{{tenantid}}/v2.0"));
    assert_eq!(
        v2_common["jwks_uri"],
        format!("{instance}/common/discovery/v2.0/keys")
    );
    let v2_organizations = get_ok(&entra.v2_metadata_url("organizations")).await;
    assert_eq!(
        v2_organizations,
        relocated(&entra, &real(REAL_V2_ORGANIZATIONS), "", "")
    );
    let v1_common = get_ok(&entra.v1_metadata_url("common")).await;
    assert_eq!(v1_common, relocated(&entra, &real(REAL_V1_COMMON), "", ""));
    assert_eq!(
        v1_common["issuer"],
        format!("{}/{{tenantid}}/", sts_host(&entra))
    );
    assert_eq!(
        v1_common["jwks_uri"],
        format!("{instance}/common/discovery/keys")
    );
    let v1_organizations = get_ok(&entra.v1_metadata_url("organizations")).await;
    assert_eq!(
        v1_organizations,
        relocated(&entra, &real(REAL_V1_COMMON), "/common/", "/organizations/")
    );

    // Tenant documents: the tenant's own issuer, endpoints and keys under the tenant, a region.
    let v2 = get_ok(&entra.v2_metadata_url(&tenant)).await;
    assert_eq!(names(&v2), names(&real(REAL_V2_COMMON)));
    assert_eq!(v2["issuer"], entra.v2_issuer(&tenant));
    assert_eq!(v2["jwks_uri"], entra.v2_keys_url(&tenant));
    assert_eq!(
        v2["token_endpoint"],
        format!("{instance}/{tenant}/oauth2/v2.0/token")
    );
    assert_eq!(
        v2["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(v2["tenant_region_scope"], "EU");
    assert_eq!(v2["cloud_instance_name"], "microsoftonline.com");

    let v1 = get_ok(&entra.v1_metadata_url(&tenant)).await;
    assert_eq!(names(&v1), names(&real(REAL_V1_COMMON)));
    assert!(names(&v1).is_superset(&names(&real(REAL_V1_TENANT))));
    assert_eq!(v1["issuer"], entra.v1_issuer(&tenant));
    assert_eq!(v1["jwks_uri"], entra.v1_keys_url(&tenant));
    // The 2019 tenant document, hosts moved, but for its jwks_uri (then `common`'s).
    let mut expected = relocated(&entra, &real(REAL_V1_TENANT), REAL_TENANT, &tenant);
    expected["jwks_uri"] = json!(entra.v1_keys_url(&tenant));
    for (name, value) in expected.as_object().unwrap() {
        assert_eq!(&v1[name], value, "{name}");
    }

    // `consumers` names the personal-account tenant.
    let consumers = get_ok(&entra.v2_metadata_url("consumers")).await;
    assert_eq!(
        consumers["issuer"],
        entra.v2_issuer(TestEntra::CONSUMERS_TENANT)
    );
    assert_eq!(
        consumers["jwks_uri"],
        format!("{instance}/consumers/discovery/v2.0/keys")
    );
    let consumers = get_ok(&entra.v1_metadata_url("consumers")).await;
    assert_eq!(
        consumers["issuer"],
        entra.v1_issuer(TestEntra::CONSUMERS_TENANT)
    );

    // Tenant ids are read case-insensitively and written in lowercase.
    let upper = get_ok(&entra.v2_metadata_url(&tenant.to_uppercase())).await;
    assert_eq!(upper["issuer"], entra.v2_issuer(&tenant));
    let common = get_ok(&entra.v2_metadata_url("Common")).await;
    assert_eq!(common["issuer"], v2_common["issuer"]);
}

#[tokio::test]
async fn key_sets_have_the_shape_of_entras() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let kids = entra.kids();
    assert_eq!(kids.len(), 2);
    let real_v2 = real(REAL_V2_KEYS);
    let real_v1 = real(REAL_V1_KEYS);
    let real_v2_names = names(&real_v2["keys"][0]);
    let real_v1_names = names(&real_v1["keys"][0]);

    let cases = [
        (tenant.clone(), entra.v2_issuer(&tenant)),
        ("common".to_owned(), entra.v2_issuer("{tenantid}")),
        ("organizations".to_owned(), entra.v2_issuer("{tenantid}")),
        (
            "consumers".to_owned(),
            entra.v2_issuer(TestEntra::CONSUMERS_TENANT),
        ),
    ];
    for (segment, issuer) in cases {
        let v2 = get_ok(&entra.v2_keys_url(&segment)).await;
        let v1 = get_ok(&entra.v1_keys_url(&segment)).await;
        assert_eq!(names(&v2), names(&real_v2), "{segment}");
        assert_eq!(self::kids(&v2), kids, "every tenant serves the same keys");
        assert_eq!(self::kids(&v1), kids);
        for (v2_key, v1_key) in v2["keys"]
            .as_array()
            .unwrap()
            .iter()
            .zip(v1["keys"].as_array().unwrap())
        {
            assert_eq!(names(v2_key), real_v2_names, "{segment}");
            assert_eq!(names(v1_key), real_v1_names, "{segment}");
            assert!(v2_key.get("alg").is_none() && v1_key.get("alg").is_none());
            assert_eq!(v2_key["issuer"], issuer.as_str(), "{segment}");
            assert!(v1_key.get("issuer").is_none());
            let mut without_issuer = v2_key.clone();
            without_issuer.as_object_mut().unwrap().remove("issuer");
            assert_eq!(&without_issuer, v1_key);

            assert_eq!(v2_key["kty"], "RSA");
            assert_eq!(v2_key["use"], "sig");
            assert_eq!(v2_key["e"], "AQAB");
            assert_eq!(v2_key["x5t"], v2_key["kid"]);
            let n = base64_simd::URL_SAFE_NO_PAD
                .decode_to_vec(v2_key["n"].as_str().unwrap())
                .unwrap();
            assert_eq!(n.len(), 256, "RSA 2048");
            // kid and x5t are the SHA-1 thumbprint of the certificate, which holds the key.
            let x5c = v2_key["x5c"].as_array().unwrap();
            assert_eq!(x5c.len(), 1);
            let der = base64_simd::STANDARD
                .decode_to_vec(x5c[0].as_str().unwrap())
                .unwrap();
            assert_eq!(&der[..2], [0x30, 0x82]);
            let thumbprint = base64_simd::URL_SAFE_NO_PAD
                .encode_to_string(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der));
            assert_eq!(v2_key["kid"], thumbprint.as_str());
            assert!(der.windows(n.len()).any(|w| w == n));
        }
    }
    // Nothing about the keys is printed but their ids.
    let debug = format!("{entra:?}");
    let key_set = get_ok(&entra.v1_keys_url("common")).await;
    assert!(!debug.contains(key_set["keys"][0]["n"].as_str().unwrap()));
    assert!(!debug.contains(&key_set["keys"][0]["x5c"][0].as_str().unwrap()[..40]));
    assert!(debug.contains(&kids[0]));
}

#[tokio::test]
async fn errors_look_like_entras() {
    let entra = TestEntra::start().await.unwrap();
    let instance = entra.instance();

    for url in [
        format!("{instance}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"),
        format!("{instance}/not-a-tenant/discovery/keys"),
        format!("{instance}/0000/discovery/v2.0/keys"),
    ] {
        let (status, body) = get(&url).await;
        assert_eq!(status, 400, "{url}");
        assert_eq!(body["error"], "invalid_tenant");
        assert_eq!(body["error_codes"], json!([90002]));
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with("AADSTS90002: Tenant '"),
            "{description}"
        );
        assert_eq!(body["error_uri"], format!("{instance}/error?code=90002"));
        assert!(body["trace_id"].as_str().unwrap().len() == 36);
    }

    for path in [
        "/",
        "/common",
        "/.well-known/openid-configuration",
        "/common/v2.0/.well-known/oauth-authorization-server",
        "/common/discovery/v2.0/keys/",
        "/common/oauth2/v2.0/token",
    ] {
        let response = client()
            .get(format!("{instance}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }

    let response = client()
        .post(entra.v2_keys_url("common"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");

    // The v1 STS host serves nothing, and counts what it is asked.
    let tenant = entra.tenant();
    let issuer = entra.v1_issuer(tenant);
    for url in [
        format!("{issuer}.well-known/openid-configuration"),
        format!("{issuer}discovery/keys"),
        issuer.clone(),
    ] {
        assert_eq!(client().get(&url).send().await.unwrap().status(), 404);
    }
    assert_eq!(entra.sts_requests(), 3);
    assert_eq!(entra.requests(&format!("/{tenant}/discovery/keys")), 0);
}

#[tokio::test]
async fn app_specific_keys_are_served_only_under_their_appid() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let app = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d";
    let kid = entra.app_specific_key(app);
    assert!(!entra.kids().contains(&kid));

    // Metadata fetched with ?appid= points at keys with the same query.
    let v2 = get_ok(&format!("{}?appid={app}", entra.v2_metadata_url(&tenant))).await;
    assert_eq!(
        v2["jwks_uri"],
        format!("{}?appid={app}", entra.v2_keys_url(&tenant))
    );
    let v1 = get_ok(&format!("{}?appid={app}", entra.v1_metadata_url("common"))).await;
    assert_eq!(
        v1["jwks_uri"],
        format!("{}?appid={app}", entra.v1_keys_url("common"))
    );
    assert_eq!(v1["issuer"], entra.v1_issuer("{tenantid}"));
    let plain = get_ok(&entra.v2_metadata_url(&tenant)).await;
    assert_eq!(plain["jwks_uri"], entra.v2_keys_url(&tenant));

    // The key sets: the shared keys, plus the app's key only under its appid.
    let mut with_app = entra.kids();
    with_app.push(kid.clone());
    let keys = get_ok(&format!("{}?appid={app}", entra.v2_keys_url(&tenant))).await;
    assert_eq!(kids(&keys), with_app);
    assert_eq!(keys["keys"][2]["issuer"], entra.v2_issuer(&tenant));
    let keys = get_ok(&format!("{}?appid={app}", entra.v1_keys_url("common"))).await;
    assert_eq!(kids(&keys), with_app);
    assert!(keys["keys"][2].get("issuer").is_none());
    let keys = get_ok(&entra.v2_keys_url(&tenant)).await;
    assert_eq!(kids(&keys), entra.kids());
    let keys = get_ok(&format!("{}?appid=another-app", entra.v2_keys_url(&tenant))).await;
    assert_eq!(kids(&keys), entra.kids());

    let keys_path = format!("/{tenant}/discovery/v2.0/keys");
    assert_eq!(entra.requests(&keys_path), 3);
    assert_eq!(entra.requests(&format!("{keys_path}?appid={app}")), 1);
    assert_eq!(entra.requests(&format!("{keys_path}?appid=another-app")), 1);

    // A token signed with the app's key verifies only against the app's key set.
    let token = entra.token(TokenVersion::V2, &tenant).key(&kid).sign();
    assert_eq!(header(&token)["kid"], kid.as_str());
    let app_gate = v2_gate(
        &entra,
        &tenant,
        format!("{}?appid={app}", entra.v2_keys_url(&tenant)),
    );
    assert_eq!(code(&app_gate, &token).await, "accepted");
    let shared = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(code(&app_gate, &shared).await, "accepted");
    let plain_gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&plain_gate, &token).await, "unknown_key");
}

#[tokio::test]
async fn tenant_keys_are_served_by_their_tenant_and_common() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let other = entra.add_tenant();
    let kid = entra.tenant_key(&tenant);
    let msa = entra.tenant_key("consumers");

    let own = get_ok(&entra.v2_keys_url(&tenant)).await;
    assert!(kids(&own).contains(&kid) && !kids(&own).contains(&msa));
    let common = get_ok(&entra.v2_keys_url("common")).await;
    for (id, issuer) in [
        (&kid, entra.v2_issuer(&tenant)),
        (&msa, entra.v2_issuer(TestEntra::CONSUMERS_TENANT)),
    ] {
        let key = common["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == id.as_str())
            .expect("served by common");
        assert_eq!(key["issuer"], issuer);
    }
    let consumers = get_ok(&entra.v2_keys_url("consumers")).await;
    assert!(kids(&consumers).contains(&msa) && !kids(&consumers).contains(&kid));
    let elsewhere = get_ok(&entra.v2_keys_url(&other)).await;
    assert_eq!(kids(&elsewhere), entra.kids());
    let organizations = get_ok(&entra.v1_keys_url("organizations")).await;
    assert_eq!(kids(&organizations), entra.kids());

    let token = entra.token(TokenVersion::V2, &tenant).key(&kid).sign();
    let gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&gate, &token).await, "accepted");
    let gate = v2_gate(&entra, &other, entra.v2_keys_url(&other));
    let token = entra.token(TokenVersion::V2, &other).key(&kid).sign();
    assert_eq!(code(&gate, &token).await, "unknown_key");
}

#[tokio::test]
async fn v2_tokens_verify_against_the_served_keys() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));

    let user = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(
        header(&user),
        json!({"typ": "JWT", "alg": "RS256", "kid": entra.kids()[1]})
    );
    let claims = payload(&user);
    assert_eq!(
        names(&claims),
        [
            "aio",
            "aud",
            "azp",
            "azpacr",
            "exp",
            "iat",
            "iss",
            "name",
            "nbf",
            "oid",
            "preferred_username",
            "rh",
            "scp",
            "sub",
            "tid",
            "uti",
            "ver"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
    assert_eq!(claims["aud"], TestEntra::CLIENT_ID);
    assert_eq!(claims["iss"], entra.v2_issuer(&tenant));
    assert_eq!(claims["tid"], tenant.as_str());
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["azp"], TestEntra::CALLER_ID);
    assert_eq!(claims["azpacr"], "1");
    assert_eq!(claims["scp"], "access_as_user");
    assert_ne!(claims["sub"], claims["oid"]);
    assert_eq!(claims["sub"].as_str().unwrap().len(), 43);
    assert_eq!(claims["uti"].as_str().unwrap().len(), 22);
    assert!(claims["rh"].as_str().unwrap().starts_with("0."));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    // As in real Entra tokens: `iat` 5 minutes before issuance, one hour of lifetime after.
    assert_eq!(claims["exp"].as_i64(), Some(iat + 300 + 3600));

    let verified = gate.validate(&user).await.unwrap();
    assert_eq!(verified.tenant_id(), Some(tenant.as_str()));
    assert_eq!(verified.client_id(), Some(TestEntra::CALLER_ID));
    assert!(verified.has_scope("access_as_user"));
    assert_eq!(verified.token_kind(), TokenKind::User);
    assert_eq!(entra.requests(&format!("/{tenant}/discovery/v2.0/keys")), 1);

    // The same user in a second token; .user() is the default shape.
    let again = payload(&entra.token(TokenVersion::V2, &tenant).user().sign());
    assert_eq!(again["oid"], claims["oid"]);
    assert_eq!(again["sub"], claims["sub"]);
    assert_ne!(again["uti"], claims["uti"]);

    let app = entra
        .token(TokenVersion::V2, &tenant)
        .app(["Orders.Read.All", "Orders.Write.All"])
        .sign();
    let app_claims = payload(&app);
    assert_eq!(app_claims["idtyp"], "app");
    assert_eq!(app_claims["sub"], app_claims["oid"]);
    assert_ne!(app_claims["oid"], claims["oid"]);
    for absent in ["scp", "name", "preferred_username"] {
        assert!(app_claims.get(absent).is_none(), "{absent}");
    }
    let verified = gate.validate(&app).await.unwrap();
    assert!(verified.has_role("Orders.Write.All"));
    assert!(!verified.has_scope("access_as_user"));
    assert_eq!(verified.token_kind(), TokenKind::App);
    // And back.
    let back = payload(
        &entra
            .token(TokenVersion::V2, &tenant)
            .app(["R"])
            .user()
            .sign(),
    );
    assert_eq!(back["oid"], claims["oid"]);
    assert!(back.get("roles").is_none() && back.get("idtyp").is_none());

    // Every key of the set signs tokens the gate accepts, and the keys of common and
    // organizations are the same.
    for kid in entra.kids() {
        let token = entra.token(TokenVersion::V2, &tenant).key(&kid).sign();
        assert_eq!(code(&gate, &token).await, "accepted", "{kid}");
    }
    let via_common = v2_gate(&entra, &tenant, entra.v2_keys_url("common"));
    assert_eq!(code(&via_common, &user).await, "accepted");
    let via_organizations = v2_gate(&entra, &tenant, entra.v2_keys_url("organizations"));
    assert_eq!(code(&via_organizations, &user).await, "accepted");

    // Broken in one precise way each.
    let cases = [
        (
            entra.token(TokenVersion::V2, &tenant).expired().sign(),
            "token_expired",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .audience("api://another")
                .sign(),
            "invalid_audience",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .issuer(&entra.v2_issuer(&entra.add_tenant()))
                .sign(),
            "untrusted_issuer",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .without_claim("exp")
                .sign(),
            "missing_claim",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .header("kid", "nobody")
                .sign(),
            "unknown_key",
        ),
        (
            entra
                .token(TokenVersion::V2, &tenant)
                .header("typ", "dpop+jwt")
                .sign(),
            "invalid_token_type",
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(code(&gate, &token).await, expected);
    }
    let short = payload(
        &entra
            .token(TokenVersion::V2, &tenant)
            .expires_in(Duration::from_secs(90))
            .sign(),
    );
    // From issuance (5 minutes after `iat`).
    let lifetime = short["exp"].as_i64().unwrap() - short["iat"].as_i64().unwrap() - 300;
    assert!((89..=91).contains(&lifetime));
    // Nothing was asked of the STS host.
    assert_eq!(entra.sts_requests(), 0);
}

#[tokio::test]
async fn v1_tokens_verify_against_the_served_keys() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v1_gate(&entra, &tenant, entra.v1_keys_url(&tenant));

    let user = entra.token(TokenVersion::V1, &tenant).sign();
    let kid = entra.kids()[1].clone();
    assert_eq!(
        header(&user),
        json!({"typ": "JWT", "alg": "RS256", "kid": kid, "x5t": kid})
    );
    let claims = payload(&user);
    assert_eq!(claims["aud"], format!("api://{}", TestEntra::CLIENT_ID));
    assert_eq!(claims["iss"], entra.v1_issuer(&tenant));
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["appid"], TestEntra::CALLER_ID);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["scp"], "access_as_user");
    assert_eq!(claims["amr"], json!(["pwd"]));
    for present in [
        "aio",
        "oid",
        "sub",
        "tid",
        "uti",
        "rh",
        "name",
        "unique_name",
        "upn",
    ] {
        assert!(claims.get(present).is_some(), "{present}");
    }
    for absent in ["azp", "azpacr", "preferred_username", "idtyp", "roles"] {
        assert!(claims.get(absent).is_none(), "{absent}");
    }
    let verified = gate.validate(&user).await.unwrap();
    assert_eq!(verified.client_id(), Some(TestEntra::CALLER_ID));
    assert_eq!(verified.issuer(), entra.v1_issuer(&tenant));

    let app = entra
        .token(TokenVersion::V1, &tenant)
        .app(["Orders.Read.All"])
        .sign();
    let app_claims = payload(&app);
    for absent in ["scp", "name", "unique_name", "upn", "acr", "amr"] {
        assert!(app_claims.get(absent).is_none(), "{absent}");
    }
    assert!(
        gate.validate(&app)
            .await
            .unwrap()
            .has_role("Orders.Read.All")
    );

    // A v1 token under a v2 configuration, and the reverse: different issuers.
    let v2_gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&v2_gate, &user).await, "untrusted_issuer");
    let v2_token = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(code(&gate, &v2_token).await, "untrusted_issuer");
    // v1 tokens may carry the client id as their audience.
    let guid_aud = entra
        .token(TokenVersion::V1, &tenant)
        .audience(TestEntra::CLIENT_ID)
        .sign();
    assert_eq!(code(&gate, &guid_aud).await, "invalid_audience");
    // Keys by x5t only, as in 2014: tokengate selects keys by kid.
    let x5t_only = entra
        .token(TokenVersion::V1, &tenant)
        .without_header("kid")
        .sign();
    assert_eq!(header(&x5t_only)["x5t"], kid.as_str());
    // The consumers tenant.
    let consumer = payload(&entra.token(TokenVersion::V1, "consumers").sign());
    assert_eq!(consumer["tid"], TestEntra::CONSUMERS_TENANT);
    assert_eq!(
        consumer["iss"],
        entra.v1_issuer(TestEntra::CONSUMERS_TENANT)
    );
    assert_eq!(entra.sts_requests(), 0);
}

#[tokio::test]
async fn rotation_adds_a_key_and_drops_the_oldest() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    let [oldest, current] = <[String; 2]>::try_from(entra.kids()).unwrap();

    let before = entra.token(TokenVersion::V2, &tenant).sign();
    let by_oldest = entra.token(TokenVersion::V2, &tenant).key(&oldest).sign();
    assert_eq!(header(&before)["kid"], current.as_str());
    assert_eq!(code(&gate, &before).await, "accepted");
    assert_eq!(code(&gate, &by_oldest).await, "accepted");
    let keys_path = format!("/{tenant}/discovery/v2.0/keys");
    assert_eq!(entra.requests(&keys_path), 1);

    let new = entra.rotate_keys();
    assert_eq!(entra.kids(), [current.clone(), new.clone()]);
    let served = get_ok(&entra.v2_keys_url("common")).await;
    assert_eq!(kids(&served), [current.clone(), new.clone()]);
    let after = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(header(&after)["kid"], new.as_str());

    // The new kid is unknown to the gate: it refreshes once the cooldown has passed.
    tokio::time::sleep(PAST_COOLDOWN).await;
    assert_eq!(code(&gate, &after).await, "accepted");
    assert_eq!(
        entra.requests(&keys_path),
        2,
        "the unknown kid caused one refresh"
    );
    // The previous current key is still published; the oldest is gone but still signs.
    assert_eq!(code(&gate, &before).await, "accepted");
    let dropped = entra.token(TokenVersion::V2, &tenant).key(&oldest).sign();
    assert_eq!(code(&gate, &dropped).await, "unknown_key");
    let fresh = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&fresh, &by_oldest).await, "unknown_key");
}

#[tokio::test]
async fn an_outage_keeps_cached_keys_and_refuses_without_them() {
    let entra = TestEntra::start().await.unwrap();
    let tenant = entra.tenant().to_owned();
    let gate = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    let token = entra.token(TokenVersion::V2, &tenant).sign();
    assert_eq!(code(&gate, &token).await, "accepted");

    entra.set_outage(true);
    for url in [
        entra.v2_keys_url(&tenant),
        entra.v1_keys_url("common"),
        entra.v2_metadata_url(&tenant),
        entra.v1_metadata_url("organizations"),
        format!("{}/not-a-tenant/discovery/keys", entra.instance()),
    ] {
        assert_eq!(
            client().get(&url).send().await.unwrap().status(),
            503,
            "{url}"
        );
    }
    let fresh = v2_gate(&entra, &tenant, entra.v2_keys_url(&tenant));
    assert_eq!(code(&fresh, &token).await, "keys_unavailable");
    assert_eq!(
        code(&gate, &token).await,
        "accepted",
        "cached keys still work"
    );
    let debug = format!("{entra:?}");
    assert!(debug.contains("outage: true"), "{debug}");

    entra.set_outage(false);
    tokio::time::sleep(PAST_COOLDOWN).await;
    assert_eq!(code(&fresh, &token).await, "accepted");
    assert!(entra.requests(&format!("/{tenant}/discovery/v2.0/keys")) >= 4);
}

#[tokio::test]
async fn the_servers_stop_with_the_last_clone() {
    let entra = TestEntra::start().await.unwrap();
    let keys = entra.v2_keys_url("common");
    let builder = entra.token(TokenVersion::V2, entra.tenant());
    let clone = entra.clone();
    drop(entra);
    assert_eq!(get_ok(&keys).await["keys"].as_array().unwrap().len(), 2);
    drop(clone);
    // The builder still holds the stand-in.
    assert_eq!(client().get(&keys).send().await.unwrap().status(), 200);
    let debug = format!("{builder:?}");
    assert!(debug.contains("EntraTokenBuilder") && !debug.contains("access_as_user"));
    drop(builder.sign());
    let mut stopped = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        // A new client each time: no pooled connection survives.
        if client().get(&keys).send().await.is_err() {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "the instance still answers");
}
