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

use std::fmt::Write as _;
use std::future::Future;
use std::io::{IsTerminal, Write as _};
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use hdrhistogram::Histogram;
use http::{Request, StatusCode};
use tokengate::testing::TestIssuer;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings, TokenLayer};
use tower::ServiceExt;

const USAGE: &str = "\
Throughput of tokengate's token validation (build with --release).

usage: cargo run --release --example throughput -- [options]

options:
  --alg LIST              signature algorithms of the tokens, comma-separated, mixed evenly:
                          rs256, ps256, es256, eddsa (or any other JWA name tokengate
                          supports)                                          [rs256]
  --threads N             worker threads                         [available parallelism]
  --distinct-tokens N     distinct valid tokens (each with its own jti)          [1000]
  --seconds S             how long to run (decimals allowed)                       [10]
  --invalid-share F       share of invalid tokens in the list, 0 <= F < 1: half with a
                          tampered signature, half expired                          [0]
  --no-cache              turn the verified-token cache off (TokenCacheSettings::disabled())
  --layer                 one GET through an axum Router + TokenLayer        [default]
  --gate                  Gate::validate alone
  -h, --help              this text";

/// The default capacity of the verified-token cache (`TokenCacheSettings::default()`).
const CACHE_CAPACITY: usize = 10_000;

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// One GET through an axum `Router` wrapped in `TokenLayer`.
    Layer,
    /// `Gate::validate` alone.
    Gate,
}

/// The command line.
#[derive(Debug)]
struct Options {
    algorithms: Vec<Algorithm>,
    threads: usize,
    distinct_tokens: usize,
    seconds: f64,
    invalid_share: f64,
    cache: bool,
    mode: Mode,
}

impl Options {
    /// Parses the arguments (without the program name); `Ok(None)` for `--help`.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut options = Options {
            algorithms: vec![Algorithm::RS256],
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            distinct_tokens: 1000,
            seconds: 10.0,
            invalid_share: 0.0,
            cache: true,
            mode: Mode::Layer,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // `--name value` and `--name=value` alike.
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = |what: &str| -> Result<String, String> {
                match inline {
                    Some(value) => Ok(value.to_owned()),
                    None => args.next().ok_or_else(|| format!("{name} needs {what}")),
                }
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(None),
                "--alg" => options.algorithms = parse_algorithms(&value("a list of algorithms")?)?,
                "--threads" => {
                    options.threads = parse_count(&name, &value("a number of threads")?)?;
                }
                "--distinct-tokens" => {
                    options.distinct_tokens = parse_count(&name, &value("a number of tokens")?)?;
                }
                "--seconds" => {
                    let text = value("a duration in seconds")?;
                    options.seconds = match text.parse::<f64>() {
                        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => s,
                        _ => return Err(format!("--seconds {text:?}: not in (0, 86400]")),
                    };
                }
                "--invalid-share" => {
                    let text = value("a share between 0 and 1")?;
                    options.invalid_share = match text.parse::<f64>() {
                        Ok(share) if (0.0..1.0).contains(&share) => share,
                        _ => return Err(format!("--invalid-share {text:?}: not in [0, 1)")),
                    };
                }
                "--no-cache" | "--layer" | "--gate" if inline.is_some() => {
                    return Err(format!("{name} takes no value"));
                }
                "--no-cache" => options.cache = false,
                "--layer" => options.mode = Mode::Layer,
                "--gate" => options.mode = Mode::Gate,
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(Some(options))
    }

    /// How many invalid tokens join the `distinct_tokens` valid ones, so that they make up
    /// `invalid_share` of the list.
    fn invalid_tokens(&self) -> usize {
        let share = self.invalid_share;
        (self.distinct_tokens as f64 * share / (1.0 - share)).round() as usize
    }
}

fn parse_algorithms(list: &str) -> Result<Vec<Algorithm>, String> {
    let mut algorithms = Vec::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let alg = Algorithm::ALL
            .iter()
            .copied()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("--alg: unknown algorithm {name:?}"))?;
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    if algorithms.is_empty() {
        return Err("--alg: no algorithm given".into());
    }
    Ok(algorithms)
}

fn parse_count(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name} {text:?}: not a whole number from 1 to 10,000,000"
        )),
    }
}

/// The answer a token must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Valid,
    /// Refused, with this rejection code (`--gate`) or 401 (`--layer`).
    Refused(&'static str),
}

struct Token {
    /// `Bearer <token>`.
    authorization: String,
    alg: Algorithm,
    expect: Expect,
}

impl Token {
    fn text(&self) -> &str {
        &self.authorization["Bearer ".len()..]
    }
}

/// Mints the tokens and builds the gate for the test issuer's keys (given statically).
fn setup(options: &Options) -> Result<(Gate, Vec<Token>), Box<dyn std::error::Error>> {
    // The test issuer serves its keys on a runtime; the gate gets them as text, and the
    // runtime is gone before the measurement starts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let issuer = runtime.block_on(TestIssuer::with_algorithms(
        options.algorithms.iter().copied(),
    ))?;

    let profile = IssuerProfile::new(issuer.issuer())
        .audience(issuer.audience())
        .algorithms(options.algorithms.iter().copied())
        .jwks(issuer.jwks());
    let mut builder = Gate::builder().issuer(profile);
    if !options.cache {
        builder = builder.token_cache(TokenCacheSettings::disabled());
    }
    let gate = builder.build()?;

    // Signing is slow for RSA (about a millisecond a token): mint on every core.
    let valid = options.distinct_tokens;
    let total = valid + options.invalid_tokens();
    let minters = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total);
    let algorithms = &options.algorithms;
    let mint = |i: usize| {
        let alg = algorithms[i % algorithms.len()];
        let builder = issuer.token().alg(alg).scope("orders.read");
        let (builder, expect) = match i.checked_sub(valid) {
            None => (builder, Expect::Valid),
            Some(j) if j.is_multiple_of(2) => {
                (builder.tampered(), Expect::Refused("invalid_signature"))
            }
            Some(_) => (builder.expired(), Expect::Refused("token_expired")),
        };
        Token {
            authorization: format!("Bearer {}", builder.sign()),
            alg,
            expect,
        }
    };
    let mut tokens: Vec<(usize, Token)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..minters)
            .map(|m| {
                let mint = &mint;
                scope.spawn(move || {
                    (m..total)
                        .step_by(minters)
                        .map(|i| (i, mint(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("minting a token panicked"))
            .collect()
    });
    tokens.sort_unstable_by_key(|(i, _)| *i);
    drop(issuer);
    drop(runtime);
    Ok((gate, tokens.into_iter().map(|(_, token)| token).collect()))
}

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
enum Target {
    Layer(Router),
    Gate(Gate),
}

impl Target {
    /// Sends one token; `Ok(())` if the answer is the expected one, else what came back.
    fn check(&self, token: &Token) -> Result<(), String> {
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
struct Counter(AtomicU64);

/// What one worker thread did.
struct WorkerReport {
    requests: u64,
    valid_requests: u64,
    elapsed: Duration,
    histogram: Histogram<u64>,
    /// Which tokens were sent at least once.
    seen: Vec<bool>,
    wrong: u64,
    /// The first wrong answer: token index, expected, got.
    first_wrong: Option<(usize, Expect, String)>,
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

fn worker(
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
