//! The harness itself: the cases match their tokens, and the documents served are the real ones
//! made tenant-specific.

use std::time::UNIX_EPOCH;

use serde_json::Value;

use super::entra_host::EntraHost;
use super::fixtures::{ALL_CASES, D06_V2, GLOBAL_HOST, K01, T17_CASE, T20_CASE, US_GOV_HOST};
use super::support::payload_of;

/// The constants above are the tokens' own claims; the clocks are inside their lifetimes.
#[test]
fn cases_come_from_the_tokens() {
    for case in ALL_CASES {
        let claims = payload_of(case.token());
        assert_eq!(claims["iss"], case.iss, "{}", case.name);
        assert_eq!(claims["tid"], case.tid, "{}", case.name);
        assert_eq!(claims["aud"], case.aud, "{}", case.name);
        assert!(case.aud.ends_with(case.client_id), "{}", case.name);
        assert_eq!(claims["iat"], case.iat, "{}", case.name);
        assert_eq!(claims["nbf"], case.iat, "{}", case.name);
        assert_eq!(claims["exp"], case.exp, "{}", case.name);
        let clock = case.at().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(clock - case.iat >= 1800 && case.exp - clock >= 1800);
    }
}

/// The loopback Entra answers for the real host names with the real documents made
/// tenant-specific, and the real key files at the paths those documents name.
#[tokio::test(flavor = "current_thread")]
async fn served_documents_are_the_real_ones_made_tenant_specific() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let client = host.client();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(&url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let tid = case.tid;
    let (status, v2) = get(format!(
        "https://{GLOBAL_HOST}/{tid}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(status, 200);
    let v2: Value = serde_json::from_str(&v2).unwrap();
    assert_eq!(v2["issuer"], case.iss, "the v2 issuer is T17's own");
    assert_eq!(
        v2["jwks_uri"],
        format!("https://{GLOBAL_HOST}/{tid}/discovery/v2.0/keys")
    );
    assert_eq!(
        v2["token_endpoint"],
        format!("https://{GLOBAL_HOST}/{tid}/oauth2/v2.0/token")
    );
    // Everything else is D06 as Microsoft served it.
    let d06: Value = serde_json::from_str(D06_V2).unwrap();
    assert_eq!(v2["claims_supported"], d06["claims_supported"]);
    assert_eq!(v2["cloud_instance_name"], "microsoftonline.com");

    let (status, v1) = get(format!(
        "https://{GLOBAL_HOST}/{tid}/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(status, 200);
    let v1: Value = serde_json::from_str(&v1).unwrap();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(
        v1["jwks_uri"],
        format!("https://{GLOBAL_HOST}/{tid}/discovery/keys")
    );

    for path in ["discovery/v2.0/keys", "discovery/keys"] {
        let (status, keys) = get(format!("https://{GLOBAL_HOST}/{tid}/{path}")).await;
        assert_eq!((status, keys.as_str()), (200, K01), "verbatim");
    }
    // Tenants without keys configured have none.
    let (status, _) = get(format!(
        "https://{GLOBAL_HOST}/{}/discovery/keys",
        T20_CASE.tid
    ))
    .await;
    assert_eq!(status, 404);

    // The US Gov host: the same documents in that cloud.
    let (_, gov) = get(format!(
        "https://{US_GOV_HOST}/{tid}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    let gov: Value = serde_json::from_str(&gov).unwrap();
    assert_eq!(
        gov["issuer"],
        format!("https://{US_GOV_HOST}/{tid}/v2.0"),
        "a US Gov v2 issuer"
    );
    assert_eq!(gov["cloud_instance_name"], "microsoftonline.us");
}
