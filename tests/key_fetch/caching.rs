//! How long fetched keys are used: fetched once on first use or at warm-up, fresh for the
//! provider's `max-age` or the default lifetime, refreshed in the background ahead of expiry,
//! and bounded by `max_stale` (STD-DISC-4, ENTRA-21).

use std::time::Duration;

use tokengate::{Algorithm, Gate, IssuerProfile};
use tokengate_testkit::provider::{Fault, Provider};
use tokengate_testkit::{AUDIENCE, TestKey, jwks, key_for};

use crate::{PAST_COOLDOWN, by_uri, cache, claims_for, code, eventually, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_fetched_on_first_use_and_then_cached() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let gate = by_uri(&provider, cache());
    assert_eq!(provider.jwks_hits(), 0, "no network at build");
    let status = &gate.key_status()[0];
    assert!(
        status.remote && !status.usable && status.keys == 0,
        "{status:?}"
    );
    assert!(!gate.is_ready());

    let token = key.token(&claims_for(&provider.issuer()));
    for _ in 0..20 {
        assert_eq!(code(&gate, &token).await, "accepted");
    }
    assert_eq!(provider.jwks_hits(), 1, "one fetch, then the cache");
    let status = &gate.key_status()[0];
    assert!(
        status.usable && status.keys == 1 && status.last_refresh_ok == Some(true),
        "{status:?}"
    );
    assert!(status.last_refresh.is_some() && status.last_error.is_none());
    assert!(
        status
            .age()
            .is_some_and(|age| age < Duration::from_secs(60)),
        "{status:?}"
    );
    assert!(gate.is_ready());
}

/// STD-DISC-4: `Cache-Control: max-age` sets freshness; a routine refresh runs in the
/// background ahead of expiry and asks with `If-None-Match`.
#[tokio::test(start_paused = true)]
async fn cache_control_and_etag_are_honoured() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| {
        s.cache_control = Some("public, max-age=1".to_owned());
        s.etag = Some("\"v1\"".to_owned());
    });
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 1);
    // Short of 80% of max-age: fresh.
    tokio::time::advance(Duration::from_millis(700)).await;
    assert_eq!(code(&gate, &token).await, "accepted");
    settle().await;
    assert_eq!(provider.jwks_hits(), 1, "fresh: no request");

    tokio::time::advance(Duration::from_millis(200)).await; // past 80% of max-age
    assert_eq!(
        code(&gate, &token).await,
        "accepted",
        "served from the cache meanwhile"
    );
    eventually(|| provider.not_modified() == 1).await;
    assert_eq!(
        (provider.jwks_hits(), provider.not_modified()),
        (2, 1),
        "a conditional request, answered 304"
    );
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2);
    let status = &gate.key_status()[0];
    assert!(
        status.usable && status.keys == 1 && status.last_refresh_ok == Some(true),
        "{status:?}"
    );
}

/// Without caching headers, keys are fresh for the default lifetime (1 h): no refetch until
/// the routine refresh at 80% of it.
#[tokio::test(start_paused = true)]
async fn without_caching_headers_the_default_lifetime_applies() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    // Far past min_ttl, short of 48 minutes: fresh.
    tokio::time::advance(Duration::from_secs(47 * 60)).await;
    assert_eq!(code(&gate, &token).await, "accepted");
    settle().await;
    assert_eq!(provider.jwks_hits(), 1, "fresh: no request");
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(code(&gate, &token).await, "accepted");
    eventually(|| provider.jwks_hits() == 2).await;
    assert_eq!(
        provider.jwks_hits(),
        2,
        "the routine refresh, after 48 minutes"
    );
}

/// A routine refresh never makes a request wait, even when the provider takes its time.
#[tokio::test(start_paused = true)]
async fn routine_refreshes_run_in_the_background() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.cache_control = Some("max-age=1".to_owned()));
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    provider.set(|s| s.fault = Fault::Hold);
    tokio::time::advance(Duration::from_millis(900)).await; // the refresh is due
    for _ in 0..50 {
        assert_eq!(code(&gate, &token).await, "accepted");
    }
    eventually(|| provider.jwks_hits() == 2).await;
    assert_eq!(
        provider.jwks_hits(),
        2,
        "the refresh started, and is held by the provider"
    );
    for _ in 0..50 {
        assert_eq!(
            code(&gate, &token).await,
            "accepted",
            "served while the refresh is held"
        );
    }
    provider.release();
    eventually(|| {
        gate.key_status()[0]
            .age()
            .is_some_and(|age| age < Duration::from_millis(500))
    })
    .await;
    let status = &gate.key_status()[0];
    assert!(
        status
            .age()
            .is_some_and(|age| age < Duration::from_millis(500))
            && status.last_refresh_ok == Some(true),
        "the held refresh finished: {status:?}"
    );
    assert_eq!(provider.jwks_hits(), 2);
}

/// With `max_stale` shorter than the lifetime, routine refreshes come at half of `max_stale`,
/// so with steady traffic the keys never go stale while the provider is healthy, and a
/// provider that then stalls delays nobody until they do.
#[tokio::test(start_paused = true)]
async fn max_stale_shorter_than_the_lifetime_schedules_refreshes_before_it() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.cache_control = Some("max-age=10".to_owned()));
    let gate = by_uri(
        &provider,
        cache()
            .min_ttl(Duration::from_millis(500))
            .max_stale(Duration::from_secs(2)),
    );
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    // A request every 100 ms for 2.5 s. A sleep on the paused clock (not `advance`) lets the
    // refresh a request started finish before the clock moves on, as it would in real time.
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            gate.key_status()[0].usable,
            "the keys went stale before a refresh"
        );
        assert_eq!(code(&gate, &token).await, "accepted");
    }
    // Refreshed at 1 s and 2 s (half of max_stale), not at 8 s (80% of max-age).
    assert_eq!(provider.jwks_hits(), 3, "refreshed ahead of max_stale");

    // The provider stalls. The keys refreshed at 2 s serve until 4 s without anyone waiting,
    // though the routine refresh due at 3 s is held.
    provider.set(|s| s.fault = Fault::Hold);
    for _ in 0..14 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answered = tokio::time::timeout(Duration::from_secs(1), gate.validate(&token)).await;
        assert!(matches!(answered, Ok(Ok(_))), "{answered:?}");
    }
    assert_eq!(provider.jwks_hits(), 4, "the routine refresh, held");
    // At 4 s the keys are too stale to use: requests now wait for the held refresh.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waited = tokio::time::timeout(Duration::from_secs(1), gate.validate(&token)).await;
    assert!(waited.is_err(), "{waited:?}");
    provider.release();
}

/// `max_stale` bounds how long the last keys serve while the provider is down.
#[tokio::test(start_paused = true)]
async fn max_stale_bounds_the_last_keys() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let cache = cache()
        .min_ttl(Duration::from_millis(300))
        .max_stale(Duration::from_millis(600));
    let gate = by_uri(&provider, cache);
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    provider.set(|s| s.fault = Fault::Status(500));
    tokio::time::advance(Duration::from_millis(700)).await; // past max_stale
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert!(!gate.is_ready());
    provider.set(|s| s.fault = Fault::None);
    tokio::time::advance(PAST_COOLDOWN).await; // past the first backoff
    assert_eq!(code(&gate, &token).await, "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_loads_eagerly_and_readiness_follows() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let fixed = TestKey::generate(Algorithm::EdDSA, "fixed");
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(provider.issuer())
                .audience(AUDIENCE)
                .discover(),
        )
        .issuer(
            IssuerProfile::new("https://fixed.example")
                .audience(AUDIENCE)
                .jwks(jwks(&[&fixed])),
        )
        .key_cache(cache())
        .build()
        .unwrap();
    assert!(!gate.is_ready());
    gate.warm_up().await.unwrap();
    assert_eq!(provider.jwks_hits(), 1);
    assert!(gate.is_ready());
    gate.warm_up().await.unwrap();
    assert_eq!(provider.jwks_hits(), 1, "already loaded: nothing to do");
    let status = gate.key_status();
    assert_eq!(status.len(), 2);
    assert!(status[0].remote && status[0].keys == 1 && status[0].last_refresh_ok == Some(true));
    assert!(
        !status[1].remote
            && status[1].usable
            && status[1].keys == 1
            && status[1].last_refresh.is_none()
    );
    assert_eq!(status[1].issuer, "https://fixed.example");
    assert_eq!(
        code(&gate, &key.token(&claims_for(&provider.issuer()))).await,
        "accepted"
    );
    assert_eq!(provider.jwks_hits(), 1);
}

/// `warm_up` called again (say, from a probe) while the provider is down respects the backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_respects_the_backoff() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.fault = Fault::Status(500));
    let gate = by_uri(&provider, cache().cooldown(Duration::from_secs(30)));
    assert!(gate.warm_up().await.is_err());
    for _ in 0..5 {
        let error = gate.warm_up().await.unwrap_err().to_string();
        assert!(error.contains("next attempt in"), "{error}");
    }
    assert_eq!(provider.jwks_hits(), 1);
}
