//! `tokengate bench`: a short run, its JSON and its chart.

mod common;

use common::tokengate;
use predicates::str::contains;

#[test]
fn a_short_run_reports_percentiles_and_writes_a_chart() {
    let svg = std::env::temp_dir().join(format!("tokengate-cli-bench-{}.svg", std::process::id()));
    let output = tokengate()
        .args([
            "bench",
            "--seconds",
            "0.3",
            "--threads",
            "1",
            "--distinct-tokens",
            "8",
        ])
        .args([
            "--alg",
            "ES256,EdDSA",
            "--invalid-share",
            "0.2",
            "--json",
            "--svg",
        ])
        .arg(&svg)
        .output()
        .expect("it runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(results["wrong_answers"], 0);
    assert_eq!(results["invalid_tokens"], 2);
    assert!(results["requests"].as_u64().is_some_and(|n| n > 0));
    assert!(results["valid_requests"].as_u64() < results["requests"].as_u64());
    let latency = &results["latency_us"];
    for name in ["p50", "p90", "p99", "p99_9", "max"] {
        assert!(latency[name].as_f64().is_some_and(|v| v > 0.0), "{name}");
    }
    assert!(latency["p50"].as_f64() <= latency["max"].as_f64());
    let chart = std::fs::read_to_string(&svg).expect("the chart");
    assert!(chart.starts_with("<svg") && chart.contains("<polyline"));
    let _ = std::fs::remove_file(svg);
}

#[test]
fn the_readable_report_names_the_percentiles() {
    tokengate()
        .args([
            "bench",
            "--seconds",
            "0.2",
            "--threads",
            "1",
            "--distinct-tokens",
            "4",
            "--quiet",
        ])
        .assert()
        .code(0)
        .stdout(contains("throughput"))
        .stdout(contains("p99.9"));
}

#[test]
fn bad_options_exit_2() {
    for args in [
        ["--invalid-share", "1"],
        ["--alg", "HS256"],
        ["--seconds", "-1"],
        ["--threads", "0"],
    ] {
        tokengate().arg("bench").args(args).assert().code(2);
    }
}
