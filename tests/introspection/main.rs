//! Opaque tokens through RFC 7662 introspection, against the test issuer's endpoint: the same
//! contract as a JWT (STD-7662-3), the cache and its revocation delay (STD-7662-4), one call per
//! token, the concurrency bound, and 503 whenever the endpoint cannot answer (STD-7662-5).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::Method;
use tokengate::testing::{DpopKey, TestIssuer};
use tokengate::{Algorithm, DpopMode, Gate, Introspection, Presented};

async fn issuer() -> TestIssuer {
    TestIssuer::start().await.expect("test issuer")
}

fn gate_with(issuer: &TestIssuer, introspection: Introspection) -> Gate {
    Gate::builder()
        .issuer(issuer.profile().introspection(introspection))
        .key_cache(issuer.key_cache())
        .build()
        .expect("valid gate")
}

#[tokio::test]
async fn active_tokens_are_accepted_with_their_claims_and_cached() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection());
    let token = issuer
        .token()
        .subject("alice")
        .scope("orders.read")
        .claim("tid", "t-1")
        .opaque();
    let first = gate.validate(&token).await.unwrap();
    assert_eq!(first.subject(), Some("alice"));
    assert!(first.has_scope("orders.read"));
    assert_eq!(first.tenant_id(), Some("t-1"));
    assert_eq!(first.issuer(), issuer.issuer());
    assert_eq!(issuer.introspection_requests(), 1);
    // A cache hit: the same claims, no call.
    let second = gate.validate(&token).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(issuer.introspection_requests(), 1);
    // JWTs stay local.
    gate.validate(&issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.introspection_requests(), 1);
}

/// STD-7662-4: a revoked token passes until its cached answer is older than `max_age`.
#[tokio::test]
async fn revocation_takes_effect_within_max_age() {
    let issuer = issuer().await;
    let gate = gate_with(
        &issuer,
        issuer.introspection().max_age(Duration::from_secs(30)),
    );
    let token = issuer.token().opaque();
    let now = SystemTime::now();
    gate.validate_at(&token, now).await.unwrap();
    assert!(issuer.revoke(&token));
    gate.validate_at(&token, now + Duration::from_secs(29))
        .await
        .expect("the cached answer, within max_age");
    let refused = gate
        .validate_at(&token, now + Duration::from_secs(31))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "token_inactive");
    assert_eq!(issuer.introspection_requests(), 2);
    // The inactive answer is cached briefly too.
    let again = gate
        .validate_at(&token, now + Duration::from_secs(32))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "token_inactive");
    assert_eq!(issuer.introspection_requests(), 2);
}

/// STD-7662-3: `active: true` is not "for me".
#[tokio::test]
async fn active_is_not_enough() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection());
    let cases = [
        (
            issuer.token().audience("api://another").opaque(),
            "invalid_audience",
        ),
        (issuer.token().expired().opaque(), "token_inactive"),
        (
            issuer.token().claim("iss", "https://evil.example").opaque(),
            "untrusted_issuer",
        ),
        (
            issuer.token().without_claim("exp").opaque(),
            "missing_claim",
        ),
        (
            issuer.token().claim("nonce", "n").opaque(),
            "not_an_access_token",
        ),
        ("tgo_unknown".to_owned(), "token_inactive"),
    ];
    for (token, code) in cases {
        let refused = gate.validate(&token).await.unwrap_err();
        assert_eq!(refused.code(), code);
    }
}

#[tokio::test]
async fn each_client_authentication_method() {
    let issuer = issuer().await;
    let (id, secret) = issuer.introspection_client();
    let token = issuer.token().opaque();
    let post = gate_with(&issuer, Introspection::client_secret_post(id, secret));
    post.validate(&token).await.unwrap();
    // Our credentials refused: the token is not judged (503), and an ERROR is logged.
    let wrong = gate_with(&issuer, Introspection::client_secret_basic(id, "wrong"));
    let refused = wrong.validate(&token).await.unwrap_err();
    assert_eq!(refused.code(), "introspection_unavailable");
    assert_eq!(
        refused.class(),
        tokengate::ErrorClass::TemporarilyUnavailable
    );
}

/// STD-7662-5: the endpoint down is 503, never 401, never acceptance; and it is not cached.
#[tokio::test]
async fn an_endpoint_that_cannot_answer_is_503() {
    let issuer = issuer().await;
    let gate = gate_with(
        &issuer,
        issuer.introspection().timeout(Duration::from_millis(300)),
    );
    let token = issuer.token().opaque();
    issuer.set_outage(true);
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "introspection_unavailable"
    );
    issuer.set_outage(false);
    issuer.set_delay(Duration::from_secs(2));
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "introspection_unavailable"
    );
    issuer.set_delay(Duration::ZERO);
    gate.validate(&token)
        .await
        .expect("answered once it is back");
}

/// Concurrent requests for one token share one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_per_token() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection());
    let token = issuer.token().opaque();
    issuer.set_delay(Duration::from_millis(200));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (gate, token) = (gate.clone(), token.clone());
            tokio::spawn(async move { gate.validate(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(issuer.introspection_requests(), 1);
}

/// A flood of distinct unknown tokens reaches the endpoint only as far as the bound allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_tokens_is_bounded() {
    let issuer = issuer().await;
    // The endpoint configured: the issuer's delay then holds the calls, not discovery.
    let settings = issuer
        .introspection()
        .endpoint(format!("{}/introspect", issuer.issuer()))
        .max_concurrency(3)
        .timeout(Duration::from_millis(500));
    let gate = gate_with(&issuer, settings);
    // The endpoint takes far longer than the timeout: every call in flight holds its turn.
    issuer.set_delay(Duration::from_secs(5));
    let tasks: Vec<_> = (0..30)
        .map(|n| {
            let gate = gate.clone();
            tokio::spawn(async move { gate.validate(&format!("tgo_flood_{n}")).await })
        })
        .collect();
    for task in tasks {
        let refused = task.await.unwrap().unwrap_err();
        assert_eq!(refused.code(), "introspection_unavailable");
    }
    // Three calls at first; when they time out, their turns free up for requests whose own
    // half second is not over yet (they started a moment later), which call too. The bound is
    // on calls in flight, so a 30-token flood reaches the endpoint a few times, never 30.
    let calls = issuer.introspection_requests();
    assert!((3..=6).contains(&calls), "{calls} calls");
}

/// `cnf.jkt` in an answer binds the opaque token as a JWT's would (RFC 9449 §6.2).
#[tokio::test]
async fn dpop_bound_opaque_tokens() {
    let issuer = issuer().await;
    let gate = Gate::builder()
        .issuer(
            issuer
                .profile()
                .introspection(issuer.introspection())
                .dpop(DpopMode::Allowed),
        )
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    let client = DpopKey::generate(Algorithm::ES256);
    let token = issuer.token().bound_to(&client).opaque();
    let url = "https://api.example.com/orders";
    let proof = client.proof(&Method::GET, url).token(&token).sign();
    gate.validate_presented(Presented::dpop(&token, &proof, &Method::GET, url))
        .await
        .unwrap();
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "sender_constrained_token"
    );
}

/// An opaque token names no issuer: several introspecting issuers need a prefix each, and a
/// token goes only to the issuer whose prefix it has.
#[tokio::test]
async fn several_introspecting_issuers() {
    let a = issuer().await;
    let b = issuer().await;
    let unprefixed = Gate::builder()
        .issuer(a.profile().introspection(a.introspection()))
        .issuer(b.profile().introspection(b.introspection()))
        .key_cache(a.key_cache())
        .build();
    assert!(unprefixed.unwrap_err().to_string().contains("token_prefix"));
    let gate = Gate::builder()
        .issuer(
            a.profile()
                .introspection(a.introspection().token_prefix("tgo_")),
        )
        .issuer(
            b.profile()
                .introspection(b.introspection().token_prefix("other_")),
        )
        .key_cache(a.key_cache())
        .build()
        .unwrap();
    let token = a.token().opaque();
    gate.validate(&token).await.unwrap();
    assert_eq!(
        (a.introspection_requests(), b.introspection_requests()),
        (1, 0)
    );
    // No issuer's prefix: refused without any call.
    assert_eq!(
        gate.validate("nobody_123").await.unwrap_err().code(),
        "malformed_token"
    );
    assert_eq!(
        (a.introspection_requests(), b.introspection_requests()),
        (1, 0)
    );
}

/// Through the layer: the claims for the handler, `401 token_inactive` with an `invalid_token`
/// challenge, and `503` with `Retry-After` (no challenge) while the endpoint is down.
#[tokio::test]
async fn through_the_layer() {
    use axum::routing::get;
    use axum::{Extension, Router};
    use tower::ServiceExt;

    let issuer = issuer().await;
    let gate = gate_with(
        &issuer,
        issuer.introspection().timeout(Duration::from_millis(300)),
    );
    let app = Router::new()
        .route(
            "/orders",
            get(
                |Extension(claims): Extension<Arc<tokengate::Claims>>| async move {
                    claims.subject().unwrap_or("?").to_owned()
                },
            ),
        )
        .layer(tokengate::TokenLayer::new(gate));
    let send = |token: String| {
        let app = app.clone();
        async move {
            let request = http::Request::get("/orders")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            app.oneshot(request).await.unwrap()
        }
    };
    let ok = send(issuer.token().subject("bob").opaque()).await;
    assert_eq!(ok.status(), 200);
    let body = axum::body::to_bytes(ok.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"bob");

    let revoked = issuer.token().opaque();
    issuer.revoke(&revoked);
    let refused = send(revoked).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer error="invalid_token", error_description="The access token is not active.""#
    );

    issuer.set_outage(true);
    let down = send(issuer.token().opaque()).await;
    assert_eq!(down.status(), 503);
    assert!(down.headers().get("retry-after").is_some());
    assert!(down.headers().get("www-authenticate").is_none());
}

/// `jwts_too`: a JWT passes its local checks and then needs an active answer too, so that a
/// revoked JWT is refused within `max_age`; the claims are the JWT's own, and opaque tokens
/// still go to the endpoint.
#[tokio::test]
async fn jwts_too_honours_revocation_before_exp() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection().jwts_too());
    let token = issuer.token().subject("carol").sign();
    let now = SystemTime::now();
    let claims = gate.validate_at(&token, now).await.unwrap();
    assert_eq!(claims.subject(), Some("carol"));
    assert_eq!(issuer.introspection_requests(), 1);
    // Cached: the verified JWT and its answer; no call.
    let again = gate.validate_at(&token, now).await.unwrap();
    assert!(Arc::ptr_eq(&claims, &again));
    assert_eq!(issuer.introspection_requests(), 1);
    assert!(issuer.revoke(&token));
    gate.validate_at(&token, now + Duration::from_secs(59))
        .await
        .unwrap();
    let refused = gate
        .validate_at(&token, now + Duration::from_secs(61))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "token_inactive");
    // A forged JWT is refused locally, without a call.
    let calls = issuer.introspection_requests();
    let forged = issuer.token().tampered().sign();
    assert_eq!(
        gate.validate(&forged).await.unwrap_err().code(),
        "invalid_signature"
    );
    assert_eq!(issuer.introspection_requests(), calls);
    // `jwts_only`: opaque tokens are no longer sent.
    let only = gate_with(&issuer, issuer.introspection().jwts_only());
    let opaque = issuer.token().opaque();
    assert_eq!(
        only.validate(&opaque).await.unwrap_err().code(),
        "malformed_token"
    );
    assert_eq!(issuer.introspection_requests(), calls);
    only.validate(&issuer.token().sign()).await.unwrap();
}

/// What a token is, by the answer's own words: Hydra's `token_use`, and `token_type: DPoP`
/// without a key binding.
#[tokio::test]
async fn token_use_and_token_type() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection());
    let hydra_access = issuer.token().claim("token_use", "access_token").opaque();
    gate.validate(&hydra_access).await.unwrap();
    for (token, code) in [
        (
            issuer.token().claim("token_use", "refresh_token").opaque(),
            "not_an_access_token",
        ),
        (
            issuer.token().claim("token_type", "refresh_token").opaque(),
            "not_an_access_token",
        ),
        (
            issuer.token().claim("token_type", "DPoP").opaque(),
            "token_not_bound",
        ),
    ] {
        assert_eq!(gate.validate(&token).await.unwrap_err().code(), code);
    }
}

/// A redirect from the endpoint is not followed: the token and our credentials go to the
/// endpoint and nowhere else (a 307 would re-send them), and the request gets 503.
#[tokio::test]
async fn redirects_are_not_followed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    let elsewhere = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_port = elsewhere.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reached);
    tokio::spawn(async move {
        while let Ok((_stream, _)) = elsewhere.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let endpoint = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint_port = endpoint.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = endpoint.accept().await {
            let mut buffer = [0; 4096];
            let _ = stream.read(&mut buffer).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{elsewhere_port}/collect\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    let issuer = issuer().await;
    let settings = issuer
        .introspection()
        .endpoint(format!("http://127.0.0.1:{endpoint_port}/introspect"));
    let gate = gate_with(&issuer, settings);
    let refused = gate.validate(&issuer.token().opaque()).await.unwrap_err();
    assert_eq!(refused.code(), "introspection_unavailable");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

/// RFC 9701: answers signed by the issuer, checked with its keys (fetched for them when the
/// API has seen no JWT yet).
#[tokio::test]
async fn signed_answers() {
    let issuer = issuer().await;
    let gate = gate_with(&issuer, issuer.introspection().jwt_answers());
    let token = issuer.token().subject("dave").scope("a b").opaque();
    let claims = gate.validate(&token).await.unwrap();
    assert_eq!(claims.subject(), Some("dave"));
    assert!(claims.has_scope("b"));
    issuer.revoke(&token);
    let later = SystemTime::now() + Duration::from_secs(61);
    assert_eq!(
        gate.validate_at(&token, later).await.unwrap_err().code(),
        "token_inactive"
    );
    // The issuer's answers are signed with a key it then withdraws and replaces: a gate holding
    // only the old keys cannot verify the new answers (503), never accepts them unverified.
    let stale = gate_with(&issuer, issuer.introspection().jwt_answers());
    stale.warm_up().await.unwrap();
    issuer.rotate(Algorithm::RS256);
    let fresh = issuer.token().opaque();
    assert_eq!(
        stale.validate(&fresh).await.unwrap_err().code(),
        "introspection_unavailable"
    );
}
