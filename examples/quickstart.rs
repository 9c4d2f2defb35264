//! tokengate in one minute, with no identity provider of your own.
//!
//! Starts a test issuer (keys, discovery and JWKS on 127.0.0.1) and an axum API protected by
//! tokengate, sends it a few requests and prints what each one got:
//!
//! ```text
//! cargo run --example quickstart            # the table, then exit
//! cargo run --example quickstart -- --serve # keep the API running; prints a token and curl lines
//! ```

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokengate::axum::Verified;
use tokengate::testing::TestIssuer;
use tokengate::{RequireLayer, Requirement, TokenLayer};

/// `GET /orders`: needs the `orders.read` scope.
async fn orders(claims: Verified) -> String {
    format!(
        "orders of {}\n",
        claims.subject().unwrap_or("an application")
    )
}

/// `GET /me`: any valid token.
async fn me(claims: Verified) -> String {
    let scopes: Vec<&str> = claims.scopes().collect();
    format!(
        "subject {}, client {}, scopes [{}]\n",
        claims.subject().unwrap_or("-"),
        claims.client_id().unwrap_or("-"),
        scopes.join(" ")
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let serve = std::env::args().skip(1).any(|arg| arg == "--serve");

    // 1. An identity provider stand-in: it signs tokens and publishes its keys over HTTP.
    let issuer = TestIssuer::start().await?;

    // 2. The gate: trusts that issuer, for this API's audience; keys found by OIDC discovery.
    let gate = tokengate::Gate::builder()
        .issuer(issuer.profile())
        .key_cache(issuer.key_cache())
        .build()?;
    gate.warm_up().await?;

    // 3. The API: every route needs a valid token, /orders also the orders.read scope.
    let app = Router::new()
        .route("/orders", get(orders))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read"))?)
        .route("/me", get(me))
        .layer(TokenLayer::builder(gate).realm("quickstart").build()?);

    let port = if serve { 3000 } else { 0 };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    if serve {
        let token = issuer
            .token()
            .subject("alice")
            .scope("orders.read")
            .expires_in(Duration::from_secs(3600))
            .sign();
        println!("API on http://{address}, issuer on {}", issuer.issuer());
        println!("A token for alice with orders.read, valid for an hour:\n\n{token}\n");
        println!("  curl -i http://{address}/orders -H 'Authorization: Bearer {token}'");
        println!("  curl -i http://{address}/me -H 'Authorization: Bearer {token}'");
        println!("  curl -i http://{address}/orders");
        println!("\nCtrl-C to stop.");
        server.await??;
        return Ok(());
    }

    // 4. Requests, good and bad, and what each one gets.
    let good = issuer.token().subject("alice").scope("orders.read").sign();
    let cases: Vec<(&str, &str, Option<String>, u16)> = vec![
        ("good token", "/orders", Some(good.clone()), 200),
        (
            "expired token",
            "/orders",
            Some(issuer.token().scope("orders.read").expired().sign()),
            401,
        ),
        (
            "wrong audience",
            "/orders",
            Some(
                issuer
                    .token()
                    .scope("orders.read")
                    .audience("api://someone-else")
                    .sign(),
            ),
            401,
        ),
        (
            "missing scope",
            "/orders",
            Some(issuer.token().scope("profile").sign()),
            403,
        ),
        (
            "tampered signature",
            "/orders",
            Some(issuer.token().scope("orders.read").tampered().sign()),
            401,
        ),
        ("no token", "/orders", None, 401),
        ("good token, /me", "/me", Some(good), 200),
    ];

    let client = reqwest::Client::new();
    println!(
        "{:<20} {:<8} {:<7} WWW-Authenticate / body",
        "request", "path", "status"
    );
    println!("{}", "-".repeat(100));
    let mut surprises = 0;
    for (label, path, token, expected) in cases {
        let mut request = client.get(format!("http://{address}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await?;
        let detail = challenge.unwrap_or_else(|| body.trim().to_owned());
        let mark = if status == expected {
            ""
        } else {
            "  <- unexpected"
        };
        println!("{label:<20} {path:<8} {status:<7} {detail}{mark}");
        if status != expected {
            surprises += 1;
        }
    }

    server.abort();
    if surprises > 0 {
        return Err(format!("{surprises} unexpected answers").into());
    }
    println!("\nEvery answer as expected. `--serve` keeps the API running for curl.");
    Ok(())
}
