//! The verified-token cache: cost of a hit, allocations per request, memory per cached token,
//! and how throughput scales from one worker thread to two.
//!
//! `cargo bench --bench cache` prints criterion's medians, then a report:
//!
//! * cached and uncached `Gate::validate` per algorithm, beside the raw signature check;
//! * heap allocations (and bytes) per request: Gate cached and uncached, one GET through
//!   axum with the layer cached and uncached (added to the routes, and around the router),
//!   axum alone and with a no-op layer;
//! * the heap a gate holds after build and its first request;
//! * bytes per cached token, with the cache filled to its capacity;
//! * requests per second of cached requests through axum on 1 and 2 threads, and the ratio.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use http::Request;
use tokengate::testing::TestIssuer;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings, TokenLayer};
use tokengate_testkit::bench::{criterion_median, median_of};
use tokengate_testkit::entra_shape::{CLIENT, entra_claims, issuer};
use tokengate_testkit::{TestKey, jwks};
use tower::Layer;
use tower::ServiceExt;

fn now_or_never<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn gate(key: &TestKey, cache: TokenCacheSettings) -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(issuer())
                .audience(CLIENT)
                .algorithms([key.alg()])
                .jwks(jwks(&[key])),
        )
        .token_cache(cache)
        .build()
        .expect("benchmark gate")
}

/// `with_state(())` builds each route once, as `axum::serve` does for each connection
/// (without it, axum builds the matched route, layers included, on every request).
fn router(gate: Option<Gate>) -> Router {
    let router = Router::new().route("/orders", get(|| async { "orders" }));
    match gate {
        Some(gate) => router.layer(TokenLayer::new(gate)),
        None => router,
    }
    .with_state(())
}

/// The same routes with a layer that does nothing: what axum's `Router::layer` costs any
/// layer.
fn router_with_noop_layer() -> Router {
    Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(tower::util::MapRequestLayer::new(
            |request: Request<Body>| request,
        ))
        .with_state(())
}

fn call<S, B>(service: &S, authorization: &str) -> u16
where
    S: tower::Service<Request<Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    let request = Request::get("/orders")
        .header("authorization", authorization)
        .body(Body::empty())
        .unwrap();
    now_or_never(service.clone().oneshot(request))
        .unwrap()
        .status()
        .as_u16()
}

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

fn bench(c: &mut Criterion) {
    for alg in ALGORITHMS {
        let key = TestKey::generate(alg, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
        let token = key.token(&entra_claims());
        let uncached = gate(&key, TokenCacheSettings::disabled());
        let cached = gate(&key, TokenCacheSettings::default());
        now_or_never(cached.validate(&token)).expect("valid");
        let mut group = c.benchmark_group(format!("cache-{}", alg.name()));
        group.bench_function("uncached", |b| {
            b.iter(|| now_or_never(uncached.validate(black_box(&token))).unwrap())
        });
        group.bench_function("cached", |b| {
            b.iter(|| now_or_never(cached.validate(black_box(&token))).unwrap())
        });
        group.finish();
    }
}

/// Heap allocations and bytes per call of `run`, averaged over many calls (on this thread).
fn allocations(run: &dyn Fn()) -> (f64, f64) {
    run();
    let calls = 1000;
    let info = allocation_counter::measure(|| {
        for _ in 0..calls {
            run();
        }
    });
    (
        info.count_total as f64 / calls as f64,
        info.bytes_total as f64 / calls as f64,
    )
}

fn report_allocations() {
    let key = TestKey::generate(Algorithm::RS256, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let token = key.token(&entra_claims());
    let authorization = format!("Bearer {token}");
    let uncached = gate(&key, TokenCacheSettings::disabled());
    let cached = gate(&key, TokenCacheSettings::default());
    let plain = router(None);
    let noop = router_with_noop_layer();
    let layer_uncached = router(Some(uncached.clone()));
    let layer_cached = router(Some(cached.clone()));
    // The layer around the whole router, rather than added to its routes.
    let around_uncached = TokenLayer::new(uncached.clone()).layer(router(None));
    let around_cached = TokenLayer::new(cached.clone()).layer(router(None));
    println!("\nheap allocations per request (RS256, Entra-shaped token)");
    let rows: [(&str, &dyn Fn()); 8] = [
        ("Gate::validate, uncached", &|| {
            black_box(now_or_never(uncached.validate(&token)).unwrap());
        }),
        ("Gate::validate, cached", &|| {
            black_box(now_or_never(cached.validate(&token)).unwrap());
        }),
        ("axum, no layer", &|| {
            black_box(call(&plain, &authorization));
        }),
        ("axum + no-op layer", &|| {
            black_box(call(&noop, &authorization));
        }),
        ("axum + TokenLayer, uncached", &|| {
            black_box(call(&layer_uncached, &authorization));
        }),
        ("axum + TokenLayer, cached", &|| {
            black_box(call(&layer_cached, &authorization));
        }),
        ("TokenLayer(axum), uncached", &|| {
            black_box(call(&around_uncached, &authorization));
        }),
        ("TokenLayer(axum), cached", &|| {
            black_box(call(&around_cached, &authorization));
        }),
    ];
    for (label, run) in rows {
        let (count, bytes) = allocations(run);
        println!("  {label:<30} {count:>6.1} allocations {bytes:>8.0} bytes");
    }
}

/// The heap a gate holds once built and past its first request, for each kind of key source
/// and with the cache on (default settings) and off.
fn report_at_rest() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::start()).expect("test issuer");
    let token = issuer.token().sign();
    println!("\nheap held after build and the first request (target <= 64 KiB with defaults)");
    // The same run twice, keeping the gate and dropping it: the difference is what the gate
    // holds, whatever the runtime and the test issuer allocate or free meanwhile.
    let held = |discover: bool, cache: TokenCacheSettings, keep: bool| {
        let mut kept = None;
        let info = allocation_counter::measure(|| {
            runtime.block_on(async {
                let profile = IssuerProfile::new(issuer.issuer()).audience(issuer.audience());
                let profile = match discover {
                    true => profile.discover(),
                    false => profile.jwks(issuer.jwks()),
                };
                let gate = Gate::builder()
                    .issuer(profile)
                    .key_cache(issuer.key_cache())
                    .token_cache(cache)
                    .build()
                    .expect("gate");
                gate.validate(&token).await.expect("valid");
                // The fetch's task and connection wind down.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if keep {
                    kept = Some(gate);
                }
            });
        });
        drop(kept);
        info.bytes_current
    };
    held(true, TokenCacheSettings::default(), false);
    for discover in [false, true] {
        for (on, cache) in [
            ("on", TokenCacheSettings::default()),
            ("off", TokenCacheSettings::disabled()),
        ] {
            let bytes = held(discover, cache.clone(), true) - held(discover, cache, false);
            let keys = match discover {
                true => "keys by discovery",
                false => "keys in the configuration",
            };
            println!(
                "  {keys:<26} token cache {on:<4} {:>7.1} KiB",
                bytes as f64 / 1024.0
            );
        }
    }
}

/// Fills a cache with distinct tokens and divides the memory it holds by their number.
fn report_memory() {
    let key = TestKey::generate(Algorithm::RS256, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let entries = 5_000u64;
    let tokens: Vec<String> = (0..entries)
        .map(|i| {
            let mut claims = entra_claims();
            claims["uti"] = serde_json::json!(format!("{i:022}"));
            key.token(&claims)
        })
        .collect();
    let cache = gate(&key, TokenCacheSettings::default().max_entries(entries));
    // Warm up everything but the entries (the first validation builds lazy state).
    now_or_never(cache.validate(&tokens[0])).unwrap();
    // What is still allocated after filling the cache is what the entries hold.
    let info = allocation_counter::measure(|| {
        for token in &tokens[1..] {
            now_or_never(cache.validate(token)).unwrap();
        }
    });
    let per_entry = info.bytes_current as f64 / (entries - 1) as f64;
    println!(
        "\nmemory per cached token: {per_entry:.0} bytes ({entries} tokens of {} bytes; target <= 4096)",
        tokens[0].len()
    );
}

/// Runs `work(i)` for `seconds` on each of `threads` threads: calls per second in all.
fn throughput(threads: usize, seconds: f64, work: &(dyn Fn(usize) + Sync)) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut done = 0u64;
                    let mut i = t * 7919;
                    while Instant::now() < deadline {
                        for _ in 0..64 {
                            work(i);
                            i += 1;
                        }
                        done += 64;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    total as f64 / seconds
}

fn report_scaling() {
    let key = TestKey::generate(Algorithm::RS256, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let tokens: Vec<String> = (0..1024)
        .map(|i| {
            let mut claims = entra_claims();
            claims["uti"] = serde_json::json!(format!("{i:022}"));
            key.token(&claims)
        })
        .collect();
    let headers: Vec<String> = tokens.iter().map(|t| format!("Bearer {t}")).collect();
    let cached = gate(&key, TokenCacheSettings::default());
    let plain = router(None);
    let layered = router(Some(cached.clone()));
    for header in &headers {
        assert_eq!(call(&layered, header), 200);
    }
    println!(
        "
throughput on 1 and 2 threads (1024 distinct tokens, all cached), 9 alternating rounds of
0.5 s each; scaling = 2 threads / 1 thread, median of rounds; target: layer/axum >= 0.95"
    );
    let rows: [(&str, &(dyn Fn(usize) + Sync)); 3] = [
        ("axum alone", &|i| {
            black_box(call(&plain, &headers[i % headers.len()]));
        }),
        ("Gate::validate, cached", &|i| {
            black_box(now_or_never(cached.validate(&tokens[i % tokens.len()])).unwrap());
        }),
        ("axum + TokenLayer, cached", &|i| {
            black_box(call(&layered, &headers[i % headers.len()]));
        }),
    ];
    // Per round: each row on 1 then 2 threads, rows in turn, so drift touches all alike.
    // Requests per second of row k: on 1 thread at 2k, on 2 threads at 2k + 1.
    let rounds: Vec<Vec<f64>> = (0..9)
        .map(|_| {
            rows.iter()
                .flat_map(|(_, work)| [throughput(1, 0.5, work), throughput(2, 0.5, work)])
                .collect()
        })
        .collect();
    let scaling = |r: &[f64], row: usize| r[2 * row + 1] / r[2 * row];
    for (row, (label, _)) in rows.iter().enumerate() {
        let one = median_of(&rounds, |r| r[2 * row]);
        let two = median_of(&rounds, |r| r[2 * row + 1]);
        let scaled = median_of(&rounds, |r| scaling(r, row));
        println!("  {label:<28} {one:>10.0}/s  {two:>10.0}/s  scaling {scaled:.2}x");
    }
    for (row, label) in [(1, "Gate::validate"), (2, "axum + TokenLayer")] {
        let relative = |r: &[f64]| scaling(r, row) / scaling(r, 0);
        let ratio = median_of(&rounds, relative);
        let (low, high) = (rounds.iter().map(|r| relative(r)))
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(x), h.max(x)));
        println!("  {label} scaling / axum scaling: {ratio:.2} (rounds {low:.2}-{high:.2})");
    }
}

fn report_medians() {
    println!("\nmedians of this run: Gate::validate, Entra-shaped token");
    println!(
        "{:<6} {:>12} {:>12} {:>9}",
        "alg", "uncached", "cached", "speedup"
    );
    for alg in ALGORITHMS {
        let group = format!("cache-{}", alg.name());
        if let (Some(uncached), Some(cached)) = (
            criterion_median(&group, "uncached"),
            criterion_median(&group, "cached"),
        ) {
            println!(
                "{:<6} {:>9.2} µs {:>9.3} µs {:>8.0}x",
                alg.name(),
                uncached / 1e3,
                cached / 1e3,
                uncached / cached
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report_medians();
    report_allocations();
    report_at_rest();
    report_memory();
    report_scaling();
}
