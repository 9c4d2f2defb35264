//! Key loading: a JWK Set as configured or fetched (every algorithm allowed), the key set built
//! from it (duplicates, shared kids, selection by kid), the same document through the public
//! configuration API, and the input as a PEM public key for each key family.
//!
//! Invariants: no panic; every entry of an accepted document is either a key or a problem;
//! serde_json accepts what the strict parser accepts; a key with a kid no other key has is
//! the one selected for it; under the Entra preset's key rules, which only skip more, a key's
//! `{tenantid}` issuer template accepts exactly its tenants; the public API builds a gate
//! exactly when the document gives a usable key.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use tokengate::fuzzing::{load_jwks, load_pem};
use tokengate::providers::entra::fuzzing as entra;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (usable, entries) = jwks(text);
    public_api(text, usable, entries);
    for alg in [
        Algorithm::RS256,
        Algorithm::PS384,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        if let Ok(bound) = load_pem(text, alg) {
            assert_eq!(bound, alg);
        }
    }
});

/// Loads the document; returns how many keys the issuer would have, and how many entries the
/// document has.
fn jwks(text: &str) -> (usize, usize) {
    let Ok(keys) = load_jwks(text, usize::MAX) else {
        return (0, 0);
    };
    // Entries are counted without parsing them, as the loader does: serde_json::Value would
    // refuse numbers beyond f64's range, which are valid JSON (RFC 8259 §6) and make an entry
    // the loader reports as a problem.
    let members: HashMap<String, &RawValue> =
        serde_json::from_str(text).expect("serde_json refuses an accepted JWKS");
    let keys_member = members
        .get("keys")
        .expect("an accepted JWKS has keys")
        .get();
    let entries = serde_json::from_str::<Vec<&RawValue>>(keys_member)
        .expect("an accepted JWKS has an array of keys")
        .len();
    assert_eq!(keys.len() + keys.problems, entries);
    // The limit on fetched sets is a count of entries, usable or not.
    assert!(load_jwks(text, entries).is_ok());
    if entries > 0 {
        assert!(load_jwks(text, entries - 1).is_err());
    }

    let mut unique = Vec::new();
    for i in 0..keys.len() {
        let kid = keys.kid(i);
        assert!(kid.is_none_or(|kid| kid.len() <= 256));
        unique.push(kid.is_some_and(|kid| {
            (0..keys.len())
                .filter(|&j| keys.kid(j) == Some(kid))
                .count()
                == 1
        }));
        // Standard issuers keep nothing of a key's other members.
        assert_eq!(keys.tag(i), None);
    }
    for cloud in [None, Some("microsoftonline.com")] {
        let loaded = entra::load_jwks(text, usize::MAX, cloud).expect("the same JWK Set");
        assert_eq!(loaded.len() + loaded.problems, entries);
        assert!(loaded.len() <= keys.len());
        for i in 0..loaded.len() {
            if let Some(issuer) = loaded.tag(i) {
                tenant_template(issuer);
            }
        }
    }
    let parsed = keys.len();
    let (usable, selected) = keys.select_each();
    assert!(usable <= parsed);
    for (i, only) in unique.iter().enumerate() {
        if *only {
            assert!(
                selected[i],
                "key {i} has the only copy of its kid and is not selected"
            );
        }
    }
    (usable, entries)
}

/// ENTRA-17: a key's `issuer` with `{tenantid}` accepts that issuer with a tenant's id put in,
/// for the token's own `tid` only.
fn tenant_template(issuer: &str) {
    let accepts = entra::issuer_accepts;
    match issuer.split_once("{tenantid}") {
        Some((prefix, suffix)) => {
            for tid in ["t", "9188040d-6c67-4c5b-b112-36a304b66dad", "é", ""] {
                let iss = format!("{prefix}{tid}{suffix}");
                assert!(accepts(issuer, &iss, Some(tid)));
                assert!(!accepts(issuer, &iss, None));
                assert!(!accepts(issuer, &format!("{iss}x"), Some(tid)));
            }
            // A tid that is not the one in the issuer: never, whatever the characters.
            let iss = format!("{prefix}ab{suffix}");
            assert!(!accepts(issuer, &iss, Some("a")));
            assert!(!accepts(issuer, &iss, Some("é")));
        }
        None => {
            assert!(accepts(issuer, issuer, None));
            assert!(!accepts(issuer, &format!("{issuer}/"), Some("t")));
        }
    }
}

/// The same document configured through the public API, whose default settings hold at most
/// 100 configured keys.
fn public_api(text: &str, usable: usize, entries: usize) {
    let built = Gate::builder()
        .issuer(
            IssuerProfile::new("https://issuer.example/")
                .audience("api://fuzz")
                .algorithms(Algorithm::ALL.iter().copied())
                .jwks(text),
        )
        .token_cache(TokenCacheSettings::disabled())
        .build();
    assert_eq!(
        built.is_ok(),
        usable > 0 && entries <= 100,
        "the public API and the key loader disagree"
    );
}
