//! The verified-token cache: what a hit must still check, and what must never hit.
//!
//! A hit answers with the claims the first validation built, the same `Arc`; a miss builds new
//! ones. `Arc::ptr_eq` tells them apart.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokengate::testing::TestIssuer;
use tokengate::{
    Algorithm, Claims, Gate, GateBuilder, IssuerProfile, Rejection, Requirement, TokenCacheSettings,
};

use tokengate_testkit::{AUDIENCE, ISSUER, b64, jwks, now, ready, rs256, valid_claims};

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds as u64)
}

fn builder() -> GateBuilder {
    Gate::builder().issuer(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .jwks(jwks(&[rs256()])),
    )
}

fn gate_with(cache: TokenCacheSettings) -> Gate {
    builder().token_cache(cache).build().unwrap()
}

/// The claims of a token the gate accepts at `when`.
fn accepted(gate: &Gate, token: &str, when: SystemTime) -> Arc<Claims> {
    ready(gate.validate_at(token, when)).unwrap_or_else(|r| panic!("refused: {}", r.code()))
}

/// The code of the rejection of a token the gate refuses at `when`.
fn refused(gate: &Gate, token: &str, when: SystemTime) -> &'static str {
    match ready(gate.validate_at(token, when)) {
        Ok(_) => panic!("accepted"),
        Err(rejection) => rejection.code(),
    }
}

#[test]
fn expiry_and_not_before_are_judged_on_every_hit() {
    let gate = gate_with(TokenCacheSettings::default());
    let t = now();
    let mut claims = valid_claims();
    claims["nbf"] = json!(t - 10);
    claims["exp"] = json!(t + 100);
    let token = rs256().token(&claims);
    let first = accepted(&gate, &token, at(t));
    assert!(
        Arc::ptr_eq(&first, &accepted(&gate, &token, at(t))),
        "a hit"
    );
    // The default leeway is 60 s: valid until exp + 60 (exclusive), from nbf - 60.
    let edge = accepted(&gate, &token, at(t + 159));
    assert!(Arc::ptr_eq(&first, &edge), "a hit, still current");
    assert_eq!(refused(&gate, &token, at(t + 160)), "token_expired");
    assert_eq!(refused(&gate, &token, at(t - 71)), "token_not_yet_valid");
    // The entry is still there: the two refusals were judged against a cached token.
    let later = accepted(&gate, &token, at(t));
    assert!(Arc::ptr_eq(&first, &later), "still cached");
}

#[test]
fn only_the_exact_token_hits() {
    let gate = gate_with(TokenCacheSettings::default());
    let claims = valid_claims();
    let token = rs256().token(&claims);
    let when = SystemTime::now();
    let first = accepted(&gate, &token, when);
    // The same header and claims with a bit of the signature's first or last byte flipped,
    // one character longer or shorter, or a different case: each is judged from scratch and
    // refused for what it is (a hit would have answered with the cached claims).
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(signature)
        .unwrap();
    for byte in [0, signature.len() - 1] {
        let mut bytes = signature.clone();
        bytes[byte] ^= 1;
        let flipped = format!("{input}.{}", b64(&bytes));
        assert_eq!(refused(&gate, &flipped, when), "invalid_signature");
    }
    assert_eq!(
        refused(&gate, &format!("{token}A"), when),
        "invalid_signature"
    );
    assert_eq!(
        refused(&gate, &token[..token.len() - 1], when),
        "malformed_token"
    );
    assert_eq!(
        refused(&gate, &token.to_uppercase(), when),
        "malformed_token"
    );
    // The same claims under another header: a valid token of its own, so a miss.
    let other = rs256().token_with_header(&json!({"alg": "RS256", "kid": "rs256-1"}), &claims);
    assert!(!Arc::ptr_eq(&first, &accepted(&gate, &other, when)));
    // None of them displaced the entry.
    assert!(Arc::ptr_eq(&first, &accepted(&gate, &token, when)), "a hit");
}

#[test]
fn the_gate_requirement_runs_on_every_hit() {
    let gate = builder()
        .require(Requirement::scope("orders.admin"))
        .build()
        .unwrap();
    let mut admin = valid_claims();
    admin["scope"] = json!("orders.read orders.admin");
    let admin = rs256().token(&admin);
    let first = accepted(&gate, &admin, SystemTime::now());
    let again = accepted(&gate, &admin, SystemTime::now());
    assert!(Arc::ptr_eq(&first, &again), "the cache serves this gate");
    // A token without the scope is cached as well (it verified; the requirement is not
    // cached), so its repeats are hits, and each is refused. src/cache_tests.rs counts the
    // signature checks to show that they are hits.
    let token = rs256().token(&valid_claims());
    for _ in 0..3 {
        let refused = ready(gate.validate(&token)).unwrap_err();
        assert!(
            matches!(refused, Rejection::InsufficientScope { .. }),
            "{refused:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn entries_die_with_the_key_that_verified_them() {
    let issuer = TestIssuer::start().await.unwrap();
    let gate = issuer.gate();
    let old_kid = issuer.rotate(Algorithm::RS256);
    let token = issuer.token().key(&old_kid).sign();
    let first = gate.validate(&token).await.unwrap();
    let again = gate.validate(&token).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "a hit");

    // The provider withdraws the key. The gate still holds it, so the entry still hits.
    let new_kid = issuer.rotate(Algorithm::RS256);
    let again = gate.validate(&token).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "a hit until the gate refreshes"
    );
    // A token with the new key makes the gate refresh, once the test issuer's 1 s cooldown
    // has passed (on the paused clock: no waiting).
    tokio::time::advance(Duration::from_millis(1100)).await;
    let fresh = issuer.token().key(&new_kid).sign();
    assert!(gate.validate(&fresh).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 2);
    // The cached token's key is gone: it is judged again, and refused (after the one refresh
    // an unknown kid may trigger, right after one that found a new key: it finds nothing).
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "unknown_key"
    );
    assert_eq!(issuer.jwks_requests(), 3);
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "unknown_key"
    );
    assert_eq!(issuer.jwks_requests(), 3, "within the cooldown: no fetch");
}

#[test]
fn disabled_and_bounds() {
    let gate = gate_with(TokenCacheSettings::disabled());
    let token = rs256().token(&valid_claims());
    let first = accepted(&gate, &token, SystemTime::now());
    let second = accepted(&gate, &token, SystemTime::now());
    assert!(
        !Arc::ptr_eq(&first, &second),
        "no cache: every request verifies"
    );

    let refused = builder()
        .token_cache(
            TokenCacheSettings::default()
                .max_entries(0)
                .max_memory(1024)
                .max_ttl(Duration::from_secs(7200)),
        )
        .build()
        .unwrap_err();
    assert_eq!(refused.problems().len(), 3, "{refused}");

    // At most 1 TiB: no sum of entries' sizes can overflow.
    let cache = |bytes| builder().token_cache(TokenCacheSettings::default().max_memory(bytes));
    assert!(cache(1 << 40).build().is_ok());
    let refused = cache((1 << 40) + 1).build().unwrap_err();
    assert_eq!(refused.problems().len(), 1, "{refused}");
}
