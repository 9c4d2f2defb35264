//! A client certificate for tests of certificate-bound tokens (RFC 8705).

use std::fmt;

use crate::mtls::ClientCertificate;

/// A self-signed client certificate with its private key, for a TLS client in tests, and the
/// [`ClientCertificate`] a server sees for it. Bind tokens to it with
/// [`TokenBuilder::bound_to_certificate`](super::TokenBuilder::bound_to_certificate).
///
/// ```
/// use tokengate::Presented;
/// use tokengate::testing::{TestClientCertificate, TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TestIssuer::start().await?;
/// let gate = issuer.gate();
/// let certificate = TestClientCertificate::generate("orders-client");
/// let token = issuer.token().bound_to_certificate(&certificate).sign();
///
/// let presented = Presented::bearer(&token).client_certificate(certificate.client_certificate());
/// assert!(gate.validate_presented(presented).await.is_ok());
/// // Without the certificate (or with another one), the token is refused.
/// assert_eq!(gate.validate(&token).await.unwrap_err().code(), "sender_constrained_token");
/// # Ok(())
/// # }
/// ```
pub struct TestClientCertificate {
    der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestClientCertificate {
    /// A new P-256 key pair and a self-signed certificate for it, with this common name.
    ///
    /// # Panics
    ///
    /// If rcgen fails to make the certificate, which it does not.
    pub fn generate(name: &str) -> TestClientCertificate {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec![name.to_owned()])
                .expect("rcgen makes a self-signed certificate");
        TestClientCertificate {
            der: cert.der().to_vec(),
            key_der: signing_key.serialize_der(),
        }
    }

    /// The certificate, DER-encoded, as TLS sends it.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The private key, PKCS#8 DER, for the TLS client.
    pub fn private_key_der(&self) -> &[u8] {
        &self.key_der
    }

    /// What a server that received this certificate inserts into the request's extensions.
    pub fn client_certificate(&self) -> ClientCertificate {
        ClientCertificate::from_der(&self.der)
    }
}

impl fmt::Debug for TestClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TestClientCertificate")
            .field(&self.client_certificate())
            .finish()
    }
}
