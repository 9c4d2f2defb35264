//! A6. Signing-key rollover, caching and refresh (ENTRA-19..22), and a tenant's own keys in the
//! any-tenant mode (ENTRA-21 with ENTRA-15 and ENTRA-17, ATK-38).
//!
//! Tests that wait out a cooldown run on tokio's paused clock (`start_paused`), which the key
//! stores read, and move it past the cooldown with `tokio::time::advance` between requests
//! instead of sleeping. They start their own `TestEntra`, on the test's runtime: while a key
//! fetch from the shared authority (on a runtime of its own) is in flight, the test's runtime
//! is idle and its paused clock would jump ahead to the request timeout.

use std::time::{Duration, Instant};

use http::StatusCode;
use tokengate::ErrorClass;
use tokengate::providers::entra::TokenVersion;

use TokenVersion::{V1, V2};

use super::support::{
    Authority, accepted, any_tenant, build, fetches, gate, gate_any, outcome, random_kid, single,
    v2_keys, v2_metadata,
};

/// ENTRA-19, ENTRA-20, ENTRA-21: after a rotation, a token signed with the new key (chosen by
/// `kid`) validates after exactly one refetch of the key set (the metadata is not fetched
/// again), and a further unknown `kid` right after starts no other; the still-published older
/// key keeps working.
#[tokio::test(start_paused = true)]
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
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 1]);

    let kid = entra.rotate_keys();
    let rotated = entra.token(V2, tid).key(&kid).sign();
    let stranger = entra.token(V2, tid).header("kid", random_kid()).sign();
    // (Within the cooldown no refetch could start: `entra_21_random_kids_...` shows it.)
    tokio::time::advance(cooldown + Duration::from_millis(50)).await;
    assert_eq!(outcome(&gate, &rotated).await, "accepted");
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 2], "exactly one refetch");
    // Right after a refresh that found a new key, another unknown kid waits for the minimum
    // interval (here the 1 s cooldown) and its own refresh, which finds nothing: refused.
    assert_eq!(outcome(&gate, &stranger).await, "unknown_key");
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 3]);
    for _ in 0..5 {
        assert_eq!(outcome(&gate, &rotated).await, "accepted");
        assert_eq!(outcome(&gate, &before).await, "accepted");
        assert_eq!(outcome(&gate, &stranger).await, "unknown_key");
    }
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 3]);
}

/// ENTRA-21: a key removed from the key set stops validating once a refresh has loaded the
/// new set (it is not kept beside the new keys).
#[tokio::test(start_paused = true)]
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
    tokio::time::advance(cooldown + Duration::from_millis(50)).await;
    assert_eq!(outcome(&gate, &new).await, "accepted");
    assert_eq!(outcome(&gate, &old).await, "unknown_key");
}

/// ENTRA-21: unknown `kid`s cannot make the gate hammer the key endpoint: 200 tokens with
/// random kids, at once, start one refresh (which finds none of them), no other within the
/// cooldown and exactly one once it has passed; each is refused `unknown_key`.
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
            // Real time: the requests run in parallel on a multi-threaded runtime, and tokio
            // pauses the clock only on a current-thread one.
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
        // The warm-up, then one refresh per round.
        assert_eq!(entra.requests(&v2_keys(&tid)), 2 + round, "round {round}");
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
#[tokio::test(start_paused = true)]
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
    tokio::time::advance(cooldown + Duration::from_millis(50)).await;
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
    tokio::time::advance(cooldown + Duration::from_millis(50)).await;
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
#[tokio::test(start_paused = true)]
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
        tokio::time::advance(Duration::from_millis(20)).await;
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
