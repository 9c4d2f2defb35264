//! A4. Discovery and keys (ENTRA-11..15).

use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{
    Authority, accepted, fetches, gate, gate_any, outcome, single, tenants, v1_keys, v1_metadata,
    v2_keys, v2_metadata,
};

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
/// are checked in `tests/testing_entra/`). Every one of these sets loads, and each key signs
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
