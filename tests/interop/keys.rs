//! Key rotation, and keys published without `alg`.

use std::time::{Duration, Instant};

use http::StatusCode;
use http::header::CACHE_CONTROL;
use tokengate::{Algorithm, KeyCacheSettings};
use tokengate_testkit::b64;

use super::idp::Idp;
use super::support::{
    ALGORITHMS, Api, ORDERS_SERVICE, REPORTING_JOB, UNKNOWN_KEY, gate, header, key_cache, profile,
};

/// A key the provider adds is picked up by the one refresh its unknown `kid` triggers, at
/// once: the warm-up just before does not hold it back.
#[tokio::test(flavor = "multi_thread")]
async fn an_added_key_validates_after_one_refresh() {
    let idp = Idp::start().await;
    let gate = gate(profile(&idp), key_cache());
    let api = Api::serve(gate.clone()).await;
    gate.warm_up().await.unwrap();
    let before = idp.stats().await;
    assert_eq!(before.jwks, 1);

    let kid = idp.add_key(Algorithm::ES256).await;
    assert_ne!(kid, idp.key(Algorithm::ES256).kid);
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .kid(&kid)
        .send()
        .await;
    assert_eq!(header(&token)["kid"], kid.as_str());
    api.get("/orders", &token).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2, "exactly one refresh");
    assert_eq!(gate.key_status()[0].keys, ALGORITHMS.len() + 1);

    // From now on the new key is held: no further fetch.
    let again = idp
        .ask(&REPORTING_JOB)
        .alg(Algorithm::ES256)
        .kid(&kid)
        .send()
        .await;
    api.get("/orders", &again).await.assert_ok();
    let old = idp.ask(&REPORTING_JOB).alg(Algorithm::ES256).send().await;
    api.get("/orders", &old).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2);
    idp.assert_logs_secret_free().await;
}

/// A key the provider withdraws stops validating once the store refreshes on its own:
/// oidc-provider sends no `Cache-Control` with its key set, so `default_ttl` decides when.
#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_key_is_refused_once_the_store_refreshes() {
    let idp = Idp::start().await;
    let jwks = idp
        .http
        .get(format!("{}/jwks", idp.issuer))
        .send()
        .await
        .unwrap();
    assert!(jwks.headers().get(CACHE_CONTROL).is_none());

    let kid = idp.add_key(Algorithm::ES384).await;
    let cache = key_cache().default_ttl(Duration::from_secs(3));
    let gate = gate(profile(&idp), cache);
    let api = Api::serve(gate.clone()).await;
    gate.warm_up().await.unwrap();

    let doomed = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES384)
        .kid(&kid)
        .send()
        .await;
    api.get("/orders", &doomed).await.assert_ok();

    idp.drop_key(&kid).await;
    // Held keys keep validating until the store refreshes (a routine refresh is due at 80% of
    // the 3 s lifetime).
    api.get("/orders", &doomed).await.assert_ok();

    let deadline = Instant::now() + Duration::from_secs(15);
    let refused = loop {
        let answer = api.get("/orders", &doomed).await;
        if answer.status != StatusCode::OK {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the dropped key still validates after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    refused.assert_refused(StatusCode::UNAUTHORIZED, "unknown_key", UNKNOWN_KEY);
    assert_eq!(gate.key_status()[0].keys, ALGORITHMS.len());

    // The other keys still validate, the remaining ES384 key included.
    for alg in ALGORITHMS {
        let token = idp.ask(&REPORTING_JOB).alg(alg).send().await;
        api.get("/orders", &token).await.assert_ok();
    }
    idp.assert_logs_secret_free().await;
}

/// Rotation as providers do it: a new key in and the old one out in one step. The new key's
/// unknown `kid` triggers a refresh (the first load a moment before does not hold it back),
/// after which the old key's tokens are refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_replaces_the_old_one_after_one_refresh() {
    let idp = Idp::start().await;
    let gate = gate(profile(&idp), key_cache());
    let api = Api::serve(gate.clone()).await;

    let old = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    api.get("/orders", &old).await.assert_ok();

    let new_kid = idp.add_key(Algorithm::RS256).await;
    idp.drop_key(&idp.key(Algorithm::RS256).kid).await;
    // Without a kid chosen, the provider signs with its only RS256 key: the new one.
    let new = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    assert_eq!(header(&new)["kid"], new_kid.as_str());

    // Until a refresh, the old key is held and validates.
    api.get("/orders", &old).await.assert_ok();

    api.get("/orders", &new).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2, "one load, one refresh");
    // Right after a refresh that found a new key, the old key's unknown kid waits for the
    // minimum interval (the 1 s cooldown here), and one refresh confirms it is gone.
    api.get("/orders", &old).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "unknown_key",
        UNKNOWN_KEY,
    );
    assert_eq!(idp.stats().await.jwks, 3, "one load, two refreshes");
    // Within the cooldown, no more.
    api.get("/orders", &old).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "unknown_key",
        UNKNOWN_KEY,
    );
    assert_eq!(idp.stats().await.jwks, 3);
    idp.assert_logs_secret_free().await;
}

/// The default limits (5 s minimum interval, 60 s cooldown) against oidc-provider's real
/// rotation: tokens from a key published just after the warm-up are accepted at once; a key
/// published just after that refresh, within the minimum interval (the request waits for
/// it); made-up kids cost one fetch, and are refused without a 503.
#[tokio::test(flavor = "multi_thread")]
async fn rotation_under_the_default_limits() {
    let idp = Idp::start().await;
    let cache = KeyCacheSettings::default()
        .allow_http_loopback()
        .min_refresh_interval(Duration::from_secs(2));
    let gate = gate(profile(&idp), cache);
    let api = Api::serve(gate.clone()).await;
    gate.warm_up().await.unwrap();

    let first = idp.add_key(Algorithm::ES256).await;
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .kid(&first)
        .send()
        .await;
    api.get("/orders", &token).await.assert_ok();
    assert_eq!(idp.stats().await.jwks, 2, "the warm-up and one refresh");

    let second = idp.add_key(Algorithm::ES256).await;
    let token = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .kid(&second)
        .send()
        .await;
    api.get("/orders", &token).await.assert_ok();
    assert_eq!(
        idp.stats().await.jwks,
        3,
        "one more refresh, after the interval"
    );

    let forged = idp
        .ask(&ORDERS_SERVICE)
        .alg(Algorithm::ES256)
        .kid(&second)
        .send()
        .await;
    let (_, rest) = forged.split_once('.').unwrap();
    for n in 0..20 {
        let header =
            serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": format!("made-up-{n}")});
        let made_up = format!("{}.{rest}", b64(header.to_string()));
        api.get("/orders", &made_up).await.assert_refused(
            StatusCode::UNAUTHORIZED,
            "unknown_key",
            UNKNOWN_KEY,
        );
    }
    assert_eq!(
        idp.stats().await.jwks,
        4,
        "one refresh for all the made-up kids"
    );
    idp.assert_logs_secret_free().await;
}

/// oidc-provider publishes `alg` only where a key fits one algorithm: configured without one
/// (as its development keys and keys exported by `jose` are), RSA keys are published without
/// `alg` and one RSA key signs both RS256 and PS256 tokens. tokengate binds every key to one
/// algorithm (RFC 8725 §3.1): RS256 under the default allowlist, or the one RSA algorithm
/// allowed; tokens with the other are refused.
#[tokio::test(flavor = "multi_thread")]
async fn keys_without_alg_need_one_rsa_algorithm() {
    let idp = Idp::start_with(&["--keys-without-alg"]).await;
    let jwks = idp.get_json(&format!("{}/jwks", idp.issuer)).await;
    let published: Vec<(String, Option<String>)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            let kty = key["kty"].as_str().unwrap().to_owned();
            (kty, key["alg"].as_str().map(str::to_owned))
        })
        .collect();
    assert_eq!(
        published,
        [
            ("RSA".to_owned(), None),
            ("RSA".to_owned(), None),
            ("EC".to_owned(), Some("ES256".to_owned())),
            ("EC".to_owned(), Some("ES384".to_owned())),
            ("OKP".to_owned(), None),
        ]
    );

    // With every algorithm allowed (the default), the RSA keys verify RS256 only.
    let any = gate(profile(&idp), key_cache());
    any.warm_up().await.expect("every key loads");
    assert_eq!(any.key_status()[0].keys, 5);
    let rs256 = idp.ask(&ORDERS_SERVICE).alg(Algorithm::RS256).send().await;
    any.validate(&rs256).await.expect("an RS256 token");
    let ps256 = idp.ask(&ORDERS_SERVICE).alg(Algorithm::PS256).send().await;
    assert_eq!(
        any.validate(&ps256).await.unwrap_err().code(),
        "key_algorithm_mismatch"
    );
    // Several RSA algorithms chosen explicitly: which one the keys are for is a guess, and
    // the warm-up says so.
    let several = gate(
        profile(&idp).algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256]),
        key_cache(),
    );
    let error = several.warm_up().await.unwrap_err().to_string();
    assert!(error.contains("several RSA algorithms"), "{error}");
    // The Ed25519 key fits only EdDSA.
    let eddsa = idp.ask(&ORDERS_SERVICE).alg(Algorithm::EdDSA).send().await;
    any.validate(&eddsa).await.expect("an EdDSA token");

    // With one RSA algorithm allowed, the RSA keys are bound to it.
    let one_rsa = gate(
        profile(&idp).algorithms([
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ]),
        key_cache(),
    );
    let api = Api::serve(one_rsa.clone()).await;
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let token = idp.ask(&REPORTING_JOB).alg(alg).send().await;
        api.get("/orders", &token).await.assert_ok();
    }
    assert_eq!(one_rsa.key_status()[0].keys, 5);
    // The same RSA key also signs PS256 tokens for this provider; they are refused.
    let ps256 = idp.ask(&REPORTING_JOB).alg(Algorithm::PS256).send().await;
    assert_eq!(header(&ps256)["kid"], header(&rs256)["kid"]);
    assert_eq!(
        one_rsa.validate(&ps256).await.unwrap_err().code(),
        "unsupported_algorithm"
    );
    idp.assert_logs_secret_free().await;
}
