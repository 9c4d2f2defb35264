//! What a key may cost, and which keys load: RSA keys above 4096 bits or with an exponent
//! other than 65537 are skipped unless configured (anyone can make every forged token cost a
//! check with the costliest key held); RSA keys without `alg` verify RS256 under the default
//! allowlist; configured key sets are capped like fetched ones (STD-JWA-1, STD-JWK-1,
//! STD-8725-1, ATK-38, ATK-41).
//!
//! The fixtures are test keys made with OpenSSL (`genpkey`, 8192 bits with e = 65537, and 2048
//! bits with e = 2^32 - 1): generating an 8192-bit key takes too long for a test.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings};
use tokengate_testkit::provider::Provider;
use tokengate_testkit::{AUDIENCE, TestKey, b64, jwks};

use crate::{by_uri, cache, claims_for, code};

struct Fixture {
    jwk: &'static str,
    pem: &'static str,
}

const RSA_8192: Fixture = Fixture {
    jwk: include_str!("fixtures/rsa8192.jwk.json"),
    pem: include_str!("fixtures/rsa8192.pem"),
};

const RSA_E32: Fixture = Fixture {
    jwk: include_str!("fixtures/rsa2048-e32.jwk.json"),
    pem: include_str!("fixtures/rsa2048-e32.pem"),
};

impl Fixture {
    fn jwk(&self) -> Value {
        serde_json::from_str(self.jwk).unwrap()
    }

    fn kid(&self) -> String {
        self.jwk()["kid"].as_str().unwrap().to_owned()
    }

    fn jwks(&self) -> String {
        json!({"keys": [self.jwk()]}).to_string()
    }

    /// An RS256 token signed with the fixture's private key.
    fn token(&self, issuer: &str) -> String {
        let der = pem::parse(self.pem).unwrap();
        let key = RsaKeyPair::from_pkcs8(der.contents()).unwrap();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid()});
        let input = format!(
            "{}.{}",
            b64(header.to_string()),
            b64(claims_for(issuer).to_string())
        );
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{input}.{}", b64(signature))
    }
}

/// STD-JWA-1: an 8192-bit key and a key with e = 2^32 - 1 are skipped by default, for the
/// cost they give every forged token; each loads, and verifies its tokens, once the setting
/// that admits it is made.
#[tokio::test(start_paused = true)]
async fn costly_rsa_keys_are_skipped_by_default_and_accepted_when_configured() {
    type Admit = fn(KeyCacheSettings) -> KeyCacheSettings;
    let admits: [(&Fixture, Admit); 2] = [
        (&RSA_8192, |settings| settings.max_rsa_bits(8192)),
        (&RSA_E32, KeyCacheSettings::allow_any_rsa_exponent),
    ];
    for (fixture, admit) in admits {
        let kid = fixture.kid();
        let usual = TestKey::generate(Algorithm::ES256, "usual");
        let mut set: Value = serde_json::from_str(&jwks(&[&usual])).unwrap();
        set["keys"].as_array_mut().unwrap().push(fixture.jwk());
        let provider = Provider::start(set.to_string()).await;
        let issuer = provider.issuer();
        let token = fixture.token(&issuer);

        let gate = by_uri(&provider, cache());
        gate.warm_up().await.unwrap();
        assert_eq!(gate.key_status()[0].keys, 1, "{kid}: skipped");
        assert_eq!(code(&gate, &token).await, "unknown_key", "{kid}");
        assert_eq!(
            code(&gate, &usual.token(&claims_for(&issuer))).await,
            "accepted"
        );

        let gate = by_uri(&provider, admit(cache()));
        gate.warm_up().await.unwrap();
        assert_eq!(gate.key_status()[0].keys, 2, "{kid}: admitted");
        assert_eq!(code(&gate, &token).await, "accepted", "{kid}");

        // Configured keys obey the same limits: alone in the set, the key leaves none.
        let configured = |settings: KeyCacheSettings| {
            Gate::builder()
                .issuer(
                    IssuerProfile::new(&issuer)
                        .audience(AUDIENCE)
                        .jwks(fixture.jwks()),
                )
                .key_cache(settings)
                .build()
        };
        let refused = configured(KeyCacheSettings::default())
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("no usable key") && refused.contains(&kid),
            "{refused}"
        );
        let gate = configured(admit(KeyCacheSettings::default())).unwrap();
        assert_eq!(code(&gate, &token).await, "accepted", "{kid}: configured");
    }
    // Both at once need both settings; beyond 8192 bits and 2^32 - 1 nothing admits a key.
    let mut both = RSA_8192.jwk();
    both["e"] = RSA_E32.jwk()["e"].clone();
    let profile = || {
        IssuerProfile::new("https://login.example.com/")
            .audience(AUDIENCE)
            .jwks(json!({"keys": [both]}).to_string())
    };
    let build = |settings: KeyCacheSettings| {
        Gate::builder()
            .issuer(profile())
            .key_cache(settings)
            .build()
    };
    assert!(build(KeyCacheSettings::default().max_rsa_bits(8192)).is_err());
    assert!(build(KeyCacheSettings::default().allow_any_rsa_exponent()).is_err());
    assert!(
        build(
            KeyCacheSettings::default()
                .max_rsa_bits(8192)
                .allow_any_rsa_exponent()
        )
        .is_ok()
    );
    for bits in [2047, 8193, 0] {
        let error = build(KeyCacheSettings::default().max_rsa_bits(bits)).unwrap_err();
        assert!(error.to_string().contains("max_rsa_bits"), "{error}");
    }
}

/// RSA keys without `alg` (Microsoft Entra ID publishes them so) verify RS256 under the
/// default allowlist, and only RS256; with several RSA algorithms chosen explicitly, the
/// binding would be a guess, and `warm_up()` says so rather than every token failing.
#[tokio::test(start_paused = true)]
async fn alg_less_rsa_keys_verify_rs256_under_the_default_allowlist() {
    let key = TestKey::generate(Algorithm::RS256, "entra-like");
    let provider = Provider::start(json!({"keys": [key.jwk_without_alg()]}).to_string()).await;
    let issuer = provider.issuer();
    let gate = by_uri(&provider, cache());
    gate.warm_up().await.unwrap();
    assert_eq!(
        code(&gate, &key.token(&claims_for(&issuer))).await,
        "accepted"
    );
    // One key, one algorithm: the same key under PS256 is refused without a check.
    let ps = key.token_with_header(
        &json!({"alg": "PS256", "kid": "entra-like"}),
        &claims_for(&issuer),
    );
    assert_eq!(code(&gate, &ps).await, "key_algorithm_mismatch");

    let explicit = Gate::builder()
        .issuer(
            IssuerProfile::new(&issuer)
                .audience(AUDIENCE)
                .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
                .jwks_uri(provider.jwks_uri()),
        )
        .key_cache(cache())
        .build()
        .unwrap();
    let error = explicit.warm_up().await.unwrap_err().to_string();
    assert!(
        error.contains("entra-like") && error.contains("several RSA algorithms"),
        "{error}"
    );
}

/// ATK-38: a configured key set is capped like a fetched one (`max_keys`, 100 by default),
/// counting every key configured for the issuer.
#[test]
fn configured_key_sets_are_capped() {
    let key = TestKey::generate(Algorithm::ES256, "k");
    let many = |count: usize| {
        let keys: Vec<Value> = (0..count)
            .map(|i| {
                let mut jwk = key.jwk();
                jwk["kid"] = json!(format!("k{i}"));
                jwk
            })
            .collect();
        json!({ "keys": keys }).to_string()
    };
    let build = |sets: &[String], settings: KeyCacheSettings| {
        let mut profile = IssuerProfile::new("https://login.example.com/").audience(AUDIENCE);
        for set in sets {
            profile = profile.jwks(set.clone());
        }
        Gate::builder().issuer(profile).key_cache(settings).build()
    };
    assert!(build(&[many(100)], KeyCacheSettings::default()).is_ok());
    let error = build(&[many(101)], KeyCacheSettings::default()).unwrap_err();
    assert!(error.to_string().contains("max_keys"), "{error}");
    let error = build(&[many(60), many(60)], KeyCacheSettings::default()).unwrap_err();
    assert!(error.to_string().contains("max_keys"), "{error}");
    let gate = build(&[many(101)], KeyCacheSettings::default().max_keys(200)).unwrap();
    assert_eq!(gate.key_status()[0].keys, 101);
}
