//! An API registered in Microsoft Entra ID, protected by tokengate's Entra preset.
//!
//! With your own registration (see docs/providers/entra.md):
//!
//! ```text
//! ENTRA_TENANT=<directory (tenant) id or verified domain> \
//! ENTRA_CLIENT_ID=<the API's application (client) id> \
//!     cargo run --example entra -- --serve
//! ```
//!
//! Without one, it starts an Entra-shaped authority on loopback (`testing::TestEntra`), sends
//! the API v1 and v2 tokens (a user's, an app's, one without permissions, one from another
//! tenant, one needing step-up, one of a user whose sessions were revoked), prints what each
//! got, and fails if an answer is not the expected one.

use std::collections::HashMap;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::Router;
use axum::routing::get;
use tokengate::axum::Verified;
use tokengate::providers::entra::{AuthContext, ChallengeTarget, EntraApi, TokenVersion};
use tokengate::testing::TestEntra;
use tokengate::{
    Claims, ConfigError, Gate, KeyCacheSettings, RequireLayer, Requirement, Revocation,
    RevocationLayer, TokenKind, TokenLayer,
};

/// When each user's sessions were revoked, by tenant and object id: filled from the API's own
/// records (an account closed, an administrator's action). Their older tokens are refused
/// before `exp` (ENTRA-36).
type Revoked = Arc<RwLock<HashMap<(String, String), SystemTime>>>;

/// The API: reads orders with the delegated scope `Orders.Read` or the app role
/// `Orders.Read.All`; approving needs the authentication context `c1` (step-up).
fn app(gate: Gate, revoked: Revoked) -> Result<Router, ConfigError> {
    let read =
        Requirement::any_scope(["Orders.Read"]).or(Requirement::any_role(["Orders.Read.All"]));
    let step_up = AuthContext::require(["c1"])?;
    let app = Router::new()
        .route("/orders", get(orders))
        .route_layer(RequireLayer::new(read)?)
        .route(
            "/orders/approve",
            get(|| async { "approved\n" }).route_layer(step_up.layer()),
        )
        .layer(
            RevocationLayer::builder(move |claims: Arc<Claims>| {
                let revoked = revoked.clone();
                async move {
                    let user = (
                        claims.tenant_id().unwrap_or_default().to_owned(),
                        claims.object_id().unwrap_or_default().to_owned(),
                    );
                    match revoked.read().map(|map| map.get(&user).copied()) {
                        Ok(Some(at)) => Revocation::IssuedBefore(at),
                        Ok(None) => Revocation::NotRevoked,
                        // A poisoned lock says nothing: fail closed.
                        Err(_) => Revocation::Unknown {
                            retry_after: std::time::Duration::from_secs(5),
                        },
                    }
                }
            })
            // Entra dates `iat` 5 minutes early: without this, tokens fetched in the 5 minutes
            // after a revocation would be refused too.
            .backdated_iat(std::time::Duration::from_secs(300))
            // Clients that handle claims challenges are asked for a newer token (CAE).
            .on_revoked(ChallengeTarget::common().revocation_answer())
            .build()?,
        )
        .layer(TokenLayer::new(gate));
    Ok(app)
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
            .issuer(EntraApi::single_tenant(tenant, client_id))
            .build()?;
        if let Err(error) = gate.warm_up().await {
            eprintln!("starting without keys (fetched on first use): {error}");
        }
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 3000))).await?;
        println!("Orders API on http://127.0.0.1:3000 (GET /orders, GET /orders/approve)");
        axum::serve(listener, app(gate, Revoked::default())?).await?;
        return Ok(());
    }

    let entra = TestEntra::start().await?;
    let tenant = entra.tenant().to_owned();
    let gate = Gate::builder()
        .issuer(EntraApi::single_tenant(&tenant, TestEntra::CLIENT_ID).instance(entra.instance()))
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()?;
    gate.warm_up().await?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = listener.local_addr()?;
    // One user's sessions were revoked a moment after their tokens below were issued.
    let revoked_user = "5f0c2bd1-7f4e-4d1a-9c53-2a7e0a4c9b11";
    let revoked = Revoked::default();
    let app = app(gate, revoked.clone())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let other_tenant = entra.add_tenant();
    let cases = [
        (
            "v2 user, Orders.Read",
            "/orders",
            200,
            entra
                .token(TokenVersion::V2, &tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "v1 user, Orders.Read",
            "/orders",
            200,
            entra
                .token(TokenVersion::V1, &tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "v2 app, role",
            "/orders",
            200,
            entra
                .token(TokenVersion::V2, &tenant)
                .app(["Orders.Read.All"])
                .sign(),
        ),
        (
            "v2 app, no roles",
            "/orders",
            403,
            entra
                .token(TokenVersion::V2, &tenant)
                .app(Vec::<String>::new())
                .sign(),
        ),
        (
            "other tenant",
            "/orders",
            401,
            entra
                .token(TokenVersion::V2, &other_tenant)
                .user()
                .scp("Orders.Read")
                .sign(),
        ),
        (
            "step-up, cp1 client",
            "/orders/approve",
            401,
            entra
                .token(TokenVersion::V2, &tenant)
                .user()
                .claim("xms_cc", ["cp1"])
                .sign(),
        ),
        (
            "step-up satisfied",
            "/orders/approve",
            200,
            entra
                .token(TokenVersion::V2, &tenant)
                .user()
                .claim("acrs", ["c1"])
                .sign(),
        ),
        (
            "revoked user",
            "/orders",
            401,
            entra
                .token(TokenVersion::V2, &tenant)
                .user()
                .scp("Orders.Read")
                .claim("oid", revoked_user)
                .sign(),
        ),
        (
            "revoked, cp1 client",
            "/orders",
            401,
            entra
                .token(TokenVersion::V2, &tenant)
                .user()
                .scp("Orders.Read")
                .claim("oid", revoked_user)
                .claim("xms_cc", ["cp1"])
                .sign(),
        ),
    ];
    // Revoked after those tokens were issued (`iat` has whole seconds).
    revoked.write().map_err(|_| "lock")?.insert(
        (tenant.clone(), revoked_user.to_owned()),
        SystemTime::now() + std::time::Duration::from_secs(1),
    );
    let client = reqwest::Client::new();
    let mut unexpected = 0;
    for (label, path, expected, token) in cases {
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
        if status != expected {
            eprintln!("  expected {expected}");
            unexpected += 1;
        }
    }
    if unexpected > 0 {
        return Err(format!("{unexpected} answers were not as expected").into());
    }
    if serve {
        println!("\nAPI on http://{address}; Ctrl-C to stop.");
        server.await??;
    } else {
        server.abort();
    }
    Ok(())
}
