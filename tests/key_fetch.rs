//! Keys from the network, against real HTTP(S) servers on 127.0.0.1: discovery, caching,
//! rotation, floods of unknown kids, outages, slow and hostile providers (ENTRA-19..22,
//! STD-DISC-1..5, ATK-38, ATK-43).

use std::time::Duration;

use serde_json::json;
use tokengate::{Algorithm, ErrorClass, Gate, IssuerProfile, KeyCacheSettings, Rejection};
use tokengate_testkit::provider::{Fault, OIDC_PATH, Provider, RFC8414_PATH, TestCertificate};
use tokengate_testkit::{AUDIENCE, TestKey, jwks, key_for, valid_claims};

/// Test timings: short enough to keep the suite quick, long enough for a loaded machine.
fn cache() -> KeyCacheSettings {
    KeyCacheSettings::default()
        .allow_http_loopback()
        .cooldown(Duration::from_millis(200))
}

fn claims_for(issuer: &str) -> serde_json::Value {
    let mut claims = valid_claims();
    claims["iss"] = json!(issuer);
    claims
}

fn gate_for(profile: IssuerProfile, cache: KeyCacheSettings) -> Gate {
    Gate::builder()
        .issuer(profile.audience(AUDIENCE))
        .key_cache(cache)
        .build()
        .expect("valid configuration")
}

fn by_uri(provider: &Provider, cache: KeyCacheSettings) -> Gate {
    gate_for(
        IssuerProfile::new(provider.issuer()).jwks_uri(provider.jwks_uri()),
        cache,
    )
}

async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

/// A token from `key` under another `kid`: the issuer does not know it.
fn with_kid(key: &TestKey, kid: &str, issuer: &str) -> String {
    key.token_with_header(
        &json!({"alg": key.alg().name(), "kid": kid}),
        &claims_for(issuer),
    )
}

/// Waits (up to 5 s) until `done` holds; the condition is what the test asserts next.
async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_the_key_set() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 1));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_falls_back_to_rfc8414_metadata() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.oidc = false);
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(
        (
            provider.hits(OIDC_PATH),
            provider.hits(RFC8414_PATH),
            provider.jwks_hits()
        ),
        (1, 1, 1)
    );
}

/// ATK-43: metadata naming another issuer is refused, and its jwks_uri never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_43_discovery_naming_another_issuer_is_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    for issuer in [
        "https://evil.example.com",
        &format!("{}/", provider.issuer()),
        &provider.issuer().to_uppercase(),
    ] {
        provider.set(|s| s.issuer = Some(issuer.to_owned()));
        let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
        let token = key.token(&claims_for(&provider.issuer()));
        assert_eq!(code(&gate, &token).await, "keys_unavailable", "{issuer}");
        let error = gate.warm_up().await.unwrap_err().to_string();
        assert!(error.contains("names issuer"), "{error}");
        let status = &gate.key_status()[0];
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("not the configured one")),
            "{status:?}"
        );
    }
    assert_eq!(provider.jwks_hits(), 0);
}

/// A discovery document is a JSON object (RFC 8414 §3.2): the same members as an array, which
/// a derived deserializer would read in field order, are refused and the key set never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_as_a_json_array_is_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let array = serde_json::json!([provider.issuer(), provider.jwks_uri()]).to_string();
    provider.set(|s| s.fault = Fault::Discovery(array));
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert_eq!((provider.hits(OIDC_PATH), provider.jwks_hits()), (1, 0));
    // The same members as an object load.
    let object = serde_json::json!({
        "issuer": provider.issuer(),
        "jwks_uri": provider.jwks_uri(),
    });
    provider.set(|s| s.fault = Fault::Discovery(object.to_string()));
    let gate = gate_for(IssuerProfile::new(provider.issuer()).discover(), cache());
    assert_eq!(code(&gate, &token).await, "accepted");
}

/// ENTRA-19/20: keys roll without notice; a token signed by a new key validates after exactly
/// one fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    tokio::time::sleep(Duration::from_millis(250)).await; // past the cooldown
    let token = new.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2);
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 2);
}

/// ATK-38, ENTRA-21: a thousand concurrent requests with unknown kids cause one fetch, shared
/// by all of them; more within the cooldown cause none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_38_a_flood_of_unknown_kids_causes_one_fetch_per_cooldown() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    // The default cooldown: 60 s.
    let gate = by_uri(&provider, KeyCacheSettings::default().allow_http_loopback());
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
        assert_eq!(provider.jwks_hits(), 1, "wave {wave}");
    }
    assert_eq!(
        code(&gate, &key.token(&claims_for(&issuer))).await,
        "accepted"
    );
}

/// ENTRA-21, STD-DISC-3: every kind of failed fetch keeps the last keys that loaded, and the
/// first successful refresh afterwards is picked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_fetches_keep_the_last_keys() {
    let faults = [
        ("HTTP 500", Fault::Status(500)),
        ("HTTP 404", Fault::Status(404)),
        ("garbage", Fault::Garbage),
        ("over the size cap", Fault::Huge(300 * 1024)),
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
        tokio::time::sleep(Duration::from_millis(250)).await;
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
        tokio::time::sleep(Duration::from_millis(250)).await; // past the first backoff
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    tokio::time::sleep(Duration::from_millis(250)).await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    tokio::time::sleep(Duration::from_millis(250)).await;
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

/// STD-DISC-4: `Cache-Control: max-age` sets freshness; a routine refresh runs in the
/// background ahead of expiry and asks with `If-None-Match`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!(provider.jwks_hits(), 1, "fresh: no request");

    tokio::time::sleep(Duration::from_millis(900)).await; // past 80% of max-age
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

/// Without caching headers, keys are fresh for the default lifetime (1 h): no refetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_caching_headers_the_default_lifetime_applies() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(code(&gate, &token).await, "accepted");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(provider.jwks_hits(), 1);
}

/// ENTRA-21: a key the provider removed stops validating after the next successful refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        code(&gate, &stays.token(&claims_for(&issuer))).await,
        "accepted"
    );
    eventually(|| gate.key_status()[0].keys == 1).await;
    assert_eq!(code(&gate, &goes_token).await, "unknown_key");
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

/// `max_stale` bounds how long the last keys serve while the provider is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert!(!gate.is_ready());
    provider.set(|s| s.fault = Fault::None);
    tokio::time::sleep(Duration::from_millis(500)).await; // past the backoff
    assert_eq!(code(&gate, &token).await, "accepted");
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

/// STD-DISC-3: no redirect away from https is followed by tokengate's own client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_38_redirects_away_from_https_are_refused() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.fault = Fault::Redirect("http://keys.example.com/jwks".to_owned()));
    let gate = by_uri(&provider, cache());
    assert_eq!(
        code(&gate, &key.token(&claims_for(&provider.issuer()))).await,
        "keys_unavailable"
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("redirect")),
        "{status:?}"
    );
}

/// A client of the user's own (here: trusting a private CA) works over https, and whatever
/// its redirect policy, a response that came over plain http is not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_client_over_https_and_no_downgrade() {
    let key = key_for(Algorithm::ES256);
    let certificate = TestCertificate::generate();
    let secure = Provider::start_tls(jwks(&[key]), &certificate).await;
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .discover(),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    let token = key.token(&claims_for(&secure.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    assert_eq!((secure.hits(OIDC_PATH), secure.jwks_hits()), (1, 1));

    // The https provider redirects to a plain-http copy of the key set.
    let plain = Provider::start(jwks(&[key])).await;
    secure.set(|s| s.fault = Fault::Redirect(plain.jwks_uri()));
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .jwks_uri(secure.jwks_uri()),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    assert_eq!(code(&gate, &token).await, "keys_unavailable");
    assert_eq!(
        plain.jwks_hits(),
        1,
        "the user's client followed the redirect..."
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("plain http")),
        "...but the response was not used: {status:?}"
    );
    // tokengate's own client does not trust the private CA: the certificate is checked.
    let strict = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .discover(),
        )
        .build()
        .unwrap();
    assert_eq!(code(&strict, &token).await, "keys_unavailable");
}

/// https is required, checked at build.
#[test]
fn key_source_urls_are_checked_at_build() {
    let problems = |profile: IssuerProfile, cache: KeyCacheSettings| -> Vec<String> {
        match Gate::builder()
            .issuer(profile.audience(AUDIENCE))
            .key_cache(cache)
            .build()
        {
            Ok(_) => Vec::new(),
            Err(error) => error.problems().map(str::to_owned).collect(),
        }
    };
    let strict = KeyCacheSettings::default();
    let loopback = KeyCacheSettings::default().allow_http_loopback();
    let cases: [(IssuerProfile, &KeyCacheSettings, &str); 8] = [
        (
            IssuerProfile::new("https://a.example").jwks_uri("http://a.example/keys"),
            &strict,
            "plain http",
        ),
        (
            IssuerProfile::new("https://a.example").jwks_uri("http://a.example/keys"),
            &loopback,
            "not loopback",
        ),
        (
            IssuerProfile::new("https://a.example").jwks_uri("ftp://a.example/keys"),
            &loopback,
            "not https",
        ),
        (
            IssuerProfile::new("https://a.example").jwks_uri("not a url"),
            &strict,
            "not a URL",
        ),
        (
            IssuerProfile::new("http://127.0.0.1:9").discover(),
            &strict,
            "plain http",
        ),
        (
            IssuerProfile::new("accounts.example.com").discover(),
            &strict,
            "not a URL",
        ),
        (
            IssuerProfile::new("https://a.example")
                .discover()
                .jwks_uri("https://a.example/k"),
            &strict,
            "more than one",
        ),
        (
            IssuerProfile::new("https://a.example")
                .discover()
                .jwks(jwks(&[key_for(Algorithm::ES256)])),
            &strict,
            "choose one",
        ),
    ];
    for (profile, cache, expected) in cases {
        let found = problems(profile.clone(), cache.clone());
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{profile:?}: {found:?}"
        );
    }
    assert!(
        problems(
            IssuerProfile::new("http://127.0.0.1:9").discover(),
            loopback.clone()
        )
        .is_empty()
    );
    assert!(
        problems(
            IssuerProfile::new("https://a.example").jwks_uri("https://a.example/k"),
            strict.clone()
        )
        .is_empty()
    );
    // Nonsense cache settings are found too.
    let found = problems(
        IssuerProfile::new("https://a.example").discover(),
        KeyCacheSettings::default()
            .min_ttl(Duration::from_secs(7200))
            .cooldown(Duration::ZERO)
            .max_keys(0),
    );
    assert!(found.len() >= 3, "{found:?}");
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

/// A routine refresh never makes a request wait, even when the provider takes its time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routine_refreshes_run_in_the_background() {
    let key = key_for(Algorithm::ES256);
    let provider = Provider::start(jwks(&[key])).await;
    provider.set(|s| s.cache_control = Some("max-age=1".to_owned()));
    let gate = by_uri(&provider, cache().min_ttl(Duration::from_secs(1)));
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    provider.set(|s| s.fault = Fault::Hold);
    tokio::time::sleep(Duration::from_millis(900)).await; // the refresh is due
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
            .last_refresh
            .is_some_and(|at| at.elapsed().unwrap_or_default() < Duration::from_millis(500))
    })
    .await;
    assert_eq!(provider.jwks_hits(), 2);
}

/// With `max_stale` shorter than the lifetime, routine refreshes come at half of `max_stale`,
/// so with steady traffic the keys never go stale while the provider is healthy, and a
/// provider that then stalls delays nobody until they do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            gate.key_status()[0].usable,
            "the keys went stale before a refresh"
        );
        assert_eq!(code(&gate, &token).await, "accepted");
    }
    // Refreshed about once a second (half of max_stale), not after 8 s (80% of max-age).
    assert!(
        provider.jwks_hits() >= 2,
        "refreshed ahead of max_stale: {}",
        provider.jwks_hits()
    );
    // The keys were refreshed within the last ~1.1 s, so they stay usable for at least 0.9 s:
    // with the provider stalled, requests in that time are answered without waiting.
    provider.set(|s| s.fault = Fault::Hold);
    for _ in 0..3 {
        let answered = tokio::time::timeout(Duration::from_secs(1), gate.validate(&token)).await;
        assert!(matches!(answered, Ok(Ok(_))), "{answered:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    provider.release();
}

/// Rotation without kids (a provider with one key), or under a kid it keeps (`default`):
/// the new key does not verify with the old one, which triggers the same shared, cooldown-
/// limited refresh as an unknown kid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
        tokio::time::sleep(Duration::from_millis(250)).await;
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

/// A provider publishing a set with no usable key (even `{"keys":[]}`) is treated as a failed
/// fetch: the last keys stay, and the failure shows in the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_key_set_is_a_failed_fetch() {
    let key = TestKey::generate(Algorithm::ES256, "k1");
    let provider = Provider::start(jwks(&[&key])).await;
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    assert_eq!(code(&gate, &token).await, "accepted");
    provider.set(|s| s.jwks = r#"{"keys":[]}"#.to_owned());
    tokio::time::sleep(Duration::from_millis(250)).await;
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

/// A user's client that follows https -> http -> https to another origin: whoever sat on
/// the plain hop chose that origin, so its keys are not used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_client_redirected_through_http_to_another_origin_is_refused() {
    let certificate = TestCertificate::generate();
    let real = key_for(Algorithm::ES256);
    let attacker_key = TestKey::generate(Algorithm::ES256, "evil");
    let secure = Provider::start_tls(jwks(&[real]), &certificate).await;
    let attacker = Provider::start_tls(jwks(&[&attacker_key]), &certificate).await;
    let plain = Provider::start(String::new()).await;
    plain.set(|s| s.fault = Fault::Redirect(attacker.jwks_uri()));
    secure.set(|s| s.fault = Fault::Redirect(plain.jwks_uri()));
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(secure.issuer())
                .audience(AUDIENCE)
                .jwks_uri(secure.jwks_uri()),
        )
        .http_client(certificate.client())
        .build()
        .unwrap();
    let forged = attacker_key.token(&claims_for(&secure.issuer()));
    assert_eq!(code(&gate, &forged).await, "keys_unavailable");
    assert_eq!(
        (plain.jwks_hits(), attacker.jwks_hits()),
        (1, 1),
        "the client went all the way"
    );
    let status = &gate.key_status()[0];
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("another origin")),
        "{status:?}"
    );
}

/// A refresh task dropped before it ever ran (its runtime shutting down) leaves nothing
/// stuck: a later runtime fetches normally.
#[test]
fn a_refresh_dropped_before_it_ran_leaves_nothing_stuck() {
    let key = key_for(Algorithm::ES256);
    let main = tokio::runtime::Runtime::new().unwrap();
    let provider = main.block_on(Provider::start(jwks(&[key])));
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    let dead = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let handle = dead.handle().clone();
    drop(dead);
    {
        let _entered = handle.enter();
        let outcome = block_on(gate.validate(&token));
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), "keys_unavailable");
    }
    std::thread::sleep(Duration::from_millis(250)); // past the cooldown
    let accepted = main.block_on(async { code(&gate, &token).await });
    assert_eq!(accepted, "accepted", "hits: {}", provider.jwks_hits());
}

/// Keys from the network need a Tokio runtime: without one, tokens get `keys_unavailable`
/// (and an error is logged), nothing panics, and a runtime later loads them.
#[test]
fn without_a_tokio_runtime_keys_are_unavailable_not_a_panic() {
    let key = key_for(Algorithm::ES256);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let provider = runtime.block_on(Provider::start(jwks(&[key])));
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    for _ in 0..3 {
        let outcome = block_on(gate.validate(&token)).map(|_| ());
        assert_eq!(outcome.unwrap_err().code(), "keys_unavailable");
    }
    assert_eq!(provider.jwks_hits(), 0);
    assert!(
        block_on(gate.warm_up())
            .unwrap_err()
            .to_string()
            .contains("no Tokio runtime")
    );
    assert_eq!(
        runtime.block_on(async { code(&gate, &token).await }),
        "accepted"
    );
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

/// Settings that would overflow time arithmetic are refused at build.
#[test]
fn absurd_durations_are_refused_at_build() {
    for cache in [
        KeyCacheSettings::default().cooldown(Duration::MAX),
        KeyCacheSettings::default().max_stale(Duration::MAX),
        KeyCacheSettings::default().max_ttl(Duration::MAX),
        KeyCacheSettings::default().request_timeout(Duration::MAX),
    ] {
        let built = Gate::builder()
            .issuer(
                IssuerProfile::new("https://a.example")
                    .audience(AUDIENCE)
                    .discover(),
            )
            .key_cache(cache.clone())
            .build();
        let error = built.map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("is above"), "{cache:?}: {error}");
    }
}

/// A minimal executor with no Tokio context.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}
