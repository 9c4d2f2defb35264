//! [`TokenLayer`] and its builder: what the layer looks at and how it answers.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, Response};
use tower_layer::Layer;

use super::TokenService;
use super::future::CacheHeaders;
use crate::challenge::{is_quotable, is_scope_char};
use crate::claims::Claims;
use crate::denial::{Denial, GrpcAnswers, Hook, Responder};
use crate::error::ConfigError;
use crate::gate::Gate;
use crate::metadata::ProtectedResource;
use crate::mtls::ClientCertificate;
use crate::observe::{SharedTokenWatch, TraceFields, Watch};
use crate::source::TokenSource;

/// A tower [`Layer`] that admits only requests with a valid access token.
///
/// For each request it finds the token ([`TokenSource`]s; by default `Authorization: Bearer`),
/// validates it with the [`Gate`], and passes the request on with the verified claims in its
/// extensions as `Arc<Claims>`. Anything else is answered by the layer itself (see
/// [`Denial`]): `401` without a token or with a bad one, `400` for a malformed request (two
/// tokens, a token in the URL), `403` when the gate's requirement is not met, `503` with
/// `Retry-After` when the issuer's keys cannot be had.
///
/// ```
/// use axum::{Router, routing::get};
/// use tokengate::{Gate, IssuerProfile, TokenLayer};
///
/// # fn app() -> Result<Router, tokengate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(IssuerProfile::new("https://login.example.com/").audience("api://orders").discover())
///     .build()?;
/// let app = Router::new()
///     .route("/orders", get(|| async { "orders" }))
///     .layer(TokenLayer::new(gate));
/// # Ok(app)
/// # }
/// ```
#[derive(Clone)]
pub struct TokenLayer {
    settings: Arc<Settings>,
}

pub(crate) struct Settings {
    pub(crate) gate: Gate,
    pub(crate) sources: Box<[TokenSource]>,
    pub(crate) optional: bool,
    pub(crate) responder: Arc<Responder>,
    /// Whether `responder` differs from the default one, so inner layers must be given it.
    pub(crate) share_responder: bool,
    /// For responses that depend on more than `Authorization`.
    pub(crate) cache: Option<Arc<CacheHeaders>>,
    /// Whether the `DPoP` scheme is read (some issuer of the gate accepts it).
    pub(crate) dpop: bool,
    /// Only DPoP-bound tokens pass this layer.
    pub(crate) require_dpop: bool,
    /// The URL clients call this service under, without a trailing slash: the `htu` of DPoP
    /// proofs is it followed by the request's path.
    pub(crate) public_url: Option<Box<str>>,
    /// The trusted proxy header with the client certificate (RFC 9440).
    pub(crate) certificate_header: Option<HeaderName>,
    /// What of an accepted caller goes into the request's span.
    pub(crate) trace: TraceFields,
    /// Tokens presented from many client addresses.
    pub(crate) watch: Option<Watch>,
}

impl Settings {
    /// What follows an accepted token: the caller into the span, the token's address counted.
    #[inline]
    pub(crate) fn admitted(&self, token: &str, claims: &Claims, address: Option<IpAddr>) {
        if self.trace.any() {
            self.trace.record(claims);
        }
        if let (Some(watch), Some(address)) = (&self.watch, address) {
            watch.see(token, claims, address, &self.gate);
        }
    }

    /// The URI a DPoP proof must name for this request: the public URL and the request's
    /// path as this layer sees it.
    pub(crate) fn target_uri<B>(&self, request: &http::Request<B>) -> String {
        let base = self.public_url.as_deref().unwrap_or_default();
        format!("{base}{}", request.uri().path())
    }

    /// The client certificate: the TLS acceptor's, or the trusted proxy's.
    pub(crate) fn certificate<B>(&self, request: &http::Request<B>) -> Option<ClientCertificate> {
        if let Some(certificate) = request.extensions().get::<ClientCertificate>() {
            return Some(*certificate);
        }
        let name = self.certificate_header.as_ref()?;
        crate::mtls::forwarded(request.headers(), name)
    }
}

impl TokenLayer {
    /// A layer with the default settings: the `Authorization: Bearer` header, a token
    /// required, no realm.
    ///
    /// DPoP needs the layer's [`public_url`](TokenLayerBuilder::public_url): with a gate whose
    /// issuers accept DPoP-bound tokens, this layer reads no `DPoP` scheme (such tokens are
    /// refused) and logs a warning; configure it with the builder instead.
    pub fn new(gate: Gate) -> TokenLayer {
        if gate.dpop_algs().is_some() {
            tracing::warn!(
                "TokenLayer::new with an issuer that accepts DPoP: DPoP-bound tokens will be \
                 refused; use TokenLayer::builder(gate).public_url(..)"
            );
        }
        TokenLayer {
            settings: Arc::new(Settings {
                gate,
                sources: Box::new([TokenSource::authorization_header()]),
                optional: false,
                responder: Responder::plain(),
                share_responder: false,
                cache: None,
                dpop: false,
                require_dpop: false,
                public_url: None,
                certificate_header: None,
                trace: TraceFields::none(),
                watch: None,
            }),
        }
    }

    /// Starts a configuration; [`TokenLayerBuilder::build`] checks it.
    pub fn builder(gate: Gate) -> TokenLayerBuilder {
        TokenLayerBuilder {
            gate,
            sources: vec![TokenSource::authorization_header()],
            optional: false,
            realm: None,
            resource_metadata: None,
            scope_prefix: None,
            hook: None,
            require_dpop: false,
            public_url: None,
            certificate_header: None,
            trace: TraceFields::none(),
            watch: None,
            grpc: GrpcAnswers::default(),
        }
    }
}

impl<S> Layer<S> for TokenLayer {
    type Service = TokenService<S>;

    fn layer(&self, inner: S) -> TokenService<S> {
        TokenService::new(inner, self.settings.clone())
    }
}

impl fmt::Debug for TokenLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        f.debug_struct("TokenLayer")
            .field("gate", &settings.gate)
            .field("sources", &settings.sources)
            .field("optional", &settings.optional)
            .field("realm", &settings.responder.realm)
            .field("resource_metadata", &settings.responder.resource_metadata)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TokenLayer`]; [`build`](Self::build) checks every setting and lists every
/// problem.
///
/// ```
/// use tokengate::{ProtectedResource, TokenLayer, TokenSource};
///
/// # fn layer(gate: tokengate::Gate) -> Result<TokenLayer, tokengate::ConfigError> {
/// let resource = ProtectedResource::builder("https://api.example.com/orders")
///     .authorization_server("https://login.example.com/")
///     .build()?;
/// let layer = TokenLayer::builder(gate)
///     .token_sources([TokenSource::authorization_header(), TokenSource::cookie("access_token")])
///     .realm("orders")
///     .resource_metadata(&resource)
///     .build()?;
/// # Ok(layer)
/// # }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct TokenLayerBuilder {
    gate: Gate,
    sources: Vec<TokenSource>,
    optional: bool,
    realm: Option<String>,
    resource_metadata: Option<String>,
    scope_prefix: Option<String>,
    hook: Option<Hook>,
    require_dpop: bool,
    public_url: Option<String>,
    certificate_header: Option<HeaderName>,
    trace: TraceFields,
    watch: Option<SharedTokenWatch>,
    grpc: GrpcAnswers,
}

impl TokenLayerBuilder {
    /// Where to look for the token, replacing the default (`Authorization` header only). A
    /// request with a credential in more than one of them is refused with `400`.
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Self {
        self.sources = sources.into_iter().collect();
        self
    }

    /// Optional authentication: a request without any token passes on without claims (a
    /// handler sees no `Arc<Claims>`; the axum extractor `Option<Verified>` gives `None`). A
    /// request with a bad token is still refused.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The `realm` of every challenge: printable ASCII without `"` or `\`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Names this API's RFC 9728 metadata in every challenge
    /// (`resource_metadata="<metadata URL>"`), so that clients can find out how to get a token.
    pub fn resource_metadata(mut self, resource: &ProtectedResource) -> Self {
        self.resource_metadata = Some(resource.metadata_url().to_owned());
        self
    }

    /// Writes `prefix` before each scope that a `403` challenge asks for. Microsoft Entra
    /// clients request fully qualified scopes (`api://{client id}/Orders.Read`) while tokens
    /// carry short names (`Orders.Read`), which requirements use (ENTRA-43): give
    /// `"api://{client id}/"` here.
    pub fn scope_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.scope_prefix = Some(prefix.into());
        self
    }

    /// The absolute URL clients call this service under (`https://api.example.com`, or with
    /// the path prefix a proxy strips: `https://example.com/orders-api`). DPoP proofs name the
    /// URL they were made for (`htu`), which must be this URL followed by the request's path;
    /// the request's own `Host` is never trusted for it (RFC 9449 §4.3, STD-DPOP-6). Required
    /// when an issuer of the gate accepts DPoP-bound tokens. The path is the one this layer
    /// sees: inside a router that strips a prefix (axum's `nest`), put the prefix in this URL.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Admits only DPoP-bound tokens presented with their proofs on the routes this layer
    /// wraps (`dpop_required` otherwise), while the gate's issuers may still accept bearer
    /// tokens elsewhere: DPoP per route.
    pub fn require_dpop(mut self) -> Self {
        self.require_dpop = true;
        self
    }

    /// Reads the client certificate of certificate-bound tokens (RFC 8705) from this request
    /// header, as a TLS-terminating proxy forwards it (RFC 9440 `Client-Cert`: the DER in
    /// base64 between colons), when no [`ClientCertificate`](crate::ClientCertificate) is in
    /// the request's extensions.
    ///
    /// Only behind a proxy that removes this header from every client request and sets it
    /// itself: otherwise any client can claim any certificate.
    pub fn client_certificate_header(mut self, name: HeaderName) -> Self {
        self.certificate_header = Some(name);
        self
    }

    /// Answers refused requests with `hook` instead of the default response; the hook gets the
    /// [`Denial`] and may start from [`Denial::default_response`]. It applies to the
    /// [`RequireLayer`](super::RequireLayer)s and axum extractors inside this layer too.
    ///
    /// The hook's response body is any type that converts into [`Bytes`] (`String`,
    /// `Vec<u8>`, `&'static str`, `Bytes`): a refusal is small and built in memory, and a body
    /// type of its own would make every service's response type depend on the hook.
    ///
    /// ```
    /// use http::header::HeaderValue;
    /// use tokengate::TokenLayer;
    ///
    /// # fn layer(gate: tokengate::Gate) -> Result<TokenLayer, tokengate::ConfigError> {
    /// TokenLayer::builder(gate)
    ///     .on_rejection(|denial| {
    ///         let mut response = denial.default_response();
    ///         response.headers_mut().insert("x-error-code", HeaderValue::from_static(denial.rejection().code()));
    ///         response
    ///     })
    ///     .build()
    /// # }
    /// ```
    pub fn on_rejection<F, B>(mut self, hook: F) -> Self
    where
        F: Fn(Denial) -> Response<B> + Send + Sync + 'static,
        B: Into<Bytes>,
    {
        self.hook = Some(Arc::new(move |denial| hook(denial).map(Into::into)));
        self
    }

    /// Records who called into the request's tracing span once the token is accepted: see
    /// [`TraceFields`] for the fields, and the span they must be declared in. Nothing by
    /// default.
    pub fn trace_fields(mut self, fields: TraceFields) -> Self {
        self.trace = fields;
        self
    }

    /// Reports an accepted token presented from more client addresses than it should be
    /// (the `shared_token` signal; never a refusal): see [`SharedTokenWatch`]. Off by default.
    pub fn watch_shared_tokens(mut self, watch: SharedTokenWatch) -> Self {
        self.watch = Some(watch);
        self
    }

    /// Which refused requests are answered in gRPC's form; by default gRPC calls over HTTP/2
    /// ([`GrpcAnswers::Http2`]).
    pub fn grpc_answers(mut self, answers: GrpcAnswers) -> Self {
        self.grpc = answers;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] listing every problem: no token source, one twice, a source that names
    /// the `Authorization` or `Cookie` header as a custom header, an invalid cookie name, an
    /// empty realm or one with characters a challenge cannot carry, a scope prefix that is not
    /// scope-token characters.
    pub fn build(self) -> Result<TokenLayer, ConfigError> {
        let mut problems = Vec::new();
        if self.sources.is_empty() {
            problems.push("no token source".to_owned());
        }
        for (i, source) in self.sources.iter().enumerate() {
            problems.extend(source.problem());
            if self.sources[..i].contains(source) {
                problems.push(format!("token source {source:?} given twice"));
            }
        }
        if let Some(realm) = &self.realm
            && (realm.is_empty() || !is_quotable(realm))
        {
            problems.push(format!(
                "realm {realm:?}: must be non-empty printable ASCII without '\"' or '\\'"
            ));
        }
        if let Some(prefix) = &self.scope_prefix
            && (prefix.is_empty() || !prefix.bytes().all(is_scope_char))
        {
            problems.push(format!(
                "scope prefix {prefix:?}: must be scope-token characters (no space, quote or backslash)"
            ));
        }
        let dpop_algs = self.gate.dpop_algs().map(Box::from);
        let public_url = match (&self.public_url, &dpop_algs) {
            (Some(url), _) => match public_url(url) {
                Ok(url) => Some(url),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            },
            (None, Some(_)) => {
                problems.push(
                    "an issuer accepts DPoP-bound tokens: public_url is needed to check proofs"
                        .to_owned(),
                );
                None
            }
            (None, None) => None,
        };
        if self.require_dpop && dpop_algs.is_none() {
            problems.push("require_dpop, but no issuer accepts DPoP (IssuerProfile::dpop)".into());
        }
        if let Some(name) = &self.certificate_header
            && (name == http::header::AUTHORIZATION || name == http::header::COOKIE)
        {
            problems.push(format!(
                "client certificate header {name:?}: not a proxy header"
            ));
        }
        if let Some(watch) = &self.watch {
            problems.extend(watch.problems());
        }
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        let dpop_only = dpop_algs.is_some() && (self.require_dpop || !self.gate.accepts_bearer());
        let configured = self.realm.is_some()
            || self.resource_metadata.is_some()
            || self.scope_prefix.is_some()
            || dpop_algs.is_some()
            || self.grpc != GrpcAnswers::default();
        let share_responder = configured || self.hook.is_some();
        let dpop = dpop_algs.is_some();
        let responder = if share_responder {
            Arc::new(Responder {
                realm: self.realm.map(String::into_boxed_str),
                resource_metadata: self.resource_metadata.map(String::into_boxed_str),
                scope_prefix: self.scope_prefix.map(String::into_boxed_str),
                hook: self.hook,
                dpop_algs,
                dpop_only,
                grpc: self.grpc,
            })
        } else {
            Responder::plain()
        };
        let cache = cache_headers(&self.sources, self.optional);
        Ok(TokenLayer {
            settings: Arc::new(Settings {
                cache,
                gate: self.gate,
                sources: self.sources.into_boxed_slice(),
                optional: self.optional,
                responder,
                share_responder,
                dpop,
                require_dpop: self.require_dpop,
                public_url,
                certificate_header: self.certificate_header,
                trace: self.trace,
                watch: self.watch.map(SharedTokenWatch::build),
            }),
        })
    }
}

impl fmt::Debug for TokenLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLayerBuilder")
            .field("sources", &self.sources)
            .field("optional", &self.optional)
            .field("realm", &self.realm)
            .field("resource_metadata", &self.resource_metadata)
            .finish_non_exhaustive()
    }
}

/// A checked public URL, without its trailing slash.
fn public_url(url: &str) -> Result<Box<str>, String> {
    let parsed = url::Url::parse(url).map_err(|error| format!("public_url {url:?}: {error}"))?;
    if !matches!(parsed.scheme(), "https" | "http")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
    {
        return Err(format!(
            "public_url {url:?}: must be an http(s) URL with a host, without query or fragment"
        ));
    }
    Ok(Box::from(parsed.as_str().trim_end_matches('/')))
}

/// What responses must vary on: the headers a token comes from when that is not only
/// `Authorization` (which shared caches already treat as private), or whenever a token is
/// optional (an anonymous answer is not the answer for a token).
fn cache_headers(sources: &[TokenSource], optional: bool) -> Option<Arc<CacheHeaders>> {
    let private = sources.iter().any(|source| !source.is_authorization());
    if !private && !optional {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for source in sources {
        let name = source.header_name().as_str();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let vary = http::HeaderValue::from_str(&names.join(", ")).ok()?;
    Some(Arc::new(CacheHeaders { vary, private }))
}
