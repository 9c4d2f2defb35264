//! An API registered in Microsoft Entra ID, protected by tokengate's Entra preset.
//!
//! With your own registration (see the README's "Microsoft Entra ID" section):
//!
//! ```text
//! ENTRA_TENANT=<directory (tenant) id or verified domain> \
//! ENTRA_CLIENT_ID=<the API's application (client) id> \
//!     cargo run --example entra -- --serve
//! ```
//!
//! Without one, it starts an Entra-shaped authority on loopback (`testing::TestEntra`), sends
//! the API v1 and v2 tokens (a user's, an app's, one without permissions, one from another
//! tenant, one needing step-up) and prints what each got.

use std::error::Error;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokengate::axum::Verified;
use tokengate::entra::{AuthContext, EntraApi};
use tokengate::testing::{EntraVersion, TestEntra};
use tokengate::{Gate, KeyCache, RequireLayer, Requirement, TokenKind, TokenLayer};

/// The API: reads orders with the delegated scope `Orders.Read` or the app role
/// `Orders.Read.All`; approving needs the authentication context `c1` (step-up).
fn app(gate: Gate) -> Router {
    let read =
        Requirement::any_scope(["Orders.Read"]).or(Requirement::any_role(["Orders.Read.All"]));
    Router::new()
        .route("/orders", get(orders))
        .route_layer(RequireLayer::new(read))
        .route(
            "/orders/approve",
            get(|| async { "approved\n" }).route_layer(AuthContext::require(["c1"]).layer()),
        )
        .layer(TokenLayer::new(gate))
}

async fn orders(claims: Verified) -> String {
    // Key data by tenant and object id, never by name or email (ENTRA-9, ENTRA-10).
    let who = match claims.token_kind() {
        TokenKind::App => format!("app {}", claims.client_id().unwrap_or("?")),
        _ => format!("user {}", claims.object_id().unwrap_or("?")),
    };
    format!(
        "orders of {who} in tenant {}\n",
        claims.tenant_id().unwrap_or("?")
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let serve = std::env::args().skip(1).any(|arg| arg == "--serve");
    if let (Ok(tenant), Ok(client_id)) = (
        std::env::var("ENTRA_TENANT"),
        std::env::var("ENTRA_CLIENT_ID"),
    ) {
        let gate = Gate::builder()
            .entra(EntraApi::single_tenant(tenant, client_id))
            .build()?;
        if let Err(error) = gate.warm_up().await {
            eprintln!("starting without keys (fetched on first use): {error}");
        }
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 3000))).await?;
        println!("Orders API on http://127.0.0.1:3000 (GET /orders, GET /orders/approve)");
        axum::serve(listener, app(gate)).await?;
        return Ok(());
    }

    let entra = TestEntra::start().await?;
    let tenant = entra.tenant().to_owned();
    let gate = Gate::builder()
        .entra(EntraApi::single_tenant(&tenant, TestEntra::CLIENT_ID).instance(entra.instance()))
        .key_cache(KeyCache::default().allow_http_loopback())
        .build()?;
    gate.warm_up().await?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app(gate)).await });

    let other_tenant = entra.add_tenant();
    let cases = [
        (
            "v2 user, Orders.Read",
            "/orders",
            entra
                .token(EntraVersion::V2, &tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "v1 user, Orders.Read",
            "/orders",
            entra
                .token(EntraVersion::V1, &tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "v2 app, role",
            "/orders",
            entra
                .token(EntraVersion::V2, &tenant)
                .app(["Orders.Read.All"])
                .sign(),
        ),
        (
            "v2 app, no roles",
            "/orders",
            entra
                .token(EntraVersion::V2, &tenant)
                .app(Vec::<String>::new())
                .sign(),
        ),
        (
            "other tenant",
            "/orders",
            entra
                .token(EntraVersion::V2, &other_tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "step-up, cp1 client",
            "/orders/approve",
            entra
                .token(EntraVersion::V2, &tenant)
                .user()
                .claim("xms_cc", ["cp1"])
                .sign(),
        ),
        (
            "step-up satisfied",
            "/orders/approve",
            entra
                .token(EntraVersion::V2, &tenant)
                .user()
                .claim("acrs", ["c1"])
                .sign(),
        ),
    ];
    let client = reqwest::Client::new();
    for (label, path, token) in cases {
        let response = client
            .get(format!("http://{address}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await?;
        println!(
            "{label:<22} {status}  {}",
            challenge.unwrap_or_else(|| body.trim().to_owned())
        );
    }
    if serve {
        println!("\nAPI on http://{address}; Ctrl-C to stop.");
        server.await??;
    } else {
        server.abort();
    }
    Ok(())
}
