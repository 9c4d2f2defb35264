//! # tokengate
//!
//! Access-token validation for OAuth 2.0 resource servers: the API side of OAuth. tokengate
//! checks each bearer token's signature against the issuer's published keys, then its issuer,
//! audience, lifetime (with clock-skew leeway), type, and the scopes or roles a resource
//! requires, and hands the verified [`Claims`] to your code.
//!
//! The core knows the standards (RFC 7515, 7517, 7519, 9068, 6750, 9728) and no vendor; any
//! standards-compliant issuer works with an [`IssuerProfile`]. Provider presets
//! ([`providers`]) plug in what a provider adds on top, such as Microsoft Entra ID's tenants
//! and claims challenges.
//!
//! ```
//! use tokengate::{Gate, IssuerProfile, Requirement};
//!
//! // The issuer's published keys; usually fetched from its `jwks_uri`.
//! const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"doc-key-1","use":"sig",
//!   "x":"yVWIuJ7T2PLM2VQLvV4UGXTrH_ztqVFztfzO5Weiquo","y":"huspzQOl6LHhixZ38s-3Mdqb2HT3F9xJczjAkJDw0_A"}]}"#;
//! // An access token that issuer signed (it expires in 2100).
//! const TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImRvYy1rZXktMSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGk6Ly9vcmRlcnMiLCJjbGllbnRfaWQiOiJ3ZWItYXBwIiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6Imh0dHBzOi8vbG9naW4uZXhhbXBsZS5jb20vIiwic2NvcGUiOiJvcmRlcnMucmVhZCBwcm9maWxlIiwic3ViIjoidXNlci00MiJ9.UWNm0ZEkuGi0k2s5L0mBihDGZjr9FtfmAtzIBb_Y-sydBbkjS4ZBME5izSnUaOhFHSJ1oN0QEu_vRo2aww_s-Q";
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gate = Gate::builder()
//!     .issuer(
//!         IssuerProfile::new("https://login.example.com/")
//!             .audience("api://orders")
//!             .jwks(JWKS),
//!     )
//!     .build()?; // checks the whole configuration; no network
//!
//! let claims = gate.validate(TOKEN).await?;
//! assert_eq!(claims.subject(), Some("user-42"));
//! assert_eq!(claims.client_id(), Some("web-app"));
//! assert!(claims.has_scope("orders.read"));
//!
//! // Per-resource authorization: a failure is `insufficient_scope` (HTTP 403).
//! let write = Requirement::scope("orders.write");
//! let refused = tokengate::Rejection::from(write.check(&claims).unwrap_err());
//! assert_eq!(refused.code(), "insufficient_scope");
//!
//! // Anything else is refused with a stable code and an RFC 6750 class.
//! let tampered = TOKEN.replace("eyJhdWQi", "eyJhdWRp");
//! let refused = gate.validate(&tampered).await.unwrap_err();
//! assert_eq!(refused.class().error_code(), Some("invalid_token"));
//! # Ok(())
//! # }
//! ```
//!
//! ## Protecting an HTTP API
//!
//! [`TokenLayer`] is a tower layer over a [`Gate`]: it finds the request's token
//! ([`TokenSource`]), validates it, and passes the request on with the verified claims in its
//! extensions as `Arc<Claims>`, or answers itself with an RFC 6750 challenge ([`Denial`]).
//! [`RequireLayer`] adds a scope or role [`Requirement`] to a route; [`ProtectedResource`]
//! publishes RFC 9728 metadata. Feature `axum` adds extractors ([`axum::Verified`], ...);
//! feature `testing` a test issuer for your own tests (`testing::TestIssuer`).
//!
//! ```
//! use axum::{Router, routing::get};
//! use tokengate::axum::Verified;
//! use tokengate::{RequireLayer, Requirement, TokenLayer};
//!
//! async fn orders(claims: Verified) -> String {
//!     format!("orders of {}", claims.subject().unwrap_or("an application"))
//! }
//!
//! # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
//! let app = Router::new()
//!     .route("/orders", get(orders))
//!     .route_layer(RequireLayer::new(Requirement::scope("orders.read"))?)
//!     .layer(TokenLayer::new(gate));
//! # Ok(app)
//! # }
//! ```
//!
//! ## Providers
//!
//! A preset is a few lines of configuration for a provider, given to
//! [`GateBuilder::issuer`] like an [`IssuerProfile`]: [`providers`] has Microsoft Entra ID
//! (work and school tenants, personal accounts, Azure AD B2C, Entra External ID), Keycloak,
//! Auth0, Okta, AWS Cognito, and Google-signed and Firebase ID tokens, each behind a feature of
//! its own, all on by default. Each knows where its provider puts scopes, roles and audiences
//! and how it marks other kinds of tokens. Any other issuer needs only an [`IssuerProfile`];
//! [`IssuerProfile::scopes_from`] and [`IssuerProfile::roles_from`] read scopes and roles from
//! the claims it uses.
//!
//! ## Speed
//!
//! Keys are parsed once, each token once, mostly without allocating; a token already verified
//! is answered from a bounded cache ([`TokenCacheSettings`], on by default) that still judges the
//! clock, the key and authorization on every hit.
//!
//! ## What is checked, in order
//!
//! See [`Gate`] for the pipeline and [`Rejection`] for every refusal code. In short: strict
//! compact-JWS parsing (size cap first, base64url without padding, JSON objects without
//! duplicate members, no `crit`, no JWE or JSON serialization); the unverified `iss` picks
//! one of the configured issuers and nothing else; the token's `alg` must be allowed for that
//! issuer and equal to the algorithm of the key its `kid` names; keys are parsed once and never
//! taken from the token (`jku`, `x5u`, `jwk`, `x5c` are ignored); then the claims.
//!
//! ## Keys
//!
//! Keys come from the configuration ([`IssuerProfile::jwks`], [`IssuerProfile::public_key_pem`])
//! or from the issuer, by discovery ([`IssuerProfile::discover`]) or a JWK Set URL
//! ([`IssuerProfile::jwks_uri`]). Fetched keys are cached, refreshed ahead of expiry, re-fetched
//! when an unknown `kid` shows up (a rotated key is accepted within seconds, while made-up `kid`s
//! cost one fetch per cooldown), and kept when the provider fails: see [`KeyCacheSettings`] for
//! the rules and their defaults, `docs/keys.md` for the whole contract, and
//! [`Gate::key_status`] for readiness probes.
//!
//! ## Design choices
//!
//! * Secure defaults: asymmetric algorithms only (HMAC and `none` cannot be expressed); `iss`,
//!   `exp` and `aud` are required; leeway 60 s; ID tokens, logout tokens and DPoP proofs are
//!   refused as access tokens.
//! * Nothing here logs tokens, claim values or key material; `Debug` of [`Claims`] is redacted.
//! * No `unsafe` code.
// Lint policy (no unsafe code, documented public items, clippy) is in Cargo.toml, `[lints]`.
// The one exception: the provider seam's entry points are there for the presets, so a build
// without any preset leaves some unused. Builds with a preset still judge all dead code.
#![cfg_attr(
    not(all(
        feature = "entra",
        feature = "keycloak",
        feature = "auth0",
        feature = "okta",
        feature = "cognito",
        feature = "google"
    )),
    allow(dead_code, unused_imports)
)]

mod algorithm;
#[cfg(feature = "axum")]
pub mod axum;
mod cache;
#[cfg(test)]
mod cache_tests;
mod challenge;
mod claims;
mod denial;
mod diagnostic;
mod dpop;
mod error;
// Entry points for the fuzz targets in fuzz/; only under `cargo fuzz` (`--cfg fuzzing`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod introspection;
mod issuer;
mod json;
mod jws;
mod keys;
pub mod layer;
mod metadata;
mod mtls;
mod observe;
mod policy;
mod provider;
pub mod providers;
mod source;
#[cfg(feature = "testing")]
pub mod testing;
// Test keys and claims for the unit tests (integration tests have tests/support).
#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod vector_tests;

pub use algorithm::Algorithm;
pub use cache::TokenCacheSettings;
pub use challenge::ClaimsChallenge;
pub use claims::{ClaimPath, Claims, ClaimsError, TokenKind, TokenProfile};
pub use denial::Denial;
#[cfg(feature = "redis")]
pub use dpop::RedisReplayStore;
pub use dpop::{
    Dpop, DpopMode, FirstUse, MemoryReplayStore, ProofId, ReplayStore, ReplayStoreError,
};
pub use error::{ConfigError, ErrorClass, Rejection};
pub use gate::{DEFAULT_MAX_TOKEN_SIZE, Gate, GateBuilder, Presented, WarmUpError};
pub use introspection::Introspection;
pub use issuer::{DEFAULT_LEEWAY, IssuerProfile, Issuers, MAX_LEEWAY};
pub use keys::{KeyCacheSettings, KeyStatus, judge_jwks};
pub use layer::{
    RequireLayer, Revocation, RevocationLayer, RevocationLayerBuilder, TokenLayer,
    TokenLayerBuilder,
};
pub use metadata::{MetadataService, ProtectedResource, ProtectedResourceBuilder};
pub use mtls::ClientCertificate;
pub use policy::{Requirement, Unmet};
/// The HTTP client of [`GateBuilder::http_client`], re-exported so that yours is the version
/// tokengate uses.
pub use reqwest;
pub use source::TokenSource;

// The README's examples run as doc tests, so they cannot drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The code of the pages in docs/ runs as doc tests too, each under the features it needs.
#[cfg(doctest)]
#[doc = include_str!("../docs/configuration.md")]
struct ConfigurationDoc;
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../docs/layer.md")]
struct LayerDoc;
#[cfg(all(doctest, feature = "testing"))]
#[doc = include_str!("../docs/test-issuer.md")]
struct TestIssuerDoc;
#[cfg(all(doctest, feature = "testing"))]
#[doc = include_str!("../docs/sender-constrained.md")]
struct SenderConstrainedDoc;
#[cfg(all(doctest, feature = "testing"))]
#[doc = include_str!("../docs/opaque-tokens.md")]
struct OpaqueTokensDoc;
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../docs/observability.md")]
struct ObservabilityDoc;
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../docs/recipes/trace-subject.md")]
struct TraceSubjectRecipe;
#[cfg(all(doctest, feature = "axum", feature = "testing"))]
#[doc = include_str!("../docs/recipes/optional-auth.md")]
struct OptionalAuthRecipe;
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../docs/recipes/migrating-from-jwt-authorizer.md")]
struct JwtAuthorizerMigrationRecipe;
#[cfg(all(doctest, feature = "entra"))]
#[doc = include_str!("../docs/providers/entra.md")]
struct EntraRecipe;
#[cfg(all(doctest, feature = "keycloak"))]
#[doc = include_str!("../docs/providers/keycloak.md")]
struct KeycloakRecipe;
#[cfg(all(doctest, feature = "auth0"))]
#[doc = include_str!("../docs/providers/auth0.md")]
struct Auth0Recipe;
#[cfg(all(doctest, feature = "okta"))]
#[doc = include_str!("../docs/providers/okta.md")]
struct OktaRecipe;
#[cfg(all(doctest, feature = "cognito"))]
#[doc = include_str!("../docs/providers/cognito.md")]
struct CognitoRecipe;
#[cfg(all(doctest, feature = "google"))]
#[doc = include_str!("../docs/providers/google.md")]
struct GoogleRecipe;
#[cfg(doctest)]
#[doc = include_str!("../docs/providers/glewlwyd.md")]
struct GlewlwydRecipe;
#[cfg(doctest)]
#[doc = include_str!("../docs/providers/generic.md")]
struct GenericIssuerRecipe;
