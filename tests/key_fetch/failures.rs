//! Providers that fail, stall or publish unusable key sets: the last keys stay, nobody whose
//! key is known waits, and what cannot be judged is "try again later" (ENTRA-21, STD-DISC-3,
//! ATK-38).

use std::time::Duration;

use serde_json::json;
use tokengate::{Algorithm, ErrorClass, IssuerProfile, Rejection};
use tokengate_testkit::provider::{Fault, Provider};
use tokengate_testkit::{TestKey, jwks, key_for};

use crate::{PAST_COOLDOWN, by_uri, cache, claims_for, code, eventually, gate_for};

/// ENTRA-21, STD-DISC-3: every kind of failed fetch keeps the last keys that loaded, and the
/// first successful refresh afterwards is picked up.
#[tokio::test(start_paused = true)]
async fn failed_fetches_keep_the_last_keys() {
    let faults = [
        ("HTTP 500", Fault::Status(500)),
        ("HTTP 404", Fault::Status(404)),
        ("garbage", Fault::Garbage),
        ("over the size cap", Fault::Huge(300 * 1024)),
        // The provider's delay and the request timeout both run on the paused clock.
        (
            "slower than the request timeout",
            Fault::Delay(Duration::from_millis(1500)),
        ),
    ];
    for (name, fault) in faults {
        let old = TestKey::generate(Algorithm::ES256, "old");
        let new = TestKey::generate(Algorithm::ES256, "new");
        let provider = Provider::start(jwks(&[&old])).await;
        let gate = by_uri(
            &provider,
            cache().request_timeout(Duration::from_millis(500)),
        );
        let issuer = provider.issuer();
        let old_token = old.token(&claims_for(&issuer));
        let new_token = new.token(&claims_for(&issuer));
        assert_eq!(code(&gate, &old_token).await, "accepted", "{name}");

        provider.set(|s| {
            s.fault = fault.clone();
            s.jwks = jwks(&[&old, &new]);
        });
        tokio::time::advance(PAST_COOLDOWN).await;
        // The fetch for the unknown kid fails: the token may be good, so "try again later"
        // (not invalid_token), and the old keys stay.
        assert_eq!(code(&gate, &new_token).await, "keys_unavailable", "{name}");
        assert_eq!(code(&gate, &old_token).await, "accepted", "{name}");
        let status = &gate.key_status()[0];
        assert_eq!(status.last_refresh_ok, Some(false), "{name}: {status:?}");
        assert!(
            status.usable && status.last_error.is_some(),
            "{name}: {status:?}"
        );

        provider.set(|s| s.fault = Fault::None);
        tokio::time::advance(PAST_COOLDOWN).await; // past the first backoff
        assert_eq!(
            code(&gate, &new_token).await,
            "accepted",
            "{name}: picked up"
        );
        assert_eq!(gate.key_status()[0].last_refresh_ok, Some(true), "{name}");
        assert_eq!(provider.jwks_hits(), 3, "{name}");
    }
}

/// A slow provider delays nobody whose key is known.
#[tokio::test(start_paused = true)]
async fn known_kids_do_not_wait_for_a_slow_refresh() {
    let old = TestKey::generate(Algorithm::ES256, "old");
    let new = TestKey::generate(Algorithm::ES256, "new");
    let provider = Provider::start(jwks(&[&old])).await;
    let gate = by_uri(&provider, cache());
    let issuer = provider.issuer();
    let old_token = old.token(&claims_for(&issuer));
    assert_eq!(code(&gate, &old_token).await, "accepted");

    provider.set(|s| {
        s.fault = Fault::Hold;
        s.jwks = jwks(&[&old, &new]);
    });
    tokio::time::advance(PAST_COOLDOWN).await;
    let waiting = tokio::spawn({
        let gate = gate.clone();
        let token = new.token(&claims_for(&issuer));
        async move { gate.validate(&token).await.map(|_| ()) }
    });
    eventually(|| provider.jwks_hits() == 2).await;
    assert_eq!(
        provider.jwks_hits(),
        2,
        "the refresh is held at the provider"
    );
    // Validation of known kids completes while the provider has not answered.
    for _ in 0..100 {
        assert_eq!(code(&gate, &old_token).await, "accepted");
    }
    assert!(!waiting.is_finished(), "the refresh is still held");
    provider.release();
    assert_eq!(waiting.await.unwrap(), Ok(()));
    assert_eq!(provider.jwks_hits(), 2);
}

/// A refresh started for a request keeps going when that request is cancelled.
#[tokio::test(start_paused = true)]
async fn a_cancelled_request_does_not_cancel_its_refresh() {
    let old = TestKey::generate(Algorithm::ES256, "old");
    let new = TestKey::generate(Algorithm::ES256, "new");
    let provider = Provider::start(jwks(&[&old])).await;
    let gate = by_uri(&provider, cache());
    let issuer = provider.issuer();
    assert_eq!(
        code(&gate, &old.token(&claims_for(&issuer))).await,
        "accepted"
    );
    provider.set(|s| {
        s.fault = Fault::Hold;
        s.jwks = jwks(&[&old, &new]);
    });
    tokio::time::advance(PAST_COOLDOWN).await;
    let new_token = new.token(&claims_for(&issuer));
    let cancelled =
        tokio::time::timeout(Duration::from_millis(100), gate.validate(&new_token)).await;
    assert!(
        cancelled.is_err(),
        "the request gave up while the provider held the refresh"
    );
    provider.release();
    eventually(|| gate.key_status()[0].keys == 2).await;
    assert_eq!(
        gate.key_status()[0].keys,
        2,
        "the refresh finished without its request"
    );
    assert_eq!(code(&gate, &new_token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2, "and no second fetch was needed");
}

/// Never loaded and the provider is down: not `invalid_token`, but "try again later".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_loaded_and_down_is_temporarily_unavailable() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.fault = Fault::Status(503));
    let gate = by_uri(&provider, cache());
    let rejection = gate
        .validate(&key.token(&claims_for(&provider.issuer())))
        .await
        .unwrap_err();
    assert_eq!(rejection.class(), ErrorClass::TemporarilyUnavailable);
    let Rejection::KeysUnavailable { retry_after } = rejection else {
        panic!("{rejection:?}");
    };
    assert!(retry_after >= Duration::from_secs(1));
    assert!(!gate.is_ready());
    assert!(
        gate.warm_up()
            .await
            .unwrap_err()
            .to_string()
            .contains("HTTP status 503")
    );
    // Nothing listening at all is the same.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/keys")
    };
    let gate = gate_for(
        IssuerProfile::new(provider.issuer()).jwks_uri(closed),
        cache(),
    );
    assert_eq!(
        code(&gate, &key.token(&claims_for(&provider.issuer()))).await,
        "keys_unavailable"
    );
}

/// A provider publishing a set with no usable key (even `{"keys":[]}`) is treated as a failed
/// fetch: the last keys stay, and the failure shows in the status.
#[tokio::test(start_paused = true)]
async fn an_empty_key_set_is_a_failed_fetch() {
    let key = TestKey::generate(Algorithm::ES256, "k1");
    let provider = Provider::start(jwks(&[&key])).await;
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    provider.set(|s| s.jwks = r#"{"keys":[]}"#.to_owned());
    tokio::time::advance(PAST_COOLDOWN).await;
    let other = TestKey::generate(Algorithm::ES256, "k2");
    assert_eq!(
        code(&gate, &other.token(&claims_for(&provider.issuer()))).await,
        "keys_unavailable"
    );
    assert_eq!(provider.jwks_hits(), 2);
    assert_eq!(code(&gate, &token).await, "accepted");
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no usable key")),
        "{status:?}"
    );
}

/// ATK-38: a set with more keys than allowed is refused as a whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_38_a_key_set_with_too_many_keys_is_refused() {
    let keys: Vec<TestKey> = (0..5)
        .map(|i| TestKey::generate(Algorithm::EdDSA, format!("k{i}")))
        .collect();
    let provider = Provider::start(jwks(&keys.iter().collect::<Vec<_>>())).await;
    let gate = by_uri(&provider, cache().max_keys(3));
    let token = keys[0].token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("5 keys, more than the 3 allowed")),
        "{status:?}"
    );
    let gate = by_uri(&provider, cache().max_keys(5));
    assert_eq!(code(&gate, &token).await, "accepted");
}

/// A key set whose keys are all unusable is a failed fetch; one bad key among good ones is
/// skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_keys_are_skipped_and_a_set_of_them_is_a_failure() {
    let key = key_for(Algorithm::ES256);
    let oct = json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0"});
    let provider = Provider::start(json!({"keys": [oct]}).to_string()).await;
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    provider.set(|s| s.jwks = json!({"keys": [oct, key.jwk()]}).to_string());
    let gate = by_uri(&provider, cache());
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(gate.key_status()[0].keys, 1);
}
