//! Certificate-bound tokens (RFC 8705 §3): the client certificate of the connection, which
//! only the TLS acceptor sees, handed to the layer as a request extension; or, behind a
//! proxy that terminates TLS, read from the proxy's RFC 9440 `Client-Cert` header.

use std::fmt;

use http::{HeaderMap, HeaderName};

/// The client certificate a request's TLS connection presented, for tokens bound to it
/// (RFC 8705 `cnf["x5t#S256"]`).
///
/// The layer cannot see TLS: your acceptor inserts one into each request's extensions (a
/// connection's certificate, cloned per request). A token bound to a certificate is accepted
/// only when the request carries the same one; without it, or with another, it is refused. Your
/// TLS settings decide which certificates are acceptable at all (a bound token needs no CA:
/// the binding is the trust, so self-signed client certificates work, as RFC 8705 §2.2 allows).
///
/// ```
/// use tokengate::ClientCertificate;
///
/// # fn handle(mut request: http::Request<()>, der: &[u8]) {
/// // From rustls: `connection.peer_certificates()`, the first is the client's.
/// let certificate = ClientCertificate::from_der(der);
/// request.extensions_mut().insert(certificate);
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientCertificate {
    /// SHA-256 of the DER encoding (RFC 8705 §3.1).
    thumbprint: [u8; 32],
}

impl ClientCertificate {
    /// The certificate with this DER encoding (as TLS carries it). Only its SHA-256 is kept.
    pub fn from_der(der: &[u8]) -> ClientCertificate {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
        let mut thumbprint = [0; 32];
        thumbprint.copy_from_slice(digest.as_ref());
        ClientCertificate { thumbprint }
    }

    /// The RFC 8705 thumbprint, base64url without padding: what `cnf["x5t#S256"]` of a token
    /// bound to this certificate holds.
    pub fn thumbprint(&self) -> String {
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(self.thumbprint)
    }

    /// Whether `x5t` (a token's `cnf["x5t#S256"]`) names this certificate.
    pub(crate) fn matches(&self, x5t: &str) -> bool {
        // 32 bytes are 43 characters; the decoder panics on output it has no room for.
        if x5t.len() != 43 {
            return false;
        }
        let mut decoded = [0; 32];
        base64_simd::URL_SAFE_NO_PAD
            .decode(x5t.as_bytes(), base64_simd::Out::from_slice(&mut decoded))
            .is_ok_and(|bytes| bytes.len() == 32 && *bytes == self.thumbprint)
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As for a token's `cnf`: which certificate a client holds stays out of logs.
        f.write_str("ClientCertificate { .. }")
    }
}

/// The certificate a TLS-terminating proxy forwarded in `name`, as RFC 9440 writes it (a
/// structured-field byte sequence: `:` base64 of the DER `:`); `None` if the header is absent,
/// repeated or not of that form.
pub(crate) fn forwarded(headers: &HeaderMap, name: &HeaderName) -> Option<ClientCertificate> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let inner = value
        .as_bytes()
        .trim_ascii()
        .strip_prefix(b":")?
        .strip_suffix(b":")?;
    // RFC 8941 §4.2.7: padding is synthesized if absent, as some proxies' encoders omit it.
    let engine = if inner.ends_with(b"=") {
        base64_simd::STANDARD
    } else {
        base64_simd::STANDARD_NO_PAD
    };
    let der = engine.decode_to_vec(inner).ok()?;
    (!der.is_empty()).then(|| ClientCertificate::from_der(&der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn thumbprints_are_sha256_of_the_der() {
        let certificate = ClientCertificate::from_der(b"not really a certificate");
        let expected =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"not really a certificate");
        let x5t = base64_simd::URL_SAFE_NO_PAD.encode_to_string(expected.as_ref());
        assert_eq!(certificate.thumbprint(), x5t);
        assert!(certificate.matches(&x5t));
        assert!(!certificate.matches(&x5t[1..]));
        assert!(!certificate.matches(""));
        assert!(!ClientCertificate::from_der(b"another").matches(&x5t));
        // Padded or standard-alphabet forms are not the claim's form.
        assert!(!certificate.matches(&format!("{x5t}=")));
    }

    #[test]
    fn forwarded_certificates_follow_rfc_9440() {
        let name = HeaderName::from_static("client-cert");
        let der = b"der bytes";
        let encoded = base64_simd::STANDARD.encode_to_string(der);
        let mut headers = HeaderMap::new();
        headers.insert(
            &name,
            HeaderValue::from_str(&format!(":{encoded}:")).unwrap(),
        );
        assert_eq!(
            forwarded(&headers, &name),
            Some(ClientCertificate::from_der(der))
        );
        // Without its padding too (RFC 8941 §4.2.7); 9 bytes (`der bytes`) have none to omit.
        let unpadded = base64_simd::STANDARD_NO_PAD.encode_to_string(b"ten bytes!");
        assert!(!unpadded.ends_with('='));
        let padded = base64_simd::STANDARD.encode_to_string(b"ten bytes!");
        assert!(padded.ends_with("=="));
        for value in [unpadded, padded] {
            headers.insert(&name, HeaderValue::from_str(&format!(":{value}:")).unwrap());
            assert_eq!(
                forwarded(&headers, &name),
                Some(ClientCertificate::from_der(b"ten bytes!")),
                "{value}"
            );
        }
        for bad in [encoded.as_str(), "::", ":not base64!:", ":dGVuIGJ5dGVzIQ=:"] {
            headers.insert(&name, HeaderValue::from_str(bad).unwrap());
            assert_eq!(forwarded(&headers, &name), None, "{bad}");
        }
        headers.insert(
            &name,
            HeaderValue::from_str(&format!(":{encoded}:")).unwrap(),
        );
        headers.append(
            &name,
            HeaderValue::from_str(&format!(":{encoded}:")).unwrap(),
        );
        assert_eq!(forwarded(&headers, &name), None, "two headers");
    }
}
