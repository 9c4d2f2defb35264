//! Failing closed: a store that cannot get Redis's word answers `Err` (which the layer turns
//! into 503), never `Ok`, and is back once Redis is.

use std::process::Command;
use std::time::{Duration, Instant};

use tokengate::{RedisReplayStore, ReplayStore};
use tokengate_testkit::redis_server::{RedisServer, free_port};

use crate::{EVENTUALLY, eventually, id, store};

const MINUTE: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_millis(300);

/// `kill -{signal} {pid}`.
fn signal(server: &RedisServer, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &server.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {signal}");
}

#[tokio::test]
async fn a_store_whose_server_is_gone_answers_err() {
    let mut server = RedisServer::start();
    let store = store(&server).await.timeout(TIMEOUT);
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(true));
    server.kill();
    // Nothing listens on the port now: each check fails, by error or timeout; the outer
    // bound only catches a hang.
    for n in 2..5 {
        let answer = tokio::time::timeout(EVENTUALLY, store.first_use(&id(n), MINUTE))
            .await
            .expect("an answer, not a hang");
        assert!(answer.is_err(), "no server, yet {answer:?}");
    }
}

#[tokio::test]
async fn connecting_where_nothing_listens_fails() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let refused = RedisReplayStore::connect(&url).await.unwrap_err();
    assert!(refused.to_string().contains("127.0.0.1"), "{refused}");
}

#[tokio::test]
async fn a_hung_server_gets_err_after_the_timeout_and_the_unanswered_proof_counts_as_used() {
    let server = RedisServer::start();
    let store = store(&server).await.timeout(TIMEOUT);
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(true));

    // Stopped, not killed: the connection stays open and the command is sent, unanswered.
    signal(&server, "-STOP");
    let asked = Instant::now();
    let answer = tokio::time::timeout(EVENTUALLY, store.first_use(&id(2), MINUTE))
        .await
        .expect("an answer, not a hang");
    let waited = asked.elapsed();
    signal(&server, "-CONT");
    let refused = answer.unwrap_err();
    assert!(
        refused.to_string().contains("did not answer within"),
        "{refused}"
    );
    assert!(
        waited >= TIMEOUT,
        "gave up after {waited:?}, before the timeout"
    );

    // Redis ran the command once resumed: a retry of that proof is refused as a replay, which
    // is why a store that timed out must not answer `Ok(true)`.
    let retried = eventually("the resumed server answers", || async {
        store.first_use(&id(2), MINUTE).await.ok()
    })
    .await;
    assert!(
        !retried,
        "the proof sent to the hung server was recorded once it resumed"
    );
    assert_eq!(store.first_use(&id(3), MINUTE).await, Ok(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_recovers_when_its_server_comes_back() {
    let mut server = RedisServer::start();
    let store = store(&server).await.timeout(TIMEOUT);
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(true));

    server.kill();
    assert!(store.first_use(&id(2), MINUTE).await.is_err());
    server.restart();

    // The same store, its ConnectionManager reconnected: a first use, then a replay.
    let first = eventually("the store reconnects", || async {
        store.first_use(&id(3), MINUTE).await.ok()
    })
    .await;
    assert!(first, "a new id on a fresh server is a first use");
    assert_eq!(store.first_use(&id(3), MINUTE).await, Ok(false));
}
