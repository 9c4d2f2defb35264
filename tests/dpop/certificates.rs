//! ATK-37: certificate-bound tokens (RFC 8705 §3) with no client certificate, another one, or
//! the right one; from the TLS acceptor's request extension or a trusted proxy's header.

use http::{HeaderName, Method, Request, StatusCode};
use tokengate::testing::TestClientCertificate;
use tokengate::{ClientCertificate, DpopMode, Gate, TokenLayer};
use tower::ServiceExt;

use crate::{World, accepted, app, code, refused, scheme, send};

fn gate(world: &World) -> Gate {
    Gate::builder()
        .issuer(
            tokengate::IssuerProfile::new(world.issuer.issuer())
                .audience(world.issuer.audience())
                .jwks(world.issuer.jwks()),
        )
        .build()
        .unwrap()
}

/// `GET /orders` with a bearer token and, maybe, a certificate in the extensions, as a TLS
/// acceptor puts it there.
async fn get_with(
    app: &axum::Router,
    token: &str,
    certificate: Option<ClientCertificate>,
) -> http::Response<axum::body::Body> {
    let mut request = Request::get("/orders")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    if let Some(certificate) = certificate {
        request.extensions_mut().insert(certificate);
    }
    app.clone().oneshot(request).await.unwrap()
}

#[tokio::test]
async fn atk_37_certificate_bound_tokens() {
    let world = World::new().await;
    let app = app(TokenLayer::new(gate(&world)));
    let mine = TestClientCertificate::generate("client-a");
    let other = TestClientCertificate::generate("client-b");
    let token = world.issuer.token().bound_to_certificate(&mine).sign();

    accepted(get_with(&app, &token, Some(mine.client_certificate())).await).await;
    let challenges = refused(
        get_with(&app, &token, None).await,
        StatusCode::UNAUTHORIZED,
        "sender_constrained_token",
    )
    .await;
    assert_eq!(
        scheme(&challenges, "Bearer").param("error"),
        Some("invalid_token")
    );
    refused(
        get_with(&app, &token, Some(other.client_certificate())).await,
        StatusCode::UNAUTHORIZED,
        "token_binding_mismatch",
    )
    .await;
    // An unbound token does not need a certificate, and does not mind one.
    let plain = world.issuer.token().sign();
    accepted(get_with(&app, &plain, None).await).await;
    accepted(get_with(&app, &plain, Some(other.client_certificate())).await).await;
}

/// Behind a TLS-terminating proxy: the RFC 9440 header, read only when configured.
#[tokio::test]
async fn atk_37_forwarded_certificate_only_when_trusted() {
    let world = World::new().await;
    let mine = TestClientCertificate::generate("client-a");
    let other = TestClientCertificate::generate("client-b");
    let token = world.issuer.token().bound_to_certificate(&mine).sign();
    let header = |certificate: &TestClientCertificate| {
        format!(":{}:", tokengate_testkit::b64_standard(certificate.der()))
    };
    let bearer = format!("Bearer {token}");

    let untrusting = app(TokenLayer::new(gate(&world)));
    let response = send(
        &untrusting,
        Method::GET,
        "/orders",
        &[("authorization", &bearer), ("client-cert", &header(&mine))],
    )
    .await;
    assert_eq!(code(response).await, "sender_constrained_token");

    let trusting = app(TokenLayer::builder(gate(&world))
        .client_certificate_header(HeaderName::from_static("client-cert"))
        .build()
        .unwrap());
    let response = send(
        &trusting,
        Method::GET,
        "/orders",
        &[("authorization", &bearer), ("client-cert", &header(&mine))],
    )
    .await;
    accepted(response).await;
    for bad in [header(&other), "garbage".to_owned(), "::".to_owned()] {
        let response = send(
            &trusting,
            Method::GET,
            "/orders",
            &[("authorization", &bearer), ("client-cert", &bad)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
}

/// A token bound both ways needs both proofs.
#[tokio::test]
async fn dpop_and_certificate_bound_together() {
    let world = World::new().await;
    let mine = TestClientCertificate::generate("client-a");
    let token = world
        .issuer
        .token()
        .bound_to(&world.client)
        .bound_to_certificate(&mine)
        .sign();
    let app = app(crate::layer(world.gate(DpopMode::Allowed)).build().unwrap());
    let request = |certificate: Option<ClientCertificate>| {
        let mut request = Request::get("/orders")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", world.proof(&token))
            .body(axum::body::Body::empty())
            .unwrap();
        if let Some(certificate) = certificate {
            request.extensions_mut().insert(certificate);
        }
        request
    };
    let response = app.clone().oneshot(request(None)).await.unwrap();
    assert_eq!(code(response).await, "sender_constrained_token");
    let response = app
        .clone()
        .oneshot(request(Some(mine.client_certificate())))
        .await
        .unwrap();
    accepted(response).await;
}
