//! The DPoP replay stores' cost per check: `RedisReplayStore` (one `SET NX PX` round trip to a
//! redis-server on loopback, which the bench starts with the test suite's launcher) beside the
//! embedded `MemoryReplayStore`.
//!
//! `cargo bench --features redis --bench replay` (`bash tests/redis/run.sh` installs
//! redis-server). Each store is measured on first uses (new ids) and on replays (one id).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tokengate::{MemoryReplayStore, ProofId, RedisReplayStore, ReplayStore};
use tokengate_testkit::redis_server::RedisServer;

/// Ids made ahead, so that hashing them is not measured (SHA-256 costs about what the embedded
/// store does).
fn ids(count: usize) -> Vec<ProofId> {
    (0..count)
        .map(|n| ProofId::new("bench-thumbprint", &n.to_string()))
        .collect()
}

/// The embedded store answers without waiting: its future is ready on the first poll.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the embedded store never waits"),
    }
}

fn memory(c: &mut Criterion) {
    let ids = ids(1 << 16);
    let store = MemoryReplayStore::default();
    let mut next = 0;
    // A zero time to live: each id has expired by its next turn, so every check is a first use
    // that also forgets one expired id, as in a steady state, and the store never fills.
    c.bench_function("replay/memory/first_use", |b| {
        b.iter(|| {
            next = (next + 1) % ids.len();
            let answer = ready(store.first_use(&ids[next], Duration::ZERO));
            assert_eq!(black_box(answer), Ok(true));
        })
    });
    let replayed = ids[0];
    let minute = Duration::from_secs(60);
    assert_eq!(ready(store.first_use(&replayed, minute)), Ok(true));
    c.bench_function("replay/memory/replay", |b| {
        b.iter(|| {
            let answer = ready(store.first_use(black_box(&replayed), minute));
            assert_eq!(answer, Ok(false));
        })
    });
}

fn redis(c: &mut Criterion) {
    let server = RedisServer::start();
    // One thread, as the round trip is what is measured: the connection's driver task runs
    // while each check is awaited.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = runtime
        .block_on(RedisReplayStore::connect(&server.url()))
        .expect("connected to the bench's redis-server");
    let ids = ids(1 << 20);
    let mut next = 0;
    // A short time to live keeps the server small; ids come back only after it expired.
    let second = Duration::from_secs(1);
    c.bench_function("replay/redis/first_use", |b| {
        b.iter(|| {
            next = (next + 1) % ids.len();
            let answer = runtime.block_on(store.first_use(&ids[next], second));
            assert_eq!(black_box(answer), Ok(true));
        })
    });
    let replayed = ProofId::new("bench-thumbprint", "replayed");
    let minute = Duration::from_secs(60);
    assert_eq!(
        runtime.block_on(store.first_use(&replayed, minute)),
        Ok(true)
    );
    c.bench_function("replay/redis/replay", |b| {
        b.iter(|| {
            let answer = runtime.block_on(store.first_use(black_box(&replayed), minute));
            assert_eq!(answer, Ok(false));
        })
    });
}

criterion_group!(benches, memory, redis);
criterion_main!(benches);
