//! Keys from the network without a usable Tokio runtime: nothing panics or stays stuck, and a
//! runtime later loads them. These tests build their own runtimes, so they run in real time.

use std::time::Duration;

use tokengate::Algorithm;
use tokengate_testkit::provider::Provider;
use tokengate_testkit::{jwks, key_for};

use crate::{PAST_COOLDOWN, by_uri, cache, claims_for, code};

/// A refresh task dropped before it ever ran (its runtime shutting down) leaves nothing
/// stuck: a later runtime fetches normally.
#[test]
fn a_refresh_dropped_before_it_ran_leaves_nothing_stuck() {
    let key = key_for(Algorithm::ES256);
    let main = tokio::runtime::Runtime::new().unwrap();
    let provider = main.block_on(Provider::start(jwks(&[key])));
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    let dead = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let handle = dead.handle().clone();
    drop(dead);
    {
        let _entered = handle.enter();
        let outcome = block_on(gate.validate(&token));
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), "keys_unavailable");
    }
    // Past the cooldown the dropped refresh claimed. In real time: the claim was timed by the
    // dropped runtime's clock, the real one, which no test's paused clock governs.
    std::thread::sleep(PAST_COOLDOWN);
    let accepted = main.block_on(async { code(&gate, &token).await });
    assert_eq!(accepted, "accepted", "hits: {}", provider.jwks_hits());
}

/// Keys from the network need a Tokio runtime: without one, tokens get `keys_unavailable`
/// (and an error is logged), nothing panics, and a runtime later loads them.
#[test]
fn without_a_tokio_runtime_keys_are_unavailable_not_a_panic() {
    let key = key_for(Algorithm::ES256);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let provider = runtime.block_on(Provider::start(jwks(&[key])));
    let gate = by_uri(&provider, cache());
    let token = key.token(&claims_for(&provider.issuer()));
    for _ in 0..3 {
        let outcome = block_on(gate.validate(&token)).map(|_| ());
        assert_eq!(outcome.unwrap_err().code(), "keys_unavailable");
    }
    assert_eq!(provider.jwks_hits(), 0);
    assert!(
        block_on(gate.warm_up())
            .unwrap_err()
            .to_string()
            .contains("no Tokio runtime")
    );
    assert_eq!(
        runtime.block_on(async { code(&gate, &token).await }),
        "accepted"
    );
}

/// A minimal executor with no Tokio context.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}
