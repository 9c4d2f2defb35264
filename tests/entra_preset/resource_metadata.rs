//! A12. Entra with RFC 9728 (ENTRA-42).

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use serde_json::Value;
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;
use tokengate::{ProtectedResource, TokenLayer};

use TokenVersion::V2;

use super::support::{Authority, call, gate, single};

/// ENTRA-42: the audience allowlist is independent of the RFC 9728 `resource`: with the
/// metadata naming the API's public URL, tokens for the client id pass and a token whose
/// `aud` is that URL does not. ENTRA-44: the metadata's `authorization_servers` entry is the
/// tenant's v2 issuer, and OIDC discovery at that issuer with the well-known path appended
/// (what MCP clients try) finds the metadata naming that issuer.
#[tokio::test]
async fn entra_42_44_audience_independent_of_the_resource() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let resource = ProtectedResource::builder("https://mcp.contoso.com/")
        .authorization_server(entra.v2_issuer(tid))
        .scopes_supported([format!("api://{}/access_as_user", TestEntra::CLIENT_ID)])
        .build()
        .unwrap();
    let layer = TokenLayer::builder(gate(&entra, single(&entra)))
        .resource_metadata(&resource)
        .build()
        .unwrap();
    let api = Router::new()
        .route("/mcp", get(|| async { "mcp" }))
        .layer(layer);
    let token = entra.token(V2, tid).sign();
    assert_eq!(call(&api, "/mcp", &token).await.0, StatusCode::OK);
    let for_resource = entra
        .token(V2, tid)
        .audience("https://mcp.contoso.com/")
        .sign();
    let (status, challenge) = call(&api, "/mcp", &for_resource).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert!(
        resource.document().contains(&format!(
            "\"authorization_servers\":[\"{}\"]",
            entra.v2_issuer(tid)
        )),
        "{}",
        resource.document()
    );
    let discovery = format!("{}/.well-known/openid-configuration", entra.v2_issuer(tid));
    let body = reqwest::get(&discovery)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    let metadata: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(metadata["issuer"], entra.v2_issuer(tid), "{discovery}");
}
