//! The worker threads: how they pick tokens, time each validation, and what they report.

use std::future::Future;
use std::pin::pin;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokengate::Gate;

use super::tokens::{Expect, Token};

/// 1 ns to 60 s at three significant digits: every latency a run can see.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant, valid bounds")
}

/// A per-thread request counter, alone on its cache line so that threads never contend.
#[repr(align(128))]
#[derive(Default)]
pub struct Counter(pub AtomicU64);

/// What one worker did.
pub struct Report {
    pub requests: u64,
    pub valid_requests: u64,
    pub elapsed: Duration,
    pub histogram: Histogram<u64>,
    /// Which tokens were sent at least once.
    pub seen: Vec<bool>,
    pub wrong: u64,
    /// The first wrong answer: token index, and what came back.
    pub first_wrong: Option<(usize, String)>,
}

/// Polls a validation once: with keys given as text, it never waits. `None` if it did.
fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// One validation: `Ok(())` if the answer is the expected one, else what came back.
fn check(gate: &Gate, token: &Token) -> Result<(), String> {
    match (now_or_never(gate.validate(&token.text)), token.expect) {
        (None, _) => Err("validation waited, which it never does with configured keys".into()),
        (Some(Ok(_)), Expect::Valid) => Ok(()),
        (Some(Err(rejection)), Expect::Refused(code)) if rejection.code() == code => Ok(()),
        (Some(Ok(_)), Expect::Refused(code)) => Err(format!("accepted, expected {code}")),
        (Some(Err(rejection)), _) => Err(format!("refused with {}", rejection.code())),
    }
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
        // Multiply-shift: uniform enough for a token list, and no division.
        ((u128::from(z) * n as u128) >> 64) as usize
    }
}

pub fn worker(
    index: usize,
    gate: &Gate,
    tokens: &[Token],
    start: &Barrier,
    stop: &AtomicBool,
    counter: &Counter,
) -> Report {
    let mut histogram = histogram();
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
        let answer = check(gate, token);
        let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
        histogram.saturating_record(nanos.max(1));
        if let Err(got) = answer {
            wrong += 1;
            first_wrong.get_or_insert((i, got));
        }
        seen[i] = true;
        valid_requests += u64::from(token.expect == Expect::Valid);
        requests += 1;
        counter.0.store(requests, Ordering::Relaxed);
    }
    Report {
        requests,
        valid_requests,
        elapsed: began.elapsed(),
        histogram,
        seen,
        wrong,
        first_wrong,
    }
}
