//! `RevocationLayer` (ENTRA-36): a user's asynchronous check after validation that may refuse
//! a token before its `exp`, with Entra's claims challenge for `cp1` clients.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokengate::providers::entra::ChallengeTarget;
use tokengate::{Claims, Gate, IssuerProfile, Revocation, RevocationLayer, TokenLayer};
use tower::{Layer, Service, ServiceExt};

use tokengate_testkit::{AUDIENCE, ISSUER, challenge, jwks, now, rs256, valid_claims};

fn gate() -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[rs256()])),
        )
        .build()
        .unwrap()
}

/// A token with the usual valid claims (`iat` 10 s ago) plus `extra`.
fn token(extra: Value) -> String {
    let mut claims = valid_claims();
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    rs256().token(&claims)
}

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
}

/// A check that answers `verdict` and records the subjects it was asked about.
#[derive(Clone, Default)]
struct Recorder {
    asked: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn check(
        &self,
        verdict: Revocation,
    ) -> impl Fn(Arc<Claims>) -> Pin<Box<dyn Future<Output = Revocation> + Send>> + Clone + use<>
    {
        let asked = self.asked.clone();
        move |claims: Arc<Claims>| {
            asked
                .lock()
                .unwrap()
                .push(claims.subject().unwrap_or_default().to_owned());
            // Asynchronous for real: the answer comes after a timer.
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                verdict
            })
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// An API whose revocation check answers `verdict`, with Entra's continuous access
/// evaluation answer for clients that handle claims challenges.
fn app(verdict: Revocation, recorder: &Recorder, token_layer: TokenLayer) -> Router {
    let revocation = RevocationLayer::builder(recorder.check(verdict))
        .on_revoked(ChallengeTarget::common().revocation_answer())
        .build()
        .unwrap();
    Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(revocation)
        .layer(token_layer)
}

async fn send(app: &Router, token: Option<&str>) -> (StatusCode, Option<String>, Value, String) {
    let mut request = Request::get("/orders");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned());
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let body = if status == StatusCode::OK {
        json!(String::from_utf8(body.to_vec()).unwrap())
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    (status, challenge, body, retry_after)
}

fn decode_claims_param(header: &str) -> Value {
    let parsed = challenge::parse_bearer(header).expect("strict RFC 9110 challenge");
    let b64 = parsed[0].param("claims").expect("claims parameter");
    let json = base64_simd::STANDARD
        .decode_to_vec(b64)
        .expect("padded standard base64");
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn entra_36_a_token_that_is_not_revoked_passes_and_the_check_sees_its_claims() {
    let recorder = Recorder::default();
    let app = app(Revocation::NotRevoked, &recorder, TokenLayer::new(gate()));
    let (status, _, body, _) = send(&app, Some(&token(json!({"sub": "alice"})))).await;
    assert_eq!((status, body), (StatusCode::OK, json!("orders")));
    assert_eq!(recorder.asked(), ["alice"]);
}

#[tokio::test]
async fn entra_36_a_revoked_token_is_401_token_revoked() {
    let recorder = Recorder::default();
    // Revoked a second ago; the token was issued 10 s ago.
    let app = app(
        Revocation::IssuedBefore(at(now() - 1)),
        &recorder,
        TokenLayer::new(gate()),
    );
    let (status, header, body, _) = send(&app, Some(&token(json!({})))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"code": "token_revoked", "error": "invalid_token",
               "error_description": "The access token has been revoked."})
    );
    let header = header.expect("a challenge");
    assert_eq!(
        header,
        "Bearer error=\"invalid_token\", error_description=\"The access token has been revoked.\""
    );
    challenge::parse_bearer(&header).expect("strict RFC 9110 challenge");
    // A token without `iat` cannot show that it is newer than the revocation.
    let mut claims = valid_claims();
    claims.as_object_mut().unwrap().remove("iat");
    let without_iat = rs256().token(&claims);
    let (status, _, body, _) = send(&app, Some(&without_iat)).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_revoked"))
    );
    assert_eq!(recorder.asked().len(), 2);
}

#[tokio::test]
async fn entra_36_a_token_issued_after_the_revocation_passes() {
    let recorder = Recorder::default();
    let issued = now() - 10;
    for (revoked, expected) in [
        (at(issued), StatusCode::OK),
        (at(issued - 3600), StatusCode::OK),
        (
            at(issued) + Duration::from_millis(1),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let app = app(
            Revocation::IssuedBefore(revoked),
            &recorder,
            TokenLayer::new(gate()),
        );
        let token = token(json!({"iat": issued}));
        assert_eq!(send(&app, Some(&token)).await.0, expected, "{revoked:?}");
    }
}

/// ENTRA-33, ENTRA-34 for revocation: a client that declared `cp1` gets the continuous access
/// evaluation challenge, asking for a token not before the revocation (whole seconds, rounded
/// up); the exact header, parameter for parameter, and the JSON inside.
#[tokio::test]
async fn entra_36_a_cp1_client_gets_a_claims_challenge_for_a_newer_token() {
    let recorder = Recorder::default();
    let revoked = at(now() - 5) + Duration::from_millis(250);
    let not_before = (now() - 5 + 1).to_string();
    let app = app(
        Revocation::IssuedBefore(revoked),
        &recorder,
        TokenLayer::new(gate()),
    );
    for cc in [json!(["cp1"]), json!(["CP1"]), json!("cp1")] {
        let (status, header, body, _) = send(&app, Some(&token(json!({"xms_cc": cc})))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cc}");
        assert_eq!(body["code"], "insufficient_claims");
        assert_eq!(body["error"], "insufficient_claims");
        let header = header.expect("a challenge");
        let expected_claims = base64_simd::STANDARD.encode_to_string(
            format!(r#"{{"access_token":{{"nbf":{{"essential":true,"value":"{not_before}"}}}}}}"#)
                .as_bytes(),
        );
        assert_eq!(
            header,
            format!(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
                 error=\"insufficient_claims\", claims=\"{expected_claims}\""
            )
        );
        assert_eq!(
            decode_claims_param(&header),
            json!({"access_token": {"nbf": {"essential": true, "value": not_before}}})
        );
    }
    // Other capabilities are not `cp1`.
    let (status, _, body, _) = send(&app, Some(&token(json!({"xms_cc": ["cp2"]})))).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_revoked"))
    );

    // A tenant-specific flow names the tenant.
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let target = ChallengeTarget::tenant("https://login.microsoftonline.us/", tenant).unwrap();
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(
            RevocationLayer::builder(recorder.check(Revocation::IssuedBefore(revoked)))
                .on_revoked(target.revocation_answer())
                .build()
                .unwrap(),
        )
        .layer(TokenLayer::new(gate()));
    let (_, header, _, _) = send(&app, Some(&token(json!({"xms_cc": ["cp1"]})))).await;
    let header = header.unwrap();
    let parsed = challenge::parse_bearer(&header).unwrap();
    assert_eq!(parsed[0].param("realm"), Some(tenant));
    assert_eq!(
        parsed[0].param("authorization_uri"),
        Some(format!("https://login.microsoftonline.us/{tenant}/oauth2/authorize").as_str())
    );
}

#[tokio::test]
async fn entra_36_an_undecided_check_is_503_with_retry_after_never_a_pass() {
    let recorder = Recorder::default();
    let app = app(
        Revocation::Unknown {
            retry_after: Duration::from_millis(1500),
        },
        &recorder,
        TokenLayer::new(gate()),
    );
    let (status, header, body, retry_after) = send(&app, Some(&token(json!({})))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header, None, "a 503 judges no credential");
    assert_eq!(retry_after, "2");
    assert_eq!(body["code"], "revocation_unavailable");
}

#[tokio::test]
async fn entra_36_only_verified_tokens_are_checked() {
    let recorder = Recorder::default();
    let optional = TokenLayer::builder(gate()).optional().build().unwrap();
    let app = app(
        Revocation::IssuedBefore(SystemTime::now()),
        &recorder,
        optional,
    );
    // No token, under optional authentication: nothing to revoke, the request goes on.
    assert_eq!(send(&app, None).await.0, StatusCode::OK);
    // A bad token is refused by the TokenLayer before any check.
    let expired = token(json!({"exp": now() - 3600}));
    let (status, _, body, _) = send(&app, Some(&expired)).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_expired"))
    );
    assert!(recorder.asked().is_empty(), "{:?}", recorder.asked());
}

#[tokio::test]
async fn entra_36_without_a_token_layer_is_a_500() {
    let recorder = Recorder::default();
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(RevocationLayer::new(recorder.check(Revocation::NotRevoked)));
    let (status, header, _, _) = send(&app, Some(&token(json!({})))).await;
    assert_eq!((status, header), (StatusCode::INTERNAL_SERVER_ERROR, None));
    assert!(recorder.asked().is_empty());
}

/// Tower's rule: the service that was polled ready is the one called, also when the check
/// takes a while and the service is used again meanwhile.
#[tokio::test]
async fn the_service_polled_ready_is_the_one_called() {
    #[derive(Default)]
    struct Counting {
        ready: bool,
        calls: Arc<AtomicUsize>,
    }
    impl Clone for Counting {
        // A clone has not been polled ready.
        fn clone(&self) -> Self {
            Counting {
                ready: false,
                calls: self.calls.clone(),
            }
        }
    }
    impl Service<Request<Body>> for Counting {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            self.ready = true;
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, request: Request<Body>) -> Self::Future {
            assert!(self.ready, "called without poll_ready");
            assert!(request.extensions().get::<Arc<Claims>>().is_some());
            self.ready = false;
            self.calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok(Response::new(Body::empty())))
        }
    }

    let recorder = Recorder::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = TokenLayer::new(gate()).layer(
        RevocationLayer::new(recorder.check(Revocation::NotRevoked)).layer(Counting {
            ready: false,
            calls: calls.clone(),
        }),
    );
    let mut service = service;
    let mut pending = Vec::new();
    for _ in 0..3 {
        let request = Request::get("/orders")
            .header("authorization", format!("Bearer {}", token(json!({}))))
            .body(Body::empty())
            .unwrap();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .unwrap();
        pending.push(service.call(request));
    }
    for response in pending {
        assert_eq!(response.await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// Entra dates `iat` 5 minutes before issuance: with `backdated_iat`, a token fetched after
/// the revocation passes and one issued before it is still refused; without it, the fresh
/// token would be refused for 5 minutes (and a `cp1` client challenged again and again).
#[tokio::test]
async fn entra_36_backdated_iat_lets_fresh_entra_tokens_through() {
    let recorder = Recorder::default();
    let revoked = Revocation::IssuedBefore(at(now() - 60));
    let entra_token = |issued: i64| {
        token(json!({"iat": issued - 300, "nbf": issued - 300, "exp": issued + 3600}))
    };
    let fresh = entra_token(now() - 1);
    let stale = entra_token(now() - 120);
    let strict = app(revoked, &recorder, TokenLayer::new(gate()));
    assert_eq!(
        send(&strict, Some(&fresh)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let entra = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(
            RevocationLayer::builder(recorder.check(revoked))
                .backdated_iat(Duration::from_secs(300))
                .build()
                .unwrap(),
        )
        .layer(TokenLayer::new(gate()));
    assert_eq!(send(&entra, Some(&fresh)).await.0, StatusCode::OK);
    let (status, _, body, _) = send(&entra, Some(&stale)).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_revoked"))
    );
}

#[test]
fn entra_36_backdating_is_bounded() {
    let check = Recorder::default().check(Revocation::NotRevoked);
    let refused = RevocationLayer::builder(check.clone())
        .backdated_iat(Duration::from_secs(3601))
        .build()
        .unwrap_err();
    assert!(
        refused.to_string().contains("more than an hour"),
        "{refused}"
    );
    assert!(
        RevocationLayer::builder(check)
            .backdated_iat(Duration::from_secs(3600))
            .build()
            .is_ok()
    );
}

/// Without a provider's answer, the core layer refuses a revoked token as `token_revoked`,
/// whatever the client declared it can handle: claims challenges are Entra's, opted into
/// with `on_revoked`.
#[tokio::test]
async fn a_revoked_token_is_token_revoked_without_a_provider_answer() {
    let recorder = Recorder::default();
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(RevocationLayer::new(recorder.check(Revocation::Revoked)))
        .layer(TokenLayer::new(gate()));
    let (status, header, body, _) = send(&app, Some(&token(json!({"xms_cc": ["cp1"]})))).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_revoked"))
    );
    let header = header.expect("a challenge");
    assert!(header.contains("error=\"invalid_token\""), "{header}");
}

/// `Revoked` refuses a token whatever its `iat`: a deny-listed token id from an issuer whose
/// clock runs ahead of ours (within the leeway) is refused too; a `cp1` client is asked for
/// a token not before now.
#[tokio::test]
async fn entra_36_a_revoked_token_is_refused_whatever_its_iat() {
    let recorder = Recorder::default();
    let app = app(Revocation::Revoked, &recorder, TokenLayer::new(gate()));
    let ahead = now() + 30;
    for iat in [now() - 10, ahead] {
        let token = token(json!({"iat": iat, "nbf": iat, "jti": "leaked"}));
        let (status, _, body, _) = send(&app, Some(&token)).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::UNAUTHORIZED, &json!("token_revoked")),
            "{iat}"
        );
    }
    let before = now();
    let (_, header, _, _) = send(&app, Some(&token(json!({"xms_cc": ["cp1"]})))).await;
    let value = decode_claims_param(&header.unwrap())["access_token"]["nbf"]["value"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert!((before..=now() + 1).contains(&value), "{value}");
}

/// A revocation time ahead of this server's clock (a store whose clock runs fast) counts as
/// now: tokens issued before now are refused, the challenge asks for no future `nbf`, and a
/// token issued from now on passes.
#[tokio::test]
async fn entra_36_a_revocation_in_the_future_counts_as_now() {
    let recorder = Recorder::default();
    let app = app(
        Revocation::IssuedBefore(at(now() + 3600)),
        &recorder,
        TokenLayer::new(gate()),
    );
    let (status, header, _, _) = send(&app, Some(&token(json!({"xms_cc": ["cp1"]})))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let value = decode_claims_param(&header.unwrap())["access_token"]["nbf"]["value"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert!(value <= now() + 1, "{value}");
    // Issued a few seconds from now by an issuer whose clock is ahead (within the leeway).
    let later = now() + 5;
    let token = token(json!({"iat": later, "nbf": later}));
    assert_eq!(send(&app, Some(&token)).await.0, StatusCode::OK);
}

/// The refusals are the layer's answers: its realm in the challenge, gRPC's form for gRPC
/// calls (16 `UNAUTHENTICATED` for a revoked token, 14 `UNAVAILABLE` when the check cannot
/// decide).
#[tokio::test]
async fn entra_36_answers_follow_the_token_layer() {
    let recorder = Recorder::default();
    let layer = || TokenLayer::builder(gate()).realm("orders").build().unwrap();
    let revoked = app(Revocation::Revoked, &recorder, layer());
    let (_, header, _, _) = send(&revoked, Some(&token(json!({})))).await;
    assert_eq!(
        header.unwrap(),
        "Bearer realm=\"orders\", error=\"invalid_token\", error_description=\"The access token has been revoked.\""
    );
    let unknown = app(
        Revocation::Unknown {
            retry_after: Duration::from_secs(3),
        },
        &recorder,
        layer(),
    );
    for (app, grpc_status) in [(&revoked, "16"), (&unknown, "14")] {
        let request = Request::post("/orders")
            .version(http::Version::HTTP_2)
            .header("authorization", format!("Bearer {}", token(json!({}))))
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], grpc_status);
    }
}
