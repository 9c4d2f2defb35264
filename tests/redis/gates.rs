//! ATK-36, replay across instances: two independent gates (as two instances of a fleet would
//! run them, each with its own `RedisReplayStore` connection) on one redis-server. A proof is
//! accepted once across both, however requests race; a proof one instance accepted is a
//! replay at the other; and without Redis's word no proof is accepted (503, never 200).

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use tokengate::testing::{DpopKey, TestIssuer};
use tokengate::{
    Algorithm, Dpop, DpopMode, ErrorClass, Gate, IssuerProfile, MemoryReplayStore, Presented,
    Rejection, ReplayStore,
};
use tokengate_testkit::redis_server::RedisServer;
use tokio::sync::Barrier;

use crate::{plain, store};

const ORDERS: &str = "https://api.example.com/orders";

/// Distinct proofs, and how many times each is sent to each instance.
const PROOFS: usize = 64;
const SENDS_PER_INSTANCE: usize = 2;

/// One instance: a gate for the issuer, DPoP allowed, proofs remembered in `store`.
fn instance(issuer: &TestIssuer, store: impl ReplayStore) -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(issuer.issuer())
                .audience(issuer.audience())
                .jwks(issuer.jwks())
                .dpop(DpopMode::Allowed),
        )
        .dpop(Dpop::new().replay_store(store))
        .build()
        .expect("a valid gate")
}

/// An instance on `server` with its own connection. `timeout` bounds each check.
async fn redis_instance(issuer: &TestIssuer, server: &RedisServer, timeout: Duration) -> Gate {
    instance(issuer, store(server).await.timeout(timeout))
}

/// `GET /orders` presenting `token` with `proof`.
async fn send(gate: &Gate, token: &str, proof: &str) -> Result<(), Rejection> {
    let presented = Presented::dpop(token, proof, &Method::GET, ORDERS);
    gate.validate_presented(presented).await.map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atk_36_replay_across_instances_accepts_each_proof_once_under_concurrency() {
    let server = RedisServer::start();
    let issuer = TestIssuer::start().await.expect("test issuer");
    // Generous: this test is about atomicity across instances, not speed, on a busy machine.
    let slow_ok = Duration::from_secs(10);
    let fleet = [
        redis_instance(&issuer, &server, slow_ok).await,
        redis_instance(&issuer, &server, slow_ok).await,
    ];
    let client = DpopKey::generate(Algorithm::ES256);
    let token: Arc<str> = issuer.token().bound_to(&client).sign().into();
    let proofs: Vec<Arc<str>> = (0..PROOFS)
        .map(|_| {
            client
                .proof(&Method::GET, ORDERS)
                .token(&token)
                .sign()
                .into()
        })
        .collect();

    // Every proof, several times to each instance, all at once.
    let sends = PROOFS * 2 * SENDS_PER_INSTANCE;
    let start = Arc::new(Barrier::new(sends));
    let mut tasks = Vec::with_capacity(sends);
    for (n, proof) in proofs.iter().enumerate() {
        for send_no in 0..2 * SENDS_PER_INSTANCE {
            let gate = fleet[send_no % 2].clone();
            let (token, proof, start) = (token.clone(), proof.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                (n, send(&gate, &token, &proof).await)
            }));
        }
    }

    let mut accepted = vec![0; PROOFS];
    for task in tasks {
        let (n, answer) = task.await.expect("the task finished");
        match answer {
            Ok(()) => accepted[n] += 1,
            Err(rejection) => assert_eq!(rejection.code(), "dpop_proof_replayed", "proof {n}"),
        }
    }
    let wrong: Vec<(usize, usize)> = accepted
        .iter()
        .enumerate()
        .filter(|&(_, &count)| count != 1)
        .map(|(n, &count)| (n, count))
        .collect();
    assert!(
        wrong.is_empty(),
        "(proof, acceptances) not exactly once: {wrong:?}"
    );

    // Both instances wrote to the one server: one key per proof.
    let keys: usize = redis::cmd("DBSIZE")
        .query_async(&mut plain(&server).await)
        .await
        .expect("DBSIZE");
    assert_eq!(keys, PROOFS);
}

#[tokio::test]
async fn atk_36_replay_across_instances_a_proof_one_accepted_is_a_replay_at_the_other() {
    let server = RedisServer::start();
    let issuer = TestIssuer::start().await.expect("test issuer");
    let timeout = Duration::from_secs(10);
    let first = redis_instance(&issuer, &server, timeout).await;
    let second = redis_instance(&issuer, &server, timeout).await;
    let client = DpopKey::generate(Algorithm::ES256);
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof(&Method::GET, ORDERS).token(&token).sign();

    assert_eq!(send(&first, &token, &proof).await, Ok(()));
    for gate in [&second, &first] {
        let replayed = send(gate, &token, &proof).await.unwrap_err();
        assert_eq!(replayed.code(), "dpop_proof_replayed");
    }
    // The attack the shared store stops: an instance with only its embedded store has never
    // seen the proof and would accept it.
    let alone = instance(&issuer, MemoryReplayStore::default());
    assert_eq!(send(&alone, &token, &proof).await, Ok(()));
}

#[tokio::test]
async fn atk_36_replay_across_instances_without_redis_nothing_is_accepted() {
    let mut server = RedisServer::start();
    let issuer = TestIssuer::start().await.expect("test issuer");
    let timeout = Duration::from_millis(300);
    let first = redis_instance(&issuer, &server, timeout).await;
    let second = redis_instance(&issuer, &server, timeout).await;
    let client = DpopKey::generate(Algorithm::ES256);
    let token = issuer.token().bound_to(&client).sign();
    let used = client.proof(&Method::GET, ORDERS).token(&token).sign();
    assert_eq!(send(&first, &token, &used).await, Ok(()));

    // Killed: its port is closed. A new proof, and a replay of the accepted one, at either
    // instance: refused as temporarily unavailable (503 with Retry-After), never accepted.
    server.kill();
    let fresh = client.proof(&Method::GET, ORDERS).token(&token).sign();
    for (gate, proof) in [(&first, &fresh), (&second, &fresh), (&second, &used)] {
        let refused = send(gate, &token, proof).await.unwrap_err();
        assert_eq!(refused.code(), "replay_store_unavailable");
        assert_eq!(refused.class(), ErrorClass::TemporarilyUnavailable);
        assert_eq!(refused.class().status(), StatusCode::SERVICE_UNAVAILABLE);
        let Rejection::ReplayStoreUnavailable { retry_after } = refused else {
            unreachable!("the code says so")
        };
        assert!(!retry_after.is_zero());
    }
}
