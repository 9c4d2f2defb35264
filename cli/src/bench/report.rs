//! The results of a run: merged from the workers, printed for people or as JSON.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::Plan;
use super::tokens::Token;
use super::worker::{Report, histogram};
use crate::fail::Failure;
use crate::show::grouped;

/// The default capacity of the verified-token cache (`TokenCacheSettings::default()`).
const CACHE_CAPACITY: usize = 10_000;

/// The percentiles reported.
pub const QUANTILES: [(f64, &str); 4] = [
    (0.50, "p50"),
    (0.90, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
];

pub fn per_second(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)).round() as u64
}

/// A whole run.
pub struct Results {
    pub requests: u64,
    pub valid_requests: u64,
    pub wrong: u64,
    pub first_wrong: String,
    pub elapsed: Duration,
    pub histogram: Histogram<u64>,
    pub per_thread: Vec<u64>,
    /// Distinct valid tokens sent at least once.
    pub valid_seen: u64,
    pub mean_token_bytes: usize,
}

impl Results {
    pub fn merge(
        plan: &Plan,
        tokens: &[Token],
        reports: &[Report],
        elapsed: Duration,
    ) -> Result<Results, Failure> {
        let mut merged = histogram();
        let mut seen = vec![false; tokens.len()];
        for report in reports {
            merged
                .add(&report.histogram)
                .map_err(|_| Failure::undecided("merging the latency histograms failed"))?;
            for (all, one) in seen.iter_mut().zip(&report.seen) {
                *all |= *one;
            }
        }
        let first_wrong = reports
            .iter()
            .find_map(|r| r.first_wrong.as_ref())
            .map(|(i, got)| {
                let token = &tokens[*i];
                format!(
                    "token #{i} ({}, expected {:?}): {got}",
                    token.alg.name(),
                    token.expect
                )
            })
            .unwrap_or_default();
        Ok(Results {
            requests: reports.iter().map(|r| r.requests).sum(),
            valid_requests: reports.iter().map(|r| r.valid_requests).sum(),
            wrong: reports.iter().map(|r| r.wrong).sum(),
            first_wrong,
            elapsed,
            histogram: merged,
            per_thread: reports
                .iter()
                .map(|r| per_second(r.requests, r.elapsed))
                .collect(),
            valid_seen: seen[..plan.distinct_tokens].iter().filter(|s| **s).count() as u64,
            mean_token_bytes: tokens.iter().map(|t| t.text.len()).sum::<usize>()
                / tokens.len().max(1),
        })
    }

    /// Microseconds at quantile `q`.
    fn micros(&self, q: f64) -> f64 {
        self.histogram.value_at_quantile(q) as f64 / 1e3
    }

    /// Cache hits implied by distinct tokens against requests: each valid token is verified on
    /// its first use and answered from the cache after, while it fits.
    fn implied_hits(&self, plan: &Plan) -> u64 {
        if !plan.cache {
            return 0;
        }
        let after_first = self.valid_requests.saturating_sub(self.valid_seen);
        if plan.distinct_tokens <= CACHE_CAPACITY {
            after_first
        } else {
            let fit = CACHE_CAPACITY as f64 / plan.distinct_tokens as f64;
            after_first.min((self.valid_requests as f64 * fit) as u64)
        }
    }

    pub fn print(&self, plan: &Plan) {
        let algorithms: Vec<&str> = plan.algorithms.iter().map(|a| a.name()).collect();
        println!("configuration");
        println!(
            "  tokens        {} valid + {} invalid (half tampered, half expired), {}, mean {} bytes",
            grouped(plan.distinct_tokens as u64),
            grouped(plan.invalid_tokens as u64),
            algorithms.join(" + "),
            self.mean_token_bytes
        );
        println!(
            "  token cache   {}",
            if plan.cache {
                "on (10,000 entries)"
            } else {
                "off (--no-cache)"
            }
        );
        println!(
            "  threads       {}, {:.1} s{}",
            plan.threads,
            plan.duration.as_secs_f64(),
            if cfg!(debug_assertions) {
                ", DEBUG BUILD"
            } else {
                ""
            }
        );
        println!("results");
        println!(
            "  requests      {} in {:.2} s, {} wrong answers",
            grouped(self.requests),
            self.elapsed.as_secs_f64(),
            grouped(self.wrong)
        );
        let per_thread: Vec<String> = self.per_thread.iter().map(|n| grouped(*n)).collect();
        println!(
            "  throughput    {} req/s (per thread: {})",
            grouped(per_second(self.requests, self.elapsed)),
            per_thread.join(", ")
        );
        let mut latency = String::new();
        for (q, name) in QUANTILES {
            latency.push_str(&format!("{name} {:.2}   ", self.micros(q)));
        }
        println!(
            "  latency (µs)  {latency}max {:.2}",
            self.histogram.max() as f64 / 1e3
        );
        let hits = self.implied_hits(plan);
        println!(
            "  cache hits    about {} ({:.1}% of valid requests; invalid tokens are never cached)",
            grouped(hits),
            100.0 * hits as f64 / self.valid_requests.max(1) as f64
        );
    }

    pub fn json(&self, plan: &Plan) -> Value {
        let mut latency = serde_json::Map::new();
        for (q, name) in QUANTILES {
            latency.insert(name.replace('.', "_"), json!(self.micros(q)));
        }
        latency.insert("max".into(), json!(self.histogram.max() as f64 / 1e3));
        latency.insert("mean".into(), json!(self.histogram.mean() / 1e3));
        json!({
            "algorithms": plan.algorithms.iter().map(|a| a.name()).collect::<Vec<_>>(),
            "threads": plan.threads,
            "seconds": self.elapsed.as_secs_f64(),
            "distinct_tokens": plan.distinct_tokens,
            "invalid_tokens": plan.invalid_tokens,
            "cache": plan.cache,
            "debug_build": cfg!(debug_assertions),
            "requests": self.requests,
            "valid_requests": self.valid_requests,
            "wrong_answers": self.wrong,
            "requests_per_second": per_second(self.requests, self.elapsed),
            "per_thread_requests_per_second": self.per_thread,
            "implied_cache_hits": self.implied_hits(plan),
            "latency_us": latency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_per_second() {
        assert_eq!(per_second(500, Duration::from_millis(250)), 2000);
        assert_eq!(per_second(0, Duration::ZERO), 0);
    }
}
