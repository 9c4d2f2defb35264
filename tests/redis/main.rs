//! The Redis replay store (`RedisReplayStore`, feature `redis`) against a real `redis-server`.
//!
//! Each test starts its own server on a free port of 127.0.0.1, without persistence, in a
//! temporary directory (`tokengate_testkit::redis_server`), and kills it when the test ends,
//! also when it fails. The suite compiles with the feature, so that `cargo clippy
//! --all-features` checks it, while plain `cargo test` never needs Redis; with the feature on
//! and `redis-server` missing, each test fails saying what to run:
//!
//! ```sh
//! bash tests/redis/run.sh   # apt-get install redis-server when needed, then:
//! cargo test --features redis --test redis
//! ```
#![cfg(feature = "redis")]

mod answers;
mod failures;
mod fleet;
mod gates;
mod keys;
mod secrets;

use std::future::Future;
use std::time::{Duration, Instant};

use tokengate::{ProofId, RedisReplayStore};
use tokengate_testkit::redis_server::RedisServer;

/// How long a test waits for something that must happen eventually (an expiry, a reconnection)
/// before it fails. Never a bound on how fast things are.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// The `n`th proof id of a test.
fn id(n: usize) -> ProofId {
    ProofId::new("test-thumbprint", &format!("jti-{n}"))
}

/// A store connected to `server` (the log capture installed first, for `secrets.rs`).
async fn store(server: &RedisServer) -> RedisReplayStore {
    tokengate_testkit::capture::global();
    RedisReplayStore::connect(&server.url())
        .await
        .expect("a store connected to the test's redis-server")
}

/// A plain redis-rs connection, to look at what the store wrote.
async fn plain(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("the server's URL")
        .get_multiplexed_async_connection()
        .await
        .expect("a plain connection to the test's redis-server")
}

/// Calls `check` until it gives `Some`, failing after [`EVENTUALLY`].
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "not within {EVENTUALLY:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
