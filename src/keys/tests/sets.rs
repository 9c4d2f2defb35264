//! Key sets: selection by `kid` and algorithm, ids, what a refresh brought, the key-life text.

use serde_json::json;

use super::*;
use crate::test_fixtures::{TestKey, key_for, rs256};
use crate::{Algorithm, Rejection};

#[test]
fn selection_by_kid_is_exact() {
    let (keys, problems) = set(&[rs256().jwk(), key_for(Algorithm::ES256).jwk()]);
    assert!(problems.is_empty());
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::RS256)
            .unwrap()
            .alg(),
        Algorithm::RS256
    );
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::PS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );
    for kid in ["RS256-1", "rs256-1 ", "rs256", "", "rs256-1\0"] {
        assert_eq!(
            keys.select(Some(kid), Algorithm::RS256).unwrap_err(),
            Rejection::UnknownKey,
            "{kid:?}"
        );
    }
}

#[test]
fn selection_without_kid_needs_exactly_one_candidate() {
    let (one, _) = set(&[rs256().jwk()]);
    assert!(one.select(None, Algorithm::RS256).is_ok());
    assert_eq!(
        one.select(None, Algorithm::PS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );

    let other = TestKey::generate(Algorithm::ES256, "es256-2");
    let (two, _) = set(&[key_for(Algorithm::ES256).jwk(), other.jwk(), rs256().jwk()]);
    assert_eq!(
        two.select(None, Algorithm::ES256).unwrap_err(),
        Rejection::MissingKeyId
    );
    assert!(
        two.select(None, Algorithm::RS256).is_ok(),
        "one RS256 key among them"
    );
    assert_eq!(
        two.select(None, Algorithm::EdDSA).unwrap_err(),
        Rejection::MissingKeyId
    );
}

#[test]
fn keys_configured_without_kid_serve_unknown_kids() {
    let (keys, _) = set(&[
        without(rs256().jwk(), "kid"),
        key_for(Algorithm::ES256).jwk(),
    ]);
    assert!(keys.select(Some("anything"), Algorithm::RS256).is_ok());
    assert_eq!(
        keys.select(Some("anything"), Algorithm::ES384).unwrap_err(),
        Rejection::UnknownKey
    );
    // A kid that names a key still selects only that key.
    assert_eq!(
        keys.select(Some("es256-1"), Algorithm::RS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );
}

#[test]
fn shared_kids_are_unusable_and_exact_duplicates_collapse() {
    let (keys, problems) = set(&[rs256().jwk(), rs256().jwk()]);
    assert!(problems.is_empty());
    assert_eq!(keys.len(), 1);

    let impostor = with(key_for(Algorithm::PS256).jwk(), "kid", json!("rs256-1"));
    let (keys, problems) = set(&[rs256().jwk(), impostor, key_for(Algorithm::ES256).jwk()]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::RS256).unwrap_err(),
        Rejection::UnknownKey
    );
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::PS256).unwrap_err(),
        Rejection::UnknownKey
    );
}

#[test]
fn verification_uses_the_bound_algorithm() {
    let key = load(&rs256().jwk(), Algorithm::ALL).unwrap();
    let message = b"header.payload";
    let signature = rs256().sign(message);
    assert!(key.verify(message, &signature));
    assert!(!key.verify(b"header.payloaD", &signature));
    assert!(!key.verify(message, &signature[1..]));
    assert!(!key.verify(message, &[]));
}

/// The cache asks the set whether a key is still there by its id, and a refresh asks
/// whether it brought a key for the kid that triggered it.
#[test]
fn sets_answer_by_key_id() {
    let es = key_for(Algorithm::ES256);
    let (old, _) = set(&[rs256().jwk()]);
    let (new, _) = set(&[rs256().jwk(), es.jwk()]);
    let rs_id = old.select(Some("rs256-1"), Algorithm::RS256).unwrap().id();
    let es_id = new.select(Some("es256-1"), Algorithm::ES256).unwrap().id();
    assert!(old.contains(rs_id) && new.contains(rs_id));
    assert!(!old.contains(es_id) && new.contains(es_id));
    let es = Algorithm::ES256;
    assert!(new.brings_new(&old, Some("es256-1"), es));
    assert!(new.brings_new(&old, None, es));
    assert!(
        !new.brings_new(&old, Some("rs256-1"), Algorithm::RS256),
        "not new"
    );
    assert!(!new.brings_new(&old, Some("made-up"), es));
    assert!(!old.brings_new(&new, None, es));
    // The same public key under another kid is another key.
    let (renamed, _) = set(&[with(rs256().jwk(), "kid", json!("rs256-2"))]);
    assert!(renamed.brings_new(&old, Some("rs256-2"), Algorithm::RS256));
    let (count, named) = new.describe_except(&old);
    assert_eq!((count, named.as_str()), (1, r#""es256-1" (ES256)"#));
}

/// A kid-less token finds its key in a refresh only if the refresh brought a key `select`
/// would pick for it: a new key of another algorithm (or a second one of its own, which makes
/// the choice ambiguous) is not its key, and the refresh counts as fruitless.
#[test]
fn a_kidless_token_finds_its_key_only_in_a_new_key_of_its_algorithm() {
    let es = key_for(Algorithm::ES256);
    let ed = key_for(Algorithm::EdDSA);
    let es2 = with(key_for(Algorithm::ES256).jwk(), "kid", json!("es256-other"));
    let (old, _) = set(&[rs256().jwk()]);
    let (other_alg, _) = set(&[rs256().jwk(), ed.jwk()]);
    assert!(!other_alg.brings_new(&old, None, Algorithm::ES256));
    assert!(other_alg.brings_new(&old, None, Algorithm::EdDSA));
    let (own_alg, _) = set(&[rs256().jwk(), es.jwk()]);
    assert!(own_alg.brings_new(&old, None, Algorithm::ES256));
    let (ambiguous, _) = set(&[rs256().jwk(), es.jwk(), es2]);
    assert!(!ambiguous.brings_new(&old, None, Algorithm::ES256));
    // A new key without kid serves unknown kids of its algorithm only.
    let (kidless, _) = set(&[rs256().jwk(), without(ed.jwk(), "kid")]);
    assert!(kidless.brings_new(&old, Some("any"), Algorithm::EdDSA));
    assert!(!kidless.brings_new(&old, Some("any"), Algorithm::ES256));
}

/// Kids are the provider's to choose: the key-life events quote them, so a kid cannot forge
/// a log line, and a key without kid reads differently from a key whose kid is "no kid".
#[test]
fn key_life_events_quote_kids() {
    let es = key_for(Algorithm::ES256);
    let (old, _) = set(&[rs256().jwk()]);
    let forged = with(es.jwk(), "kid", json!("x (ES256)\nINFO forged"));
    let (new, _) = set(&[rs256().jwk(), forged]);
    let (_, named) = new.describe_except(&old);
    assert_eq!(named, r#""x (ES256)\nINFO forged" (ES256)"#);
    assert!(!named.contains('\n'));
    let (no_kid, _) = set(&[without(es.jwk(), "kid")]);
    let (named_no_kid, _) = set(&[with(es.jwk(), "kid", json!("no kid"))]);
    assert_eq!(no_kid.describe_except(&old).1, "no kid (ES256)");
    assert_eq!(named_no_kid.describe_except(&old).1, r#""no kid" (ES256)"#);
}
