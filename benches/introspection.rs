//! Opaque tokens (RFC 7662 introspection): the cost of a cached answer, and of a call to the
//! endpoint against the bare HTTP round trip it contains.
//!
//! `cargo bench --bench introspection` prints criterion's medians, then ratios from
//! alternating rounds (robust to a busy machine's drift):
//!
//! - A cache hit: `Gate::validate` of an opaque token whose answer is cached (budget under
//!   1 µs), beside `Gate::validate` of a cached JWT from the same issuer and gate, for scale.
//!   The test issuer counts its introspection calls: none may happen while hits are measured.
//! - An uncached validation: `Gate::validate` of a new opaque token each time (minted outside
//!   the timing; the cache would answer a token seen before), against the test issuer's
//!   endpoint on loopback, beside the bare round trip of the same `POST` (reqwest, the same
//!   form, Basic credentials and headers, the body read, not parsed): `tokengate / bare`, and
//!   the difference, which is what tokengate adds to the call (the single flight, the
//!   concurrency bound, the strict reading and judging of the answer, caching it).
//!
//! Client, test issuer and gate share one current-thread Tokio runtime, so a round trip has no
//! cross-thread wake-ups: both HTTP stacks' CPU cost and the loopback system calls.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group};
use tokengate::Gate;
use tokengate::testing::TestIssuer;
use tokengate_testkit::bench::{alternate, criterion_median, median_of};
use tokengate_testkit::ready;
use tokio::runtime::Runtime;

struct Setup {
    /// Drives the test issuer's server, the gate's calls and the bare ones.
    runtime: Runtime,
    issuer: TestIssuer,
    gate: Gate,
    /// The bare client: reqwest, as the gate's own (default settings, keep-alive).
    client: reqwest::Client,
    endpoint: String,
    jwt: String,
    /// An opaque token whose answer the gate has cached.
    opaque: String,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::start()).unwrap();
    let gate = Gate::builder()
        .issuer(issuer.profile().introspection(issuer.introspection()))
        .key_cache(issuer.key_cache())
        .build()
        .expect("benchmark gate");
    let jwt = issuer.token().scope("orders.read").sign();
    let opaque = issuer.token().scope("orders.read").opaque();
    // The keys, the endpoint (from the metadata) and the first answer: fetched once, here.
    for token in [&jwt, &opaque] {
        let claims = runtime.block_on(gate.validate(token)).unwrap();
        assert!(claims.has_scope("orders.read"));
    }
    assert_eq!(issuer.introspection_requests(), 1);
    let client = reqwest::Client::builder()
        .user_agent(concat!("tokengate/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap();
    Setup {
        endpoint: format!("{}/introspect", issuer.issuer()),
        runtime,
        issuer,
        gate,
        client,
        jwt,
        opaque,
    }
}

impl Setup {
    /// A new opaque token, active, that the gate has never seen.
    fn mint(&self) -> String {
        self.issuer.token().scope("orders.read").opaque()
    }

    /// A cache hit: the validation never waits.
    fn hit(&self, token: &str) {
        black_box(ready(self.gate.validate(black_box(token))).unwrap());
    }

    /// `Gate::validate` of an opaque token the gate has not seen: one call to the endpoint.
    fn uncached(&self, token: &str) {
        let claims = self.runtime.block_on(self.gate.validate(black_box(token)));
        black_box(claims.unwrap());
    }

    /// The gate's `POST` without the gate: the same form, credentials and headers.
    async fn post(&self, token: &str) -> (u16, Vec<u8>) {
        let (id, secret) = self.issuer.introspection_client();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("token", token), ("token_type_hint", "access_token")])
            .finish();
        let mut response = self
            .client
            .post(&self.endpoint)
            .timeout(Duration::from_secs(5))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .basic_auth(id, Some(secret))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        (status, bytes)
    }

    fn bare(&self, token: &str) {
        let (status, body) = self.runtime.block_on(self.post(black_box(token)));
        assert_eq!(status, 200);
        black_box(body);
    }
}

/// Ratios from alternating rounds, printed after criterion's report.
static PAIRED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn paired(line: String) {
    PAIRED.lock().unwrap().push(line);
}

const ROUNDS: usize = 51;

/// (a) Cache hits: an introspected opaque token beside a verified JWT, with no call made.
fn bench_hits(c: &mut Criterion) {
    let s = setup();
    let calls = s.issuer.introspection_requests();
    let mut group = c.benchmark_group("introspection");
    group.bench_function("jwt_cached", |b| b.iter(|| s.hit(&s.jwt)));
    group.bench_function("opaque_cached", |b| b.iter(|| s.hit(&s.opaque)));
    group.finish();

    let rounds = alternate(ROUNDS, 2000, &[&|| s.hit(&s.jwt), &|| s.hit(&s.opaque)]);
    // Every one of them was a hit: the endpoint heard nothing.
    assert_eq!(
        s.issuer.introspection_requests(),
        calls,
        "a hit called the endpoint"
    );
    paired(format!(
        "opaque cached                            {:>8.3} µs   (budget < 1)",
        median_of(&rounds, |t| t[1]) * 1e6
    ));
    paired(format!(
        "opaque cached / jwt cached               {:>8.2}",
        median_of(&rounds, |t| t[1] / t[0])
    ));
}

/// (b) A call per validation, against the bare round trip of the same request.
fn bench_calls(c: &mut Criterion) {
    let s = setup();
    // Sanity: the bare request is the gate's, and the endpoint says so.
    let token = s.mint();
    let (status, body) = s.runtime.block_on(s.post(&token));
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains(r#""active":true"#)
    );
    s.uncached(&token);

    let mut group = c.benchmark_group("introspection");
    group.bench_function("opaque_uncached", |b| {
        b.iter_batched(
            || s.mint(),
            |token| s.uncached(&token),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("bare_post", |b| {
        b.iter_batched(|| s.mint(), |token| s.bare(&token), BatchSize::SmallInput)
    });
    group.finish();

    // Alternating rounds with tokens minted ahead, each one validated (or posted) once.
    let per_batch = 20;
    let minted = |count: usize| -> Vec<String> { (0..count).map(|_| s.mint()).collect() };
    let (for_gate, for_bare) = (minted(ROUNDS * per_batch), minted(ROUNDS * per_batch));
    let (next_gate, next_bare) = (Cell::new(0), Cell::new(0));
    fn next<'a>(tokens: &'a [String], next: &Cell<usize>) -> &'a str {
        next.set(next.get() + 1);
        &tokens[next.get() - 1]
    }
    let gate = || s.uncached(next(&for_gate, &next_gate));
    let bare = || s.bare(next(&for_bare, &next_bare));
    let calls = s.issuer.introspection_requests();
    let rounds = alternate(ROUNDS, per_batch, &[&gate, &bare]);
    // One call per validation: none was answered from the cache.
    assert_eq!(
        s.issuer.introspection_requests() - calls,
        2 * ROUNDS * per_batch,
        "an uncached validation did not call the endpoint"
    );
    paired(format!(
        "opaque uncached                          {:>8.1} µs",
        median_of(&rounds, |t| t[0]) * 1e6
    ));
    paired(format!(
        "bare POST round trip                     {:>8.1} µs",
        median_of(&rounds, |t| t[1]) * 1e6
    ));
    paired(format!(
        "opaque uncached / bare POST              {:>8.3}",
        median_of(&rounds, |t| t[0] / t[1])
    ));
    paired(format!(
        "opaque uncached - bare POST              {:>8.1} µs",
        median_of(&rounds, |t| t[0] - t[1]) * 1e6
    ));
}

fn report() {
    println!("\nmedians of this run (µs): Gate::validate, test issuer on loopback");
    let rows = [
        ("jwt_cached", "JWT (RS256), cached"),
        ("opaque_cached", "opaque, answer cached (budget < 1)"),
        ("opaque_uncached", "opaque, a call to the endpoint"),
        ("bare_post", "bare POST round trip (reqwest)"),
    ];
    for (function, what) in rows {
        if let Some(ns) = criterion_median("introspection", function) {
            println!("  {what:<42} {:>9.3}", ns / 1e3);
        }
    }
    let ratio = |a: &str, b: &str| {
        Some(criterion_median("introspection", a)? / criterion_median("introspection", b)?)
    };
    if let Some(ratio) = ratio("opaque_cached", "jwt_cached") {
        println!("  opaque cached / JWT cached, from these medians: {ratio:.2}");
    }
    if let Some(ratio) = ratio("opaque_uncached", "bare_post") {
        println!("  opaque uncached / bare POST, from these medians: {ratio:.3}");
    }
    println!("\nmedians of {ROUNDS} alternating rounds");
    for line in PAIRED.lock().unwrap().iter() {
        println!("  {line}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_hits, bench_calls
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
