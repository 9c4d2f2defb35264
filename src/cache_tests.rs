//! The verified-token cache's bounds, seen from inside.

use crate::test_fixtures as common;

use crate::{Gate, IssuerProfile, TokenCacheSettings};

fn gate(cache: TokenCacheSettings) -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(common::ISSUER)
                .audience(common::AUDIENCE)
                .jwks(common::jwks(&[common::rs256()])),
        )
        .token_cache(cache)
        .build()
        .unwrap()
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
    // Each entry weighs at least its token and the fixed overhead (256 bytes).
    let gate = gate(TokenCacheSettings::default().max_memory(64 * 1024));
    let tokens = distinct_tokens(200);
    let per_entry = (tokens[0].len() + 256) as u64;
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
    let gate = gate(TokenCacheSettings::disabled());
    common::ready(gate.validate(&distinct_tokens(1)[0])).unwrap();
    assert_eq!(gate.cache_entries(), 0);
}
