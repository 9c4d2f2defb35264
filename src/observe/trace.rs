//! The caller's identity in the request's tracing span, for downstream logs.

use tracing::Span;

use crate::claims::{Claims, TokenKind};

/// Which facts about the caller [`TokenLayer`](crate::TokenLayer) records into the request's
/// tracing span once the token is accepted
/// ([`TokenLayerBuilder::trace_fields`](crate::layer::TokenLayerBuilder::trace_fields)).
///
/// | method | span field | value |
/// |---|---|---|
/// | [`subject`](Self::subject) | `enduser.id` (OpenTelemetry) | [`Claims::subject`] |
/// | [`client_id`](Self::client_id) | `tokengate.client_id` | [`Claims::client_id`] |
/// | [`tenant`](Self::tenant) | `tokengate.tenant_id` | [`Claims::tenant_id`] |
/// | [`token_kind`](Self::token_kind) | `tokengate.token_kind` | `app`, `user` or `unknown` ([`TokenKind`]) |
///
/// A span records only the fields it declared when it was made, so declare them (as
/// `tracing::field::Empty`) in the span of a layer *outside* `TokenLayer`, such as tower-http's
/// `TraceLayer`: the layer records into [`Span::current`], which is that span while the request
/// is handled.
///
/// **Personal data**: a subject identifies a person for as long as the account lives (Okta's is
/// often the login, an email address), and logs are copied and kept; under the GDPR and similar
/// laws it is personal data. [`pseudonymous`](Self::pseudonymous) records the client id, the
/// tenant and the kind of token only: the *application* that called, not the person.
///
/// ```
/// use tokengate::layer::TraceFields;
/// use tokengate::TokenLayer;
/// use tracing::field::Empty;
///
/// # fn layer(gate: tokengate::Gate) -> Result<(), tokengate::ConfigError> {
/// let layer = TokenLayer::builder(gate)
///     .trace_fields(TraceFields::pseudonymous())
///     .build()?;
///
/// // The span of the layer outside, declaring the fields:
/// let make_span = |request: &http::Request<()>| {
///     tracing::info_span!(
///         "request",
///         method = %request.method(),
///         tokengate.client_id = Empty,
///         tokengate.tenant_id = Empty,
///         tokengate.token_kind = Empty,
///     )
/// };
/// # let _ = (layer, make_span);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceFields {
    subject: bool,
    client_id: bool,
    tenant: bool,
    token_kind: bool,
}

impl TraceFields {
    /// Records nothing (the default).
    #[must_use]
    pub const fn none() -> TraceFields {
        TraceFields {
            subject: false,
            client_id: false,
            tenant: false,
            token_kind: false,
        }
    }

    /// The client id, the tenant and the kind of token: who called, without the person.
    #[must_use]
    pub const fn pseudonymous() -> TraceFields {
        TraceFields::none().client_id().tenant().token_kind()
    }

    /// Also the subject as `enduser.id` (personal data: see above).
    #[must_use]
    pub const fn subject(mut self) -> TraceFields {
        self.subject = true;
        self
    }

    /// Also the client id as `tokengate.client_id`.
    #[must_use]
    pub const fn client_id(mut self) -> TraceFields {
        self.client_id = true;
        self
    }

    /// Also the tenant as `tokengate.tenant_id`.
    #[must_use]
    pub const fn tenant(mut self) -> TraceFields {
        self.tenant = true;
        self
    }

    /// Also the kind of token as `tokengate.token_kind`.
    #[must_use]
    pub const fn token_kind(mut self) -> TraceFields {
        self.token_kind = true;
        self
    }

    /// Whether any field is recorded.
    pub(crate) const fn any(self) -> bool {
        self.subject || self.client_id || self.tenant || self.token_kind
    }

    /// Records the chosen fields of `claims` into the current span.
    pub(crate) fn record(self, claims: &Claims) {
        let span = Span::current();
        if span.is_disabled() {
            return;
        }
        if self.subject
            && let Some(subject) = claims.subject()
        {
            span.record("enduser.id", subject);
        }
        if self.client_id
            && let Some(client_id) = claims.client_id()
        {
            span.record("tokengate.client_id", client_id);
        }
        if self.tenant
            && let Some(tenant) = claims.tenant_id()
        {
            span.record("tokengate.tenant_id", tenant);
        }
        if self.token_kind {
            let kind = match claims.token_kind() {
                TokenKind::App => "app",
                TokenKind::User => "user",
                TokenKind::Unknown => "unknown",
            };
            span.record("tokengate.token_kind", kind);
        }
    }
}
