//! Nothing secret in `Debug`, errors or logs: the Redis password never, proof ids only at
//! TRACE level.

use std::time::Duration;

use tokengate::{RedisReplayStore, ReplayStore};
use tokengate_testkit::capture;
use tokengate_testkit::redis_server::RedisServer;

use crate::id;

const PASSWORD: &str = "pw-Redis-7c1e";
const WRONG: &str = "pw-Wrong-93ad";

#[tokio::test]
async fn the_password_never_shows_in_debug_errors_or_logs() {
    let captured = capture::global();
    let server = RedisServer::start_with(&["--requirepass", PASSWORD]);
    let url = |password: &str| format!("redis://:{password}@127.0.0.1:{}", server.port());

    let store = RedisReplayStore::connect(&url(PASSWORD))
        .await
        .expect("the right password connects");
    assert_eq!(
        store.first_use(&id(1), Duration::from_secs(60)).await,
        Ok(true)
    );
    let shown = format!("{store:?}");
    assert!(shown.contains(":***@127.0.0.1"), "{shown}");

    let refused = RedisReplayStore::connect(&url(WRONG)).await.unwrap_err();
    let refused = format!("{refused} {refused:?}");
    let unparsable = RedisReplayStore::connect(&format!("redis://:{WRONG}@127.0.0.1:port"))
        .await
        .unwrap_err();
    let unparsable = format!("{unparsable} {unparsable:?}");

    for text in [&shown, &refused, &unparsable, &captured.text()] {
        assert!(!text.contains(PASSWORD) && !text.contains(WRONG), "{text}");
    }
}

#[tokio::test]
async fn proof_ids_are_logged_at_trace_level_only() {
    let captured = capture::global();
    let mut server = RedisServer::start();
    let store = crate::store(&server)
        .await
        .timeout(Duration::from_millis(300));
    let minute = Duration::from_secs(60);
    let (used, failed) = (id(1000), id(1001));
    assert_eq!(store.first_use(&used, minute).await, Ok(true));
    assert_eq!(store.first_use(&used, minute).await, Ok(false));
    server.kill();
    assert!(store.first_use(&failed, minute).await.is_err());

    let text = captured.text();
    let mut traced = 0;
    for hex in [used.to_hex(), failed.to_hex()] {
        for line in text.lines().filter(|line| line.contains(&hex)) {
            assert!(line.contains(" TRACE "), "a proof id above TRACE: {line}");
            traced += 1;
        }
    }
    // The answers were logged (at TRACE), so the check above looked at something.
    assert!(traced >= 2, "no TRACE event with the proof id in:\n{text}");
}
