//! Provider presets: a few lines of configuration for a popular identity provider, built on
//! the same core as [`IssuerProfile`](crate::IssuerProfile), with the provider's own rules
//! plugged in where the standards leave room. Each preset is its own module behind its own
//! feature, and gives [`Issuers`](crate::Issuers) to
//! [`GateBuilder::issuer`](crate::GateBuilder::issuer).
//!
//! | preset | feature | what it configures |
//! |---|---|---|
//! | [`entra`] | `entra` | Microsoft Entra ID APIs: v1 and v2 tokens, tenants, step-up; personal accounts, Azure AD B2C, Entra External ID |
//! | [`keycloak`] | `keycloak` | a Keycloak realm: nested realm and client roles, payload `typ`, service accounts |
//! | [`auth0`] | `auth0` | an Auth0 tenant: trailing-slash issuer, RBAC `permissions`, namespaced roles |
//! | [`okta`] | `okta` | an Okta custom authorization server: `scp` array, `cid`, groups |
//! | [`cognito`] | `cognito` | an AWS Cognito user pool: `client_id` instead of `aud`, `token_use`, groups |
//! | [`google`] | `google` | Google-signed and Firebase ID tokens used as bearer credentials (opt-in) |
//!
//! Every preset's feature is on by default; each builds alone.
//!
//! Any other standards-compliant issuer needs no preset: [`IssuerProfile`](crate::IssuerProfile)
//! with [`discover`](crate::IssuerProfile::discover) is enough.

#[cfg(feature = "auth0")]
pub mod auth0;
mod base;
#[cfg(feature = "cognito")]
pub mod cognito;
#[cfg(feature = "entra")]
pub mod entra;
#[cfg(feature = "google")]
pub mod google;
#[cfg(feature = "keycloak")]
pub mod keycloak;
#[cfg(feature = "okta")]
pub mod okta;
