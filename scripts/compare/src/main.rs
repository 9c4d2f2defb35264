//! Run by scripts/compare.sh.
//! Paired comparison of two tokengate versions in one process: alternating short batches,
//! the median of per-round ratios (new / old), for the uncached and cached validation paths
//! and one GET through axum with the layer.

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::Request;
use serde_json::json;
use tower::ServiceExt;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

fn claims() -> serde_json::Value {
    let now = now();
    json!({
        "aud": CLIENT, "iss": issuer(), "iat": now - 60, "nbf": now - 60, "exp": now + 3600,
        "aio": "AWQAm/8YAAAAb5ePLxeIxtMVpkQmAs7kHPFNlPGVB1ufgHcs0H2UyXWEZ2jr3gs6ZCTqiC7hQbM6",
        "azp": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "azpacr": "0", "name": "Megan Bowen",
        "oid": "d3f6a6c2-8a47-4d6e-9b5e-2a1f1b8c9e0d",
        "preferred_username": "MeganB@contoso.onmicrosoft.com",
        "rh": "1.AQoAv4j5cvGGr0GRqy180BHbR0ch-mWtXp9GhGg6p3A1rLUKAFE.",
        "scp": "access_as_user", "sub": "ruH3KnLJ5iN3hM5tE0lAXEXQqFVqZfjS3f2tWvVXh2I",
        "tid": TENANT, "uti": "HfPxFRtwbUW1hPQIyWkGAA", "ver": "2.0",
    })
}

/// (token, JWKS) for an algorithm.
fn material(alg: &str) -> (String, String) {
    let header = json!({"alg": alg, "kid": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "typ": "JWT"});
    let input = format!("{}.{}", b64(header.to_string()), b64(claims().to_string()));
    let rng = SystemRandom::new();
    let (sig, jwk) = match alg {
        "RS256" => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
            let mut sig = vec![0; pair.public_modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                .unwrap();
            let parts = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let jwk = json!({"kty":"RSA","alg":"RS256","use":"sig","kid":"nOo3ZDrODXEK1jKWhXslHR_KXEg",
                "n": b64(parts.n), "e": b64(parts.e)});
            (sig, jwk)
        }
        _ => {
            let pair =
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let sig = pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec();
            let point = pair.public_key().as_ref();
            let jwk = json!({"kty":"EC","crv":"P-256","alg":"ES256","use":"sig",
                "kid":"nOo3ZDrODXEK1jKWhXslHR_KXEg","x": b64(&point[1..33]), "y": b64(&point[33..])});
            (sig, jwk)
        }
    };
    (
        format!("{input}.{}", b64(sig)),
        json!({"keys": [jwk]}).to_string(),
    )
}

fn ready<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("pending"),
    }
}

fn old_gate(jwks: &str, cached: bool) -> old::Gate {
    old::Gate::builder()
        .issuer(old::IssuerProfile::new(issuer()).audience(CLIENT).jwks(jwks))
        .token_cache(if cached {
            old::TokenCacheSettings::default()
        } else {
            old::TokenCacheSettings::disabled()
        })
        .build()
        .unwrap()
}

fn new_gate(jwks: &str, cached: bool) -> new::Gate {
    new::Gate::builder()
        .issuer(new::IssuerProfile::new(issuer()).audience(CLIENT).jwks(jwks))
        .token_cache(if cached {
            new::TokenCacheSettings::default()
        } else {
            new::TokenCacheSettings::disabled()
        })
        .build()
        .unwrap()
}

/// Median of per-round ratios b/a and the medians of a and b per call, in µs.
fn paired(name: &str, per_batch: usize, a: &dyn Fn(), b: &dyn Fn()) {
    let rounds = 101;
    let time = |run: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..per_batch {
            run();
        }
        start.elapsed().as_secs_f64() / per_batch as f64 * 1e6
    };
    for _ in 0..5 {
        time(a);
        time(b);
    }
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so neither always runs on a warmer cache.
        let (x, y) = if round % 2 == 0 {
            let x = time(a);
            (x, time(b))
        } else {
            let y = time(b);
            (time(a), y)
        };
        ta.push(x);
        tb.push(y);
        ratios.push(y / x);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{name:<34} old {:>8.3} µs  new {:>8.3} µs  new/old {:.3}",
        median(ta),
        median(tb),
        median(ratios)
    );
}

fn main() {
    if std::env::var("COMPARE_RECORDER").as_deref() == Ok("prometheus") {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("the only recorder");
        println!("with the Prometheus exporter's recorder installed");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for alg in ["RS256", "ES256"] {
        let (token, jwks) = material(alg);
        for cached in [false, true] {
            let o = old_gate(&jwks, cached);
            let n = new_gate(&jwks, cached);
            ready(o.validate(&token)).unwrap();
            ready(n.validate(&token)).unwrap();
            let per_batch = if cached { 20_000 } else if alg == "RS256" { 300 } else { 100 };
            paired(
                &format!("validate {alg} {}", if cached { "cached" } else { "uncached" }),
                per_batch,
                &|| {
                    black_box(ready(o.validate(black_box(&token))).unwrap());
                },
                &|| {
                    black_box(ready(n.validate(black_box(&token))).unwrap());
                },
            );
            // One GET through axum with the layer.
            let old_app = Router::new()
                .route("/orders", get(|| async { "orders" }))
                .layer(old::TokenLayer::new(o.clone()));
            let new_app = Router::new()
                .route("/orders", get(|| async { "orders" }))
                .layer(new::TokenLayer::new(n.clone()));
            let request = |token: &str| {
                Request::get("/orders")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap()
            };
            let per_batch = if cached { 5_000 } else if alg == "RS256" { 300 } else { 100 };
            paired(
                &format!("layer {alg} {}", if cached { "cached" } else { "uncached" }),
                per_batch,
                &|| {
                    let response = runtime.block_on(old_app.clone().oneshot(request(&token)));
                    assert_eq!(response.unwrap().status(), 200);
                },
                &|| {
                    let response = runtime.block_on(new_app.clone().oneshot(request(&token)));
                    assert_eq!(response.unwrap().status(), 200);
                },
            );
        }
    }
}
