//! What a check answers: a first use, a replay, and a first use again once the id expired.

use std::time::Duration;

use tokengate::ReplayStore;
use tokengate_testkit::redis_server::RedisServer;

use crate::{eventually, id, store};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_new_id_is_a_first_use() {
    let server = RedisServer::start();
    let store = store(&server).await;
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(true));
    assert_eq!(store.first_use(&id(2), MINUTE).await, Ok(true));
}

#[tokio::test]
async fn a_second_use_is_a_replay() {
    let server = RedisServer::start();
    let store = store(&server).await;
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(true));
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(false));
    assert_eq!(store.first_use(&id(1), MINUTE).await, Ok(false));
    // A replay does not extend the time to live, and other ids are untouched.
    assert_eq!(store.first_use(&id(2), MINUTE).await, Ok(true));
}

#[tokio::test]
async fn an_id_is_forgotten_after_its_time_to_live() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let ttl = Duration::from_millis(200);
    assert_eq!(store.first_use(&id(1), ttl).await, Ok(true));
    eventually("the id expires and is a first use again", || async {
        store
            .first_use(&id(1), ttl)
            .await
            .expect("an answer")
            .then_some(())
    })
    .await;
}
