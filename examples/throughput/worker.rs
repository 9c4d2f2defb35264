//! The worker threads: what they send requests to, how they pick tokens, and what they report.

use std::future::Future;
use std::pin::pin;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hdrhistogram::Histogram;
use http::{Request, StatusCode};
use tokengate::Gate;
use tower::ServiceExt;

use super::tokens::{Expect, Token};

/// Polls a future once: with static keys, validation never waits.
fn now_or_never<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("validation waited, which it never does with static keys"),
    }
}

/// What the service under test answers one request with.
pub(crate) enum Target {
    Layer(Router),
    Gate(Gate),
}

impl Target {
    /// Sends one token; `Ok(())` if the answer is the expected one, else what came back.
    pub(crate) fn check(&self, token: &Token) -> Result<(), String> {
        match self {
            Target::Layer(router) => {
                let request = Request::get("/orders")
                    .header("authorization", token.authorization.as_str())
                    .body(Body::empty())
                    .expect("a well-formed request");
                let response = now_or_never(router.clone().oneshot(request))
                    .unwrap_or_else(|never| match never {});
                let expected = match token.expect {
                    Expect::Valid => StatusCode::OK,
                    Expect::Refused(_) => StatusCode::UNAUTHORIZED,
                };
                if response.status() == expected {
                    Ok(())
                } else {
                    Err(format!("status {}", response.status()))
                }
            }
            Target::Gate(gate) => match (now_or_never(gate.validate(token.text())), token.expect) {
                (Ok(_), Expect::Valid) => Ok(()),
                (Err(rejection), Expect::Refused(code)) if rejection.code() == code => Ok(()),
                (Ok(_), _) => Err("accepted".into()),
                (Err(rejection), _) => Err(format!("refused with {}", rejection.code())),
            },
        }
    }
}

/// A per-thread request counter, alone on its cache line so that threads never contend.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Counter(pub(crate) AtomicU64);

/// What one worker thread did.
pub(crate) struct WorkerReport {
    pub(crate) requests: u64,
    pub(crate) valid_requests: u64,
    pub(crate) elapsed: Duration,
    pub(crate) histogram: Histogram<u64>,
    /// Which tokens were sent at least once.
    pub(crate) seen: Vec<bool>,
    pub(crate) wrong: u64,
    /// The first wrong answer: token index, expected, got.
    pub(crate) first_wrong: Option<(usize, Expect, String)>,
}

/// SplitMix64: a small, fast, well-mixed sequence; each thread has its own.
struct Picker(u64);

impl Picker {
    fn next_below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // Lemire's multiply-shift: uniform enough for a token list, and no division.
        ((u128::from(z) * n as u128) >> 64) as usize
    }
}

pub(crate) fn worker(
    index: usize,
    target: &Target,
    tokens: &[Token],
    start: &Barrier,
    stop: &AtomicBool,
    counter: &Counter,
) -> WorkerReport {
    // 1 ns to 60 s, three significant digits.
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let mut picker = Picker(0x5eed_0000 + index as u64);
    let mut seen = vec![false; tokens.len()];
    let (mut requests, mut valid_requests, mut wrong) = (0u64, 0u64, 0u64);
    let mut first_wrong = None;
    start.wait();
    let began = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let i = picker.next_below(tokens.len());
        let token = &tokens[i];
        let sent = Instant::now();
        let answer = target.check(token);
        let nanos = sent.elapsed().as_nanos();
        histogram.saturating_record(u64::try_from(nanos).unwrap_or(u64::MAX));
        if let Err(got) = answer {
            wrong += 1;
            first_wrong.get_or_insert((i, token.expect, got));
        }
        seen[i] = true;
        valid_requests += u64::from(token.expect == Expect::Valid);
        requests += 1;
        counter.0.store(requests, Ordering::Relaxed);
    }
    WorkerReport {
        requests,
        valid_requests,
        elapsed: began.elapsed(),
        histogram,
        seen,
        wrong,
        first_wrong,
    }
}
