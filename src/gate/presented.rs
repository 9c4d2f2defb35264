//! [`Presented`]: how a request presented its token, for the checks that depend on more than
//! the token (DPoP proofs, client certificates).

use std::fmt;

use http::Method;

use crate::mtls::ClientCertificate;

/// An access token as a request presented it: as a bearer token, or with a DPoP proof
/// (RFC 9449), and with the client certificate of the connection (RFC 8705), for
/// [`Gate::validate_presented`](crate::Gate::validate_presented).
///
/// The [`TokenLayer`](crate::TokenLayer) builds these itself; services that call the gate
/// directly build them from their request. `Debug` never shows the token or the proof.
///
/// ```
/// use http::Method;
/// use tokengate::{ClientCertificate, Presented};
///
/// # fn demo(token: &str, proof: &str, der: &[u8]) {
/// let bearer = Presented::bearer(token);
/// // `DPoP: <proof>` with `Authorization: DPoP <token>`, on a GET of this URL as clients call
/// // it (scheme, host and path from your configuration, never from the request's Host).
/// let dpop = Presented::dpop(token, proof, &Method::GET, "https://api.example.com/orders/7");
/// let mtls = Presented::bearer(token).client_certificate(ClientCertificate::from_der(der));
/// # let _ = (bearer, dpop, mtls);
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    pub(crate) token: &'a str,
    pub(crate) dpop: Option<DpopRequest<'a>>,
    pub(crate) certificate: Option<ClientCertificate>,
    /// The route accepts DPoP-bound tokens only.
    pub(crate) require_dpop: bool,
}

/// The proof and what it must match.
#[derive(Clone, Copy)]
pub(crate) struct DpopRequest<'a> {
    pub(crate) proof: &'a str,
    pub(crate) method: &'a str,
    /// The request URI as clients address it, without query or fragment.
    pub(crate) uri: &'a str,
}

impl<'a> Presented<'a> {
    /// `Authorization: Bearer <token>` (or another bearer source): a token bound to a key is
    /// refused this way.
    pub fn bearer(token: &'a str) -> Presented<'a> {
        Presented {
            token,
            dpop: None,
            certificate: None,
            require_dpop: false,
        }
    }

    /// `Authorization: DPoP <token>` with the `DPoP` header's `proof`, for a request with this
    /// method to this URI: the absolute URI clients use for the resource (scheme, host, port
    /// and path; a query or fragment is ignored), known from your configuration.
    pub fn dpop(token: &'a str, proof: &'a str, method: &'a Method, uri: &'a str) -> Presented<'a> {
        Presented {
            token,
            dpop: Some(DpopRequest {
                proof,
                method: method.as_str(),
                uri,
            }),
            certificate: None,
            require_dpop: false,
        }
    }

    /// The client certificate of the request's TLS connection, for tokens bound to one.
    pub fn client_certificate(mut self, certificate: ClientCertificate) -> Presented<'a> {
        self.certificate = Some(certificate);
        self
    }

    /// Accepts the token only if it is DPoP-bound and presented with its proof
    /// (`dpop_required` otherwise), whatever its issuer's [`DpopMode`](crate::DpopMode): for a
    /// resource that requires DPoP where others do not.
    pub fn require_dpop(mut self) -> Presented<'a> {
        self.require_dpop = true;
        self
    }

    /// A copy that owns its text, for a validation that must wait.
    pub(crate) fn to_owned(self) -> OwnedPresented {
        OwnedPresented {
            token: self.token.into(),
            dpop: self.dpop.map(|dpop| {
                (
                    Box::from(dpop.proof),
                    Box::from(dpop.method),
                    Box::from(dpop.uri),
                )
            }),
            certificate: self.certificate,
            require_dpop: self.require_dpop,
        }
    }
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presented")
            .field(
                "scheme",
                &if self.dpop.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                },
            )
            .field("certificate", &self.certificate.is_some())
            .finish_non_exhaustive()
    }
}

/// [`Presented`] with its own copies.
pub(crate) struct OwnedPresented {
    pub(crate) token: Box<str>,
    dpop: Option<(Box<str>, Box<str>, Box<str>)>,
    certificate: Option<ClientCertificate>,
    require_dpop: bool,
}

impl OwnedPresented {
    pub(crate) fn borrow(&self) -> Presented<'_> {
        Presented {
            token: &self.token,
            dpop: self
                .dpop
                .as_ref()
                .map(|(proof, method, uri)| DpopRequest { proof, method, uri }),
            certificate: self.certificate,
            require_dpop: self.require_dpop,
        }
    }
}
