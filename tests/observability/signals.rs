//! Signals of suspicious use: each raises a WARN event (at most one per signal per minute,
//! with the count since the last) where it should, and nothing where it should not; none
//! carries the token or a claim value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get as route;
use http::Request;
use tokengate::layer::SharedTokenWatch;
use tokengate::testing::{DpopKey, TestIssuer};
use tokengate::{Algorithm, DpopMode, Gate, IssuerProfile, TokenLayer};
use tokengate_testkit::capture;

use super::{all_signals, get, warnings};

async fn issuer() -> TestIssuer {
    TestIssuer::start().await.expect("test issuer")
}

/// A gate with the issuer's keys already loaded (no fetch in the way).
async fn gate(issuer: &TestIssuer) -> Gate {
    let gate = issuer.gate();
    gate.warm_up().await.expect("keys");
    gate
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn good_traffic_and_ordinary_refusals_raise_nothing() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let gate = gate(&issuer).await;
    for _ in 0..3 {
        gate.validate(&issuer.token().sign()).await.unwrap();
    }
    // Refused, but not suspicious: another audience, a missing claim, one expired token.
    gate.validate(&issuer.token().audience("api://other").sign())
        .await
        .unwrap_err();
    gate.validate(&issuer.token().without_claim("exp").sign())
        .await
        .unwrap_err();
    gate.validate(&issuer.token().expired().sign())
        .await
        .unwrap_err();
    gate.validate("not a token").await.unwrap_err();
    assert_eq!(all_signals(&captured), Vec::<String>::new());
}

#[tokio::test]
async fn forged_signatures_under_a_held_key_once_a_minute() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let gate = gate(&issuer).await;
    let forged = issuer.token().subject("subject-4f1c").tampered().sign();
    for _ in 0..3 {
        let rejection = gate.validate(&forged).await.unwrap_err();
        assert_eq!(rejection.code(), "invalid_signature");
    }
    let warned = warnings(&captured, "forged_signature");
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("count=1"), "{}", warned[0]);
    assert!(warned[0].contains(issuer.issuer()), "{}", warned[0]);
    // Nothing of the token in it: not the token, its signature, nor its subject.
    let text = captured.text();
    assert!(!text.contains(&forged) && !text.contains(forged.rsplit('.').next().unwrap()));
    assert!(!text.contains("subject-4f1c"));
}

#[tokio::test]
async fn algorithm_confusion_none_hmac_and_another_keys_alg() {
    for (alg, code) in [
        ("none", "unsupported_algorithm"),
        ("HS256", "unsupported_algorithm"),
        // The key is bound to RS256.
        ("PS256", "key_algorithm_mismatch"),
    ] {
        let (captured, _guard) = capture::scoped();
        let issuer = issuer().await;
        let gate = gate(&issuer).await;
        let token = issuer.token().header("alg", alg).sign();
        assert_eq!(gate.validate(&token).await.unwrap_err().code(), code);
        assert_eq!(warnings(&captured, "algorithm_confusion").len(), 1, "{alg}");
    }
}

#[tokio::test]
async fn an_algorithm_the_issuer_does_not_take_is_no_confusion() {
    let (captured, _guard) = capture::scoped();
    let issuer = TestIssuer::with_algorithms([Algorithm::RS256, Algorithm::ES256])
        .await
        .unwrap();
    // An issuer configured for RS256 only gets an ES256 token: a client or configuration
    // mistake, not an attack on the verifier.
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(issuer.issuer())
                .audience(issuer.audience())
                .jwks(issuer.jwks())
                .algorithms([Algorithm::RS256]),
        )
        .build()
        .unwrap();
    let token = issuer.token().alg(Algorithm::ES256).sign();
    assert_eq!(
        gate.validate(&token).await.unwrap_err().code(),
        "unsupported_algorithm"
    );
    assert_eq!(all_signals(&captured), Vec::<String>::new());
}

#[tokio::test]
async fn a_burst_of_unknown_kids() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let gate = gate(&issuer).await;
    let unknown = |i: usize| issuer.token().header("kid", format!("made-up-{i}")).sign();
    for i in 0..9 {
        assert_eq!(
            gate.validate(&unknown(i)).await.unwrap_err().code(),
            "unknown_key"
        );
    }
    assert_eq!(
        warnings(&captured, "unknown_key_burst"),
        Vec::<String>::new()
    );
    gate.validate(&unknown(9)).await.unwrap_err();
    assert_eq!(warnings(&captured, "unknown_key_burst").len(), 1);
    // The burst is reported once; more of it within the minute only count.
    gate.validate(&unknown(10)).await.unwrap_err();
    assert_eq!(warnings(&captured, "unknown_key_burst").len(), 1);
}

#[tokio::test]
async fn an_expired_token_storm_reports_how_late_the_tokens_are() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let gate = gate(&issuer).await;
    let expired = issuer.token().expired().sign(); // exp an hour ago
    for _ in 0..99 {
        gate.validate(&expired).await.unwrap_err();
    }
    assert_eq!(
        warnings(&captured, "expired_token_storm"),
        Vec::<String>::new()
    );
    gate.validate(&expired).await.unwrap_err();
    let warned = warnings(&captured, "expired_token_storm");
    assert_eq!(warned.len(), 1);
    let skew = skew(&warned[0]);
    assert!((3590..=3610).contains(&skew), "{}", warned[0]);
}

#[tokio::test]
async fn tokens_from_the_future_report_the_skew() {
    for claim in ["nbf", "iat"] {
        let (captured, _guard) = capture::scoped();
        let issuer = issuer().await;
        let gate = gate(&issuer).await;
        let token = issuer.token().claim(claim, now() + 600).sign();
        gate.validate(&token).await.unwrap_err();
        let warned = warnings(&captured, "token_from_future");
        assert_eq!(warned.len(), 1, "{claim}");
        assert!((595..=605).contains(&skew(&warned[0])), "{}", warned[0]);
    }
}

/// The `skew_seconds` of an event.
fn skew(line: &str) -> i64 {
    let rest = &line[line.find("skew_seconds=").expect("skew_seconds") + 13..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().unwrap()
}

#[tokio::test]
async fn a_dpop_bound_token_as_bearer() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let dpop_gate = Gate::builder()
        .issuer(issuer.profile().dpop(DpopMode::Allowed))
        .key_cache(issuer.key_cache())
        .build()
        .unwrap();
    let client = DpopKey::generate(Algorithm::ES256);
    let bound = issuer.token().bound_to(&client).sign();
    let rejection = dpop_gate.validate(&bound).await.unwrap_err();
    assert_eq!(rejection.code(), "sender_constrained_token");
    assert_eq!(warnings(&captured, "dpop_token_as_bearer").len(), 1);
    // A certificate-bound token without its certificate is refused alike, but it is not a
    // DPoP-bound token used as bearer.
    let (captured, _guard) = capture::scoped();
    let plain = gate(&issuer).await;
    let certificate = tokengate::testing::TestClientCertificate::generate("client");
    let token = issuer.token().bound_to_certificate(&certificate).sign();
    assert_eq!(
        plain.validate(&token).await.unwrap_err().code(),
        "sender_constrained_token"
    );
    assert_eq!(all_signals(&captured), Vec::<String>::new());
}

/// The client address, as a server would put it in the extensions.
#[derive(Clone, Copy)]
struct Peer(IpAddr);

fn peer(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// An API whose layer watches tokens for more than two addresses each.
async fn watched(issuer: &TestIssuer) -> Router {
    let watch = SharedTokenWatch::new(|extensions| extensions.get::<Peer>().map(|peer| peer.0))
        .addresses(2);
    let layer = TokenLayer::builder(gate(issuer).await)
        .watch_shared_tokens(watch)
        .build()
        .unwrap();
    Router::new()
        .route("/orders", route(|| async { "orders" }))
        .layer(layer)
}

/// The status of a request with `token` from `from`.
async fn send_from(app: &Router, token: &str, from: IpAddr) -> u16 {
    use tower::ServiceExt;
    let request = Request::get("/orders")
        .header("authorization", format!("Bearer {token}"))
        .extension(Peer(from))
        .body(axum::body::Body::empty())
        .unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn one_token_from_many_addresses() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let app = watched(&issuer).await;
    let send = |token: String, from: IpAddr| {
        let app = app.clone();
        async move { send_from(&app, &token, from).await }
    };
    let token = issuer.token().sign();
    // Two addresses, each more than once: within the limit. Never a refusal.
    for from in [peer(1), peer(2), peer(1), peer(2)] {
        assert_eq!(send(token.clone(), from).await, 200);
    }
    // Another token from other addresses counts on its own.
    let other = issuer.token().sign();
    assert_eq!(send(other.clone(), peer(3)).await, 200);
    assert_eq!(send(other.clone(), peer(4)).await, 200);
    assert_eq!(warnings(&captured, "shared_token"), Vec::<String>::new());
    // A third address for the first token: reported, and still served.
    assert_eq!(send(token.clone(), peer(5)).await, 200);
    assert_eq!(warnings(&captured, "shared_token").len(), 1);
    // Reported once per token.
    assert_eq!(send(token.clone(), peer(6)).await, 200);
    assert_eq!(warnings(&captured, "shared_token").len(), 1);
    assert!(!captured.text().contains(&token) && !captured.text().contains("192.0.2."));
}

#[tokio::test]
async fn requests_without_an_address_and_one_ipv6_network_count_once() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let app = watched(&issuer).await;
    let token = issuer.token().sign();
    let v6 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
    // Two addresses: an IPv4 one, and one /64 network by two of its addresses (and as an
    // IPv4-mapped address, the IPv4 one again).
    for from in [peer(7), v6(1), v6(2), "::ffff:192.0.2.7".parse().unwrap()] {
        assert_eq!(send_from(&app, &token, from).await, 200);
    }
    // Without an address: not counted.
    let bearer = format!("Bearer {token}");
    assert_eq!(get(&app, &[("authorization", &bearer)]).await, 200);
    assert_eq!(warnings(&captured, "shared_token"), Vec::<String>::new());
    // Another /64 network is a third address.
    let elsewhere = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
    assert_eq!(send_from(&app, &token, elsewhere).await, 200);
    assert_eq!(warnings(&captured, "shared_token").len(), 1);
}

#[tokio::test]
async fn a_watch_that_cannot_work_is_a_configuration_error() {
    let issuer = issuer().await;
    for (addresses, max_tokens, problems) in [(0, 0, 2), (65, 1, 1), (64, 1, 0)] {
        let watch = SharedTokenWatch::new(|_| None)
            .addresses(addresses)
            .max_tokens(max_tokens);
        let built = TokenLayer::builder(issuer.gate())
            .watch_shared_tokens(watch)
            .build();
        let found = built.err().map_or(0, |error| error.problems().count());
        assert_eq!(found, problems, "{addresses} {max_tokens}");
    }
}

/// Signals count per gate: a second gate reports its own.
#[tokio::test]
async fn each_gate_reports_its_own() {
    let (captured, _guard) = capture::scoped();
    let issuer = issuer().await;
    let forged = issuer.token().tampered().sign();
    for _ in 0..2 {
        gate(&issuer).await.validate(&forged).await.unwrap_err();
    }
    assert_eq!(warnings(&captured, "forged_signature").len(), 2);
}
