//! Live key rotation through Glewlwyd's admin API, without a restart.
//!
//! Glewlwyd sends its key set with `Cache-Control: no-store`, which tokengate holds for
//! `min_ttl` (5 minutes by default): a token under a new `kid` is picked up by the refresh its
//! unknown `kid` triggers, which the key cache allows once its minimum interval since the
//! last fetch has passed.

use std::time::{Duration, Instant};

use http::StatusCode;

use super::api::{Api, UNKNOWN_KEY};
use super::gate::{gate, loopback_keys, profile};
use super::provider::{Glewlwyd, ORDERS_SERVICE, RSA_KID};
use super::signing_keys::SigningKey;
use tokengate_testkit::token_parts::header;

/// How long a rotated key may take to be accepted; the key cache's contract with default
/// settings is a short minimum interval (about 5 to 10 s) after any fetch.
const ACCEPTED_WITHIN: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(500);

/// With the default key cache settings (but for loopback http), as most deployments run: a
/// token under the old key is validated (which loads the keys), the key is rotated, then a
/// token under the new key is sent every [`POLL_EVERY`] until it is accepted. Until then the
/// only acceptable answers are 401 `unknown_key` and 503 `keys_unavailable` (never a 500,
/// never another refusal).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_rotated_through_the_admin_api_is_accepted_with_default_settings() {
    let glewlwyd = Glewlwyd::start().await;
    let gate = gate(profile(&glewlwyd), loopback_keys());
    let api = Api::serve(gate.clone()).await;
    let old = glewlwyd.token(&ORDERS_SERVICE).send().await;
    assert_eq!(header(&old)["kid"], RSA_KID);
    api.get("/orders", &old).await.assert_ok();
    assert_eq!(glewlwyd.counts.jwks(), 1);

    glewlwyd.rotate(SigningKey::rs256("rsa-2")).await;
    let new = glewlwyd.token(&ORDERS_SERVICE).send().await;
    assert_eq!(header(&new)["kid"], "rsa-2", "the new key signs at once");

    let started = Instant::now();
    let mut before_acceptance = Vec::new();
    loop {
        let answer = api.get("/orders", &new).await;
        if answer.status == StatusCode::OK {
            break;
        }
        match answer.status {
            StatusCode::UNAUTHORIZED => {
                answer.assert_refused(StatusCode::UNAUTHORIZED, "unknown_key", UNKNOWN_KEY);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer.code(), "keys_unavailable", "{answer:?}");
            }
            _ => panic!("neither accepted, 401 unknown_key nor 503: {answer:?}"),
        }
        before_acceptance.push(answer.status.as_u16());
        assert!(
            started.elapsed() < ACCEPTED_WITHIN,
            "the rotated key is still refused after {ACCEPTED_WITHIN:?} ({} answers: {:?}, \
             {} key set fetches)",
            before_acceptance.len(),
            before_acceptance
                .iter()
                .collect::<std::collections::BTreeSet<_>>(),
            glewlwyd.counts.jwks()
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
    eprintln!(
        "rotation: accepted after {:?} and {} refusals",
        started.elapsed(),
        before_acceptance.len()
    );
    // One load, one refresh, which also kept the old key (still published).
    assert_eq!(glewlwyd.counts.jwks(), 2, "one load, one refresh");
    assert_eq!(gate.key_status()[0].keys, 3);
    glewlwyd.assert_logs_secret_free().await;
}
