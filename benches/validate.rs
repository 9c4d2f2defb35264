//! Validation cost against the floor: the raw aws-lc-rs verification of the same signature
//! with a pre-parsed public key. Also `jsonwebtoken::decode` of the same token.
//!
//! `cargo bench --bench validate` prints, after criterion's report, the median of each and
//! its ratio to the floor, all from this one run; then fetched against configured keys, and
//! the Entra preset (its rules plugged in through the provider seam) against a plain profile
//! for the same token.

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use criterion::{Criterion, criterion_group};
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings, TokenCacheSettings};
use tokengate_testkit::bench::criterion_median;
use tokengate_testkit::entra_shape::{CLIENT, entra_claims, issuer};
use tokengate_testkit::{TestKey, jwks, provider, ready};

struct Case {
    alg: Algorithm,
    token: String,
    gate: Gate,
    floor_key: ParsedPublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
}

fn case(alg: Algorithm) -> Case {
    let key = TestKey::generate(alg, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let token = key.token(&entra_claims());
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(issuer())
                .audience(CLIENT)
                .algorithms([alg])
                .jwks(jwks(&[&key])),
        )
        // Uncached: every call verifies the signature (the cache has its own benchmark).
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .expect("benchmark gate");
    let (message, sig) = token.rsplit_once('.').unwrap();
    let signature = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(sig).unwrap();
    let jwk = key.jwk();
    let (verification, public): (&'static dyn VerificationAlgorithm, Vec<u8>) = match alg {
        Algorithm::RS256 | Algorithm::PS256 => {
            let (n, e) = key.rsa_modulus_exponent();
            let der = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
            let params: &'static signature::RsaParameters = if alg == Algorithm::RS256 {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PSS_2048_8192_SHA256
            };
            let parsed = der.to_parsed_public_key(params).unwrap();
            (params, parsed.as_ref().to_vec())
        }
        Algorithm::ES256 => {
            let x = base64_simd::URL_SAFE_NO_PAD
                .decode_to_vec(jwk["x"].as_str().unwrap())
                .unwrap();
            let y = base64_simd::URL_SAFE_NO_PAD
                .decode_to_vec(jwk["y"].as_str().unwrap())
                .unwrap();
            (
                &signature::ECDSA_P256_SHA256_FIXED,
                [&[4u8][..], &x, &y].concat(),
            )
        }
        Algorithm::EdDSA => {
            let x = base64_simd::URL_SAFE_NO_PAD
                .decode_to_vec(jwk["x"].as_str().unwrap())
                .unwrap();
            (&signature::ED25519, x)
        }
        other => panic!("no benchmark for {other}"),
    };
    let floor_key = UnparsedPublicKey::new(verification, public)
        .parse()
        .unwrap();
    let jwt_key =
        jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(jwk).unwrap()).unwrap();
    let jwt_alg = match alg {
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        _ => jsonwebtoken::Algorithm::EdDSA,
    };
    let mut jwt_validation = jsonwebtoken::Validation::new(jwt_alg);
    jwt_validation.set_audience(&[CLIENT]);
    jwt_validation.set_issuer(&[issuer()]);
    jwt_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    jwt_validation.validate_nbf = true;
    Case {
        alg,
        message: message.as_bytes().to_vec(),
        token,
        gate,
        floor_key,
        signature,
        jwt_key,
        jwt_validation,
    }
}

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

fn bench(c: &mut Criterion) {
    for alg in ALGORITHMS {
        let case = case(alg);
        // Every contender must accept the token, or the comparison means nothing.
        assert!(
            case.floor_key
                .verify_sig(&case.message, &case.signature)
                .is_ok()
        );
        ready(case.gate.validate(&case.token)).expect("tokengate accepts the token");
        jsonwebtoken::decode::<serde_json::Value>(&case.token, &case.jwt_key, &case.jwt_validation)
            .expect("jsonwebtoken accepts the token");
        if alg == Algorithm::RS256 {
            println!("RS256 token: {} bytes", case.token.len());
        }

        let mut group = c.benchmark_group(case.alg.name());
        group.bench_function("floor", |b| {
            b.iter(|| {
                case.floor_key
                    .verify_sig(black_box(&case.message), black_box(&case.signature))
                    .unwrap()
            })
        });
        group.bench_function("tokengate", |b| {
            b.iter(|| ready(case.gate.validate(black_box(&case.token))).unwrap())
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<serde_json::Value>(
                    black_box(&case.token),
                    &case.jwt_key,
                    &case.jwt_validation,
                )
                .unwrap()
            })
        });
        group.finish();

        // The same three, alternating short batches: the median of per-round ratios is what
        // a noisy machine cannot skew (criterion measures them one after the other).
        let rounds = 51;
        let per_batch = if matches!(alg, Algorithm::RS256 | Algorithm::PS256) {
            200
        } else {
            60
        };
        let time = |run: &dyn Fn()| {
            let start = std::time::Instant::now();
            for _ in 0..per_batch {
                run();
            }
            start.elapsed().as_secs_f64()
        };
        let floor = || {
            case.floor_key
                .verify_sig(black_box(&case.message), black_box(&case.signature))
                .unwrap()
        };
        let ours = || {
            black_box(ready(case.gate.validate(black_box(&case.token))).unwrap());
        };
        let theirs = || {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(
                    black_box(&case.token),
                    &case.jwt_key,
                    &case.jwt_validation,
                )
                .unwrap(),
            );
        };
        let mut ours_ratios = Vec::with_capacity(rounds);
        let mut theirs_ratios = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let base = time(&floor);
            ours_ratios.push(time(&ours) / base);
            theirs_ratios.push(time(&theirs) / base);
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        PAIRED
            .lock()
            .unwrap()
            .push((alg, median(ours_ratios), median(theirs_ratios)));
    }
}

/// The same RS256 token against keys given in the configuration and keys fetched from a
/// provider on loopback (loaded before measuring): the fetched store's hot path must cost
/// nothing more.
fn bench_key_sources(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key = TestKey::generate(Algorithm::RS256, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let token = key.token(&entra_claims());
    let provider = runtime.block_on(provider::Provider::start(jwks(&[&key])));
    let profile = || {
        IssuerProfile::new(issuer())
            .audience(CLIENT)
            .algorithms([Algorithm::RS256])
    };
    let fixed = Gate::builder()
        .issuer(profile().jwks(jwks(&[&key])))
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    let fetched = Gate::builder()
        .issuer(profile().jwks_uri(provider.jwks_uri()))
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    runtime
        .block_on(fetched.warm_up())
        .expect("keys from the provider");
    ready(fixed.validate(&token)).expect("static keys accept the token");
    ready(fetched.validate(&token)).expect("fetched keys accept the token");

    let mut group = c.benchmark_group("keys");
    group.bench_function("static", |b| {
        b.iter(|| ready(fixed.validate(black_box(&token))).unwrap())
    });
    group.bench_function("fetched", |b| {
        b.iter(|| ready(fetched.validate(black_box(&token))).unwrap())
    });
    group.finish();

    PAIRED_RATIO
        .set(paired_ratio(&fetched, &fixed, &token))
        .ok();
    assert_eq!(provider.jwks_hits(), 1, "no fetch while measuring");
}

/// The provider seam's cost: the same Entra v2 token from `TestEntra`, validated by the Entra
/// preset (its issuer learned from metadata, its key, claim and tenant rules plugged in) and
/// by a plain profile with the same keys (no provider: the seam is never called).
fn bench_provider_seam(c: &mut Criterion) {
    use tokengate::providers::entra::{EntraApi, TokenVersion};
    use tokengate::testing::TestEntra;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let entra = runtime.block_on(TestEntra::start()).unwrap();
    let tenant = entra.tenant().to_owned();
    let token = entra.token(TokenVersion::V2, &tenant).user().sign();
    let loopback = KeyCacheSettings::default().allow_http_loopback();
    let preset = Gate::builder()
        .issuer(
            EntraApi::single_tenant(&tenant, TestEntra::CLIENT_ID)
                .versions([TokenVersion::V2])
                .instance(entra.instance()),
        )
        .key_cache(loopback.clone())
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    let plain = Gate::builder()
        .issuer(
            IssuerProfile::new(entra.v2_issuer(&tenant))
                .audience(TestEntra::CLIENT_ID)
                .algorithms([Algorithm::RS256])
                .leeway(Duration::from_secs(300))
                .jwks_uri(entra.v2_keys_url(&tenant)),
        )
        .key_cache(loopback)
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    for gate in [&preset, &plain] {
        runtime
            .block_on(gate.warm_up())
            .expect("keys from TestEntra");
        ready(gate.validate(&token)).expect("the token is valid for both");
    }

    let mut group = c.benchmark_group("provider");
    group.bench_function("entra_preset", |b| {
        b.iter(|| ready(preset.validate(black_box(&token))).unwrap())
    });
    group.bench_function("plain_profile", |b| {
        b.iter(|| ready(plain.validate(black_box(&token))).unwrap())
    });
    group.finish();

    SEAM_RATIO.set(paired_ratio(&preset, &plain, &token)).ok();
}

/// The claim mapping's cost: the same Keycloak-shaped token through the Keycloak preset
/// (roles read from `realm_access.roles` and `resource_access.{client}.roles`, payload `typ`
/// checked) and through a plain profile with the same keys and no mapping.
fn bench_claim_mapping(c: &mut Criterion) {
    use tokengate::Issuers;
    use tokengate::providers::keycloak::Keycloak;
    use tokengate::testing::TestIssuer;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let test = runtime.block_on(TestIssuer::start()).unwrap();
    let iss = "https://sso.example.com/realms/shop";
    let token = test
        .token()
        .claim("iss", iss)
        .claim("aud", "orders-api")
        .claim("typ", "Bearer")
        .claim("azp", "shop-web")
        .claim("scope", "openid profile email")
        .claim(
            "realm_access",
            serde_json::json!({"roles": ["offline_access", "default-roles-shop", "clerk"]}),
        )
        .claim(
            "resource_access",
            serde_json::json!({"orders-api": {"roles": ["approver"]}, "account": {"roles": ["manage-account"]}}),
        )
        .without_claim("client_id")
        .sign();
    let realm = Keycloak::new("https://sso.example.com", "shop")
        .audience("orders-api")
        .client_roles("orders-api");
    let mapped = Gate::builder()
        .issuer(Issuers::from(realm).with_test_keys(test.jwks()))
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    let plain = Gate::builder()
        .issuer(
            IssuerProfile::new(iss)
                .audience("orders-api")
                .jwks(test.jwks()),
        )
        .token_cache(TokenCacheSettings::disabled())
        .build()
        .unwrap();
    let roles = ready(mapped.validate(&token)).unwrap().roles().count();
    assert_eq!(roles, 4, "the mapping is in effect");
    assert_eq!(ready(plain.validate(&token)).unwrap().roles().count(), 0);

    let mut group = c.benchmark_group("claim_mapping");
    group.bench_function("keycloak_preset", |b| {
        b.iter(|| ready(mapped.validate(black_box(&token))).unwrap())
    });
    group.bench_function("plain_profile", |b| {
        b.iter(|| ready(plain.validate(black_box(&token))).unwrap())
    });
    group.finish();

    MAPPING_RATIO
        .set(paired_ratio(&mapped, &plain, &token))
        .ok();
}

/// The median of the alternating mapped/plain rounds.
static MAPPING_RATIO: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

fn report_claim_mapping() {
    if let (Some(mapped), Some(plain)) = (
        criterion_median("claim_mapping", "keycloak_preset"),
        criterion_median("claim_mapping", "plain_profile"),
    ) {
        println!(
            "\nKeycloak-shaped token with the claim mapping {:.2} µs, without {:.2} µs: ratio {:.3}",
            mapped / 1e3,
            plain / 1e3,
            mapped / plain
        );
    }
    if let Some(ratio) = MAPPING_RATIO.get() {
        println!("mapped / plain, median of 101 alternating rounds of 500: {ratio:.3}");
    }
}

/// How much longer `a` takes than `b` to validate `token`: the median of 101 rounds of 500
/// validations each, alternating. Criterion measures one after the other, so drift on a busy
/// machine shows as a few percent either way; alternating short batches compares the two
/// under the same conditions.
fn paired_ratio(a: &Gate, b: &Gate, token: &str) -> f64 {
    let batch = |gate: &Gate| {
        let start = std::time::Instant::now();
        for _ in 0..500 {
            black_box(ready(gate.validate(black_box(token))).unwrap());
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..101).map(|_| batch(a) / batch(b)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// The median of the alternating preset/plain rounds.
static SEAM_RATIO: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

/// Per algorithm: the medians of alternating rounds, tokengate / floor and jsonwebtoken / floor.
static PAIRED: std::sync::Mutex<Vec<(Algorithm, f64, f64)>> = std::sync::Mutex::new(Vec::new());

/// The median of the alternating fetched/static rounds.
static PAIRED_RATIO: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

fn report() {
    println!("\nmedians of this run (ratio to the floor: aws-lc-rs verify with a pre-parsed key)");
    println!(
        "{:<6} {:>12} {:>12} {:>8} {:>14} {:>8}",
        "alg", "floor", "tokengate", "ratio", "jsonwebtoken", "ratio"
    );
    for alg in ALGORITHMS {
        let name = alg.name();
        let (Some(floor), Some(ours), Some(theirs)) = (
            criterion_median(name, "floor"),
            criterion_median(name, "tokengate"),
            criterion_median(name, "jsonwebtoken"),
        ) else {
            println!("{name:<6} (not measured in this run)");
            continue;
        };
        println!(
            "{name:<6} {:>9.2} µs {:>9.2} µs {:>7.3}x {:>11.2} µs {:>7.3}x",
            floor / 1e3,
            ours / 1e3,
            ours / floor,
            theirs / 1e3,
            theirs / floor
        );
    }
    println!("\nratios to the floor, median of 31 alternating rounds of ~15 ms (robust to drift)");
    println!("{:<6} {:>10} {:>13}", "alg", "tokengate", "jsonwebtoken");
    for (alg, ours, theirs) in PAIRED.lock().unwrap().iter() {
        println!("{:<6} {ours:>9.3}x {theirs:>12.3}x", alg.name());
    }
}

fn report_key_sources() {
    if let (Some(fixed), Some(fetched)) = (
        criterion_median("keys", "static"),
        criterion_median("keys", "fetched"),
    ) {
        println!(
            "\nRS256 with fetched keys {:.2} µs, with static keys {:.2} µs: ratio {:.3}",
            fetched / 1e3,
            fixed / 1e3,
            fetched / fixed
        );
    }
    if let Some(ratio) = PAIRED_RATIO.get() {
        println!("fetched / static, median of 101 alternating rounds of 500: {ratio:.3}");
    }
}

fn report_provider_seam() {
    if let (Some(preset), Some(plain)) = (
        criterion_median("provider", "entra_preset"),
        criterion_median("provider", "plain_profile"),
    ) {
        println!(
            "\nEntra v2 token through the Entra preset {:.2} µs, through a plain profile {:.2} µs: ratio {:.3}",
            preset / 1e3,
            plain / 1e3,
            preset / plain
        );
    }
    if let Some(ratio) = SEAM_RATIO.get() {
        println!("preset / plain, median of 101 alternating rounds of 500: {ratio:.3}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench, bench_key_sources, bench_provider_seam, bench_claim_mapping
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
    report_key_sources();
    report_provider_seam();
    report_claim_mapping();
}
