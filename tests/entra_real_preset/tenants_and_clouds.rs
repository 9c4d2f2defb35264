//! Tenants, versions and clouds.

use serde_json::Value;
use tokengate::Rejection;
use tokengate::providers::entra::{EntraApi, TokenVersion};

use super::entra_host::EntraHost;
use super::fixtures::{
    D06_V2, GLOBAL_HOST, T04_CASE, T17_CASE, T18_CASE, T20_CASE, US_GOV_HOST, US_GOV_INSTANCE,
};
use super::support::{assert_only_instance_fetched, check, metadata_paths, outcome, payload_of};

/// ENTRA-16: T17 presented to an API configured for another tenant (T20's, whose metadata
/// names that tenant's issuers), with the very same signing keys (K01) served for it, as Entra
/// shares keys across tenants: the issuer separates them, `untrusted_issuer`.
#[tokio::test(flavor = "current_thread")]
async fn entra_16_t17_for_another_tenant_is_untrusted_issuer() {
    let case = &T17_CASE;
    let other = T20_CASE.tid;
    let host = EntraHost::start(&[(case.tid, case.keys), (other, case.keys)]).await;
    let gate = host.gate(EntraApi::single_tenant(other, case.client_id));
    gate.warm_up().await.expect("the other tenant's documents");
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::UntrustedIssuer
    );
    // Only the configured tenant's metadata was asked for, never the token's.
    let requests = host.requests();
    assert!(
        requests.iter().all(|r| !r.contains(case.tid)),
        "{requests:?}"
    );

    // The right tenant, same server, same keys: accepted.
    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "ok");

    // The same for a v1 token: T18 (Microsoft's tenant) at an API of T04's tenant, whose v1
    // document names `https://sts.windows.net/268da1a1-.../`, with T18's keys (K02) served.
    let v1 = &T18_CASE;
    let other = T04_CASE.tid;
    let host = EntraHost::start(&[(other, v1.keys)]).await;
    let gate = host.gate(EntraApi::single_tenant(other, v1.client_id).allow_acl_authorization());
    assert_eq!(check(&gate, v1).await, "untrusted_issuer");
}

/// ENTRA-3, ENTRA-4: each token is judged by the metadata of its own version. A v2-only API
/// accepts T17 without ever fetching the v1 document and refuses T18 (a v1 token) as
/// `untrusted_issuer`; a v1-only API the reverse.
#[tokio::test(flavor = "current_thread")]
async fn entra_3_4_each_version_against_its_own_metadata() {
    let host =
        EntraHost::start(&[(T17_CASE.tid, T17_CASE.keys), (T18_CASE.tid, T18_CASE.keys)]).await;

    let v2 = host.gate(T17_CASE.api().versions([TokenVersion::V2]));
    assert_eq!(check(&v2, &T17_CASE).await, "ok");
    let [v2_document, v1_document] = metadata_paths(T17_CASE.tid);
    let requests = host.requests();
    assert!(requests.contains(&v2_document), "{requests:?}");
    assert!(!requests.contains(&v1_document), "{requests:?}");

    let v2 = host.gate(
        T18_CASE
            .api()
            .versions([TokenVersion::V2])
            .allow_acl_authorization(),
    );
    assert_eq!(check(&v2, &T18_CASE).await, "untrusted_issuer");

    let v1 = host.gate(
        T18_CASE
            .api()
            .versions([TokenVersion::V1])
            .allow_acl_authorization(),
    );
    assert_eq!(check(&v1, &T18_CASE).await, "ok");
    let v1 = host.gate(T17_CASE.api().versions([TokenVersion::V1]));
    assert_eq!(check(&v1, &T17_CASE).await, "untrusted_issuer");
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// ENTRA-17 step 3 with a real v1 token in the any-tenant mode: T18 (v1, Microsoft's own
/// tenant) is matched against the template of the real `common` v1 document and verified with
/// the keys the real `common` v2 document names, where each key carries an `issuer` (v1 key
/// sets carry none). No fixture holds T18's key as a v2 set publishes it, so K02's key is
/// served with the `issuer` every shared key of K14 (the real v2 set) has,
/// `https://login.microsoftonline.com/{tenantid}/v2.0`: accepted, the v2 issuer of T18's
/// tenant may use it. Served with the literal issuer of the personal-account tenant instead
/// (as K14's personal-account keys have it), the same key may not sign an organization's v1
/// token: `key_issuer_mismatch`. The v1 key set is never fetched.
#[tokio::test(flavor = "current_thread")]
async fn entra_17_t18_v1_any_tenant_checks_the_v2_key_issuer() {
    let case = &T18_CASE;
    let with_issuer = |issuer: &str| {
        let mut keys: Value = serde_json::from_str(case.keys).unwrap();
        for key in keys["keys"].as_array_mut().unwrap() {
            key["issuer"] = Value::from(issuer);
        }
        keys.to_string()
    };
    let api = || {
        EntraApi::multi_tenant(case.client_id)
            .any_tenant()
            .versions([TokenVersion::V1])
            .allow_acl_authorization()
    };
    let shared = with_issuer("https://login.microsoftonline.com/{tenantid}/v2.0");
    let host = EntraHost::start(&[("common", &shared)]).await;
    assert_eq!(payload_of(case.token())["ver"], "1.0");
    let gate = host.gate(api());
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    let requests = host.requests();
    for fetched in [
        "/common/.well-known/openid-configuration",
        "/common/v2.0/.well-known/openid-configuration",
        "/common/discovery/v2.0/keys",
    ] {
        assert!(
            requests.contains(&format!("{GLOBAL_HOST} {fetched}")),
            "{fetched}: {requests:?}"
        );
    }
    assert!(
        !requests.contains(&format!("{GLOBAL_HOST} /common/discovery/keys")),
        "{requests:?}"
    );
    assert_only_instance_fetched(&host, GLOBAL_HOST);

    let msa =
        with_issuer("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0");
    let host = EntraHost::start(&[("common", &msa)]).await;
    let refused = host.gate(api()).validate_at(case.token(), case.at()).await;
    assert_eq!(outcome(&refused), "key_issuer_mismatch");
}

/// ENTRA-40 with real documents and keys: the tenant documents name `"cloud_instance_name":
/// "microsoftonline.com"` and K14's keys name none (as Entra published them in 2024). With
/// T20's key marked as another cloud's (`microsoftonline.us`), it is skipped when the key set
/// is loaded and T20 is refused `unknown_key`; marked as the documents' own cloud, or served by
/// documents that name no cloud instance, it verifies T20 as before.
#[tokio::test(flavor = "current_thread")]
async fn entra_40_t20_key_of_another_cloud_instance_is_refused() {
    let case = &T20_CASE;
    let kid = "L1KfKFI_jnXbwWc22xZxw1sUHH0";
    assert_eq!(
        serde_json::from_str::<Value>(D06_V2).unwrap()["cloud_instance_name"],
        "microsoftonline.com"
    );
    let marked = |cloud: &str| {
        let mut keys: Value = serde_json::from_str(case.keys).unwrap();
        for key in keys["keys"].as_array_mut().unwrap() {
            assert!(key.get("cloud_instance_name").is_none(), "fixture");
            if key["kid"] == kid {
                key["cloud_instance_name"] = Value::from(cloud);
            }
        }
        keys.to_string()
    };
    let cases = [
        ("microsoftonline.us", false, "unknown_key"),
        ("microsoftonline.com", false, "ok"),
        ("microsoftonline.us", true, "ok"),
    ];
    for (cloud, without, expected) in cases {
        let keys = marked(cloud);
        let host = EntraHost::start(&[(case.tid, &keys)]).await;
        if without {
            host.serve_documents_without_cloud_instance_name();
        }
        let gate = host.gate(case.api().versions([TokenVersion::V2]));
        assert_eq!(check(&gate, case).await, expected, "{cloud} {without}");
    }
}

/// ENTRA-39: a Global-cloud token (T17) is refused by an API configured for US Gov
/// (`instance("https://login.microsoftonline.us")`). The gate asks only the US Gov host for
/// the tenant's metadata, learns the US Gov v2 issuer `https://login.microsoftonline.us/{tid}/v2.0`
/// (and the v1 issuer), and T17's `https://login.microsoftonline.com/{tid}/v2.0` is neither:
/// `untrusted_issuer`, although the same key set (K01) is served there.
///
/// If the US Gov host answered with the Global cloud's documents (a misrouted or spoofed
/// response), the v2 issuer rule (`{instance}/{tid}/v2.0` for the configured instance) refuses
/// the document, the v2 issuer stays unknown; the Global token is still refused as untrusted,
/// since no US Gov issuer could be `https://login.microsoftonline.com/..`.
#[tokio::test(flavor = "current_thread")]
async fn entra_39_t17_global_token_refused_by_us_gov_api() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api().instance(US_GOV_INSTANCE));
    gate.warm_up().await.expect("the US Gov documents");
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::UntrustedIssuer
    );
    assert_only_instance_fetched(&host, US_GOV_HOST);
    let requests = host.requests();
    assert!(
        requests.contains(&format!(
            "{US_GOV_HOST} /{}/v2.0/.well-known/openid-configuration",
            case.tid
        )),
        "{requests:?}"
    );

    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    host.serve_global_documents_everywhere();
    let gate = host.gate(case.api().instance(US_GOV_INSTANCE));
    let failed = gate.warm_up().await.unwrap_err().to_string();
    assert!(failed.contains(case.iss), "{failed}");
    // No US Gov issuer, learned or not, could be `https://login.microsoftonline.com/..`:
    // untrusted (401), without waiting for the documents that failed.
    let refused = gate.validate_at(case.token(), case.at()).await.unwrap_err();
    assert_eq!(refused, Rejection::UntrustedIssuer);
}
