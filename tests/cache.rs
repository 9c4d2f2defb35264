//! The verified-token cache: what a hit must still check, and what must never hit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokengate::testing::TestIssuer;
use tokengate::{Gate, IssuerProfile, Rejection, Requirement, TokenCacheSettings};

use tokengate_testkit::{AUDIENCE, ISSUER, b64, jwks, now, ready, rs256, valid_claims};

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds as u64)
}

fn gate_with(cache: TokenCacheSettings) -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[rs256()])),
        )
        .token_cache(cache)
        .build()
        .unwrap()
}

fn code(gate: &Gate, token: &str, when: SystemTime) -> &'static str {
    match ready(gate.validate_at(token, when)) {
        Ok(_) => "ok",
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
    assert_eq!(code(&gate, &token, at(t)), "ok");
    assert_eq!(code(&gate, &token, at(t)), "ok", "a hit");
    // The default leeway is 60 s: valid until exp + 60 (exclusive), from nbf - 60.
    assert_eq!(code(&gate, &token, at(t + 159)), "ok");
    assert_eq!(code(&gate, &token, at(t + 160)), "token_expired");
    assert_eq!(code(&gate, &token, at(t - 71)), "token_not_yet_valid");
    assert_eq!(code(&gate, &token, at(t)), "ok", "still cached and valid");
}

#[test]
fn only_the_exact_token_hits() {
    let gate = gate_with(TokenCacheSettings::default());
    let token = rs256().token(&valid_claims());
    assert_eq!(code(&gate, &token, SystemTime::now()), "ok");
    // The same header and claims with a different signature, one character longer or shorter,
    // or a different case: each is judged from scratch.
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(signature)
        .unwrap();
    bytes[0] ^= 1;
    let flipped = format!("{input}.{}", b64(&bytes));
    assert_eq!(
        code(&gate, &flipped, SystemTime::now()),
        "invalid_signature"
    );
    assert_ne!(code(&gate, &format!("{token}A"), SystemTime::now()), "ok");
    assert_ne!(
        code(&gate, &token[..token.len() - 1], SystemTime::now()),
        "ok"
    );
    assert_ne!(code(&gate, &token.to_uppercase(), SystemTime::now()), "ok");
    assert_eq!(code(&gate, &token, SystemTime::now()), "ok");
}

#[test]
fn the_gate_requirement_runs_on_every_hit() {
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[rs256()])),
        )
        .require(Requirement::scope("orders.admin"))
        .build()
        .unwrap();
    let token = rs256().token(&valid_claims());
    for _ in 0..3 {
        let refused = ready(gate.validate(&token)).unwrap_err();
        assert!(matches!(refused, Rejection::InsufficientScope { .. }));
    }
}

#[tokio::test]
async fn entries_die_with_the_key_that_verified_them() {
    let issuer = TestIssuer::start().await.unwrap();
    let gate = issuer.gate();
    let old_kid = issuer.rotate(tokengate::Algorithm::RS256);
    let token = issuer.token().key(&old_kid).sign();
    assert!(gate.validate(&token).await.is_ok());
    assert!(gate.validate(&token).await.is_ok(), "a hit");

    // The provider withdraws the key; a token with a new key makes the gate refresh.
    let new_kid = issuer.rotate(tokengate::Algorithm::RS256);
    tokio::time::sleep(Duration::from_millis(1100)).await; // the test issuer's 1 s cooldown
    let fresh = issuer.token().key(&new_kid).sign();
    assert!(gate.validate(&fresh).await.is_ok());
    // The cached token's key is gone: it is judged again, and refused.
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "unknown_key"
    );
}

#[test]
fn disabled_and_bounds() {
    let gate = gate_with(TokenCacheSettings::disabled());
    let token = rs256().token(&valid_claims());
    assert_eq!(code(&gate, &token, SystemTime::now()), "ok");
    assert_eq!(code(&gate, &token, SystemTime::now()), "ok");

    let refused = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[rs256()])),
        )
        .token_cache(
            TokenCacheSettings::default()
                .max_entries(0)
                .max_memory(1024)
                .max_ttl(Duration::from_secs(7200)),
        )
        .build()
        .unwrap_err();
    assert_eq!(refused.problems().len(), 3, "{refused}");
}
