//! Keys fetched while the request waits, and keys that cannot be had (503 with `Retry-After`).

use std::time::Duration;

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::json;
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings, TokenLayer};

use tokengate_testkit::{AUDIENCE, ISSUER};

use super::support::{BAD_ISSUER, BAD_SIGNATURE, app, bearer, send, token, valid, with};

#[tokio::test]
async fn remote_keys_fetched_during_requests() {
    let issuer = tokengate::testing::TestIssuer::with_algorithms([Algorithm::ES256])
        .await
        .unwrap();
    let app = app(TokenLayer::builder(issuer.gate())
        .realm("orders")
        .build()
        .unwrap());
    let token = issuer.token().subject("alice").scope("orders.read").sign();
    // The first requests find no keys, wait for one shared fetch, then reach the handler.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let app = app.clone();
        let auth = bearer(&token);
        tasks.spawn(async move { send(&app, "/me", &[("authorization", &auth)]).await });
    }
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(
            answer.json(),
            json!({"sub": "alice", "scopes": ["orders.read"], "roles": []})
        );
    }
    assert_eq!(issuer.jwks_requests(), 1);
    // A kid the issuer never published: one refresh shows the keys are current, so the
    // token is at fault.
    let unknown = issuer.token().header("kid", "nope").sign();
    send(&app, "/me", &[("authorization", &bearer(&unknown))])
        .await
        .refused(
            401,
            "unknown_key",
            r#"Bearer realm="orders", error="invalid_token", error_description="The access token signing key is not known.""#,
        );
    // A signature that fails with the current keys.
    let tampered = issuer.token().tampered().sign();
    send(&app, "/me", &[("authorization", &bearer(&tampered))])
        .await
        .refused(
            401,
            "invalid_signature",
            &BAD_SIGNATURE.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
    // The refresh for the unknown kid; none for the bad signature, within the cooldown.
    assert_eq!(issuer.jwks_requests(), 2);
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
    // Dropped here: nothing listens on the port.
}

#[tokio::test]
async fn keys_unavailable_is_503_with_retry_after() {
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks_uri(format!("http://127.0.0.1:{}/jwks", closed_port())),
        )
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .connect_timeout(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    let app = app(TokenLayer::builder(gate).realm("orders").build().unwrap());
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let answer = send(&app, "/me", &[("authorization", &bearer(&valid()))]).await;
        assert_eq!(answer.status, 503, "{answer:?}");
        assert!(answer.header(WWW_AUTHENTICATE).is_none(), "{answer:?}");
        let retry: u64 = answer
            .header(RETRY_AFTER)
            .expect("Retry-After")
            .parse()
            .expect("an integer");
        assert!((1..=600).contains(&retry), "{retry}");
        answer.json_refusal("keys_unavailable", None);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Without a token nothing needs keys: the usual 401.
    send(&app, "/me", &[])
        .await
        .refused(401, "missing_token", r#"Bearer realm="orders""#);
    // A request refused before keys are needed is not a 503 either.
    let issuer = token(&with(json!({"iss": "https://evil.example.com/"})));
    send(&app, "/me", &[("authorization", &bearer(&issuer))])
        .await
        .refused(
            401,
            "untrusted_issuer",
            &BAD_ISSUER.replace("Bearer ", "Bearer realm=\"orders\", "),
        );
}
