//! Keys that roll without notice: a new key is fetched once, a flood of unknown kids costs one
//! fetch per cooldown, a removed key stops validating, and rotation without a new kid is picked
//! up (ENTRA-19..22, ATK-38).

use std::time::Duration;

use serde_json::json;
use tokengate::{Algorithm, KeyCacheSettings, Rejection};
use tokengate_testkit::provider::Provider;
use tokengate_testkit::{TestKey, jwks, key_for};

use crate::{PAST_COOLDOWN, by_uri, cache, claims_for, code, eventually, with_kid};

/// ENTRA-19/20: keys roll without notice; a token signed by a new key validates after exactly
/// one fetch.
#[tokio::test(start_paused = true)]
async fn a_new_key_validates_after_exactly_one_fetch() {
    let old = TestKey::generate(Algorithm::ES256, "2026-10");
    let new = TestKey::generate(Algorithm::ES256, "2026-11");
    let provider = Provider::start(jwks(&[&old])).await;
    let gate = by_uri(&provider, cache());
    assert_eq!(
        code(&gate, &old.token(&claims_for(&provider.issuer()))).await,
        "accepted"
    );
    provider.set(|s| s.jwks = jwks(&[&old, &new]));
    tokio::time::advance(PAST_COOLDOWN).await;
    let token = new.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2);
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2);
}

/// ATK-38, ENTRA-21: a thousand concurrent requests with unknown kids cause one refresh,
/// shared by all of them, which finds none of them; more within the cooldown cause none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_38_a_flood_of_unknown_kids_causes_one_fetch_per_cooldown() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    // The default limits: a 5 s minimum interval, a 60 s cooldown.
    let gate = by_uri(&provider, KeyCacheSettings::default().allow_http_loopback());
    gate.warm_up().await.unwrap();
    let issuer = provider.issuer();
    let tokens: Vec<String> = (0..1000)
        .map(|i| with_kid(key, &format!("attacker-{i}"), &issuer))
        .collect();
    for wave in 0..2 {
        let tasks: Vec<_> = tokens
            .iter()
            .cloned()
            .map(|token| {
                let gate = gate.clone();
                tokio::spawn(async move { gate.validate(&token).await.map(|_| ()) })
            })
            .collect();
        for task in tasks {
            assert_eq!(
                task.await.unwrap(),
                Err(Rejection::UnknownKey),
                "wave {wave}"
            );
        }
        // The warm-up and one refresh.
        assert_eq!(provider.jwks_hits(), 2, "wave {wave}");
    }
    assert_eq!(
        code(&gate, &key.token(&claims_for(&issuer))).await,
        "accepted"
    );
}

/// ENTRA-21: a key the provider removed stops validating after the next successful refresh.
#[tokio::test(start_paused = true)]
async fn a_removed_key_stops_validating_after_the_next_refresh() {
    let stays = TestKey::generate(Algorithm::ES256, "stays");
    let goes = TestKey::generate(Algorithm::ES256, "goes");
    let provider = Provider::start(jwks(&[&stays, &goes])).await;
    provider.set(|s| s.cache_control = Some("max-age=1".to_owned()));
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let issuer = provider.issuer();
    let goes_token = goes.token(&claims_for(&issuer));
    assert_eq!(code(&gate, &goes_token).await, "accepted");
    provider.set(|s| s.jwks = jwks(&[&stays]));
    // Past 80% of max-age: the next request starts a routine refresh.
    tokio::time::advance(Duration::from_millis(900)).await;
    assert_eq!(
        code(&gate, &stays.token(&claims_for(&issuer))).await,
        "accepted"
    );
    eventually(|| gate.key_status()[0].keys == 1).await;
    assert_eq!(code(&gate, &goes_token).await, "unknown_key");
}

/// Rotation without kids (a provider with one key), or under a kid it keeps (`default`):
/// the new key does not verify with the old one, which triggers the same shared, cooldown-
/// limited refresh as an unknown kid.
#[tokio::test(start_paused = true)]
async fn rotation_without_kid_or_under_the_same_kid_is_picked_up() {
    let without_kid = |key: &TestKey| {
        let mut jwk = key.jwk();
        jwk.as_object_mut().unwrap().remove("kid");
        json!({"keys": [jwk]}).to_string()
    };
    let header = json!({"alg": "ES256", "typ": "JWT"});
    for kid_less in [true, false] {
        let old = TestKey::generate(Algorithm::ES256, "default");
        let new = TestKey::generate(Algorithm::ES256, "default");
        let serve = |key: &TestKey| {
            if kid_less {
                without_kid(key)
            } else {
                jwks(&[key])
            }
        };
        let token = |key: &TestKey, issuer: &str| match kid_less {
            true => key.token_with_header(&header, &claims_for(issuer)),
            false => key.token(&claims_for(issuer)),
        };
        let provider = Provider::start(serve(&old)).await;
        let gate = by_uri(&provider, cache());
        let issuer = provider.issuer();
        assert_eq!(code(&gate, &token(&old, &issuer)).await, "accepted");
        provider.set(|s| s.jwks = serve(&new));
        tokio::time::advance(PAST_COOLDOWN).await;
        assert_eq!(
            code(&gate, &token(&new, &issuer)).await,
            "accepted",
            "kid-less: {kid_less}"
        );
        assert_eq!(provider.jwks_hits(), 2);
        // A forged signature within the cooldown costs no fetch, and is still refused.
        let forged = {
            let real = token(&new, &issuer);
            let (rest, sig) = real.rsplit_once('.').unwrap();
            format!(
                "{rest}.{}{}",
                if sig.starts_with('A') { 'B' } else { 'A' },
                &sig[1..]
            )
        };
        assert_eq!(code(&gate, &forged).await, "invalid_signature");
        assert_eq!(provider.jwks_hits(), 2);
    }
}
