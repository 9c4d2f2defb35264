//! What keys cost per request.
//!
//! * `key-check`: a verified-token cache hit with 1, 100 and 10,000 configured keys, the token
//!   signed by the last key of the set. Each hit asks whether its key is still in the issuer's
//!   set; that must not depend on the set's size.
//! * `forged`: an uncached token with a signature that fails, under each kind of key: what
//!   anyone can make a request cost. With the default limits the costliest is RSA-4096 (or
//!   P-521); the old limits admitted RSA-8192 with e = 2^32 - 1.
//!
//! `cargo bench --bench keys` prints criterion's medians, then both tables.

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::KeyPair as _;
use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings, TokenCacheSettings};
use tokengate_testkit::bench::criterion_median;
use tokengate_testkit::entra_shape::{CLIENT, entra_claims, issuer};
use tokengate_testkit::{TestKey, b64, ready};

const KEY_COUNTS: [usize; 3] = [1, 100, 10_000];

/// The `forged` cases, in the order `forged_cases` makes them.
const FORGED: [&str; 8] = [
    "RSA-2048 e=65537",
    "RSA-4096 e=65537",
    "RSA-8192 e=65537",
    "RSA-8192 e=2_32-1",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
];

fn gate(keys: &[Value], cache: TokenCacheSettings, settings: KeyCacheSettings) -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(issuer())
                .audience(CLIENT)
                .jwks(json!({ "keys": keys }).to_string()),
        )
        .token_cache(cache)
        .key_cache(settings.max_keys(10_000))
        .build()
        .expect("benchmark gate")
}

/// `count` keys: one ES256 key under `count` kids (each another key to the set), the token
/// signed under the last.
fn key_check(c: &mut Criterion) {
    let key = TestKey::generate(Algorithm::ES256, "k");
    let mut group = c.benchmark_group("key-check");
    for count in KEY_COUNTS {
        let keys: Vec<Value> = (0..count)
            .map(|i| {
                let mut jwk = key.jwk();
                jwk["kid"] = json!(format!("k{i}"));
                jwk
            })
            .collect();
        let gate = gate(
            &keys,
            TokenCacheSettings::default(),
            KeyCacheSettings::default(),
        );
        let token = key.token_with_header(
            &json!({"alg": "ES256", "typ": "JWT", "kid": format!("k{}", count - 1)}),
            &entra_claims(),
        );
        ready(gate.validate(&token)).expect("valid");
        group.bench_function(format!("{count}"), |b| {
            b.iter(|| ready(gate.validate(black_box(&token))).unwrap())
        });
    }
    group.finish();
}

/// An RS256 JWK of modulus `n` and exponent `e`.
fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> Value {
    json!({"kty": "RSA", "alg": "RS256", "kid": kid, "n": b64(n), "e": b64(e)})
}

/// A token naming `kid` under `alg`, with an RSA signature of `length` bytes that fails: any
/// value below the modulus costs a whole check.
fn forged(alg: Algorithm, kid: &str, length: usize) -> String {
    let header = json!({"alg": alg.name(), "typ": "JWT", "kid": kid});
    let mut signature = vec![0x5a; length];
    signature[0] = 0;
    format!(
        "{}.{}.{}",
        b64(header.to_string()),
        b64(entra_claims().to_string()),
        b64(signature)
    )
}

/// The forged-token cases: name, JWK, token, and the settings that admit the key.
fn forged_cases() -> Vec<(&'static str, Value, String, KeyCacheSettings)> {
    let rsa = |bits: aws_lc_rs::rsa::KeySize| {
        let pair = aws_lc_rs::rsa::KeyPair::generate(bits).unwrap();
        let public = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        public.n
    };
    let n2048 = rsa(aws_lc_rs::rsa::KeySize::Rsa2048);
    let n4096 = rsa(aws_lc_rs::rsa::KeySize::Rsa4096);
    let fixture: Value =
        serde_json::from_str(include_str!("../tests/key_fetch/fixtures/rsa8192.jwk.json")).unwrap();
    let n8192 = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(fixture["n"].as_str().unwrap())
        .unwrap();
    let f4 = [1, 0, 1];
    let e32 = [0xff; 4];
    let defaults = KeyCacheSettings::default;
    let old_limits = || {
        KeyCacheSettings::default()
            .max_rsa_bits(8192)
            .allow_any_rsa_exponent()
    };
    let mut cases = vec![
        (
            "RSA-2048 e=65537",
            rsa_jwk("f", &n2048, &f4),
            forged(Algorithm::RS256, "f", 256),
            defaults(),
        ),
        (
            "RSA-4096 e=65537",
            rsa_jwk("f", &n4096, &f4),
            forged(Algorithm::RS256, "f", 512),
            defaults(),
        ),
        (
            "RSA-8192 e=65537",
            rsa_jwk("f", &n8192, &f4),
            forged(Algorithm::RS256, "f", 1024),
            old_limits(),
        ),
        (
            "RSA-8192 e=2_32-1",
            rsa_jwk("f", &n8192, &e32),
            forged(Algorithm::RS256, "f", 1024),
            old_limits(),
        ),
    ];
    // A real signature of another payload: every value in range, so the whole check runs
    // before it fails (out-of-range values would be refused early, and cheaply).
    for (name, alg) in [
        ("ES256", Algorithm::ES256),
        ("ES384", Algorithm::ES384),
        ("ES512", Algorithm::ES512),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let key = TestKey::generate(alg, "f");
        let signed = key.token(&entra_claims());
        let (_, signature) = signed.rsplit_once('.').unwrap();
        let mut claims = entra_claims();
        claims["forged"] = json!(true);
        let other = key.token(&claims);
        let (input, _) = other.rsplit_once('.').unwrap();
        cases.push((name, key.jwk(), format!("{input}.{signature}"), defaults()));
    }
    cases
}

fn forged_tokens(c: &mut Criterion) {
    let mut group = c.benchmark_group("forged");
    for (name, jwk, token, settings) in forged_cases() {
        let gate = gate(&[jwk], TokenCacheSettings::default(), settings);
        assert_eq!(
            ready(gate.validate(&token)).unwrap_err().code(),
            "invalid_signature",
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| ready(gate.validate(black_box(&token))).unwrap_err())
        });
    }
    group.finish();
}

fn report() {
    println!("\ncache hit (ES256), by the number of keys the issuer holds");
    let one = criterion_median("key-check", "1");
    for count in KEY_COUNTS {
        if let (Some(base), Some(ns)) = (one, criterion_median("key-check", &count.to_string())) {
            println!("  {count:>6} keys {:>9.3} µs {:>6.2}x", ns / 1e3, ns / base);
        }
    }
    println!("\nforged token (signature fails, uncached), by the key it names");
    let rsa2048 = criterion_median("forged", "RSA-2048 e=65537");
    for name in FORGED {
        if let (Some(base), Some(ns)) = (rsa2048, criterion_median("forged", name)) {
            println!(
                "  {name:<18} {:>9.1} µs {:>6.1}x RSA-2048",
                ns / 1e3,
                ns / base
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = key_check, forged_tokens
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
