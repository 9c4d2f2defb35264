//! The store's eviction and expiry, seen from inside.

use std::sync::Arc;

use super::Entry;
use super::ring::Store;
use crate::claims::{Claims, Times};
use crate::keys::KeyId;
use crate::test_fixtures as common;
use crate::{Gate, IssuerProfile, TokenCacheSettings};

/// Room for any number of these tests' entries.
const PLENTY: u64 = 1 << 30;

fn claims() -> Arc<Claims> {
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(common::ISSUER)
                .audience(common::AUDIENCE)
                .jwks(common::jwks(&[common::rs256()])),
        )
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    let token = common::rs256().token(&common::valid_claims());
    common::ready(gate.validate(&token)).unwrap()
}

fn entry(claims: &Arc<Claims>, exp: f64) -> Entry {
    Entry {
        claims: Arc::clone(claims),
        issuer: 0,
        key: KeyId::for_tests(1),
        times: Times {
            exp,
            nbf: None,
            iat: None,
            leeway: 0.0,
            max_age: None,
        },
    }
}

/// One shard holding at most `entries` entries, entries kept at most `max_ttl` seconds.
fn store(entries: u64, max_ttl: f64) -> Store {
    Store::new(1, entries, PLENTY, max_ttl)
}

fn token(name: &str) -> String {
    format!("{name}.payload.signature-of-{name}")
}

fn hit(store: &Store, token: &str, now: f64) -> bool {
    store.get(token, now, |_| true).is_some()
}

#[test]
fn tokens_hit_since_the_last_sweep_stay() {
    let claims = claims();
    let store = store(4, 300.0);
    for name in ["a", "b", "c", "d"] {
        store.insert(&token(name), entry(&claims, 1e9), 1, 100.0);
    }
    assert!(hit(&store, &token("a"), 100.0) && hit(&store, &token("c"), 100.0));
    store.insert(&token("e"), entry(&claims, 1e9), 1, 100.0);
    assert_eq!(store.len(), 4);
    assert!(!hit(&store, &token("b"), 100.0), "b was not hit: out first");
    for name in ["a", "c", "d", "e"] {
        assert!(hit(&store, &token(name), 100.0), "{name} kept");
    }
}

#[test]
fn no_hit_after_max_ttl_or_exp() {
    let claims = claims();
    let store = store(4, 10.0);
    store.insert(&token("long"), entry(&claims, 5000.0), 1, 1000.0);
    store.insert(&token("short"), entry(&claims, 1005.0), 1, 1000.0);
    assert!(hit(&store, &token("long"), 1009.9));
    assert!(!hit(&store, &token("long"), 1010.0), "max_ttl");
    assert!(hit(&store, &token("short"), 1004.9));
    assert!(!hit(&store, &token("short"), 1005.0), "exp");
    // Already expired or NaN: not stored.
    store.insert(&token("old"), entry(&claims, 999.0), 1, 1000.0);
    store.insert(&token("nan"), entry(&claims, f64::NAN), 1, 1000.0);
    assert_eq!(store.len(), 2);
}

#[test]
fn expired_entries_go_without_pressure() {
    let claims = claims();
    let store = store(100, 300.0);
    for i in 0..10 {
        store.insert(&token(&format!("old{i}")), entry(&claims, 110.0), 1, 100.0);
    }
    for i in 0..10 {
        store.insert(&token(&format!("new{i}")), entry(&claims, 1e9), 1, 200.0);
    }
    assert_eq!(store.len(), 10, "the expired ones are gone");
    for i in 0..10 {
        assert!(hit(&store, &token(&format!("new{i}")), 200.0));
    }
}

#[test]
fn another_token_with_the_same_hash_never_hits() {
    // Same length and the same last 32 bytes: the same hash, so the same index slot.
    let tail = "x".repeat(40);
    let (first, second) = (format!("aaaa.{tail}"), format!("bbbb.{tail}"));
    let claims = claims();
    let store = store(4, 300.0);
    store.insert(&first, entry(&claims, 1e9), 1, 100.0);
    assert!(!hit(&store, &second, 100.0), "compared whole");
    store.insert(&second, entry(&claims, 1e9), 1, 100.0);
    assert_eq!(store.len(), 1, "the second is not stored");
    assert!(hit(&store, &first, 100.0) && !hit(&store, &second, 100.0));
}

#[test]
fn memory_bounds_entries_and_a_too_large_one_is_not_stored() {
    let claims = claims();
    let store = Store::new(1, 100, 4000, 300.0);
    store.insert(&token("big"), entry(&claims, 1e9), 4001, 100.0);
    assert_eq!(store.len(), 0);
    store.insert(&token("fits"), entry(&claims, 1e9), 4000, 100.0);
    assert_eq!(store.len(), 1);
    for i in 0..10 {
        store.insert(&token(&format!("t{i}")), entry(&claims, 1e9), 1000, 100.0);
    }
    assert_eq!(store.len(), 4, "4 of 1000 bytes in 4000");
    store.check();
}

#[test]
fn never_more_than_max_entries() {
    // Shards share the entries out: 17 over 2 shards is at most 8 each. (Before, a floor of
    // memory per entry, rounded down, let `max_entries` + 1 in.)
    let claims = claims();
    for max in [1, 7, 17, 8511] {
        let cache = TokenCacheSettings::default()
            .max_entries(max)
            .build()
            .unwrap();
        for i in 0..max + 100 {
            cache
                .0
                .insert(&format!("{i}.x.{i}"), entry(&claims, 1e9), 1, 100.0);
        }
        let kept = cache.0.len() as u64;
        assert!((1..=max).contains(&kept), "{kept} of at most {max}");
        cache.0.check();
    }
}

#[test]
fn the_key_is_checked_outside_the_lock() {
    let claims = claims();
    let cache = TokenCacheSettings::default().build().unwrap();
    cache.insert(&token("a"), entry(&claims, 1e9), 100.0);
    let mut checked = false;
    let hit = cache.get(&token("a"), 100.0, |_, _| {
        // Reading the keys may start a refresh: never while a shard is locked.
        checked = !cache.0.locked();
        true
    });
    assert!(hit.is_some() && checked);
}

#[test]
fn a_new_token_gets_a_turn_before_eviction() {
    // A full store, then new tokens, each requested again a few insertions later: a new token
    // must stay long enough to be hit, and old ones not requested again must make room.
    let claims = claims();
    let store = store(100, 1e6);
    for i in 0..100 {
        store.insert(&token(&format!("old{i}")), entry(&claims, 1e9), 1, 100.0);
    }
    let mut hits = 0;
    for i in 0..1000 {
        store.insert(&token(&format!("new{i}")), entry(&claims, 1e9), 1, 100.0);
        if i >= 3 && hit(&store, &token(&format!("new{}", i - 3)), 100.0) {
            hits += 1;
        }
    }
    assert!(hits > 950, "{hits} of 997 new tokens hit");
    let old = (0..100)
        .filter(|i| hit(&store, &token(&format!("old{i}")), 100.0))
        .count();
    assert_eq!(old, 0, "old tokens not requested again are gone");
}

#[test]
fn memory_is_given_back_after_a_burst() {
    let claims = claims();
    let store = store(10_000, 300.0);
    for i in 0..2000 {
        store.insert(
            &token(&format!("burst{i}")),
            entry(&claims, 110.0),
            1,
            100.0,
        );
    }
    let (ring, map) = store.capacity();
    assert!(ring >= 2000 && map >= 2000);
    // Later tokens drop the burst's expired ones as they come.
    for i in 0..400 {
        store.insert(&token(&format!("later{i}")), entry(&claims, 1e9), 1, 200.0);
    }
    assert_eq!(store.len(), 400, "the burst is gone");
    let (ring_after, map_after) = store.capacity();
    assert!(
        ring_after < ring && map_after < map,
        "{ring_after} of {ring}, {map_after} of {map}"
    );
    store.check();
}

#[test]
fn no_hit_at_a_time_that_is_not_a_number() {
    let claims = claims();
    let store = store(4, 300.0);
    store.insert(&token("a"), entry(&claims, 1e9), 1, 100.0);
    assert!(hit(&store, &token("a"), 100.0));
    assert!(!hit(&store, &token("a"), f64::NAN));
}

#[test]
fn the_same_token_stored_twice_is_one_entry() {
    // Room for four of 1000 bytes: the replaced entry's weight must not count twice.
    let claims = claims();
    let store = Store::new(1, 100, 4000, 300.0);
    for _ in 0..3 {
        store.insert(&token("a"), entry(&claims, 1e9), 1000, 100.0);
    }
    assert_eq!(store.len(), 1);
    for name in ["b", "c", "d"] {
        store.insert(&token(name), entry(&claims, 1e9), 1000, 100.0);
    }
    assert_eq!(store.len(), 4);
    store.check();
}

#[test]
fn index_and_slots_agree_under_churn() {
    let claims = claims();
    let store = Store::new(4, 64, 64 * 1000, 300.0);
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let (store, claims) = (&store, &claims);
            scope.spawn(move || {
                for i in 0..3000u64 {
                    let n = (i * 7919 + thread * 104_729) % 500;
                    let now = 100.0 + (i / 100) as f64;
                    let name = format!("t{n}");
                    if !hit(store, &token(&name), now) {
                        // Some expire within the run; weights differ.
                        let exp = if n % 3 == 0 { now + 5.0 } else { 1e9 };
                        store.insert(&token(&name), entry(claims, exp), 300 + (n % 4) * 700, now);
                    }
                }
            });
        }
    });
    store.check();
    assert!(store.len() > 0 && store.len() <= 64);
}
