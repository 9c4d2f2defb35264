//! The core requirement: instances of a fleet, each with its own store (its own
//! connection) on one Redis, accept each proof exactly once, however the requests race.

use std::sync::Arc;
use std::time::Duration;

use tokengate::{RedisReplayStore, ReplayStore};
use tokengate_testkit::redis_server::RedisServer;
use tokio::sync::Barrier;

use crate::{id, plain, store};

/// Concurrent requests, and the ids each of them tries.
const TASKS: usize = 16;
const IDS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_sharing_one_server_accept_each_id_exactly_once_under_concurrency() {
    let server = RedisServer::start();
    // A generous timeout: this test is about atomicity, not speed, on a busy machine.
    let slow_ok = Duration::from_secs(10);
    let fleet = [
        Arc::new(store(&server).await.timeout(slow_ok)),
        Arc::new(store(&server).await.timeout(slow_ok)),
    ];
    let clients: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut plain(&server).await)
        .await
        .expect("CLIENT LIST");
    assert!(
        clients.lines().count() >= 3,
        "two connections of the stores and this one: {clients}"
    );

    let start = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store: Arc<RedisReplayStore> = fleet[task % 2].clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                // Half in one order, half in the other: every id is raced for from both ends.
                let order: Vec<usize> = if task % 4 < 2 {
                    (0..IDS).collect()
                } else {
                    (0..IDS).rev().collect()
                };
                let mut firsts = Vec::new();
                for n in order {
                    let answer = store.first_use(&id(n), Duration::from_secs(60)).await;
                    if answer.expect("every check answered") {
                        firsts.push(n);
                    }
                }
                firsts
            })
        })
        .collect();

    let mut firsts = vec![0; IDS];
    for task in tasks {
        for n in task.await.expect("the task finished") {
            firsts[n] += 1;
        }
    }
    let wrong: Vec<(usize, usize)> = firsts
        .iter()
        .enumerate()
        .filter(|&(_, &count)| count != 1)
        .map(|(n, &count)| (n, count))
        .collect();
    assert!(
        wrong.is_empty(),
        "(id, first uses) not exactly once: {wrong:?}"
    );
}
