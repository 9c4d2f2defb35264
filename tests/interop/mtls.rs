//! Certificate-bound tokens (RFC 8705 §3) with a real provider, over real TLS (STD-MTLS-1,
//! ATK-37). The test is the client, with a self-signed certificate (`TestClientCertificate`):
//! it asks oidc-provider for a token on a TLS connection that presents the certificate, then
//! calls an API served over TLS by tokio-rustls, whose acceptor asks for a client certificate
//! and puts the one it got into each request's extensions, as `ClientCertificate`.

use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokengate::testing::TestClientCertificate;
use tokengate::{Algorithm, ClientCertificate, TokenLayer};
use tokengate_testkit::pem;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::client::danger::HandshakeSignatureValid;
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio_rustls::rustls::{self, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tower::ServiceExt;

use super::idp::Idp;
use super::support::{Api, MTLS_AGENT, ORDERS_SERVICE, app, gate, key_cache, payload, profile};

const MISMATCH: &str = r#"Bearer error="invalid_token", error_description="The DPoP key or client certificate is not the one the access token is bound to.""#;
const BOUND: &str = r#"Bearer error="invalid_token", error_description="The access token is bound to a key and is not accepted as a bearer token.""#;

/// A server certificate for 127.0.0.1, for the provider's TLS listener and the API's.
struct ServerCertificate {
    der: Vec<u8>,
    key_der: Vec<u8>,
}

impl ServerCertificate {
    fn generate() -> ServerCertificate {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a self-signed certificate");
        ServerCertificate {
            der: certified.cert.der().to_vec(),
            key_der: certified.signing_key.serialize_der(),
        }
    }

    /// A client that trusts only this server certificate and presents `identity`, if any.
    fn client(&self, identity: Option<&TestClientCertificate>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_der(&self.der).unwrap()]);
        if let Some(identity) = identity {
            let pem = pem("CERTIFICATE", identity.der())
                + &pem("PRIVATE KEY", identity.private_key_der());
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    }
}

/// Asks every client for a certificate and accepts any, or none: a bound token needs no CA,
/// its binding is the check (RFC 8705 §2.2, self-signed certificates). It still verifies the
/// handshake signature, so that a client cannot present a certificate whose key it lacks.
struct AnyClientCertificate(Arc<CryptoProvider>);

impl fmt::Debug for AnyClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnyClientCertificate")
    }
}

impl ClientCertVerifier for AnyClientCertificate {
    fn client_auth_mandatory(&self) -> bool {
        // Without a certificate the layer answers, not the handshake.
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Serves `app` over TLS on 127.0.0.1 with `certificate`; each request carries the
/// connection's client certificate, if any. Stops with the test's runtime.
async fn serve_tls(layer: TokenLayer, certificate: &ServerCertificate) -> String {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(Arc::new(AnyClientCertificate(provider)))
        .with_single_cert(
            vec![certificate.der.clone().into()],
            PrivateKeyDer::Pkcs8(certificate.key_der.clone().into()),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let app = app(layer);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let peer = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|der| ClientCertificate::from_der(der));
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let mut request = request.map(Body::new);
                        if let Some(peer) = peer {
                            request.extensions_mut().insert(peer);
                        }
                        app.clone().oneshot(request)
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

/// STD-MTLS-1, ATK-37: the provider binds the token to the certificate of the TLS connection
/// it was asked on (`cnf["x5t#S256"]`, the same thumbprint tokengate computes), and the API
/// over TLS accepts it only from a connection with that certificate.
#[tokio::test(flavor = "multi_thread")]
async fn std_mtls_1_atk_37_certificate_bound_tokens_of_oidc_provider() {
    let server = ServerCertificate::generate();
    let idp = Idp::start_with_tls(
        &pem("CERTIFICATE", &server.der),
        &pem("PRIVATE KEY", &server.key_der),
    )
    .await;
    // RFC 8705 §5: where clients with certificates ask for tokens.
    let discovery = idp.discovery().await;
    assert_eq!(
        discovery["tls_client_certificate_bound_access_tokens"],
        true
    );
    let endpoint = discovery["mtls_endpoint_aliases"]["token_endpoint"]
        .as_str()
        .expect("an mTLS token endpoint")
        .to_owned();

    let mine = TestClientCertificate::generate("mtls-agent");
    let other = TestClientCertificate::generate("another-client");
    let ask = idp.ask(&MTLS_AGENT).alg(Algorithm::ES256);

    // This client's tokens are bound: the provider wants a certificate.
    let response = ask.request(&server.client(None), &endpoint).send().await;
    let response = response.expect("token request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = ask
        .request(&server.client(Some(&mine)), &endpoint)
        .send()
        .await;
    let response = response.expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    // RFC 8705 §3: a certificate-bound token is still of type Bearer.
    let token = ask.issued(&body, "Bearer");
    let cnf = &payload(&token)["cnf"];
    assert_eq!(
        cnf["x5t#S256"],
        mine.client_certificate().thumbprint(),
        "{cnf}"
    );

    let layer = TokenLayer::new(gate(profile(&idp), key_cache()));
    let base = serve_tls(layer, &server).await;
    let api = |identity| Api {
        base: base.clone(),
        http: server.client(identity),
    };
    let answer = api(Some(&mine)).get("/orders", &token).await;
    answer.assert_ok();
    assert_eq!(answer.body, "orders of mtls-agent");
    api(Some(&other))
        .get("/orders", &token)
        .await
        .assert_refused(StatusCode::UNAUTHORIZED, "token_binding_mismatch", MISMATCH);
    api(None).get("/orders", &token).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "sender_constrained_token",
        BOUND,
    );
    // An unbound token does not mind a certificate.
    let bearer = idp.ask(&ORDERS_SERVICE).send().await;
    api(Some(&other)).get("/orders", &bearer).await.assert_ok();
    idp.assert_logs_secret_free().await;
}
