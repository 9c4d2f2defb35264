//! One request end to end through an axum `Router`: without tokengate, with `TokenLayer` (the
//! verified-token cache off, and on), and beside the raw signature check of the same token
//! (the floor).
//!
//! `cargo bench --bench layer` prints criterion's medians, then the layer's cost as
//! `(with layer - without) / floor`, from criterion's medians and from alternating rounds.
//! The target is at most 1.15: the layer adds no more than 15% over verifying the signature.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use http::Request;
use tokengate::layer::ResponseBody;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings, TokenLayer};
use tokengate_testkit::bench::{alternate, criterion_median, median_of};
use tokengate_testkit::entra_shape::{CLIENT, entra_claims, issuer};
use tokengate_testkit::{TestKey, jwks};
use tower::{ServiceBuilder, ServiceExt};

/// Polls a future that completes without waiting (nothing here does I/O).
fn now_or_never<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

struct Setup {
    token: String,
    gate: Gate,
    plain: Router,
    /// With the verified-token cache off: every request verifies the signature.
    protected: Router,
    /// With the cache (the default): repeated requests with the same token hit it.
    cached: Router,
    /// With a layer that does nothing: what axum charges for any layer around its routes.
    identity: Router,
    /// `TokenLayer` around the router rather than added to its routes (the cache on), its
    /// responses turned into axum's, as `axum::serve` wants them (docs/layer.md).
    around: Around,
    floor_key: ParsedPublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn setup() -> Setup {
    let key = TestKey::generate(Algorithm::RS256, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let token = key.token(&entra_claims());
    let gate_with = |cache: TokenCacheSettings| {
        Gate::builder()
            .issuer(
                IssuerProfile::new(issuer())
                    .audience(CLIENT)
                    .algorithms([Algorithm::RS256])
                    .jwks(jwks(&[&key])),
            )
            .token_cache(cache)
            .build()
            .expect("benchmark gate")
    };
    let gate = gate_with(TokenCacheSettings::disabled());
    // `with_state(())` builds each route once, as `axum::serve` does for each connection
    // (without it, axum builds the matched route, layers included, on every request).
    let routes = Router::new().route("/orders", get(|| async { "orders" }));
    let plain = routes.clone().with_state(());
    let protected = routes
        .clone()
        .layer(TokenLayer::new(gate.clone()))
        .with_state(());
    let cached = routes
        .clone()
        .layer(TokenLayer::new(gate_with(TokenCacheSettings::default())))
        .with_state(());
    let identity = routes
        .clone()
        .layer(tower::layer::util::Identity::new())
        .with_state(());
    let around = ServiceBuilder::new()
        .map_response(into_response as IntoAxum)
        .layer(TokenLayer::new(gate_with(TokenCacheSettings::default())))
        .service(plain.clone());
    let (message, sig) = token.rsplit_once('.').unwrap();
    let (n, e) = key.rsa_modulus_exponent();
    let floor_key = RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .unwrap();
    Setup {
        signature: base64_simd::URL_SAFE_NO_PAD.decode_to_vec(sig).unwrap(),
        message: message.as_bytes().to_vec(),
        token,
        gate,
        plain,
        protected,
        cached,
        identity,
        around,
        floor_key,
    }
}

fn request(authorization: &str) -> Request<Body> {
    Request::get("/orders")
        .header("authorization", authorization)
        .body(Body::empty())
        .unwrap()
}

fn call<S, B>(service: &S, authorization: &str) -> http::StatusCode
where
    S: tower::Service<Request<Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    let response = now_or_never(service.clone().oneshot(request(authorization))).unwrap();
    response.status()
}

type IntoAxum = fn(http::Response<ResponseBody<Body>>) -> axum::response::Response;
type Around = tower::util::MapResponse<tokengate::layer::TokenService<Router>, IntoAxum>;

fn into_response(response: http::Response<ResponseBody<Body>>) -> axum::response::Response {
    response.into_response()
}

fn bench(c: &mut Criterion) {
    let setup = setup();
    let authorization = format!("Bearer {}", setup.token);
    assert_eq!(call(&setup.plain, &authorization), 200);
    assert_eq!(call(&setup.protected, &authorization), 200);
    assert_eq!(
        call(&setup.protected, "Bearer x"),
        401,
        "the layer is there"
    );

    let mut group = c.benchmark_group("axum");
    group.bench_function("floor", |b| {
        b.iter(|| {
            setup
                .floor_key
                .verify_sig(black_box(&setup.message), black_box(&setup.signature))
                .unwrap()
        })
    });
    group.bench_function("gate", |b| {
        b.iter(|| now_or_never(setup.gate.validate(black_box(&setup.token))).unwrap())
    });
    group.bench_function("router", |b| {
        b.iter(|| call(&setup.plain, black_box(&authorization)))
    });
    group.bench_function("layer(router)+cache", |b| {
        b.iter(|| call(&setup.around, black_box(&authorization)))
    });
    group.bench_function("router+identity", |b| {
        b.iter(|| call(&setup.identity, black_box(&authorization)))
    });
    group.bench_function("router+layer", |b| {
        b.iter(|| call(&setup.protected, black_box(&authorization)))
    });
    group.bench_function("router+layer+cache", |b| {
        b.iter(|| call(&setup.cached, black_box(&authorization)))
    });
    group.finish();

    // Alternating short batches; the median of per-round results is robust to drift. The hit
    // runs between two routing batches (measured on both sides), before the uncached batch
    // evicts what they share from the CPU's caches.
    let floor = || {
        setup
            .floor_key
            .verify_sig(black_box(&setup.message), black_box(&setup.signature))
            .unwrap()
    };
    let plain = || {
        black_box(call(&setup.plain, black_box(&authorization)));
    };
    let cached = || {
        black_box(call(&setup.cached, black_box(&authorization)));
    };
    let around = || {
        black_box(call(&setup.around, black_box(&authorization)));
    };
    let protected = || {
        black_box(call(&setup.protected, black_box(&authorization)));
    };
    // Indices: 0 floor, 1 routing, 2 hit, 3 routing, 4 hit around the router, 5 routing,
    // 6 uncached.
    let rounds = alternate(
        51,
        200,
        &[&floor, &plain, &cached, &plain, &around, &plain, &protected],
    );
    *PAIRED.lock().unwrap() = Some(Paired {
        cost: median_of(&rounds, |r| (r[6] - r[1]) / r[0]),
        hit: median_of(&rounds, |r| r[2] - (r[1] + r[3]) / 2.0),
        hit_around: median_of(&rounds, |r| r[4] - (r[3] + r[5]) / 2.0),
        routing: median_of(&rounds, |r| r[1]),
    });
}

/// Medians of the alternating rounds: the uncached layer's cost over the floor, a cache hit's
/// cost over routing (seconds), routing alone (seconds).
struct Paired {
    cost: f64,
    hit: f64,
    /// The same with `TokenLayer` around the router.
    hit_around: f64,
    routing: f64,
}

static PAIRED: std::sync::Mutex<Option<Paired>> = std::sync::Mutex::new(None);

fn median(function: &str) -> Option<f64> {
    criterion_median("axum", function)
}

fn report() {
    if let (Some(floor), Some(gate), Some(plain), Some(protected), Some(cached)) = (
        median("floor"),
        median("gate"),
        median("router"),
        median("router+layer"),
        median("router+layer+cache"),
    ) {
        println!("\nmedians of this run: one GET through axum, Entra-shaped RS256 token");
        println!("  floor (aws-lc-rs verify)  {:>9.2} µs", floor / 1e3);
        println!("  Gate::validate alone      {:>9.2} µs", gate / 1e3);
        println!("  router, no layer          {:>9.2} µs", plain / 1e3);
        println!("  router + TokenLayer       {:>9.2} µs", protected / 1e3);
        println!(
            "  router + TokenLayer, cached{:>7.2} µs   (routing + 0.35 µs at most)",
            cached / 1e3
        );
        if let Some(around) = median("layer(router)+cache") {
            println!(
                "  TokenLayer around the router, cached {:.2} µs",
                around / 1e3
            );
        }
        if let Some(identity) = median("router+identity") {
            println!(
                "  router + a no-op layer    {:>9.2} µs   (what axum adds for any layer)",
                identity / 1e3
            );
        }
        println!(
            "  layer cost / floor        {:>9.3}   (target <= 1.08)",
            (protected - plain) / floor
        );
    }
    if let Some(Paired {
        cost,
        hit,
        hit_around,
        routing,
    }) = *PAIRED.lock().unwrap()
    {
        println!("  alternating rounds (medians of 51):");
        println!("    layer cost / floor {cost:.3} (target <= 1.08)");
        println!(
            "    cache hit above routing alone (target <= 0.35 µs): {:.2} µs with Router::layer, \
             {:.2} µs with TokenLayer around the router; routing alone {:.2} µs",
            hit * 1e6,
            hit_around * 1e6,
            routing * 1e6
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
