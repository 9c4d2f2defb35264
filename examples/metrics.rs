//! tokengate's metrics in the Prometheus text format, served at `/metrics` beside a protected
//! API: the example drives the API with good and bad tokens, fetches `/metrics` over HTTP,
//! prints tokengate's series and checks the figures against the requests it sent.
//!
//! ```sh
//! cargo run --example metrics --features metrics
//! ```
//!
//! Any exporter of the `metrics` facade works the same way (OpenTelemetry, StatsD, ...): install
//! it at start-up; tokengate records into whichever recorder is installed.

use std::collections::BTreeMap;
use std::error::Error;

use axum::routing::get;
use axum::{Router, extract::State};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokengate::testing::TestIssuer;
use tokengate::{RequireLayer, Requirement, TokenLayer};

async fn orders() -> &'static str {
    "orders"
}

async fn scrape(State(handle): State<PrometheusHandle>) -> String {
    handle.render()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. The exporter, first: tokengate records into the recorder installed when it records.
    //    Buckets (seconds) make the latency a Prometheus histogram rather than a summary.
    let handle = PrometheusBuilder::new()
        .set_buckets(&[1e-6, 5e-6, 2e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0])?
        .install_recorder()?;

    // 2. An issuer (the test issuer on 127.0.0.1) and the API: /orders behind tokengate,
    //    /metrics beside it, unprotected (put it on an internal port in production).
    let issuer = TestIssuer::start().await?;
    let gate = issuer.gate();
    gate.warm_up().await?;
    let api = Router::new()
        .route("/orders", get(orders))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read"))?)
        .layer(TokenLayer::new(gate));
    let app = api.merge(
        Router::new()
            .route("/metrics", get(scrape))
            .with_state(handle),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // 3. Traffic: one good token three times (verified once, then two cache hits), and bad
    //    requests of several kinds.
    let good = issuer.token().scope("orders.read").sign();
    let forged = issuer.token().scope("orders.read").tampered().sign();
    let requests: Vec<(Option<String>, u16)> = vec![
        (Some(good.clone()), 200),
        (Some(good.clone()), 200),
        (Some(good), 200),
        (Some(forged.clone()), 401),
        (Some(forged), 401),
        (
            Some(issuer.token().scope("orders.read").expired().sign()),
            401,
        ),
        (Some(issuer.token().scope("profile").sign()), 403),
        (None, 401),
    ];
    let client = reqwest::Client::new();
    for (token, expected) in requests {
        let mut request = client.get(format!("http://{address}/orders"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request.send().await?.status().as_u16();
        if status != expected {
            return Err(format!("expected {expected}, got {status}").into());
        }
    }

    // 4. What Prometheus would scrape.
    let text = client
        .get(format!("http://{address}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    server.abort();
    println!("tokengate's series at /metrics:\n");
    for line in text.lines().filter(|line| line.starts_with("tokengate_")) {
        println!("  {line}");
    }

    // 5. The figures the traffic must have produced.
    let series = parse(&text);
    let iss = issuer.issuer();
    let checks: Vec<Check> = vec![
        (
            "tokengate_validations_total",
            vec![("issuer", iss), ("outcome", "accepted"), ("code", "ok")],
            4.0, // three good requests, and the unscoped token (the route refuses it)
        ),
        (
            "tokengate_validations_total",
            vec![("code", "invalid_signature")],
            2.0,
        ),
        (
            "tokengate_validations_total",
            vec![("code", "token_expired")],
            1.0,
        ),
        (
            "tokengate_token_cache_lookups_total",
            vec![("result", "hit")],
            2.0,
        ),
        (
            "tokengate_token_cache_lookups_total",
            vec![("result", "miss")],
            5.0,
        ),
        (
            "tokengate_refusals_total",
            vec![
                ("code", "missing_token"),
                ("status", "401"),
                ("form", "http"),
            ],
            1.0,
        ),
        (
            "tokengate_refusals_total",
            vec![("code", "insufficient_scope"), ("status", "403")],
            1.0,
        ),
        ("tokengate_refusals_total", vec![], 5.0),
        (
            "tokengate_signals_total",
            vec![("signal", "forged_signature")],
            2.0,
        ),
        (
            "tokengate_key_refreshes_total",
            vec![("issuer", iss), ("cause", "warm_up"), ("result", "ok")],
            1.0,
        ),
        ("tokengate_keys", vec![("issuer", iss)], 1.0),
        ("tokengate_validation_duration_seconds_count", vec![], 7.0),
    ];
    let mut wrong = 0;
    println!();
    for (name, labels, expected) in checks {
        let got = sum(&series, name, &labels);
        let mark = if got == expected { "ok" } else { "WRONG" };
        println!("{mark:<6} {name} {labels:?} = {got} (expected {expected})");
        if got != expected {
            wrong += 1;
        }
    }
    if wrong > 0 {
        return Err(format!("{wrong} figures differ from the traffic sent").into());
    }
    println!("\nEvery figure matches the requests sent.");
    Ok(())
}

/// A figure to check: the metric, labels its series must have, the sum expected.
type Check<'a> = (&'a str, Vec<(&'a str, &'a str)>, f64);

/// One series of the text format: name, labels, value.
type Series = (String, BTreeMap<String, String>, f64);

/// The samples of a Prometheus text exposition (no escapes in tokengate's label values).
fn parse(text: &str) -> Vec<Series> {
    let mut series = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((head, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (head, ""),
        };
        let labels = labels
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        series.push((name.to_owned(), labels, value));
    }
    series
}

/// The sum of the samples of `name` whose labels include `labels`.
fn sum(series: &[Series], name: &str, labels: &[(&str, &str)]) -> f64 {
    series
        .iter()
        .filter(|(n, found, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| found.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, value)| value)
        .sum()
}
