//! Refreshes for missing keys, against a test issuer on loopback (paused time).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::Algorithm;
use crate::keys::sources::Source;
use crate::keys::{Fetcher, KeyCacheSettings, KeySet, Miss, Remote, Wanted};
use crate::testing::TestIssuer;

/// A request that read the keys just before a rotation refresh stored new ones, and reaches
/// the slow path after it, is answered by the keys now held at once: no wait for the minimum
/// interval, no fetch that would find nothing new for its kid and close the door, so the next
/// rotation is still picked up at once.
#[tokio::test(start_paused = true)]
async fn a_request_that_read_the_keys_before_a_rotation_is_answered_without_a_fetch() {
    let issuer = TestIssuer::with_algorithms([Algorithm::ES256])
        .await
        .unwrap();
    let settings = KeyCacheSettings::default().allow_http_loopback();
    let fetcher = Arc::new(Fetcher::new(settings, None).unwrap());
    let url = reqwest::Url::parse(&issuer.jwks_uri()).unwrap();
    let remote = Arc::new(Remote::new(
        issuer.issuer().to_owned(),
        Source::JwksUri(url),
        Algorithm::ALL.to_vec(),
        fetcher,
        None,
    ));
    let wanted = |kid, read| Wanted {
        kid: Some(kid),
        alg: Algorithm::ES256,
        read,
        failed: None,
    };
    let read = |remote: &Arc<Remote>| remote.with_current(KeySet::generation);
    // The first load.
    assert!(matches!(
        remote.after_miss(wanted("first", 0)).await,
        Miss::Refreshed(_)
    ));
    let fetched = issuer.jwks_requests();
    // A rotation: request A triggers the refresh that brings the new key; request B read the
    // keys before that refresh stored it.
    let new = issuer.add_key(Algorithm::ES256);
    let b_read = read(&remote);
    assert!(matches!(
        remote.after_miss(wanted(&new, read(&remote))).await,
        Miss::Refreshed(_)
    ));
    assert_eq!(issuer.jwks_requests(), fetched + 1);
    let start = Instant::now();
    let Miss::Refreshed(keys) = remote.after_miss(wanted(&new, b_read)).await else {
        panic!("B is answered by the keys held");
    };
    assert!(keys.select(Some(&new), Algorithm::ES256).is_ok());
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait");
    assert_eq!(issuer.jwks_requests(), fetched + 1, "no fetch for B");
    // The door stays open: a key published after the minimum interval is fetched at once.
    tokio::time::advance(Duration::from_secs(6)).await;
    let newer = issuer.add_key(Algorithm::ES256);
    assert!(matches!(
        remote.after_miss(wanted(&newer, read(&remote))).await,
        Miss::Refreshed(_)
    ));
    assert_eq!(issuer.jwks_requests(), fetched + 2);
}
