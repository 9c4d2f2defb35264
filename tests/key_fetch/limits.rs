//! The refresh contract under the default limits (a 5 s minimum interval, a 60 s cooldown): a
//! key the provider publishes is accepted at once after a fetch of any kind, or within the
//! minimum interval right after a refresh that found a new key; made-up kids cost one fetch
//! per cooldown; a bad signature under a held key is 401 during an outage too (ENTRA-19..22,
//! ATK-07, ATK-38).
//!
//! Every test runs on the paused clock: the limits are proved with the time the clock shows,
//! never with time measured.

use std::time::Duration;

use tokengate::{Algorithm, Gate, KeyCacheSettings, Rejection};
use tokengate_testkit::provider::{Fault, Provider};
use tokengate_testkit::{TestKey, capture, jwks};
use tokio::time::Instant;

use crate::{by_uri, claims_for, code, settle, with_kid};

/// The default limits, with loopback allowed.
fn defaults() -> KeyCacheSettings {
    KeyCacheSettings::default().allow_http_loopback()
}

const MIN_INTERVAL: Duration = Duration::from_secs(5);
const COOLDOWN: Duration = Duration::from_secs(60);

async fn provider_with(keys: &[&TestKey]) -> (Provider, Gate) {
    let provider = Provider::start(jwks(keys)).await;
    let gate = by_uri(&provider, defaults());
    (provider, gate)
}

/// ENTRA-19/20: a provider that signs with a key the moment it publishes it. Whatever fetch
/// ran just before (the warm-up, the first load a request caused, a routine refresh), the
/// first token naming the new key triggers a refresh and is accepted: no cooldown, no 401.
#[tokio::test(start_paused = true)]
async fn entra_19_a_rotated_key_is_accepted_at_once_after_a_routine_fetch() {
    for before in ["warm-up", "first use", "routine refresh"] {
        let old = TestKey::generate(Algorithm::ES256, "old");
        let new = TestKey::generate(Algorithm::ES256, "new");
        let (provider, gate) = provider_with(&[&old]).await;
        let issuer = provider.issuer();
        match before {
            "warm-up" => gate.warm_up().await.unwrap(),
            "first use" => {
                assert_eq!(
                    code(&gate, &old.token(&claims_for(&issuer))).await,
                    "accepted"
                );
            }
            _ => {
                provider.set(|s| s.cache_control = Some("max-age=300".to_owned()));
                gate.warm_up().await.unwrap();
                // Past 80% of the freshness lifetime: the next request starts a routine
                // refresh in the background.
                tokio::time::advance(Duration::from_secs(241)).await;
                assert_eq!(
                    code(&gate, &old.token(&claims_for(&issuer))).await,
                    "accepted"
                );
                settle().await;
                assert_eq!(provider.jwks_hits(), 2, "the routine refresh");
            }
        }
        let fetched = provider.jwks_hits();
        provider.set(|s| s.jwks = jwks(&[&old, &new]));
        let start = Instant::now();
        assert_eq!(
            code(&gate, &new.token(&claims_for(&issuer))).await,
            "accepted",
            "after {before}"
        );
        assert_eq!(provider.jwks_hits(), fetched + 1, "after {before}");
        assert!(start.elapsed() < MIN_INTERVAL, "after {before}: no wait");
    }
}

/// Two rotations in a row: right after a refresh that found a new key, a token naming
/// another new key waits for the rest of the minimum interval (not a 401, not a 503), then
/// shares one refresh with every request waiting, and is accepted.
#[tokio::test(start_paused = true)]
async fn a_second_rotation_is_accepted_within_the_minimum_interval() {
    let keys: Vec<TestKey> = (1..=3)
        .map(|n| TestKey::generate(Algorithm::ES256, format!("k{n}")))
        .collect();
    let (provider, gate) = provider_with(&[&keys[0]]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    provider.set(|s| s.jwks = jwks(&[&keys[0], &keys[1]]));
    let first_rotation = Instant::now();
    assert_eq!(
        code(&gate, &keys[1].token(&claims_for(&issuer))).await,
        "accepted"
    );
    assert_eq!(provider.jwks_hits(), 2);

    provider.set(|s| s.jwks = jwks(&[&keys[0], &keys[1], &keys[2]]));
    let token = keys[2].token(&claims_for(&issuer));
    let waiting: Vec<_> = (0..10)
        .map(|_| {
            let (gate, token) = (gate.clone(), token.clone());
            tokio::spawn(async move { gate.validate(&token).await.map(|_| ()) })
        })
        .collect();
    for request in waiting {
        assert_eq!(request.await.unwrap(), Ok(()));
    }
    assert_eq!(provider.jwks_hits(), 3, "one refresh for all of them");
    let accepted_after = first_rotation.elapsed();
    assert!(
        (MIN_INTERVAL..MIN_INTERVAL + Duration::from_secs(1)).contains(&accepted_after),
        "accepted {accepted_after:?} after the first rotation's refresh"
    );
}

/// ATK-07, ATK-38: a flood of made-up kids for ten minutes, ten a second. The provider sees
/// the warm-up and one refresh per cooldown, each finding nothing; every token is refused
/// `unknown_key` (never 503: the keys are current), and valid tokens pass throughout.
#[tokio::test(start_paused = true)]
async fn atk_38_made_up_kids_cost_one_fetch_per_cooldown() {
    let key = TestKey::generate(Algorithm::ES256, "real");
    let (provider, gate) = provider_with(&[&key]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    let valid = key.token(&claims_for(&issuer));
    let start = Instant::now();
    let mut sent = 0;
    while start.elapsed() < Duration::from_secs(600) {
        let forged = with_kid(&key, &format!("made-up-{sent}"), &issuer);
        assert_eq!(
            gate.validate(&forged).await.unwrap_err(),
            Rejection::UnknownKey,
            "request {sent}"
        );
        sent += 1;
        if sent % 50 == 0 {
            assert_eq!(code(&gate, &valid).await, "accepted");
        }
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    assert_eq!(sent, 6000);
    // The warm-up, then one refresh at 0 s, 60 s, ... 540 s (routine ones come after 48 min).
    assert_eq!(provider.jwks_hits(), 1 + 10);
}

/// The price of the flood bound, as documented: a provider's new key that arrives while
/// made-up kids keep the door shut is refused until the cooldown ends, then accepted.
#[tokio::test(start_paused = true)]
async fn atk_38_a_rotation_during_a_flood_waits_for_the_cooldown() {
    let old = TestKey::generate(Algorithm::ES256, "old");
    let new = TestKey::generate(Algorithm::ES256, "new");
    let (provider, gate) = provider_with(&[&old]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    let flood_start = Instant::now();
    assert_eq!(
        code(&gate, &with_kid(&old, "made-up", &issuer)).await,
        "unknown_key"
    );
    assert_eq!(provider.jwks_hits(), 2);
    provider.set(|s| s.jwks = jwks(&[&old, &new]));
    let token = new.token(&claims_for(&issuer));
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(code(&gate, &token).await, "unknown_key");
    assert_eq!(provider.jwks_hits(), 2);
    tokio::time::advance(COOLDOWN - flood_start.elapsed()).await;
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 3);
}

/// A token signed with a wrong key under a `kid` the set holds: `invalid_signature` (401),
/// during an outage too, at once; only an unknown `kid` is "try again later" (503), since
/// only there could the keys the provider cannot send change the answer.
#[tokio::test(start_paused = true)]
async fn a_bad_signature_under_a_held_key_is_401_during_an_outage() {
    let key = TestKey::generate(Algorithm::ES256, "held");
    let impostor = TestKey::generate(Algorithm::ES256, "held");
    let (provider, gate) = provider_with(&[&key]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    provider.set(|s| s.fault = Fault::Status(503));
    let forged = impostor.token(&claims_for(&issuer));
    let unknown = with_kid(&key, "not-yet-published", &issuer);
    // The first unknown kid finds the provider down: 503, and the backoff begins.
    assert!(matches!(
        gate.validate(&unknown).await,
        Err(Rejection::KeysUnavailable { .. })
    ));
    assert_eq!(gate.key_status()[0].last_refresh_ok, Some(false));
    let hits = provider.jwks_hits();
    for _ in 0..100 {
        assert_eq!(
            gate.validate(&forged).await.unwrap_err(),
            Rejection::InvalidSignature
        );
    }
    assert_eq!(
        provider.jwks_hits(),
        hits,
        "no fetch for a held key's bad signature"
    );
    // Still 401 once the backoff would allow a fetch, whatever that fetch brings.
    tokio::time::advance(COOLDOWN * 2).await;
    assert_eq!(
        gate.validate(&forged).await.unwrap_err(),
        Rejection::InvalidSignature
    );
    assert!(matches!(
        gate.validate(&unknown).await,
        Err(Rejection::KeysUnavailable { .. })
    ));
    assert_eq!(
        code(&gate, &key.token(&claims_for(&issuer))).await,
        "accepted"
    );
}

/// A key replaced under the kid it had (a provider with one key named `default`): the first
/// failing signature after the limits allow triggers one refresh, which picks it up; forged
/// signatures under the held kid cost no more than made-up kids do.
#[tokio::test(start_paused = true)]
async fn a_key_replaced_under_its_kid_is_picked_up_once() {
    let old = TestKey::generate(Algorithm::ES256, "default");
    let new = TestKey::generate(Algorithm::ES256, "default");
    let (provider, gate) = provider_with(&[&old]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    provider.set(|s| s.jwks = jwks(&[&new]));
    assert_eq!(
        code(&gate, &new.token(&claims_for(&issuer))).await,
        "accepted"
    );
    assert_eq!(provider.jwks_hits(), 2);
    // Now the old key signs tokens nobody should accept. Within the minimum interval they
    // are refused at once; after it, one refresh finds nothing new, and the rest of the
    // cooldown costs nothing.
    let stale = old.token(&claims_for(&issuer));
    assert_eq!(code(&gate, &stale).await, "invalid_signature");
    assert_eq!(provider.jwks_hits(), 2);
    tokio::time::advance(MIN_INTERVAL).await;
    for _ in 0..20 {
        assert_eq!(code(&gate, &stale).await, "invalid_signature");
    }
    assert_eq!(provider.jwks_hits(), 3);
    tokio::time::advance(COOLDOWN).await;
    assert_eq!(code(&gate, &stale).await, "invalid_signature");
    assert_eq!(provider.jwks_hits(), 4);
}

/// A key replaced under its kid: while the refresh the first new token triggered is running,
/// a second valid token signed with the new key joins it and is accepted, as a token naming an
/// unknown kid would, instead of a final `invalid_signature`; and it costs no fetch.
#[tokio::test(start_paused = true)]
async fn a_valid_token_under_a_replaced_kid_joins_the_running_refresh() {
    let old = TestKey::generate(Algorithm::ES256, "default");
    let new = TestKey::generate(Algorithm::ES256, "default");
    let (provider, gate) = provider_with(&[&old]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    provider.set(|s| {
        s.jwks = jwks(&[&new]);
        s.fault = Fault::Hold;
    });
    let first = new.token(&claims_for(&issuer));
    let mut claims = claims_for(&issuer);
    claims["sub"] = "someone-else".into();
    let second = new.token(&claims);
    let (first, second, ()) = tokio::join!(
        code(&gate, &first),
        async {
            // The first token's refresh is running (held at the provider).
            settle().await;
            code(&gate, &second).await
        },
        async {
            settle().await;
            settle().await;
            provider.release();
        }
    );
    assert_eq!((first, second), ("accepted", "accepted"));
    assert_eq!(
        provider.jwks_hits(),
        2,
        "the warm-up, and one refresh shared"
    );
}

/// A kid-less token's refresh that brings only a key of another algorithm (which can never
/// verify it) found nothing for it: it closes the door for the cooldown, as a made-up kid's
/// would, so a made-up kid right after costs no fetch.
#[tokio::test(start_paused = true)]
async fn a_kidless_refresh_that_brings_only_another_algorithm_closes_the_door() {
    let a = TestKey::generate(Algorithm::ES256, "a");
    let b = TestKey::generate(Algorithm::ES256, "b");
    let unrelated = TestKey::generate(Algorithm::EdDSA, "ed");
    let (provider, gate) = provider_with(&[&a, &b]).await;
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    provider.set(|s| s.jwks = jwks(&[&a, &b, &unrelated]));
    let kidless = a.token_with_header(&serde_json::json!({"alg": "ES256"}), &claims_for(&issuer));
    assert_eq!(code(&gate, &kidless).await, "missing_key_id");
    assert_eq!(provider.jwks_hits(), 2);
    tokio::time::advance(MIN_INTERVAL).await;
    assert_eq!(
        code(&gate, &with_kid(&a, "made-up", &issuer)).await,
        "unknown_key"
    );
    assert_eq!(provider.jwks_hits(), 2, "the cooldown holds");
}

/// The key life is visible: one INFO event when the keys first load and one when they change
/// (key ids and algorithms), a DEBUG event when the limits defer or suppress a refresh, and a
/// skipped key reported once, at WARN if it looks like a mistake and DEBUG if it is an
/// encryption key, not on every fetch.
#[tokio::test(start_paused = true)]
async fn the_key_life_is_logged_once_per_event() {
    let captured = capture::global();
    let old = TestKey::generate(Algorithm::ES256, "life-old");
    let new = TestKey::generate(Algorithm::ES256, "life-new");
    let mut encryption = new.jwk();
    encryption["kid"] = "life-enc".into();
    encryption["use"] = "enc".into();
    let mut private = old.jwk();
    private["kid"] = "life-private".into();
    private["d"] = "AQAB".into();
    let set = |keys: &[&TestKey]| {
        let mut set: serde_json::Value = serde_json::from_str(&jwks(keys)).unwrap();
        let list = set["keys"].as_array_mut().unwrap();
        list.push(encryption.clone());
        list.push(private.clone());
        set.to_string()
    };
    let provider = Provider::start(set(&[&old])).await;
    provider.set(|s| s.cache_control = Some("max-age=300".to_owned()));
    let gate = by_uri(&provider, defaults());
    let issuer = provider.issuer();
    gate.warm_up().await.unwrap();
    // Routine refreshes of the same set log nothing new.
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(250)).await;
        assert_eq!(
            code(&gate, &old.token(&claims_for(&issuer))).await,
            "accepted"
        );
        settle().await;
    }
    assert_eq!(provider.jwks_hits(), 4);
    provider.set(|s| s.jwks = set(&[&new]));
    assert_eq!(
        code(&gate, &new.token(&claims_for(&issuer))).await,
        "accepted"
    );
    assert_eq!(
        code(&gate, &with_kid(&old, "life-made-up", &issuer)).await,
        "unknown_key"
    );
    assert_eq!(
        code(&gate, &with_kid(&old, "life-made-up-2", &issuer)).await,
        "unknown_key"
    );

    let ours: Vec<String> = captured
        .text()
        .lines()
        .filter(|line| line.contains(&issuer))
        .map(str::to_owned)
        .collect();
    let count = |level: &str, needle: &str| {
        ours.iter()
            .filter(|line| line.contains(level) && line.contains(needle))
            .count()
    };
    assert_eq!(count("INFO", "keys loaded"), 1, "{ours:#?}");
    assert_eq!(count("INFO", r#"added="life-old" (ES256)"#), 1, "{ours:#?}");
    assert_eq!(count("INFO", "keys changed"), 1, "{ours:#?}");
    assert_eq!(
        count(
            "INFO",
            r#"added="life-new" (ES256) removed="life-old" (ES256)"#
        ),
        1,
        "{ours:#?}"
    );
    assert_eq!(count("WARN", "life-private"), 1, "{ours:#?}");
    assert_eq!(count("DEBUG", "life-enc"), 1, "{ours:#?}");
    assert_eq!(count("WARN", "life-enc"), 0, "{ours:#?}");
    // Deferred by the minimum interval (made-up), then suppressed by the cooldown (made-up-2).
    assert_eq!(count("DEBUG", "key refresh suppressed"), 2, "{ours:#?}");
    assert_eq!(count("DEBUG", "min_refresh_interval"), 1, "{ours:#?}");
    assert_eq!(count("DEBUG", "cooldown"), 1, "{ours:#?}");
    // Key material never: the private member's value aside, no public coordinate either.
    let x = new.jwk()["x"].as_str().unwrap().to_owned();
    assert!(!ours.iter().any(|line| line.contains(&x)));
}

/// The same with the crate's test issuer (`tokengate::testing`), whose `rotate` publishes a
/// new key and withdraws the old one in one step: under the default limits, the new key's
/// tokens are accepted right after the warm-up, and the old key's refused after one more
/// refresh.
#[tokio::test(start_paused = true)]
async fn the_test_issuer_rotates_under_the_default_limits() {
    let issuer = tokengate::testing::TestIssuer::start().await.unwrap();
    let gate = Gate::builder()
        .issuer(issuer.profile())
        .key_cache(defaults())
        .build()
        .unwrap();
    gate.warm_up().await.unwrap();
    let old = issuer.token().sign();
    assert_eq!(code(&gate, &old).await, "accepted");
    issuer.rotate(Algorithm::RS256);
    assert_eq!(code(&gate, &issuer.token().sign()).await, "accepted");
    assert_eq!(issuer.jwks_requests(), 2);
    let start = Instant::now();
    assert_eq!(code(&gate, &old).await, "unknown_key");
    assert!(start.elapsed() <= MIN_INTERVAL, "{:?}", start.elapsed());
    assert_eq!(issuer.jwks_requests(), 3);
}
