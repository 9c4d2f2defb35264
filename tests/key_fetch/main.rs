//! Keys from the network, against real HTTP(S) servers on 127.0.0.1: discovery, caching,
//! rotation, floods of unknown kids, outages, slow and hostile providers (ENTRA-19..22,
//! STD-DISC-1..5, ATK-38, ATK-43).
//!
//! Tests that wait for a cooldown, a backoff or a freshness lifetime run on Tokio's paused
//! clock (`start_paused`, a current-thread runtime) and move it with `tokio::time::advance`:
//! the key stores read Tokio's clock, so no test waits for them in real time. The loopback
//! provider runs on the same runtime, and loopback I/O is ready at once: the runtime is not
//! idle while the provider answers, so the paused clock does not jump past a request timeout.

mod caching;
mod configuration;
mod costs;
mod discovery;
mod failures;
mod limits;
mod rotation;
mod runtimes;
mod transport;

use std::time::Duration;

use serde_json::json;
use tokengate::{Gate, IssuerProfile, KeyCacheSettings};
use tokengate_testkit::provider::Provider;
use tokengate_testkit::{AUDIENCE, TestKey, valid_claims};

/// The cooldown of [`cache`].
const COOLDOWN: Duration = Duration::from_millis(200);

/// More than [`COOLDOWN`], which is also the first backoff after a failed fetch.
const PAST_COOLDOWN: Duration = Duration::from_millis(250);

/// Loopback allowed, and a short cooldown.
fn cache() -> KeyCacheSettings {
    KeyCacheSettings::default()
        .allow_http_loopback()
        .cooldown(COOLDOWN)
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

/// On the paused clock: lets every task run until all of them wait, then moves the clock
/// 10 ms. A refresh started in the background has reached the provider by then (loopback I/O
/// is ready at once), so a count read afterwards includes it.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Settles (up to 5 s of the paused clock) until `done` holds; the condition is what the test
/// asserts next.
async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        settle().await;
    }
}
