//! Throughput of token validation: how many requests per second tokengate answers on this
//! machine, and how long each one takes.
//!
//! ```text
//! cargo run --release --example throughput -- --alg rs256 --threads 2 --distinct-tokens 1000 --seconds 10
//! cargo run --release --example throughput -- --alg rs256,es256 --invalid-share 0.1 --no-cache --gate
//! cargo run --release --example throughput -- --help
//! ```
//!
//! A test issuer (`tokengate::testing::TestIssuer`) generates the keys and mints the tokens;
//! the gate is configured with its JWK Set statically, so nothing touches the network. Worker
//! threads (plain `std::thread`s) pick tokens pseudo-randomly from the shared list and send
//! each one through:
//!
//! * `--layer` (the default): one `GET /orders` through an axum `Router` wrapped in
//!   `TokenLayer`, in-process (`tower::ServiceExt::oneshot`, polled once: with static keys
//!   nothing waits);
//! * `--gate`: `Gate::validate` alone.
//!
//! Every answer is checked (a valid token gets 200 or claims, an invalid one 401 or the
//! expected rejection code); any wrong answer is reported and the exit code is 1. Latency is
//! measured per request (including building the request) into one HDR histogram per thread,
//! merged at the end. Progress is printed once a second on stderr, the results on stdout.
//!
//! The verified-token cache is on, as it is by default: each distinct valid token is verified
//! once and answered from the cache afterwards, so `--distinct-tokens` against the number of
//! requests decides how much of the run is cache hits. `--no-cache` verifies every signature.
//! Invalid tokens are never cached.
//!
//! Build with `--release`: a debug build measures the compiler, not tokengate.

mod options;
mod tokens;
mod worker;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use hdrhistogram::Histogram;
use tokengate::TokenLayer;

use crate::options::{Mode, Options, USAGE};
use crate::tokens::setup;
use crate::worker::{Counter, Target, WorkerReport, worker};

/// The default capacity of the verified-token cache (`TokenCacheSettings::default()`).
const CACHE_CAPACITY: usize = 10_000;

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn per_second(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)).round() as u64
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("error: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; measure with `cargo run --release --example throughput`"
        );
    }

    let minting = Instant::now();
    let (gate, tokens) = match setup(&options) {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("error: setting up the test issuer and gate failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let invalid = tokens.len() - options.distinct_tokens;
    let mean_size = tokens.iter().map(|t| t.text().len()).sum::<usize>() / tokens.len();
    eprintln!(
        "minted {} tokens in {:.1} s",
        grouped(tokens.len() as u64),
        minting.elapsed().as_secs_f64()
    );

    let target = match options.mode {
        Mode::Layer => Target::Layer(
            Router::new()
                .route("/orders", get(|| async { "orders" }))
                .layer(TokenLayer::new(gate)),
        ),
        Mode::Gate => Target::Gate(gate),
    };
    let counters: Vec<Counter> = (0..options.threads).map(|_| Counter::default()).collect();
    let start = Barrier::new(options.threads + 1);
    let stop = AtomicBool::new(false);
    let duration = Duration::from_secs_f64(options.seconds);
    let tty = std::io::stderr().is_terminal();

    let (reports, elapsed) = thread::scope(|scope| {
        let handles: Vec<_> = counters
            .iter()
            .enumerate()
            .map(|(index, counter)| {
                let (target, tokens, start, stop) = (&target, &tokens, &start, &stop);
                thread::Builder::new()
                    .name(format!("worker-{index}"))
                    .spawn_scoped(scope, move || {
                        worker(index, target, tokens, start, stop, counter)
                    })
                    .expect("spawning a worker thread")
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let (mut last_count, mut last_time) = (0u64, began);
        let mut tick = 1u32;
        loop {
            let next = (began + Duration::from_secs(u64::from(tick))).min(began + duration);
            thread::sleep(next.saturating_duration_since(Instant::now()));
            let now = Instant::now();
            let count: u64 = counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
            let rate = per_second(count - last_count, now - last_time);
            let line = format!(
                "elapsed {:5.1} s   requests {:>13}   now {:>11} req/s",
                (now - began).as_secs_f64(),
                grouped(count),
                grouped(rate)
            );
            let mut err = std::io::stderr().lock();
            // One line, rewritten in place on a terminal; one line a second otherwise.
            let _ = if tty {
                write!(err, "\r{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
            (last_count, last_time) = (count, now);
            if now - began >= duration {
                break;
            }
            tick += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let elapsed = began.elapsed();
        if tty {
            eprintln!();
        }
        let reports: Vec<WorkerReport> = handles
            .into_iter()
            .map(|handle| handle.join().expect("a worker thread panicked"))
            .collect();
        (reports, elapsed)
    });

    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let mut seen = vec![false; tokens.len()];
    for report in &reports {
        histogram
            .add(&report.histogram)
            .expect("histograms with the same bounds merge");
        for (all, one) in seen.iter_mut().zip(&report.seen) {
            *all |= *one;
        }
    }
    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    let valid_requests: u64 = reports.iter().map(|r| r.valid_requests).sum();
    let wrong: u64 = reports.iter().map(|r| r.wrong).sum();
    let valid_seen = seen[..options.distinct_tokens]
        .iter()
        .filter(|s| **s)
        .count() as u64;

    // The configuration.
    let algorithms: Vec<&str> = options.algorithms.iter().map(|a| a.name()).collect();
    println!("configuration");
    println!(
        "  mode            {}",
        match options.mode {
            Mode::Layer => "--layer: one GET /orders through an axum Router + TokenLayer",
            Mode::Gate => "--gate: Gate::validate alone",
        }
    );
    println!(
        "  tokens          {} valid + {} invalid ({:.1}%: {} tampered signatures, {} expired), {}, mean {} bytes",
        grouped(options.distinct_tokens as u64),
        grouped(invalid as u64),
        100.0 * invalid as f64 / tokens.len() as f64,
        grouped(invalid.div_ceil(2) as u64),
        grouped((invalid / 2) as u64),
        algorithms.join(" + "),
        mean_size
    );
    println!(
        "  token cache     {}",
        if options.cache {
            "on (TokenCacheSettings::default(): 10,000 entries)"
        } else {
            "off (--no-cache: TokenCacheSettings::disabled())"
        }
    );
    println!(
        "  threads         {} (of {} available), {:.1} s{}",
        options.threads,
        thread::available_parallelism().map_or(1, |n| n.get()),
        options.seconds,
        if cfg!(debug_assertions) {
            ", DEBUG BUILD"
        } else {
            ""
        }
    );

    // The results.
    println!("results");
    println!(
        "  requests        {} in {:.2} s, {} wrong answers",
        grouped(requests),
        elapsed.as_secs_f64(),
        grouped(wrong)
    );
    let per_thread: Vec<String> = reports
        .iter()
        .map(|r| grouped(per_second(r.requests, r.elapsed)))
        .collect();
    println!(
        "  throughput      {} req/s   (per thread: {})",
        grouped(per_second(requests, elapsed)),
        per_thread.join(", ")
    );
    let micros = |q: f64| histogram.value_at_quantile(q) as f64 / 1e3;
    println!(
        "  latency (µs)    p50 {:.2}   p90 {:.2}   p99 {:.2}   p99.9 {:.2}   max {:.2}",
        micros(0.50),
        micros(0.90),
        micros(0.99),
        micros(0.999),
        histogram.max() as f64 / 1e3
    );
    let mut by_alg = String::new();
    for alg in &options.algorithms {
        let count = tokens.iter().filter(|t| t.alg == *alg).count();
        let separator = if by_alg.is_empty() { "" } else { ", " };
        let _ = write!(
            by_alg,
            "{separator}{}: {}",
            alg.name(),
            grouped(count as u64)
        );
    }
    println!("  tokens by alg   {by_alg}");

    // What the cache must have done, from the numbers of distinct tokens and requests.
    let invalid_requests = requests - valid_requests;
    println!("cache (implied by distinct tokens vs requests)");
    if !options.cache {
        println!(
            "  off: all {} requests verified a signature",
            grouped(requests)
        );
    } else if options.distinct_tokens <= CACHE_CAPACITY {
        let hits = valid_requests.saturating_sub(valid_seen);
        println!(
            "  {} valid requests over {} distinct valid tokens: each verified on its first use, \
             then answered from the cache",
            grouped(valid_requests),
            grouped(valid_seen)
        );
        println!(
            "  about {} hits ({:.2}% of valid requests; a little fewer if two threads raced on a \
             first use)",
            grouped(hits),
            100.0 * hits as f64 / valid_requests.max(1) as f64
        );
    } else {
        // Not before a token's first use, and no more than the share of tokens that fit.
        let fit = CACHE_CAPACITY as f64 / options.distinct_tokens as f64;
        let most = valid_requests
            .saturating_sub(valid_seen)
            .min((valid_requests as f64 * fit) as u64);
        println!(
            "  {} distinct valid tokens exceed the cache's {} entries: with uniform picks at most \
             {} of {} valid requests ({:.1}%) can have hit, the rest verified a signature",
            grouped(options.distinct_tokens as u64),
            grouped(CACHE_CAPACITY as u64),
            grouped(most),
            grouped(valid_requests),
            100.0 * most as f64 / valid_requests.max(1) as f64
        );
    }
    if invalid_requests > 0 {
        println!(
            "  {} requests with invalid tokens: never cached, each one fully checked",
            grouped(invalid_requests)
        );
    }

    if wrong > 0 {
        eprintln!("error: {} wrong answers", grouped(wrong));
        for report in &reports {
            if let Some((i, expect, got)) = &report.first_wrong {
                eprintln!(
                    "  token #{i} ({}, expected {expect:?}): {got}",
                    tokens[*i].alg.name()
                );
            }
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
