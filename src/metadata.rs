//! RFC 9728 protected resource metadata: the document, its well-known URL, a service for it.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use url::Url;

use crate::error::ConfigError;

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// This API's RFC 9728 protected resource metadata: tells clients which authorization servers
/// issue tokens for it and which scopes it knows.
///
/// The resource identifier comes from configuration, never from a request's `Host` header,
/// which a client controls (RFC 9728 §3.3). Give it to
/// [`TokenLayerBuilder::resource_metadata`](crate::layer::TokenLayerBuilder::resource_metadata)
/// so that every challenge carries `resource_metadata="<metadata URL>"`, and serve
/// [`service`](Self::service) at [`well_known_path`](Self::well_known_path).
///
/// ```
/// use tokengate::ProtectedResource;
///
/// let resource = ProtectedResource::builder("https://api.example.com/orders")
///     .authorization_server("https://login.example.com/")
///     .scopes_supported(["orders.read", "orders.write"])
///     .resource_name("Orders API")
///     .build()?;
/// assert_eq!(
///     resource.metadata_url(),
///     "https://api.example.com/.well-known/oauth-protected-resource/orders"
/// );
/// assert_eq!(resource.well_known_path(), "/.well-known/oauth-protected-resource/orders");
/// assert!(resource.document().contains(r#""resource":"https://api.example.com/orders""#));
/// # Ok::<(), tokengate::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ProtectedResource {
    inner: Arc<Inner>,
}

struct Inner {
    resource: String,
    metadata_url: String,
    well_known_path: String,
    document: Bytes,
}

impl ProtectedResource {
    /// Starts the metadata of the resource with this identifier: an `https` URL without a
    /// fragment or user information, written as the `url` crate writes it (so that it is the
    /// one identifier clients compare). Plain `http` is accepted for loopback hosts only, for
    /// local development.
    pub fn builder(resource: impl Into<String>) -> ProtectedResourceBuilder {
        ProtectedResourceBuilder {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            resource_name: None,
            resource_documentation: None,
            dpop_algorithms: Vec::new(),
            dpop_required: false,
            certificate_bound: false,
        }
    }

    /// The resource identifier, exactly as configured.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// Where the document is published: `/.well-known/oauth-protected-resource` inserted
    /// between the host and the path (RFC 9728 §3.1).
    pub fn metadata_url(&self) -> &str {
        &self.inner.metadata_url
    }

    /// The path part of [`metadata_url`](Self::metadata_url), to route the
    /// [`service`](Self::service) at.
    pub fn well_known_path(&self) -> &str {
        &self.inner.well_known_path
    }

    /// The JSON document.
    pub fn document(&self) -> &str {
        // Built from a String.
        std::str::from_utf8(&self.inner.document).unwrap_or_default()
    }

    /// A tower service answering `GET` and `HEAD` with the document (`405` otherwise). With
    /// axum: `router.route_service(resource.well_known_path(), resource.service())`.
    pub fn service(&self) -> MetadataService {
        MetadataService {
            document: self.inner.document.clone(),
        }
    }
}

impl fmt::Debug for ProtectedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedResource")
            .field("resource", &self.inner.resource)
            .field("metadata_url", &self.inner.metadata_url)
            .finish_non_exhaustive()
    }
}

/// Configures a [`ProtectedResource`]; [`build`](Self::build) checks every URL.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProtectedResourceBuilder {
    resource: String,
    authorization_servers: Vec<String>,
    scopes_supported: Vec<String>,
    resource_name: Option<String>,
    resource_documentation: Option<String>,
    dpop_algorithms: Vec<crate::Algorithm>,
    dpop_required: bool,
    certificate_bound: bool,
}

impl ProtectedResourceBuilder {
    /// Adds an authorization server (its issuer identifier) that issues tokens for this
    /// resource. MCP requires at least one.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes this resource understands (`scopes_supported`).
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A human-readable name (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page of documentation for developers (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// The algorithms this resource accepts for DPoP proofs
    /// (`dpop_signing_alg_values_supported`): those of its
    /// [`Dpop`](crate::Dpop) settings.
    pub fn dpop_signing_algs(
        mut self,
        algorithms: impl IntoIterator<Item = crate::Algorithm>,
    ) -> Self {
        self.dpop_algorithms = algorithms.into_iter().collect();
        self
    }

    /// Says that this resource accepts DPoP-bound tokens only
    /// (`dpop_bound_access_tokens_required`: [`DpopMode::Required`](crate::DpopMode::Required)
    /// or [`require_dpop`](crate::TokenLayerBuilder::require_dpop)).
    pub fn dpop_bound_tokens_required(mut self) -> Self {
        self.dpop_required = true;
        self
    }

    /// Says that this resource accepts certificate-bound tokens
    /// (`tls_client_certificate_bound_access_tokens`, RFC 8705): its TLS acceptor hands
    /// [`ClientCertificate`](crate::ClientCertificate)s to the layer.
    pub fn certificate_bound_tokens(mut self) -> Self {
        self.certificate_bound = true;
        self
    }

    /// Checks the configuration and builds the document.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] listing every problem: a resource identifier that is not an absolute
    /// `https` URL (or `http` on loopback), has a fragment or user information, or is not in
    /// normalized form; an authorization server or documentation URL that is not `https`; a
    /// scope that is not an RFC 6749 scope token.
    pub fn build(self) -> Result<ProtectedResource, ConfigError> {
        let mut problems = Vec::new();
        let parsed = check_url("resource", &self.resource, &mut problems);
        if let Some(url) = &parsed {
            if url.fragment().is_some() {
                problems.push(format!("resource {:?}: has a fragment", self.resource));
            }
            if !url.username().is_empty() || url.password().is_some() {
                problems.push(format!(
                    "resource {:?}: has user information",
                    self.resource
                ));
            }
            let normalized = url.as_str();
            if normalized != self.resource && normalized != format!("{}/", self.resource) {
                problems.push(format!(
                    "resource {:?}: not in normalized form, write {normalized:?}",
                    self.resource
                ));
            }
        }
        for server in &self.authorization_servers {
            check_url("authorization server", server, &mut problems);
        }
        if let Some(url) = &self.resource_documentation {
            check_url("resource documentation", url, &mut problems);
        }
        if self.dpop_required && self.dpop_algorithms.is_empty() {
            problems.push("dpop_bound_tokens_required without dpop_signing_algs".to_owned());
        }
        for scope in &self.scopes_supported {
            if scope.is_empty() || !scope.bytes().all(crate::challenge::is_scope_char) {
                problems.push(format!("scope {scope:?}: not an RFC 6749 scope token"));
            }
        }
        let Some(url) = parsed.filter(|_| problems.is_empty()) else {
            return Err(ConfigError::new(problems));
        };

        // RFC 9728 §3.1: a terminating slash after the host goes; the path and query follow.
        let path = if url.path() == "/" { "" } else { url.path() };
        let well_known_path = format!("{WELL_KNOWN}{path}");
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let metadata_url = format!(
            "{}{well_known_path}{query}",
            &url[..url::Position::BeforePath]
        );
        // It goes into challenges as a quoted-string, which cannot hold `"` or `\`.
        if !crate::challenge::is_quotable(&metadata_url) {
            return Err(ConfigError::new(vec![format!(
                "resource {:?}: its metadata URL cannot be quoted in a challenge",
                self.resource
            )]));
        }

        let mut document = serde_json::Map::new();
        document.insert("resource".into(), self.resource.clone().into());
        if !self.authorization_servers.is_empty() {
            document.insert(
                "authorization_servers".into(),
                self.authorization_servers.into(),
            );
        }
        if !self.scopes_supported.is_empty() {
            document.insert("scopes_supported".into(), self.scopes_supported.into());
        }
        document.insert("bearer_methods_supported".into(), vec!["header"].into());
        if let Some(name) = self.resource_name {
            document.insert("resource_name".into(), name.into());
        }
        if let Some(url) = self.resource_documentation {
            document.insert("resource_documentation".into(), url.into());
        }
        if self.certificate_bound {
            document.insert(
                "tls_client_certificate_bound_access_tokens".into(),
                true.into(),
            );
        }
        if !self.dpop_algorithms.is_empty() {
            let names: Vec<&str> = self.dpop_algorithms.iter().map(|alg| alg.name()).collect();
            document.insert("dpop_signing_alg_values_supported".into(), names.into());
        }
        if self.dpop_required {
            document.insert("dpop_bound_access_tokens_required".into(), true.into());
        }
        let document = serde_json::to_vec(&document).unwrap_or_default();
        Ok(ProtectedResource {
            inner: Arc::new(Inner {
                resource: self.resource,
                metadata_url,
                well_known_path,
                document: Bytes::from(document),
            }),
        })
    }
}

/// Parses an absolute `https` URL (or `http` on a loopback host), noting a problem otherwise.
fn check_url(what: &str, text: &str, problems: &mut Vec<String>) -> Option<Url> {
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(error) => {
            problems.push(format!("{what} {text:?}: not an absolute URL ({error})"));
            return None;
        }
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => problems.push(format!(
            "{what} {text:?}: must be https (http only on a loopback host)"
        )),
    }
    Some(url)
}

/// Serves a [`ProtectedResource`] document; see [`ProtectedResource::service`].
#[derive(Clone)]
pub struct MetadataService {
    document: Bytes,
}

impl fmt::Debug for MetadataService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataService").finish_non_exhaustive()
    }
}

impl<B> tower_service::Service<Request<B>> for MetadataService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut response = if matches!(*request.method(), Method::GET | Method::HEAD) {
            let mut response = Response::new(Full::new(self.document.clone()));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
            response
        } else {
            let mut response = Response::new(Full::default());
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        };
        // Metadata is public: browser-based clients may read it from any origin.
        response.headers_mut().insert(
            http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        std::future::ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(resource: &str) -> String {
        ProtectedResource::builder(resource)
            .build()
            .unwrap()
            .metadata_url()
            .to_owned()
    }

    /// RFC 9728 §2: the sender-constrained token members, only where configured.
    #[test]
    fn sender_constraint_members() {
        let plain = ProtectedResource::builder("https://h/api").build().unwrap();
        let plain: serde_json::Value = serde_json::from_str(plain.document()).unwrap();
        assert!(plain.get("dpop_signing_alg_values_supported").is_none());
        assert!(
            plain
                .get("tls_client_certificate_bound_access_tokens")
                .is_none()
        );
        let bound = ProtectedResource::builder("https://h/api")
            .dpop_signing_algs([crate::Algorithm::ES256, crate::Algorithm::EdDSA])
            .dpop_bound_tokens_required()
            .certificate_bound_tokens()
            .build()
            .unwrap();
        let bound: serde_json::Value = serde_json::from_str(bound.document()).unwrap();
        assert_eq!(
            bound["dpop_signing_alg_values_supported"],
            serde_json::json!(["ES256", "EdDSA"])
        );
        assert_eq!(bound["dpop_bound_access_tokens_required"], true);
        assert_eq!(bound["tls_client_certificate_bound_access_tokens"], true);
        assert!(
            ProtectedResource::builder("https://h/api")
                .dpop_bound_tokens_required()
                .build()
                .is_err()
        );
    }

    #[test]
    fn well_known_urls_std_9728_3() {
        assert_eq!(
            url("https://h"),
            "https://h/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            url("https://h/"),
            "https://h/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            url("https://h/mcp"),
            "https://h/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            url("https://h/mcp?x=1"),
            "https://h/.well-known/oauth-protected-resource/mcp?x=1"
        );
        assert_eq!(
            url("https://h:8443/a/b/"),
            "https://h:8443/.well-known/oauth-protected-resource/a/b/"
        );
        assert_eq!(
            url("http://127.0.0.1:3000/api"),
            "http://127.0.0.1:3000/.well-known/oauth-protected-resource/api"
        );
    }

    #[test]
    fn resource_is_identical_std_9728_4() {
        for resource in ["https://h", "https://h/", "https://h/mcp"] {
            let built = ProtectedResource::builder(resource).build().unwrap();
            let document: serde_json::Value = serde_json::from_str(built.document()).unwrap();
            assert_eq!(document["resource"], resource);
            assert_eq!(
                document["bearer_methods_supported"],
                serde_json::json!(["header"])
            );
            // Zero-valued parameters are omitted (RFC 9728 §3.2).
            assert!(document.get("scopes_supported").is_none());
        }
    }

    #[test]
    fn bad_identifiers_std_9728_2() {
        for bad in [
            "https://h/#frag",
            "http://h.example/",
            "https://user@h/",
            "/relative",
            "https://H/",
            "https://h/a/../b",
            "https://h/mcp?x=a\\b",
        ] {
            assert!(ProtectedResource::builder(bad).build().is_err(), "{bad}");
        }
        let err = ProtectedResource::builder("ftp://x")
            .authorization_server("http://idp.example")
            .scopes_supported(["a b"])
            .build()
            .unwrap_err();
        assert_eq!(err.problems().len(), 3, "{err}");
    }
}
