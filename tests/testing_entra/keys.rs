//! Which keys are served where (the shared set, app-specific and tenant keys), and what gates
//! see when the stand-in rotates its keys or has an outage (ENTRA-14, ENTRA-15, ENTRA-21).
//!
//! Waits for a gate's cooldown or backoff run on Tokio's paused clock, moved with
//! `tokio::time::advance`: the key stores read Tokio's clock.

use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use crate::{PAST_COOLDOWN, client, code, get_ok, header, kids, v2_gate};

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

#[tokio::test(start_paused = true)]
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
    tokio::time::advance(PAST_COOLDOWN).await;
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

#[tokio::test(start_paused = true)]
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
    // The fresh gate tries again once its backoff (the cooldown) has passed.
    tokio::time::advance(PAST_COOLDOWN).await;
    assert_eq!(code(&fresh, &token).await, "accepted");
    // The gate's load, the request above, the fresh gate's failure and its retry.
    assert_eq!(entra.requests(&format!("/{tenant}/discovery/v2.0/keys")), 4);
}
