//! The verified-token cache seen from inside: its bounds, and, by counting signature checks,
//! which requests it answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::claims::RawClaims;
use crate::keys::{KeyRules, VerifyingKey};
use crate::provider::ProviderRules;
use crate::test_fixtures as common;
use crate::{Gate, GateBuilder, IssuerProfile, Requirement, TokenCacheSettings};

/// Provider rules that change nothing but count signature checks: the pipeline asks
/// `key_may_sign` right before each one. A cache hit checks no signature.
#[derive(Debug, Default)]
struct CountChecks(AtomicUsize);

impl CountChecks {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl KeyRules for CountChecks {}

impl ProviderRules for CountChecks {
    fn key_may_sign(&self, _key: &VerifyingKey, _claims: &RawClaims<'_>) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}

fn profile() -> IssuerProfile {
    IssuerProfile::new(common::ISSUER)
        .audience(common::AUDIENCE)
        .jwks(common::jwks(&[common::rs256()]))
}

fn gate(cache: TokenCacheSettings) -> Gate {
    Gate::builder()
        .issuer(profile())
        .token_cache(cache)
        .build()
        .unwrap()
}

/// A gate (to finish building) whose signature checks are counted, and their counter.
fn counted(cache: TokenCacheSettings) -> (GateBuilder, Arc<CountChecks>) {
    let checks = Arc::new(CountChecks::default());
    let rules = Arc::clone(&checks) as Arc<dyn ProviderRules>;
    let builder = Gate::builder()
        .issuer(profile().with_rules(rules))
        .token_cache(cache);
    (builder, checks)
}

fn distinct_tokens(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let mut claims = common::valid_claims();
            claims["jti"] = serde_json::json!(format!("token-{i}"));
            common::rs256().token(&claims)
        })
        .collect()
}

#[test]
fn a_repeat_is_answered_without_a_signature_check() {
    let (builder, checks) = counted(TokenCacheSettings::default());
    let gate = builder.build().unwrap();
    let token = &distinct_tokens(1)[0];
    let first = common::ready(gate.validate(token)).unwrap();
    for _ in 0..3 {
        let again = common::ready(gate.validate(token)).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the cached claims");
    }
    assert_eq!(
        checks.count(),
        1,
        "only the first request checked the signature"
    );
}

#[test]
fn at_most_max_entries_are_kept() {
    let gate = gate(TokenCacheSettings::default().max_entries(10));
    for token in distinct_tokens(60) {
        common::ready(gate.validate(&token)).unwrap();
    }
    let entries = gate.cache_entries();
    assert!((1..=10).contains(&entries), "{entries} entries");
}

#[test]
fn memory_bounds_entries_too() {
    // Each entry weighs at least its token and the fixed overhead (384 bytes).
    let gate = gate(TokenCacheSettings::default().max_memory(64 * 1024));
    let tokens = distinct_tokens(200);
    let per_entry = (tokens[0].len() + 384) as u64;
    for token in &tokens {
        common::ready(gate.validate(token)).unwrap();
    }
    let entries = gate.cache_entries();
    assert!(
        entries >= 1 && entries <= 64 * 1024 / per_entry,
        "{entries} entries"
    );
}

#[test]
fn only_verified_tokens_are_stored() {
    let gate = gate(TokenCacheSettings::default());
    let token = common::rs256().token(&common::valid_claims());
    let (input, _) = token.rsplit_once('.').unwrap();
    for i in 0..20 {
        let forged = format!("{input}.{}", common::b64(vec![i as u8; 256]));
        assert!(common::ready(gate.validate(&forged)).is_err());
    }
    assert_eq!(gate.cache_entries(), 0);
    common::ready(gate.validate(&token)).unwrap();
    assert_eq!(gate.cache_entries(), 1);
}

#[test]
fn disabled_keeps_nothing() {
    let (builder, checks) = counted(TokenCacheSettings::disabled());
    let gate = builder.build().unwrap();
    let token = &distinct_tokens(1)[0];
    for _ in 0..3 {
        common::ready(gate.validate(token)).unwrap();
    }
    assert_eq!(gate.cache_entries(), 0);
    assert_eq!(checks.count(), 3, "every request checked the signature");
}

/// A token that verifies but fails the gate's requirement is cached like any other; each hit
/// runs the requirement again, and is refused.
#[test]
fn a_hit_is_refused_by_the_requirement() {
    let (builder, checks) = counted(TokenCacheSettings::default());
    let gate = builder
        .require(Requirement::scope("orders.admin"))
        .build()
        .unwrap();
    let token = &distinct_tokens(1)[0];
    for _ in 0..3 {
        let refused = common::ready(gate.validate(token)).unwrap_err();
        assert_eq!(refused.code(), "insufficient_scope");
    }
    assert_eq!(checks.count(), 1, "the second and third requests were hits");
    assert_eq!(gate.cache_entries(), 1);
}

/// `max_ttl` after it was stored, a token is verified again, though its `exp` is far.
#[test]
fn a_token_is_verified_again_after_max_ttl() {
    use std::time::{Duration, SystemTime};
    let (builder, checks) = counted(TokenCacheSettings::default().max_ttl(Duration::from_secs(60)));
    let gate = builder.build().unwrap();
    let token = &distinct_tokens(1)[0];
    let stored = SystemTime::now();
    let at = |seconds: u64| {
        common::ready(gate.validate_at(token, stored + Duration::from_secs(seconds)))
    };
    at(0).unwrap();
    at(59).unwrap();
    assert_eq!(checks.count(), 1, "a hit within max_ttl");
    at(60).unwrap();
    assert_eq!(checks.count(), 2, "verified again at max_ttl");
}
