//! What the benchmarks share: alternating rounds and their paired medians, and criterion's
//! median of a benchmark this run measured.

use std::path::PathBuf;
use std::time::Instant;

/// Seconds per call of each of `runs`, in `rounds` rounds of `per_batch` calls each, the runs
/// alternating within each round, so that a machine's drift touches every run alike.
pub fn alternate(rounds: usize, per_batch: usize, runs: &[&dyn Fn()]) -> Vec<Vec<f64>> {
    (0..rounds)
        .map(|_| {
            runs.iter()
                .map(|run| {
                    let start = Instant::now();
                    for _ in 0..per_batch {
                        run();
                    }
                    start.elapsed().as_secs_f64() / per_batch as f64
                })
                .collect()
        })
        .collect()
}

/// The median over rounds of `ratio` of one round's times.
pub fn median_of(rounds: &[Vec<f64>], ratio: impl Fn(&[f64]) -> f64) -> f64 {
    let mut ratios: Vec<f64> = rounds.iter().map(|round| ratio(round)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Criterion's median (nanoseconds) for the benchmark `group/function` of this run, read from
/// its `estimates.json` under the workspace's target directory.
pub fn criterion_median(group: &str, function: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}
