//! `tokengate bench`: validation throughput and latency on this machine. A test issuer in this
//! process signs the tokens and hands its keys to the gate as text, so nothing touches the
//! network; worker threads send tokens, picked at random from a shared list, to
//! `Gate::validate` until the time is up. Every answer is checked.

mod report;
mod svg;
mod tokens;
mod worker;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::BenchArgs;
use crate::fail::{Failure, REFUSED};
use crate::input;

use self::report::Results;
use self::worker::{Counter, worker};

/// What to run, checked.
pub struct Plan {
    pub algorithms: Vec<tokengate::Algorithm>,
    pub threads: usize,
    pub distinct_tokens: usize,
    pub invalid_tokens: usize,
    pub duration: Duration,
    pub cache: bool,
}

fn plan(args: &BenchArgs) -> Result<Plan, Failure> {
    let algorithms = input::algorithms(&args.alg)?;
    let threads = args
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
    if !(1..=256).contains(&threads) {
        return Err(Failure::undecided("--threads must be from 1 to 256"));
    }
    if !(1..=1_000_000).contains(&args.distinct_tokens) {
        return Err(Failure::undecided(
            "--distinct-tokens must be from 1 to 1,000,000",
        ));
    }
    // At most 0.9: nine invalid tokens for each valid one, so that their number stays bounded.
    if !(0.0..=0.9).contains(&args.invalid_share) {
        return Err(Failure::undecided(
            "--invalid-share must be from 0 to 0.9, such as 0.1",
        ));
    }
    let duration = input::seconds(args.seconds, "--seconds")?;
    // invalid / (valid + invalid) = share
    let share = args.invalid_share;
    let invalid_tokens = (args.distinct_tokens as f64 * share / (1.0 - share)).round() as usize;
    Ok(Plan {
        algorithms,
        threads,
        distinct_tokens: args.distinct_tokens,
        invalid_tokens,
        duration,
        cache: !args.no_cache,
    })
}

/// Runs the command: exit 0, or 1 if any answer was wrong.
pub fn run(args: &BenchArgs) -> Result<ExitCode, Failure> {
    let plan = plan(args)?;
    if cfg!(debug_assertions) && !args.quiet {
        eprintln!(
            "warning: a debug build; measure with a release build (cargo install --path cli)"
        );
    }
    let minting = Instant::now();
    let (gate, tokens) = tokens::setup(&plan)?;
    if !args.quiet && !args.json {
        eprintln!(
            "minted {} tokens in {:.1} s",
            tokens.len(),
            minting.elapsed().as_secs_f64()
        );
    }

    let counters: Vec<Counter> = (0..plan.threads).map(|_| Counter::default()).collect();
    let start = Barrier::new(plan.threads + 1);
    let stop = AtomicBool::new(false);
    let bar = progress(args, plan.duration);
    let (reports, elapsed) = thread::scope(|scope| {
        let handles: Vec<_> = counters
            .iter()
            .enumerate()
            .map(|(index, counter)| {
                let (gate, tokens, start, stop) = (&gate, &tokens, &start, &stop);
                scope.spawn(move || worker(index, gate, tokens, start, stop, counter))
            })
            .collect();
        start.wait();
        let began = Instant::now();
        while began.elapsed() < plan.duration {
            thread::sleep(Duration::from_millis(100).min(plan.duration));
            let count: u64 = counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
            let elapsed = began.elapsed();
            bar.set_position(elapsed.as_millis().min(u128::from(u64::MAX)) as u64);
            bar.set_message(format!(
                "{} requests, {} req/s",
                crate::show::grouped(count),
                crate::show::grouped(report::per_second(count, elapsed))
            ));
        }
        stop.store(true, Ordering::Relaxed);
        let elapsed = began.elapsed();
        // A worker that panicked has no report; its share of the run is simply missing.
        let reports: Vec<_> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (reports, elapsed)
    });
    bar.finish_and_clear();

    let results = Results::merge(&plan, &tokens, &reports, elapsed)?;
    if args.json {
        println!("{}", results.json(&plan));
    } else {
        results.print(&plan);
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, svg::chart(&results.histogram, &plan)).map_err(|error| {
            Failure::undecided(format!(
                "cannot write the chart to {} ({error}); choose a writable path",
                path.display()
            ))
        })?;
    }
    if results.wrong > 0 {
        eprintln!(
            "error: {} wrong answers: {}",
            results.wrong, results.first_wrong
        );
        return Ok(ExitCode::from(REFUSED));
    }
    Ok(ExitCode::SUCCESS)
}

/// A bar over the run's duration; hidden with `--quiet`, `--json`, or when stderr is not a
/// terminal.
fn progress(args: &BenchArgs, duration: Duration) -> ProgressBar {
    if args.quiet || args.json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(duration.as_millis().min(u128::from(u64::MAX)) as u64),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {elapsed:>4} {msg}") {
        bar.set_style(style);
    }
    bar
}
