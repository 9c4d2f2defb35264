//! The `testing` feature: a test issuer that mints tokens and serves discovery and a JWKS on
//! 127.0.0.1, as users would use it to test their own APIs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokengate::testing::TestIssuer;
use tokengate::{Algorithm, ErrorClass, Gate, IssuerProfile, TokenProfile};
use tokio::time::Instant;

/// More than the test issuer's one-second cooldown (and first backoff).
const PAST_COOLDOWN: Duration = Duration::from_millis(1150);

const MAIN: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

const OTHERS: [Algorithm; 5] = [
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES512,
];

async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

/// A segment of a compact JWS, decoded as JSON.
fn segment(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("three segments");
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(text)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn header(token: &str) -> Value {
    segment(token, 0)
}

fn payload(token: &str) -> Value {
    segment(token, 1)
}

fn kids(jwks: &str) -> Vec<String> {
    let jwks: Value = serde_json::from_str(jwks).expect("JSON");
    jwks["keys"]
        .as_array()
        .expect("a keys array")
        .iter()
        .map(|k| k["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A client that never goes through a proxy, even if the environment names one.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn tokens_of_every_algorithm_validate_with_the_claims_as_minted() {
    let issuer = TestIssuer::with_algorithms(MAIN).await.unwrap();
    assert_eq!(kids(&issuer.jwks()).len(), 5);
    // Keys for the other algorithms are added on demand, before the gate first fetches.
    let tokens: Vec<(Algorithm, String)> = MAIN
        .iter()
        .chain(&OTHERS)
        .map(|&alg| {
            let token = issuer
                .token()
                .alg(alg)
                .subject("alice")
                .scope("orders.read orders.write")
                .roles(["Orders.Admin", "Reader"])
                .claim("tenant", json!({"id": 7, "name": "contoso"}))
                .sign();
            (alg, token)
        })
        .collect();
    assert_eq!(kids(&issuer.jwks()).len(), 10);

    let gate = issuer.gate();
    for (alg, token) in &tokens {
        let header = header(token);
        assert_eq!(header["alg"], alg.name());
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(
            header["kid"],
            format!("test-{}-1", alg.name().to_lowercase())
        );

        let claims = gate
            .validate(token)
            .await
            .unwrap_or_else(|r| panic!("{alg}: {}", r.code()));
        assert_eq!(claims.issuer(), issuer.issuer(), "{alg}");
        assert_eq!(claims.subject(), Some("alice"), "{alg}");
        assert_eq!(claims.audiences().collect::<Vec<_>>(), [issuer.audience()]);
        assert_eq!(claims.client_id(), Some("test-client"));
        assert_eq!(
            claims.scopes().collect::<Vec<_>>(),
            ["orders.read", "orders.write"]
        );
        assert_eq!(
            claims.roles().collect::<Vec<_>>(),
            ["Orders.Admin", "Reader"]
        );
        let json: Value = serde_json::from_str(claims.json()).unwrap();
        assert_eq!(json["tenant"], json!({"id": 7, "name": "contoso"}), "{alg}");
    }
    // One discovery and one key set served them all.
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn default_tokens_have_the_rfc_9068_shape() {
    let issuer = TestIssuer::start().await.unwrap();
    let base = issuer.issuer().to_owned();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with('/'));
    assert_eq!(issuer.audience(), "api://tokengate-test");
    assert_eq!(issuer.jwks_uri(), format!("{base}/jwks"));
    assert_eq!(
        issuer.discovery_url(),
        format!("{base}/.well-known/openid-configuration")
    );
    assert_eq!(kids(&issuer.jwks()), ["test-rs256-1"]);

    let before = now();
    let token = issuer.token().sign();
    let second = issuer.token().sign();
    assert_eq!(
        header(&token),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": "test-rs256-1"})
    );
    let claims = payload(&token);
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(claims["iss"], base.as_str());
    assert_eq!(claims["aud"], "api://tokengate-test");
    assert_eq!(claims["sub"], "test-user");
    assert_eq!(claims["client_id"], "test-client");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before..=now()).contains(&iat));
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(
        payload(&second)["jti"],
        claims["jti"],
        "a fresh jti per token"
    );

    // The strict RFC 9068 profile, which requires typ at+jwt, sub, client_id, iat and jti.
    let strict = Gate::builder()
        .issuer(issuer.profile().token_profile(TokenProfile::Rfc9068))
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    assert_eq!(code(&strict, &token).await, "accepted");
    let without_jti = issuer.token().without_claim("jti").sign();
    assert_eq!(code(&strict, &without_jti).await, "missing_claim");

    // expires_in sets exp from now.
    let short = issuer.token().expires_in(Duration::from_secs(90)).sign();
    let exp = payload(&short)["exp"].as_i64().unwrap();
    assert!((before + 90..=now() + 90).contains(&exp));
}

#[tokio::test]
async fn broken_tokens_are_refused_with_their_codes() {
    let issuer = TestIssuer::with_algorithms(MAIN).await.unwrap();
    let gate = issuer.gate();
    assert_eq!(code(&gate, &issuer.token().sign()).await, "accepted");

    let expired = issuer.token().expired().sign();
    let claims = payload(&expired);
    assert!(claims["exp"].as_i64().unwrap() <= now() - 3600);
    assert!(claims["iat"].as_i64().unwrap() <= now() - 7200);
    assert_eq!(code(&gate, &expired).await, "token_expired");

    for alg in MAIN {
        let good = issuer.token().alg(alg).sign();
        let tampered = issuer.token().alg(alg).tampered().sign();
        assert_eq!(code(&gate, &good).await, "accepted", "{alg}");
        // Still canonical base64url (otherwise: malformed_token), but the wrong signature.
        assert_eq!(code(&gate, &tampered).await, "invalid_signature", "{alg}");
    }

    let elsewhere = issuer.token().audience("api://another-api").sign();
    assert_eq!(payload(&elsewhere)["aud"], "api://another-api");
    assert_eq!(code(&gate, &elsewhere).await, "invalid_audience");

    let no_exp = issuer.token().without_claim("exp").sign();
    assert!(payload(&no_exp).get("exp").is_none());
    let refused = gate.validate(&no_exp).await.unwrap_err();
    assert_eq!(refused.code(), "missing_claim");
    assert_eq!(refused.claim(), Some("exp"));

    // Headers can be changed and removed too.
    let dpop = issuer.token().header("typ", "dpop+jwt").sign();
    assert_eq!(code(&gate, &dpop).await, "invalid_token_type");
    let none = issuer.token().header("alg", "none").sign();
    assert_eq!(code(&gate, &none).await, "unsupported_algorithm");
    let no_alg = issuer.token().without_header("alg").sign();
    assert!(header(&no_alg).get("alg").is_none());
    assert_eq!(code(&gate, &no_alg).await, "malformed_header");
    let other_kid = issuer.token().header("kid", "nobody").sign();
    assert_eq!(code(&gate, &other_kid).await, "unknown_key");
    let id_token = issuer.token().claim("nonce", "n-0S6_WzA2Mj").sign();
    assert_eq!(code(&gate, &id_token).await, "not_an_access_token");
    // A claim can be replaced by a value of the wrong type.
    let text_exp = issuer.token().claim("exp", "tomorrow").sign();
    assert_eq!(code(&gate, &text_exp).await, "malformed_claims");
}

#[tokio::test(start_paused = true)]
async fn rotation_publishes_the_new_key_and_retires_the_old() {
    let issuer = TestIssuer::start().await.unwrap();
    let gate = issuer.gate();
    let before = issuer.token().sign();
    assert_eq!(code(&gate, &before).await, "accepted");
    assert_eq!(issuer.jwks_requests(), 1);
    let old = header(&before)["kid"].as_str().unwrap().to_owned();

    let new = issuer.rotate(Algorithm::RS256);
    assert_eq!(new, "test-rs256-2");
    assert_eq!(kids(&issuer.jwks()), [new.as_str()]);
    let after = issuer.token().sign();
    assert_eq!(header(&after)["kid"], new.as_str());

    // The gate may fetch again once the cooldown since its first fetch has passed.
    tokio::time::advance(PAST_COOLDOWN).await;
    assert_eq!(code(&gate, &after).await, "accepted");
    assert_eq!(
        issuer.jwks_requests(),
        2,
        "the unknown kid caused a refresh"
    );

    // The old key still signs, but the gate has refreshed and no longer knows it.
    let with_old = issuer.token().key(&old).sign();
    assert_eq!(header(&with_old)["kid"], old.as_str());
    assert_eq!(code(&gate, &with_old).await, "unknown_key");
    assert_eq!(code(&gate, &before).await, "unknown_key");
    assert_eq!(code(&issuer.gate(), &with_old).await, "unknown_key");
}

#[tokio::test]
async fn removed_keys_are_unpublished_but_can_still_sign() {
    let issuer = TestIssuer::with_algorithms([Algorithm::ES256])
        .await
        .unwrap();
    let first = "test-es256-1";
    let second = issuer.add_key(Algorithm::ES256);
    assert_eq!(second, "test-es256-2");
    assert_eq!(kids(&issuer.jwks()), [first, second.as_str()]);
    // The newest key is the current one.
    assert_eq!(header(&issuer.token().sign())["kid"], second.as_str());

    assert!(issuer.remove_key(&second));
    assert!(!issuer.remove_key(&second), "already removed");
    assert!(!issuer.remove_key("test-es256-9"), "never existed");
    assert_eq!(kids(&issuer.jwks()), [first]);
    // The current key falls back to the newest one still published.
    let token = issuer.token().alg(Algorithm::ES256).sign();
    assert_eq!(header(&token)["kid"], first);

    let gate = issuer.gate();
    assert_eq!(code(&gate, &token).await, "accepted");
    let removed = issuer.token().key(&second).sign();
    assert_eq!(code(&gate, &removed).await, "unknown_key");

    // With no key left for the algorithm, signing adds and publishes one.
    assert!(issuer.remove_key(first));
    assert_eq!(kids(&issuer.jwks()), Vec::<String>::new());
    let fresh = issuer.token().sign();
    assert_eq!(header(&fresh)["kid"], "test-es256-3");
    assert_eq!(kids(&issuer.jwks()), ["test-es256-3"]);
    assert_eq!(code(&issuer.gate(), &fresh).await, "accepted");
}

#[tokio::test]
#[should_panic(expected = "no key \"test-rs256-7\"")]
async fn signing_with_an_unknown_key_panics() {
    let issuer = TestIssuer::start().await.unwrap();
    let _ = issuer.token().key("test-rs256-7").sign();
}

#[tokio::test(start_paused = true)]
async fn outages_make_keys_unavailable_until_the_provider_is_back() {
    let issuer = TestIssuer::start().await.unwrap();
    let token = issuer.token().sign();
    let loaded = issuer.gate();
    assert_eq!(code(&loaded, &token).await, "accepted");
    let (discoveries, key_sets) = (issuer.discovery_requests(), issuer.jwks_requests());
    assert_eq!((discoveries, key_sets), (1, 1));

    issuer.set_outage(true);
    let http = client();
    for url in [issuer.discovery_url(), issuer.jwks_uri()] {
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 503, "{url}");
    }
    assert_eq!(issuer.discovery_requests(), 2, "failed requests count too");
    assert_eq!(issuer.jwks_requests(), 2);

    let gate = issuer.gate();
    let refused = gate.validate(&token).await.unwrap_err();
    assert_eq!(refused.code(), "keys_unavailable");
    assert_eq!(refused.class(), ErrorClass::TemporarilyUnavailable);
    assert_eq!(issuer.discovery_requests(), 3, "the fresh gate tried");
    assert_eq!(issuer.jwks_requests(), 2, "discovery failed first");
    // A gate that already holds the keys keeps using them.
    assert_eq!(code(&loaded, &token).await, "accepted");

    issuer.set_outage(false);
    // A fresh gate has no backoff to wait out.
    assert_eq!(code(&issuer.gate(), &token).await, "accepted");
    // The failed gate retries after its backoff: the cooldown (1 s) after the first failure.
    tokio::time::advance(PAST_COOLDOWN).await;
    assert_eq!(code(&gate, &token).await, "accepted");
}

#[tokio::test(start_paused = true)]
async fn the_server_serves_discovery_and_the_key_set() {
    let issuer = TestIssuer::with_algorithms(MAIN).await.unwrap();
    let http = client();
    let base = issuer.issuer().to_owned();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let document: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(document["issuer"], base.as_str());
        assert_eq!(document["jwks_uri"], issuer.jwks_uri());
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            json!(["RS256", "PS256", "ES256", "ES384", "EdDSA"])
        );
        assert!(document["response_types_supported"].is_array());
        assert!(document["subject_types_supported"].is_array());
    }
    assert_eq!(issuer.discovery_requests(), 2);
    assert_eq!(issuer.jwks_requests(), 0);

    let response = http.get(issuer.jwks_uri()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert_eq!(text, issuer.jwks());
    assert_eq!(issuer.jwks_requests(), 1);
    let jwks: Value = serde_json::from_str(&text).unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().unwrap().starts_with("test-"));
        let members: &[&str] = match key["kty"].as_str().unwrap() {
            "RSA" => &["n", "e"],
            "EC" => &["crv", "x", "y"],
            "OKP" => &["crv", "x"],
            other => panic!("kty {other}"),
        };
        for member in members {
            assert!(key[member].is_string(), "{member} in {key}");
        }
        // Public keys only.
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }

    for path in ["/", "/keys", "/jwks/extra", "/.well-known/jwks.json"] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let post = http.post(issuer.jwks_uri()).send().await.unwrap();
    assert_eq!(post.status(), 405);

    // Delays apply to every response. Measured on the paused clock, which moves only when a
    // timer is due: how busy the machine is cannot change the outcome.
    issuer.set_delay(Duration::from_millis(300));
    let started = Instant::now();
    let response = http.get(issuer.jwks_uri()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    issuer.set_delay(Duration::ZERO);
    let started = Instant::now();
    http.get(issuer.jwks_uri()).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn the_key_set_also_works_when_configured_statically() {
    let issuer = TestIssuer::with_algorithms([Algorithm::EdDSA])
        .await
        .unwrap();
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(issuer.issuer())
                .audience(issuer.audience())
                .jwks(issuer.jwks()),
        )
        .build()
        .unwrap();
    let token = issuer.token().subject("bob").sign();
    let claims = gate.validate(&token).await.unwrap();
    assert_eq!(claims.subject(), Some("bob"));
    assert_eq!(issuer.jwks_requests() + issuer.discovery_requests(), 0);
}

#[tokio::test]
async fn the_server_stops_with_the_last_clone() {
    let issuer = TestIssuer::start().await.unwrap();
    let url = issuer.jwks_uri();
    let builder = issuer.token();
    let clone = issuer.clone();
    drop(issuer);
    drop(builder);
    // A new client each time: no pooled connection survives.
    assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    assert_eq!(clone.jwks_requests(), 1, "clones share the counters");

    drop(clone);
    let mut stopped = false;
    for _ in 0..50 {
        // The aborted server stops once the runtime polls it again: no time needs to pass.
        tokio::task::yield_now().await;
        if client().get(&url).send().await.is_err() {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "the server still answers");
}

#[tokio::test]
async fn debug_output_shows_no_key_material_or_claim_values() {
    let issuer = TestIssuer::start().await.unwrap();
    let jwks: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    let modulus = jwks["keys"][0]["n"].as_str().unwrap();
    let printed = format!("{issuer:?}");
    assert!(printed.contains("test-rs256-1"), "{printed}");
    assert!(!printed.contains(&modulus[..16]), "{printed}");

    let builder = issuer.token().subject("secret-subject-value");
    let printed = format!("{builder:?}");
    assert!(printed.contains("sub"), "{printed}");
    assert!(!printed.contains("secret-subject-value"), "{printed}");
}

#[tokio::test]
async fn at_least_one_algorithm_is_needed() {
    let error = TestIssuer::with_algorithms([]).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    // Duplicates count once; the first algorithm is the default.
    let issuer =
        TestIssuer::with_algorithms([Algorithm::ES384, Algorithm::ES384, Algorithm::RS256])
            .await
            .unwrap();
    assert_eq!(kids(&issuer.jwks()), ["test-es384-1", "test-rs256-1"]);
    assert_eq!(header(&issuer.token().sign())["alg"], "ES384");
}

/// `/mint` and `/token` answer what a development issuer should and refuse the rest: an
/// algorithm the issuer holds no key for (a request never creates keys), a body over 64 KiB,
/// malformed claims, a `GET`. `null` removes a default claim.
#[tokio::test]
async fn the_mint_and_token_endpoints_refuse_what_they_should() {
    let issuer = TestIssuer::start().await.unwrap();
    let client = tokengate::reqwest::Client::new();
    let mint = format!("{}/mint", issuer.issuer());
    let post = |url: String, body: String| client.post(url).body(body).send();

    let answer = post(mint.clone(), r#"{"sub":"alice","scope":null}"#.into())
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let token = answer.text().await.unwrap();
    let claims = issuer.gate().validate(&token).await.unwrap();
    assert_eq!(claims.subject(), Some("alice"));
    assert_eq!(claims.claim::<Value>("scope").unwrap(), None);

    let jwks_before = issuer.jwks();
    let answer = post(format!("{mint}?alg=PS512"), String::new())
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(issuer.jwks(), jwks_before, "no key was made");
    let answer = post(format!("{mint}?alg=nope"), String::new())
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let answer = post(mint.clone(), "[1, 2]".into()).await.unwrap();
    assert_eq!(answer.status(), 400);
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024));
    assert_eq!(post(mint.clone(), big).await.unwrap().status(), 400);
    assert_eq!(client.get(&mint).send().await.unwrap().status(), 405);

    let token_url = format!("{}/token", issuer.issuer());
    let answer = post(token_url, "grant_type=password".into()).await.unwrap();
    assert_eq!(answer.status(), 400);
}
