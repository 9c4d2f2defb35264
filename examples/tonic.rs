//! tokengate in front of a gRPC service (tonic): the standard health service, reachable only
//! with a valid token. gRPC clients see `Unauthenticated` for a 401 and `PermissionDenied`
//! for a 403.
//!
//! ```text
//! cargo run --example tonic
//! ```

use std::error::Error;

use tokengate::testing::TestIssuer;
use tokengate::{RequireLayer, Requirement, TokenLayer};
use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let issuer = TestIssuer::start().await?;
    let gate = issuer.gate();
    gate.warm_up().await?;

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let server = tokio::spawn(
        Server::builder()
            .layer(TokenLayer::new(gate))
            .layer(RequireLayer::new(Requirement::scope("health.read"))?)
            .add_service(health)
            .serve_with_incoming(incoming),
    );

    let channel = Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;
    let mut client = HealthClient::new(channel);
    let call = |token: Option<String>| {
        let mut request = Request::new(HealthCheckRequest {
            service: String::new(),
        });
        if let Some(token) = token {
            let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII");
            request.metadata_mut().insert("authorization", value);
        }
        request
    };

    let cases = [
        (
            "valid token",
            Some(issuer.token().scope("health.read").sign()),
        ),
        ("no token", None),
        ("no scope", Some(issuer.token().sign())),
        (
            "expired",
            Some(issuer.token().scope("health.read").expired().sign()),
        ),
    ];
    for (label, token) in cases {
        match client.check(call(token)).await {
            Ok(response) => println!("{label:<12} ok: {:?}", response.into_inner().status()),
            Err(status) => println!("{label:<12} {:?}", status.code()),
        }
    }
    server.abort();
    Ok(())
}
