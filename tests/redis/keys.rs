//! What the store writes: `{prefix}{id hex}` with a millisecond expiry, and nothing else.

use std::time::Duration;

use redis::AsyncCommands;
use tokengate::{RedisReplayStore, ReplayStore};
use tokengate_testkit::redis_server::RedisServer;

use crate::{id, plain, store};

#[tokio::test]
async fn the_key_is_the_prefixed_hex_id_with_a_millisecond_expiry() {
    let server = RedisServer::start();
    let store = store(&server).await;
    assert_eq!(
        store.first_use(&id(1), Duration::from_secs(60)).await,
        Ok(true)
    );

    let mut redis = plain(&server).await;
    let key = format!("{}{}", RedisReplayStore::DEFAULT_KEY_PREFIX, id(1).to_hex());
    assert_eq!(key, format!("tokengate:dpop:{}", id(1).to_hex()));
    let keys: Vec<String> = redis.keys("*").await.expect("KEYS");
    assert_eq!(keys, [key.as_str()]);
    let value: String = redis.get(&key).await.expect("GET");
    assert_eq!(value, "1");
    let pttl: i64 = redis.pttl(&key).await.expect("PTTL");
    assert!(
        0 < pttl && pttl <= 60_000,
        "PTTL {pttl}: an expiry of at most the 60 s asked"
    );
}

#[tokio::test]
async fn key_prefixes_keep_stores_apart() {
    let server = RedisServer::start();
    let orders = store(&server).await.key_prefix("orders:dpop:");
    let billing = store(&server).await.key_prefix("billing:dpop:");
    let minute = Duration::from_secs(60);
    assert_eq!(orders.first_use(&id(1), minute).await, Ok(true));
    assert_eq!(billing.first_use(&id(1), minute).await, Ok(true));
    assert_eq!(orders.first_use(&id(1), minute).await, Ok(false));
    assert_eq!(billing.first_use(&id(1), minute).await, Ok(false));

    let mut keys: Vec<String> = plain(&server).await.keys("*").await.expect("KEYS");
    keys.sort();
    let hex = id(1).to_hex();
    assert_eq!(
        keys,
        [format!("billing:dpop:{hex}"), format!("orders:dpop:{hex}")]
    );
}
