//! tokengate around a plain hyper 1 service, without axum.
//!
//! ```text
//! cargo run --example hyper            # two requests against itself, then exit
//! cargo run --example hyper -- --serve # keep serving on 127.0.0.1:3001
//! ```

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokengate::testing::TestIssuer;
use tokengate::{Claims, TokenLayer};
use tower::{Layer, service_fn};

/// The application: reads the verified claims the layer put into the request extensions.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // The layer only lets requests with verified claims through.
    let subject = request
        .extensions()
        .get::<Arc<Claims>>()
        .and_then(|claims| claims.subject().map(str::to_owned))
        .unwrap_or_default();
    Ok(Response::new(Full::from(format!("hello {subject}\n"))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let serve = std::env::args().skip(1).any(|arg| arg == "--serve");
    let issuer = TestIssuer::start().await?;
    let gate = issuer.gate();
    gate.warm_up().await?;

    let service = TokenLayer::new(gate).layer(service_fn(hello));
    let port = if serve { 3001 } else { 0 };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    let token = issuer.token().subject("bob").sign();
    if serve {
        println!("curl -i http://{address}/ -H 'Authorization: Bearer {token}'");
        server.await?;
        return Ok(());
    }
    let client = reqwest::Client::new();
    let with = client
        .get(format!("http://{address}/"))
        .bearer_auth(&token)
        .send()
        .await?;
    println!(
        "with a token:    {} {}",
        with.status(),
        with.text().await?.trim()
    );
    let without = client.get(format!("http://{address}/")).send().await?;
    println!(
        "without a token: {} {:?}",
        without.status(),
        without.headers().get("www-authenticate")
    );
    server.abort();
    Ok(())
}
