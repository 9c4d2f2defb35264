//! tokengate in one screen: an issuer's key set, a validator, and what it answers to a good
//! token and to the usual bad ones. Self-contained: the example plays the identity provider
//! with a freshly generated key.
//!
//! ```text
//! cargo run --example quickstart
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::ExitCode;

use common::{AUDIENCE, ISSUER, TestKey, now};
use serde_json::json;
use tokengate::{Algorithm, Gate, IssuerProfile, Requirement};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // The identity provider's signing key; the API only ever sees its public half (the JWKS).
    let provider = TestKey::generate(Algorithm::ES256, "key-2026-11");
    let stranger = TestKey::generate(Algorithm::ES256, "key-2026-11");

    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(common::jwks(&[&provider])),
        )
        .build()
        .expect("a valid configuration");
    let read = Requirement::scope("orders.read");

    let now = now();
    let good = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "iat": now, "exp": now + 600,
                      "scope": "orders.read"});
    let with = |change: serde_json::Value| {
        let mut claims = good.clone();
        claims
            .as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        claims
    };
    let tampered = {
        let token = provider.token(&good);
        let (rest, sig) = token.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        format!("{rest}.{flipped}{}", &sig[1..])
    };
    let cases: Vec<(&str, String)> = vec![
        ("good token", provider.token(&good)),
        (
            "expired an hour ago",
            provider.token(&with(json!({"exp": now - 3600}))),
        ),
        (
            "meant for another API",
            provider.token(&with(json!({"aud": "api://billing"}))),
        ),
        (
            "without the orders.read scope",
            provider.token(&with(json!({"scope": "profile"}))),
        ),
        ("signature tampered", tampered),
        ("signed by another key", stranger.token(&good)),
        (
            "an ID token",
            provider.token(&with(json!({"nonce": "n-0S6_WzA2Mj"}))),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                common::b64(r#"{"alg":"none"}"#),
                common::b64(good.to_string())
            ),
        ),
        ("not a JWT", "hello".to_owned()),
    ];

    let row = |request: &str, answer: &str, class: &str, detail: &str| {
        println!("{request:<32} {answer:<10} {class:<22} {detail}");
    };
    row("request", "answer", "class", "code");
    let mut unexpected = 0;
    for (i, (name, token)) in cases.iter().enumerate() {
        let result = match gate.validate(token).await {
            Ok(claims) => read.check(&claims).map(|()| claims),
            Err(rejection) => Err(rejection),
        };
        match result {
            Ok(claims) => {
                let subject = format!("subject {}", claims.subject().unwrap_or("?"));
                row(name, "accepted", "-", &subject);
                unexpected += usize::from(i != 0);
            }
            Err(rejection) => {
                row(
                    name,
                    "refused",
                    rejection.class().as_str(),
                    rejection.code(),
                );
                unexpected += usize::from(i == 0);
            }
        }
    }
    if unexpected == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{unexpected} case(s) did not behave as expected");
        ExitCode::FAILURE
    }
}
