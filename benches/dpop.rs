//! DPoP's cost per request (RFC 9449), beside the bearer path and the raw signature checks.
//!
//! `cargo bench --bench dpop` prints criterion's medians, then ratios from alternating rounds
//! (robust to a busy machine's drift):
//!
//! - `Gate::validate_presented` with an ES256 proof against `Gate::validate` of a bearer token
//!   (RS256, the same issuer), the token uncached and cached. The budget: a DPoP request costs
//!   about 1.1x its unavoidable parts, the bearer validation plus one raw verification of the
//!   proof's signature: `dpop / (bearer + proof floor)`.
//! - The embedded replay check alone, `MemoryReplayStore::first_use` (budget under 1 µs).
//! - The proof check by proof algorithm (ES256, EdDSA, PS256): a cached DPoP request less a
//!   cached bearer one, against the raw verification of that algorithm.
//!
//! Replays must not short-circuit the checks. The gates compared remember proofs in
//! `AcceptAll`, a store that answers "first use" to everything, so that one proof is sent many
//! times and every check runs in full. The replay store's own cost is measured alone, and end
//! to end with new proofs signed outside the timing: `dpop_cached_memory`, and alternating
//! rounds of new proofs through the embedded store against new proofs through `AcceptAll`.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use criterion::{BatchSize, Criterion, criterion_group};
use http::Method;
use tokengate::testing::{DpopKey, TestIssuer};
use tokengate::{
    Algorithm, Dpop, DpopMode, FirstUse, Gate, IssuerProfile, MemoryReplayStore, Presented,
    ProofId, ReplayStore, TokenCacheSettings,
};
use tokengate_testkit::bench::{alternate, criterion_median, median_of};
use tokengate_testkit::ready;

const URL: &str = "https://api.example.com/orders";

/// A replay store that never refuses, so that a proof can be measured again and again.
struct AcceptAll;

impl ReplayStore for AcceptAll {
    fn first_use<'a>(&'a self, _: &'a ProofId, _: Duration) -> FirstUse<'a> {
        Box::pin(std::future::ready(Ok(true)))
    }
}

/// A DPoP client: its key, a token bound to it, and the raw verifier of its proofs.
struct Client {
    alg: Algorithm,
    key: DpopKey,
    token: String,
    floor: ParsedPublicKey,
}

impl Client {
    fn new(issuer: &TestIssuer, alg: Algorithm) -> Client {
        let key = DpopKey::generate(alg);
        let token = issuer.token().bound_to(&key).sign();
        let floor = floor_key(alg, &key.public_jwk());
        Client {
            alg,
            key,
            token,
            floor,
        }
    }

    /// A fresh proof (`iat` now, a new `jti`) for `GET URL` with the client's token.
    fn proof(&self) -> String {
        self.key.proof(&Method::GET, URL).token(&self.token).sign()
    }
}

/// The public key of a proof's `jwk`, parsed once: what the raw verification uses.
fn floor_key(alg: Algorithm, jwk: &serde_json::Value) -> ParsedPublicKey {
    let member = |name: &str| {
        base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(jwk[name].as_str().unwrap())
            .unwrap()
    };
    let (verification, public): (&'static dyn VerificationAlgorithm, Vec<u8>) = match alg {
        Algorithm::ES256 => (
            &signature::ECDSA_P256_SHA256_FIXED,
            [&[4u8][..], &member("x"), &member("y")].concat(),
        ),
        Algorithm::EdDSA => (&signature::ED25519, member("x")),
        Algorithm::PS256 => {
            let (n, e) = (member("n"), member("e"));
            let components = signature::RsaPublicKeyComponents { n: &n, e: &e };
            let parsed = components
                .to_parsed_public_key(&signature::RSA_PSS_2048_8192_SHA256)
                .unwrap();
            (
                &signature::RSA_PSS_2048_8192_SHA256,
                parsed.as_ref().to_vec(),
            )
        }
        other => panic!("no benchmark for {other}"),
    };
    UnparsedPublicKey::new(verification, public)
        .parse()
        .unwrap()
}

/// The raw verification of a JWS's signature (`message.signature`).
fn verify_raw(key: &ParsedPublicKey, jws: &(Vec<u8>, Vec<u8>)) {
    key.verify_sig(black_box(&jws.0), black_box(&jws.1))
        .unwrap()
}

fn split(jws: &str) -> (Vec<u8>, Vec<u8>) {
    let (message, signature) = jws.rsplit_once('.').unwrap();
    let signature = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(signature)
        .unwrap();
    (message.as_bytes().to_vec(), signature)
}

/// DPoP settings with this replay store, and the longest proof window, so that a proof
/// signed before a long measurement stays valid (the window does not change the cost).
fn dpop_with(store: impl ReplayStore) -> Dpop {
    Dpop::new()
        .replay_store(store)
        .proof_lifetime(Duration::from_secs(600))
}

/// A gate for `issuer` (keys configured, no fetching), with these DPoP settings or without.
fn gate(issuer: &TestIssuer, dpop: Option<Dpop>, cached: bool) -> Gate {
    let mut profile = IssuerProfile::new(issuer.issuer())
        .audience(issuer.audience())
        .jwks(issuer.jwks());
    let mut builder = Gate::builder();
    if let Some(dpop) = dpop {
        profile = profile.dpop(DpopMode::Allowed);
        builder = builder.dpop(dpop);
    }
    let cache = if cached {
        TokenCacheSettings::default()
    } else {
        TokenCacheSettings::disabled()
    };
    builder
        .issuer(profile)
        .token_cache(cache)
        .build()
        .expect("benchmark gate")
}

fn bearer(gate: &Gate, token: &str) {
    black_box(ready(gate.validate(black_box(token))).unwrap());
}

fn dpop(gate: &Gate, token: &str, proof: &str) {
    let presented = Presented::dpop(black_box(token), black_box(proof), &Method::GET, URL);
    black_box(ready(gate.validate_presented(presented)).unwrap());
}

struct Setup {
    /// Keeps the test issuer's server (and its runtime) up while the gates are built.
    _runtime: tokio::runtime::Runtime,
    issuer: TestIssuer,
    bearer_token: String,
    bearer_uncached: Gate,
    bearer_cached: Gate,
    dpop_uncached: Gate,
    dpop_cached: Gate,
    /// ES256, EdDSA, PS256.
    clients: Vec<Client>,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let issuer = runtime.block_on(TestIssuer::start()).unwrap();
    let clients = PROOF_ALGORITHMS
        .iter()
        .map(|&alg| Client::new(&issuer, alg))
        .collect();
    Setup {
        bearer_token: issuer.token().sign(),
        bearer_uncached: gate(&issuer, None, false),
        bearer_cached: gate(&issuer, None, true),
        dpop_uncached: gate(&issuer, Some(dpop_with(AcceptAll)), false),
        dpop_cached: gate(&issuer, Some(dpop_with(AcceptAll)), true),
        clients,
        issuer,
        _runtime: runtime,
    }
}

const PROOF_ALGORITHMS: [Algorithm; 3] = [Algorithm::ES256, Algorithm::EdDSA, Algorithm::PS256];

/// Ratios from alternating rounds, printed after criterion's report.
static PAIRED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn paired(line: String) {
    PAIRED.lock().unwrap().push(line);
}

/// (a) DPoP against bearer, uncached and cached; ES256 proofs.
fn bench_requests(c: &mut Criterion) {
    let s = setup();
    let es256 = &s.clients[0];
    let bound = &es256.token;
    // Sanity: each path accepts, and the DPoP gates really check proofs.
    bearer(&s.bearer_uncached, &s.bearer_token);
    dpop(&s.dpop_uncached, bound, &es256.proof());
    let elsewhere = es256
        .key
        .proof(&Method::GET, "https://api.example.com/other")
        .token(bound)
        .sign();
    let refused = ready(s.dpop_cached.validate_presented(Presented::dpop(
        bound,
        &elsewhere,
        &Method::GET,
        URL,
    )));
    assert_eq!(refused.unwrap_err().code(), "invalid_dpop_proof");

    let mut group = c.benchmark_group("dpop");
    group.bench_function("floor_es256", |b| {
        let proof = split(&es256.proof());
        b.iter(|| verify_raw(&es256.floor, &proof))
    });
    group.bench_function("bearer_uncached", |b| {
        b.iter(|| bearer(&s.bearer_uncached, &s.bearer_token))
    });
    group.bench_function("dpop_uncached", |b| {
        let proof = es256.proof();
        b.iter(|| dpop(&s.dpop_uncached, bound, &proof))
    });
    group.bench_function("bearer_cached", |b| {
        b.iter(|| bearer(&s.bearer_cached, &s.bearer_token))
    });
    group.bench_function("dpop_cached", |b| {
        let proof = es256.proof();
        b.iter(|| dpop(&s.dpop_cached, bound, &proof))
    });
    // The embedded store end to end: a new proof per iteration, signed outside the timing.
    // Room for every proof of a long run (each is kept for the proof window).
    let store = MemoryReplayStore::new(4_000_000);
    let memory = gate(&s.issuer, Some(dpop_with(store)), true);
    group.bench_function("dpop_cached_memory", |b| {
        b.iter_batched(
            || es256.proof(),
            |proof| dpop(&memory, bound, &proof),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let proof = es256.proof();
    let raw = split(&proof);
    let rounds = alternate(
        51,
        100,
        &[
            &|| verify_raw(&es256.floor, &raw),
            &|| bearer(&s.bearer_uncached, &s.bearer_token),
            &|| dpop(&s.dpop_uncached, bound, &proof),
            &|| bearer(&s.bearer_cached, &s.bearer_token),
            &|| dpop(&s.dpop_cached, bound, &proof),
        ],
    );
    paired(format!(
        "dpop uncached / (bearer uncached + ES256 floor)  {:>7.3}   (budget ~1.1)",
        median_of(&rounds, |t| t[2] / (t[1] + t[0]))
    ));
    paired(format!(
        "dpop uncached / bearer uncached                  {:>7.3}",
        median_of(&rounds, |t| t[2] / t[1])
    ));
    paired(format!(
        "dpop cached / (bearer cached + ES256 floor)      {:>7.3}",
        median_of(&rounds, |t| t[4] / (t[3] + t[0]))
    ));
    paired(format!(
        "dpop cached / bearer cached                      {:>7.1}",
        median_of(&rounds, |t| t[4] / t[3])
    ));

    // The embedded store end to end: new proofs (signed ahead) through it and through
    // `AcceptAll`, alternating.
    let proofs = |count: usize| -> Vec<String> { (0..count).map(|_| es256.proof()).collect() };
    let (for_memory, for_accept_all) = (proofs(51 * 100), proofs(51 * 100));
    let (next_memory, next_accept_all) = (Cell::new(0), Cell::new(0));
    let through = |gate: &Gate, proofs: &[String], next: &Cell<usize>| {
        dpop(gate, bound, &proofs[next.get()]);
        next.set(next.get() + 1);
    };
    let rounds = alternate(
        51,
        100,
        &[
            &|| through(&s.dpop_cached, &for_accept_all, &next_accept_all),
            &|| through(&memory, &for_memory, &next_memory),
        ],
    );
    paired(format!(
        "new proofs, dpop cached: MemoryReplayStore - AcceptAll      {:>7.3} µs",
        median_of(&rounds, |t| t[1] - t[0]) * 1e6
    ));
}

/// (b) The embedded replay check alone: ids made ahead (their SHA-256 is part of the proof
/// check), a first use that also forgets one expired id (a zero time to live: the steady
/// state, and the store never fills), and a replay.
fn bench_replay_check(c: &mut Criterion) {
    let ids: Vec<ProofId> = (0..1 << 16)
        .map(|n: u32| ProofId::new("bench-thumbprint", &n.to_string()))
        .collect();
    let store = MemoryReplayStore::default();
    let mut group = c.benchmark_group("replay_check");
    let mut next = 0;
    group.bench_function("memory_first_use", |b| {
        b.iter(|| {
            next = (next + 1) % ids.len();
            let answer = ready(store.first_use(black_box(&ids[next]), Duration::ZERO));
            assert_eq!(answer, Ok(true));
        })
    });
    let minute = Duration::from_secs(60);
    let replayed = ProofId::new("bench-thumbprint", "replayed");
    assert_eq!(ready(store.first_use(&replayed, minute)), Ok(true));
    group.bench_function("memory_replay", |b| {
        b.iter(|| {
            let answer = ready(store.first_use(black_box(&replayed), minute));
            assert_eq!(answer, Ok(false));
        })
    });
    group.finish();
}

/// (c) The proof check by algorithm: a cached DPoP request less a cached bearer request.
fn bench_proof_algorithms(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("proof_alg");
    for client in &s.clients {
        let alg = client.alg.name();
        dpop(&s.dpop_cached, &client.token, &client.proof());
        group.bench_function(format!("{alg}_floor"), |b| {
            let proof = split(&client.proof());
            b.iter(|| verify_raw(&client.floor, &proof))
        });
        group.bench_function(format!("{alg}_dpop_cached"), |b| {
            let proof = client.proof();
            b.iter(|| dpop(&s.dpop_cached, &client.token, &proof))
        });
    }
    group.bench_function("bearer_cached", |b| {
        b.iter(|| bearer(&s.bearer_cached, &s.bearer_token))
    });
    group.finish();

    for client in &s.clients {
        let proof = client.proof();
        let raw = split(&proof);
        // PS256 proofs verify fastest: longer batches for rounds of similar length.
        let per_batch = if client.alg == Algorithm::PS256 {
            300
        } else {
            100
        };
        let rounds = alternate(
            51,
            per_batch,
            &[
                &|| verify_raw(&client.floor, &raw),
                &|| bearer(&s.bearer_cached, &s.bearer_token),
                &|| dpop(&s.dpop_cached, &client.token, &proof),
            ],
        );
        paired(format!(
            "{:<5} proof check (dpop cached - bearer cached) / floor {:>7.3}, proof check {:>6.2} µs",
            client.alg.name(),
            median_of(&rounds, |t| (t[2] - t[1]) / t[0]),
            median_of(&rounds, |t| t[2] - t[1]) * 1e6
        ));
    }
}

fn report() {
    println!("\nmedians of this run (µs): RS256 token, ES256 proof unless named");
    let rows = [
        ("dpop", "floor_es256", "raw ES256 verify (proof floor)"),
        ("dpop", "bearer_uncached", "bearer, uncached"),
        ("dpop", "dpop_uncached", "DPoP, uncached"),
        ("dpop", "bearer_cached", "bearer, cached"),
        ("dpop", "dpop_cached", "DPoP, cached"),
        (
            "dpop",
            "dpop_cached_memory",
            "DPoP, cached, MemoryReplayStore",
        ),
        (
            "replay_check",
            "memory_first_use",
            "MemoryReplayStore first use (budget < 1)",
        ),
        ("replay_check", "memory_replay", "MemoryReplayStore replay"),
    ];
    for (group, function, what) in rows {
        if let Some(ns) = criterion_median(group, function) {
            println!("  {what:<42} {:>9.3}", ns / 1e3);
        }
    }
    if let (Some(dpop), Some(bearer), Some(floor)) = (
        criterion_median("dpop", "dpop_uncached"),
        criterion_median("dpop", "bearer_uncached"),
        criterion_median("dpop", "floor_es256"),
    ) {
        println!(
            "  DPoP uncached / (bearer uncached + floor), from these medians: {:.3}",
            dpop / (bearer + floor)
        );
    }
    if let Some(bearer) = criterion_median("proof_alg", "bearer_cached") {
        println!(
            "\nproof check by algorithm (µs): DPoP cached - bearer cached, and the raw verify"
        );
        for alg in PROOF_ALGORITHMS.map(|alg| alg.name()) {
            if let (Some(dpop), Some(floor)) = (
                criterion_median("proof_alg", &format!("{alg}_dpop_cached")),
                criterion_median("proof_alg", &format!("{alg}_floor")),
            ) {
                println!(
                    "  {alg:<6} proof check {:>8.2}   raw verify {:>8.2}   ratio {:.3}",
                    (dpop - bearer) / 1e3,
                    floor / 1e3,
                    (dpop - bearer) / floor
                );
            }
        }
    }
    println!("\nmedians of 51 alternating rounds");
    for line in PAIRED.lock().unwrap().iter() {
        println!("  {line}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_requests, bench_replay_check, bench_proof_algorithms
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
