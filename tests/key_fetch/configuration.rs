//! Key-source URLs and key-cache settings, checked when the gate is built.

use std::time::Duration;

use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings};
use tokengate_testkit::{AUDIENCE, jwks, key_for};

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
    let found = problems(
        IssuerProfile::new("https://a.example").discover(),
        KeyCacheSettings::default().min_refresh_interval(Duration::ZERO),
    );
    assert!(
        found.iter().any(|p| p.contains("min_refresh_interval")),
        "{found:?}"
    );
}

/// Settings that would overflow time arithmetic are refused at build.
#[test]
fn absurd_durations_are_refused_at_build() {
    for cache in [
        KeyCacheSettings::default().cooldown(Duration::MAX),
        KeyCacheSettings::default().max_stale(Duration::MAX),
        KeyCacheSettings::default().max_ttl(Duration::MAX),
        KeyCacheSettings::default().request_timeout(Duration::MAX),
        KeyCacheSettings::default().min_refresh_interval(Duration::MAX),
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
