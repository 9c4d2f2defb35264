//! Certificate-bound access tokens (RFC 8705) over mutual TLS, with rustls and hyper-util.
//!
//! The API asks every TLS client for a certificate, accepts any (self-signed included), and
//! hands the connection's certificate to tokengate as a request extension. A token bound to a
//! certificate (`cnf["x5t#S256"]`) then passes only on a connection that presented that very
//! certificate: a stolen token is useless without the client's private key.
//!
//! ```text
//! cargo run --example mtls   # three calls over TLS on 127.0.0.1, then exit
//! ```

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokengate::axum::Verified;
use tokengate::testing::{TestClientCertificate, TestIssuer};
use tokengate::{ClientCertificate, TokenLayer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::client::danger::HandshakeSignatureValid;
use tokio_rustls::rustls::crypto::{self, WebPkiSupportedAlgorithms};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio_rustls::rustls::{self, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::ServiceExt;

/// Asks every client for a certificate and accepts any: with certificate-bound tokens the trust
/// is in the token's binding, not in a CA (RFC 8705 §2.2, self-signed certificate binding).
/// The handshake signatures are still verified, so a client cannot present a certificate
/// without holding its private key, which is what makes the binding worth anything.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    /// Optional: clients without a certificate still get in (with unbound tokens, say), and
    /// tokengate refuses their certificate-bound tokens.
    fn client_auth_mandatory(&self) -> bool {
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
        crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `GET /orders`: reached only with a valid token, bound or not.
async fn orders(claims: Verified) -> String {
    format!("orders of {}", claims.subject().unwrap_or("?"))
}

/// Serves `app` over TLS: each request carries its connection's client certificate, if any.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, app: Router) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            // The first certificate of the chain is the client's own.
            let certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| ClientCertificate::from_der(der));
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                if let Some(certificate) = certificate {
                    request.extensions_mut().insert(certificate);
                }
                app.clone().oneshot(request)
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// `GET /orders` with `token` on a new TLS connection, presenting `certificate` if given:
/// the status and the body.
async fn call(
    address: SocketAddr,
    config: rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    certificate: Option<&TestClientCertificate>,
    token: &str,
) -> Result<(StatusCode, String), Box<dyn Error>> {
    let config = match certificate {
        Some(certificate) => config.with_client_auth_cert(
            vec![CertificateDer::from(certificate.der().to_vec())],
            PrivateKeyDer::Pkcs8(certificate.private_key_der().to_vec().into()),
        )?,
        None => config.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(address).await?;
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let request = Request::get("/orders")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// What a call got, as printed: the body of a success, the code of a refusal.
fn outcome((status, body): &(StatusCode, String)) -> String {
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["code"].as_str().map(str::to_owned));
    format!("{} {}", status.as_u16(), code.as_deref().unwrap_or(body))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. An identity provider stand-in, and a gate that trusts it. Nothing mTLS-specific: a
    //    token with `cnf["x5t#S256"]` is always checked against the request's certificate.
    let issuer = TestIssuer::start().await?;
    let gate = issuer.gate();
    gate.warm_up().await?;
    let app = Router::new()
        .route("/orders", get(orders))
        .layer(TokenLayer::new(gate));

    // 2. The TLS server: a self-signed server certificate, any client certificate.
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let server = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let tls = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(AnyClientCertificate {
            algorithms: provider.signature_verification_algorithms,
        }))
        .with_single_cert(
            vec![server.cert.der().clone()],
            PrivateKeyDer::Pkcs8(server.signing_key.serialize_der().into()),
        )?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = listener.local_addr()?;
    let serving = tokio::spawn(serve(listener, TlsAcceptor::from(Arc::new(tls)), app));

    // 3. Clients that trust the server's certificate; a token bound to certificate A.
    let client = || -> Result<_, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server.cert.der().clone())?;
        Ok(
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots),
        )
    };
    let a = TestClientCertificate::generate("client-a");
    let b = TestClientCertificate::generate("client-b");
    let token = issuer.token().bound_to_certificate(&a).sign();

    let calls = [
        ("with certificate A", Some(&a), "200 orders of test-user"),
        ("with certificate B", Some(&b), "401 token_binding_mismatch"),
        ("without certificate", None, "401 sender_constrained_token"),
    ];
    for (what, certificate, expected) in calls {
        let got = outcome(&call(address, client()?, certificate, &token).await?);
        println!("token bound to A, {:<20} {got}", format!("{what}:"));
        assert_eq!(got, expected, "{what}");
    }
    serving.abort();
    Ok(())
}
