//! A realistic axum service protected by tokengate: per-route scopes and roles, optional
//! authentication on a public route, RFC 9728 metadata, and health probes.
//!
//! With your own identity provider:
//!
//! ```text
//! TOKENGATE_ISSUER=https://login.example.com/ TOKENGATE_AUDIENCE=api://orders \
//!     cargo run --example axum
//! ```
//!
//! Without one, it starts a test issuer and prints tokens to try.

use std::error::Error;
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokengate::axum::{Verified, VerifiedClaims};
use tokengate::testing::TestIssuer;
use tokengate::{Gate, IssuerProfile, ProtectedResource, RequireLayer, Requirement, TokenLayer};

/// The claims this service reads beyond the normalized ones.
#[derive(Deserialize)]
struct OrderClaims {
    sub: String,
    #[serde(default)]
    tenant: Option<String>,
}

async fn list_orders(VerifiedClaims(claims): VerifiedClaims<OrderClaims>) -> Json<Value> {
    Json(json!({
        "owner": claims.sub,
        "tenant": claims.tenant,
        "orders": [{"id": 1, "item": "tea"}],
    }))
}

async fn create_order(claims: Verified) -> (StatusCode, Json<Value>) {
    let owner = claims.subject().unwrap_or("an application");
    (StatusCode::CREATED, Json(json!({"id": 2, "owner": owner})))
}

async fn purge(claims: Verified) -> String {
    format!("purged by {}\n", claims.client_id().unwrap_or("?"))
}

/// Public, but personal when a token is sent.
async fn catalog(claims: Option<Verified>) -> String {
    match claims {
        Some(claims) => format!("catalog for {}\n", claims.subject().unwrap_or("?")),
        None => "public catalog\n".to_owned(),
    }
}

/// Readiness: the issuer's keys are loaded.
async fn ready(State(gate): State<Gate>) -> StatusCode {
    if gate.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let issuer_url = std::env::var("TOKENGATE_ISSUER").ok();
    let audience = std::env::var("TOKENGATE_AUDIENCE").ok();
    let (gate, test_issuer) = match (issuer_url, audience) {
        (Some(issuer), Some(audience)) => {
            let profile = IssuerProfile::new(issuer).audience(audience).discover();
            (Gate::builder().issuer(profile).build()?, None)
        }
        _ => {
            let test = TestIssuer::start().await?;
            let gate = Gate::builder()
                .issuer(test.profile())
                .key_cache(test.key_cache())
                .build()?;
            (gate, Some(test))
        }
    };
    if let Err(error) = gate.warm_up().await {
        eprintln!("starting without keys (they are fetched on first use): {error}");
    }

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 3000))).await?;
    let address = listener.local_addr()?;
    let resource = ProtectedResource::builder(format!("http://{address}/"))
        .authorization_server(gate.key_status()[0].issuer.clone())
        .scopes_supported(["orders.read", "orders.write"])
        .resource_name("Orders API")
        .build()?;

    // Routes that need a token, each with its own requirement.
    let orders = Router::new()
        .route(
            "/orders",
            get(list_orders).route_layer(RequireLayer::new(Requirement::any_scope([
                "orders.read",
                "orders.write",
            ]))?),
        )
        .route(
            "/orders/new",
            axum::routing::post(create_order)
                .route_layer(RequireLayer::new(Requirement::scope("orders.write"))?),
        )
        .route(
            "/admin/orders",
            delete(purge).route_layer(RequireLayer::new(Requirement::role("Orders.Admin"))?),
        )
        .layer(
            TokenLayer::builder(gate.clone())
                .realm("orders")
                .resource_metadata(&resource)
                .build()?,
        );
    // A public route where a token is optional (a bad one is still refused).
    let public = Router::new()
        .route("/catalog", get(catalog))
        .layer(TokenLayer::builder(gate.clone()).optional().build()?);
    let app = Router::new()
        .merge(orders)
        .merge(public)
        .route_service(resource.well_known_path(), resource.service())
        .route("/health/ready", get(ready))
        .with_state(gate);

    println!("Orders API on http://{address}");
    if let Some(test) = &test_issuer {
        let reader = test.token().subject("alice").scope("orders.read").sign();
        let admin = test.token().roles(["Orders.Admin"]).sign();
        println!(
            "\nA reader's token:\n  curl -i http://{address}/orders -H 'Authorization: Bearer {reader}'"
        );
        println!(
            "An admin application's token:\n  curl -i -X DELETE http://{address}/admin/orders -H 'Authorization: Bearer {admin}'"
        );
        println!("Public:\n  curl -i http://{address}/catalog");
        println!("Metadata:\n  curl -i {}", resource.metadata_url());
    }
    axum::serve(listener, app).await?;
    Ok(())
}
