//! The stand-in's hosts, metadata, key sets and errors, against the real documents Entra
//! serves (ENTRA-11..14).

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use serde_json::{Value, json};
use tokengate::testing::TestEntra;

use crate::{client, get, get_ok, kids, names};

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
